#pragma once
// The small interfaces the portable core needs from its surroundings. The ESP32
// sketch implements them with Arduino APIs, host/ with POSIX, tests/ with fakes.
// Nothing in this directory may include an Arduino header.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tnx {

struct HttpRequest {
  std::string method;  // "GET" or "POST"
  std::string url;     // absolute http:// or https:// URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  uint32_t timeoutMs = 10000;
};

// No HTTP answer at all is reported as a status <= 0 (Arduino's HTTPClient
// uses negative codes too), so callers only test `status <= 0`.
constexpr int kHttpNetworkError = -1;
constexpr int kHttpTimeout = -2;

struct HttpResponse {
  int status = kHttpNetworkError;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lowerCaseName) const {
    auto it = headers.find(lowerCaseName);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse send(const HttpRequest& request) = 0;
};

// Backs Preferences (NVS) on the device, a JSON file on the host.
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  virtual bool get(const std::string& key, std::string& value) = 0;  // false: absent
  virtual void set(const std::string& key, const std::string& value) = 0;
  virtual void remove(const std::string& key) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint32_t millis() = 0;                // wraps after ~49 days, like Arduino's
  virtual uint32_t random(uint32_t bound) = 0;  // uniform in [0, bound), bound > 0
};

class Gpio {
 public:
  virtual ~Gpio() = default;
  virtual void write(int gpio, bool high) = 0;
  virtual bool read(int gpio) = 0;  // the pin's real output level
};

class Console {
 public:
  virtual ~Console() = default;
  virtual bool readLine(std::string& line) = 0;  // non-blocking; false: no full line yet
  virtual void writeLine(const std::string& text) = 0;
};

struct Reading {
  std::string name;
  double value;
};

class Sensors {
 public:
  virtual ~Sensors() = default;
  virtual void read(std::vector<Reading>& out) = 0;  // NaN marks a failed reading
};

// Network link and board facts that are not HTTP.
class Platform {
 public:
  virtual ~Platform() = default;
  virtual void connectNetwork(const std::string& ssid, const std::string& password) = 0;
  virtual void disconnectNetwork() = 0;
  virtual bool networkUp() = 0;  // the implementation retries the link by itself
  virtual uint32_t freeHeap() = 0;
};

// An MQTT 3.1.1 client: esp-mqtt on the ESP32, libmosquitto on the host. Its network I/O runs
// on its own task or loop; whatever it has to tell comes back as events the core takes in
// tick(), so the core never runs on another thread. It never reconnects by itself: the core
// owns the backoff.
struct MqttConnectOptions {
  std::string url;  // mqtt://host[:port] or mqtts://host[:port]
  std::string clientId;
  std::string username;
  std::string password;
  uint16_t keepAliveS = 30;
};

struct MqttEvent {
  enum class Kind {
    Connected,   // CONNACK accepted
    Refused,     // CONNACK refused; code: its return code (4 bad credentials, 5 not authorized)
    Lost,        // the attempt or the session ended; text: why
    Subscribed,  // SUBACK; code: the granted QoS, 0x80 refused; id: the subscribe's message id
    Acked,       // PUBACK of a QoS 1 publish; id: its message id
    Message,     // PUBLISH from the server: topic, text (the payload)
  };
  Kind kind = Kind::Lost;
  int code = 0;
  int id = 0;
  std::string topic;
  std::string text;
};

class MqttClient {
 public:
  virtual ~MqttClient() = default;
  // Starts one attempt and drops events still queued from an earlier session. false: it could
  // not even start (bad URL, no CA certificate, no socket); `why` says so.
  virtual bool connect(const MqttConnectOptions& options, std::string& why) = 0;
  virtual void disconnect() = 0;  // ends the session; no event of it follows
  // Both return the message id (> 0), or < 0 when nothing could be queued.
  virtual int subscribe(const std::string& topic, int qos) = 0;
  virtual int publish(const std::string& topic, const std::string& payload, int qos) = 0;
  virtual bool nextEvent(MqttEvent& event) = 0;  // non-blocking; false: none queued
};

// The two-slot application flash and the boot choice: esp_ota_ops.h on the ESP32 (board_ota.h),
// two slot files and a state file on the host. The core owns the update state machine
// (ota_link.cpp); this only writes, switches and confirms. An image that was booted into but
// never confirmed is rolled back by the boot loader at its next reset (ESP-IDF's
// CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE), so a new image has to earn its confirm.
class UpdatePort {
 public:
  virtual ~UpdatePort() = default;
  virtual std::string runningVersion() = 0;  // the running image's version (its app descriptor)
  virtual bool pendingVerify() = 0;          // the running image is new and not confirmed yet
  // Writing the other slot: begin erases room for `size` bytes, write appends, end checks the
  // whole image; abort drops it. false: failed, `why` says so, and nothing is marked.
  virtual bool begin(uint32_t size, std::string& why) = 0;
  virtual bool write(const uint8_t* data, size_t size, std::string& why) = 0;
  virtual bool end(std::string& why) = 0;
  virtual void abort() = 0;
  virtual bool markPending(std::string& why) = 0;  // boot the written image next, on trial
  // Resets into the boot image. The board never returns; the host re-executes itself once the
  // tick is over, so the core stops doing anything after calling it.
  virtual void reboot() = 0;
  virtual bool confirm(std::string& why) = 0;  // mark the running image valid: no rollback
  virtual void rollback() = 0;                 // mark it invalid and reboot into the previous one
};

// Everything the Device talks to, bundled so the constructor stays readable.
struct Ports {
  HttpClient& http;
  KeyValueStore& store;
  Clock& clock;
  Gpio& gpio;
  Console& console;
  Sensors& sensors;
  Platform& platform;
  MqttClient* mqtt = nullptr;  // null: a build without MQTT (transport http only)
  UpdatePort* update = nullptr;  // null: no over-the-air updates (the `ota` offer is ignored)
};

}  // namespace tnx
