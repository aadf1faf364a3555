#include "credentials.h"

namespace tnx {

static std::string getOrEmpty(KeyValueStore& store, const char* key) {
  std::string value;
  return store.get(key, value) ? value : std::string();
}

Credentials loadCredentials(KeyValueStore& store) {
  Credentials c;
  c.deviceId = getOrEmpty(store, keys::kDeviceId);
  c.token = getOrEmpty(store, keys::kToken);
  c.apiUrl = getOrEmpty(store, keys::kApiUrl);
  c.wifiSsid = getOrEmpty(store, keys::kWifiSsid);
  c.wifiPassword = getOrEmpty(store, keys::kWifiPassword);
  c.transport = getOrEmpty(store, keys::kTransport) == "mqtt" ? Transport::Mqtt : Transport::Http;
  c.mqttUrl = getOrEmpty(store, keys::kMqttUrl);
  return c;
}

void saveCredentials(KeyValueStore& store, const Credentials& c) {
  store.set(keys::kDeviceId, c.deviceId);
  store.set(keys::kToken, c.token);
  store.set(keys::kApiUrl, c.apiUrl);
  store.set(keys::kWifiSsid, c.wifiSsid);
  store.set(keys::kWifiPassword, c.wifiPassword);
  saveTransport(store, c);
}

// The defaults are stored as absent keys, so an HTTP device's NVS looks as it always did.
void saveTransport(KeyValueStore& store, const Credentials& c) {
  if (c.transport == Transport::Mqtt) {
    store.set(keys::kTransport, "mqtt");
  } else {
    store.remove(keys::kTransport);
  }
  if (c.mqttUrl.empty()) {
    store.remove(keys::kMqttUrl);
  } else {
    store.set(keys::kMqttUrl, c.mqttUrl);
  }
}

void eraseAll(KeyValueStore& store) {
  for (const char* key : {keys::kDeviceId, keys::kToken, keys::kApiUrl, keys::kWifiSsid,
                          keys::kWifiPassword, keys::kCaCert, keys::kTransport, keys::kMqttUrl,
                          keys::kOtaAttempt, keys::kOtaSkip}) {
    store.remove(key);
  }
}

// The id goes into the URL path unencoded, so only URL-unreserved characters.
std::string checkDeviceId(const std::string& id) {
  if (id.empty() || id.size() > 64) return "device id must be 1-64 characters";
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~';
    if (!ok) return "device id may only contain letters, digits, '-', '_', '.', '~'";
  }
  return "";
}

std::string checkToken(const std::string& token) {
  if (token.empty() || token.size() > 256) return "token must be 1-256 characters";
  for (char c : token) {
    if (c <= ' ' || c == 0x7F) return "token must not contain blanks or control characters";
  }
  return "";
}

std::string normalizeApiUrl(std::string& url) {
  const bool http = url.rfind("http://", 0) == 0;
  const bool https = url.rfind("https://", 0) == 0;
  if (!http && !https) return "api url must start with http:// or https://";
  while (!url.empty() && url.back() == '/') url.pop_back();  // paths are appended with their own '/'
  if (url.size() <= (http ? 7u : 8u)) return "api url has no host";
  for (char c : url) {
    if (c <= ' ') return "api url must not contain blanks";
  }
  return "";
}

}  // namespace tnx
