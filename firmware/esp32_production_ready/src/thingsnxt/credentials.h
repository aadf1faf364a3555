#pragma once
// Device credentials live only in the KeyValueStore (NVS on the ESP32), never in source.
#include <string>

#include "platform.h"

namespace tnx {

// Key names stay under 15 chars: the NVS limit.
namespace keys {
constexpr const char* kDeviceId = "device_id";
constexpr const char* kToken = "device_token";
constexpr const char* kApiUrl = "api_url";
constexpr const char* kWifiSsid = "wifi_ssid";
constexpr const char* kWifiPassword = "wifi_pass";
constexpr const char* kCaCert = "ca_cert";  // PEM; read by the sketch's HTTPS and MQTTS clients
constexpr const char* kTransport = "transport";  // "mqtt"; absent: http
constexpr const char* kMqttUrl = "mqtt_url";     // absent: derived from the api url
constexpr const char* kOtaAttempt = "ota_attempt";  // "<version> <release>" of the image being booted into
constexpr const char* kOtaSkip = "ota_skip";        // the release (or sha256) that failed here: not retried
}  // namespace keys

enum class Transport { Http, Mqtt };

struct Credentials {
  std::string deviceId;
  std::string token;
  std::string apiUrl;  // http(s)://host[:port][/prefix], no trailing slash
  std::string wifiSsid;
  std::string wifiPassword;
  Transport transport = Transport::Http;
  std::string mqttUrl;  // mqtt(s)://host[:port]; empty: defaultMqttUrl(apiUrl)

  // Wi-Fi is not required: the host build has no Wi-Fi to join.
  bool complete() const { return !deviceId.empty() && !token.empty() && !apiUrl.empty(); }
};

Credentials loadCredentials(KeyValueStore& store);
void saveCredentials(KeyValueStore& store, const Credentials& credentials);
void saveTransport(KeyValueStore& store, const Credentials& credentials);  // the transport keys only
void eraseAll(KeyValueStore& store);  // factory reset: every key the firmware writes

// Each returns an error message, or "" when the value is acceptable.
std::string checkDeviceId(const std::string& id);
std::string checkToken(const std::string& token);
std::string normalizeApiUrl(std::string& url);  // also strips trailing '/'

}  // namespace tnx
