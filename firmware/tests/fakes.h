#pragma once
// Scriptable stand-ins for every port, plus a Rig that wires a Device to them.
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "device.h"

namespace fake {

// Time moves only when a test says so; random() returns a fixed policy.
struct Clock : tnx::Clock {
  uint32_t now = 0;
  bool randomMax = false;  // false: always 0, true: always bound - 1
  std::vector<uint32_t> bounds;
  uint32_t millis() override { return now; }
  uint32_t random(uint32_t bound) override {
    bounds.push_back(bound);
    return randomMax ? bound - 1 : 0;
  }
};

inline tnx::HttpResponse response(int status, const std::string& body = "",
                                  std::map<std::string, std::string> headers = {}) {
  tnx::HttpResponse r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  return r;
}

// Answers from `handler` (default: 200 with an empty state); records every request
// with the clock time it was sent at.
struct Http : tnx::HttpClient {
  explicit Http(Clock& c) : clock(c) {}
  Clock& clock;
  struct Sent {
    tnx::HttpRequest request;
    uint32_t at;
  };
  std::vector<Sent> sent;
  std::function<tnx::HttpResponse(const tnx::HttpRequest&)> handler;
  tnx::HttpResponse send(const tnx::HttpRequest& request) override {
    sent.push_back({request, clock.now});
    if (handler) return handler(request);
    return response(200, R"({"device_id":"dev1","data":{},"timestamp":null})");
  }
  size_t count(const std::string& urlPart) const {
    size_t n = 0;
    for (const auto& s : sent) n += s.request.url.find(urlPart) != std::string::npos;
    return n;
  }
};

struct Store : tnx::KeyValueStore {
  std::map<std::string, std::string> values;
  bool get(const std::string& key, std::string& value) override {
    auto it = values.find(key);
    if (it == values.end()) return false;
    value = it->second;
    return true;
  }
  void set(const std::string& key, const std::string& value) override { values[key] = value; }
  void remove(const std::string& key) override { values.erase(key); }
};

struct Gpio : tnx::Gpio {
  std::map<int, bool> levels;
  int writes = 0;
  void write(int gpio, bool high) override {
    levels[gpio] = high;
    ++writes;
  }
  bool read(int gpio) override { return levels[gpio]; }
};

struct Console : tnx::Console {
  std::deque<std::string> input;
  std::vector<std::string> output;
  bool readLine(std::string& line) override {
    if (input.empty()) return false;
    line = input.front();
    input.pop_front();
    return true;
  }
  void writeLine(const std::string& text) override { output.push_back(text); }
  bool printed(const std::string& exact) const {
    for (const auto& line : output) if (line == exact) return true;
    return false;
  }
  bool printedContaining(const std::string& part) const {
    for (const auto& line : output) if (line.find(part) != std::string::npos) return true;
    return false;
  }
  std::string all() const {
    std::string text;
    for (const auto& line : output) text += line + "\n";
    return text;
  }
};

struct Sensors : tnx::Sensors {
  std::vector<tnx::Reading> readings{{"temperature", 25.5}, {"humidity", 60}};
  void read(std::vector<tnx::Reading>& out) override { out.insert(out.end(), readings.begin(), readings.end()); }
};

struct Platform : tnx::Platform {
  bool up = true;
  uint32_t heap = 123456;
  std::vector<std::string> connects;
  int disconnects = 0;
  void connectNetwork(const std::string& ssid, const std::string&) override { connects.push_back(ssid); }
  void disconnectNetwork() override { ++disconnects; }
  bool networkUp() override { return up; }
  uint32_t freeHeap() override { return heap; }
};

// Records what the core asks of its MQTT client; a test queues the events the client would report.
struct Mqtt : tnx::MqttClient {
  explicit Mqtt(Clock& c) : clock(c) {}
  Clock& clock;
  struct Connect {
    tnx::MqttConnectOptions options;
    uint32_t at;
  };
  struct Publish {
    std::string topic;
    std::string payload;
    int qos;
    uint32_t at;
  };
  std::vector<Connect> connects;
  std::vector<std::pair<std::string, int>> subscriptions;
  std::vector<Publish> published;
  std::deque<tnx::MqttEvent> events;
  std::string failConnect;  // non-empty: connect() fails with this reason
  int disconnects = 0;
  int nextId = 1;

