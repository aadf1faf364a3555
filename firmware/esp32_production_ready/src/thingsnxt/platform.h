#pragma once
// The small interfaces the portable core needs from its surroundings. The ESP32
// sketch implements them with Arduino APIs, host/ with POSIX, tests/ with fakes.
// Nothing in this directory may include an Arduino header.
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

// Everything the Device talks to, bundled so the constructor stays readable.
struct Ports {
  HttpClient& http;
  KeyValueStore& store;
  Clock& clock;
  Gpio& gpio;
  Console& console;
  Sensors& sensors;
  Platform& platform;
};

}  // namespace tnx