  bool connect(const tnx::MqttConnectOptions& options, std::string& why) override {
    connects.push_back({options, clock.now});
    events.clear();
    why = failConnect;
    return failConnect.empty();
  }
  void disconnect() override {
    ++disconnects;
    events.clear();
  }
  int subscribe(const std::string& topic, int qos) override {
    subscriptions.emplace_back(topic, qos);
    return nextId++;
  }
  int publish(const std::string& topic, const std::string& payload, int qos) override {
    published.push_back({topic, payload, qos, clock.now});
    return nextId++;
  }
  bool nextEvent(tnx::MqttEvent& event) override {
    if (events.empty()) return false;
    event = events.front();
    events.pop_front();
    return true;
  }
  void push(tnx::MqttEvent::Kind kind, int code = 0, const std::string& topic = "", const std::string& text = "") {
    tnx::MqttEvent event;
    event.kind = kind;
    event.code = code;
    event.topic = topic;
    event.text = text;
    events.push_back(event);
  }
};

// A two-slot flash in memory: what was written, and every call the core made.
struct Update : tnx::UpdatePort {
  std::string version = "1.0.0";
  bool pending = false;  // the running image is on trial
  std::string slot;      // the other slot's bytes
  bool begun = false, ended = false, marked = false, confirmed = false, rolledBack = false;
  int begins = 0, aborts = 0, reboots = 0;
  uint32_t beganSize = 0;
  std::string runningVersion() override { return version; }
  bool pendingVerify() override { return pending; }
  bool begin(uint32_t size, std::string&) override {
    ++begins;
    begun = true;
    beganSize = size;
    slot.clear();
    return true;
  }
  bool write(const uint8_t* data, size_t size, std::string& why) override {
    if (!begun) why = "not begun";
    if (begun) slot.append(reinterpret_cast<const char*>(data), size);
    return begun;
  }
  bool end(std::string&) override {
    ended = true;
    begun = false;
    return true;
  }
  void abort() override {
    ++aborts;
    begun = false;
  }
  bool markPending(std::string&) override { return marked = ended; }
  void reboot() override { ++reboots; }
  bool confirm(std::string&) override { return confirmed = true; }
  void rollback() override { rolledBack = true; }
};

constexpr const char* kToken = "secret-token-42";

// A Device with fake ports. provisioned() fills the store before begin().
struct Rig {
  explicit Rig(const tnx::Config& c = tnx::Config(), tnx::UpdatePort* u = nullptr) : config(c), update(u) {}

  Clock clock;
  Http http{clock};
  Store store;
  Gpio gpio;
  Console console;
  Sensors sensors;
  Platform platform;
  Mqtt mqtt{clock};
  tnx::Config config;
  tnx::UpdatePort* update;
  tnx::Device device{tnx::Ports{http, store, clock, gpio, console, sensors, platform, &mqtt, update}, tnx::PinMap::defaults(), config};

  void provisionStore() {
    store.values = {{"device_id", "dev1"}, {"device_token", kToken}, {"api_url", "http://api.test"}};
  }
  void type(const std::string& line) {
    console.input.push_back(line);
    device.tick();
  }
  // Ticks every `stepMs` until `untilMs`, like loop() on the board.
  void runUntil(uint32_t untilMs, uint32_t stepMs = 100) {
    while (clock.now < untilMs) {
      device.tick();
      clock.now += stepMs;
    }
    device.tick();
  }
};

}  // namespace fake
