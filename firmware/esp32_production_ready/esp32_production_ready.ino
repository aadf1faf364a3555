// ThingsNXT ESP32 firmware: Arduino glue around the portable core in src/thingsnxt/.
// Board: any ESP32 (DevKitC), Arduino-ESP32 core 3.x. Serial monitor at 115200 baud,
// line ending "Newline" (or "Both NL & CR"). Type `help` after boot.
//
// This file only implements the core's small interfaces (platform.h) with
// WiFi / HTTPClient / esp-mqtt / Preferences / GPIO / Serial and feeds loop() to the core.
// All protocol, retry and console behaviour lives in the core and is unit-tested
// on a PC (see firmware/README.md).
#include <Arduino.h>
#include <HTTPClient.h>
#include <Preferences.h>
#include <WiFi.h>
#include <WiFiClientSecure.h>
#include <esp_random.h>  // esp_random(), in this header since IDF 5
#include <esp_task_wdt.h>
#include <soc/soc_caps.h>

#include "board_mqtt.h"
#include "board_ota.h"
#include "src/thingsnxt/chip_temp.h"
#include "src/thingsnxt/device.h"

namespace {

// Reported as fw_version and sent as x-ESP32-version; raise it for every image you upload.
#define TNX_FIRMWARE_VERSION "2.0.0"
const char kFirmware[] = "ThingsNXT ESP32 firmware " TNX_FIRMWARE_VERSION;
constexpr uint32_t kWatchdogMs = 60000;    // above the longest blocking request: 30 s long poll + TLS
constexpr uint32_t kWifiRetryMs = 15000;   // fresh WiFi.begin() when auto-reconnect gave up
constexpr size_t kMaxConsoleLine = 512;    // PEM lines are 64 chars; a provision line is far shorter

// Credentials in NVS, namespace "thingsnxt"; survives reflashing the sketch.
class NvsStore : public tnx::KeyValueStore {
 public:
  void begin() { prefs_.begin("thingsnxt", false); }
  bool get(const std::string& key, std::string& value) override {
    if (!prefs_.isKey(key.c_str())) return false;
    value = prefs_.getString(key.c_str()).c_str();
    return true;
  }
  void set(const std::string& key, const std::string& value) override { prefs_.putString(key.c_str(), value.c_str()); }
  void remove(const std::string& key) override { prefs_.remove(key.c_str()); }

 private:
  Preferences prefs_;
};

class BoardClock : public tnx::Clock {
 public:
  uint32_t millis() override { return ::millis(); }
  uint32_t random(uint32_t bound) override { return esp_random() % bound; }  // hardware RNG
};

class BoardGpio : public tnx::Gpio {
 public:
  void write(int gpio, bool high) override { digitalWrite(gpio, high ? HIGH : LOW); }
  // On this core OUTPUT (0x03) keeps the input buffer on, so digitalRead()
  // returns the pin's real level, which is what telemetry must report.
  bool read(int gpio) override { return digitalRead(gpio) == HIGH; }
};

// Non-blocking line reader. CR, LF and CRLF all end a line; the LF of a CRLF
// must not count as a second, empty line (the wizard reads "" as "keep").
class SerialConsole : public tnx::Console {
 public:
  bool readLine(std::string& line) override {
    while (Serial.available() > 0) {
      const char c = static_cast<char>(Serial.read());
      const bool lfAfterCr = c == '\n' && lastWasCr_;
      lastWasCr_ = c == '\r';
      if (lfAfterCr) continue;
      if (c == '\r' || c == '\n') {
        line = buffer_;
        buffer_.clear();
        return true;
      }
      if (buffer_.size() < kMaxConsoleLine) buffer_ += c;
    }
    return false;
  }
  void writeLine(const std::string& text) override { Serial.println(text.c_str()); }

 private:
  std::string buffer_;
  bool lastWasCr_ = false;
};

class WifiPlatform : public tnx::Platform {
 public:
  void connectNetwork(const std::string& ssid, const std::string& password) override {
    ssid_ = ssid;
    password_ = password;
    WiFi.disconnect();
    if (ssid_.empty()) {
      Serial.println("No Wi-Fi network stored: run 'provision' with a wifi ssid");
      return;
    }
    start();
  }
  void disconnectNetwork() override {
    ssid_.clear();
    password_.clear();
    WiFi.disconnect();
  }
  bool networkUp() override {
    const bool up = WiFi.status() == WL_CONNECTED;
    if (up && !announced_) Serial.printf("Wi-Fi connected to '%s', IP %s\n", ssid_.c_str(), WiFi.localIP().toString().c_str());
    announced_ = up;
    if (!up && !ssid_.empty() && ::millis() - lastAttempt_ >= kWifiRetryMs) start();
    return up;
  }
  uint32_t freeHeap() override { return ESP.getFreeHeap(); }

 private:
  void start() {
    lastAttempt_ = ::millis();
    WiFi.begin(ssid_.c_str(), password_.empty() ? nullptr : password_.c_str());  // empty: open network
  }

  std::string ssid_;
  std::string password_;
  uint32_t lastAttempt_ = 0;
  bool announced_ = false;
};

// https:// uses the CA certificate stored with `cacert`; there is no insecure
// fallback, so a device never sends its token to an unverified server.
class BoardHttp : public tnx::HttpClient {
 public:
  explicit BoardHttp(tnx::KeyValueStore& store) : store_(store) {}

  tnx::HttpResponse send(const tnx::HttpRequest& request) override {
    tnx::HttpResponse response;  // kHttpNetworkError until proven otherwise
    WiFiClient plain;
    WiFiClientSecure secure;
    std::string caCert;  // must outlive the connection: setCACert keeps the pointer
    const bool https = request.url.rfind("https://", 0) == 0;
    if (https) {
      if (!store_.get(tnx::keys::kCaCert, caCert)) {
        Serial.println("https:// needs the server's root CA: run 'cacert'");
        return response;
      }
      secure.setCACert(caCert.c_str());
    }

    HTTPClient http;
    http.setReuse(false);
    http.setConnectTimeout(static_cast<int32_t>(request.timeoutMs));
    http.setTimeout(static_cast<uint16_t>(request.timeoutMs));  // at most 30 000 ms here
    if (!http.begin(https ? static_cast<WiFiClient&>(secure) : plain, request.url.c_str())) return response;
    static const char* kHeaders[] = {"Retry-After", "X-Long-Poll-Max", "Content-Range", "x-sha256"};
    static const char* kLowerCase[] = {"retry-after", "x-long-poll-max", "content-range", "x-sha256"};
    http.collectHeaders(kHeaders, 4);
    for (const auto& header : request.headers) http.addHeader(header.first.c_str(), header.second.c_str());

    uint8_t* body = reinterpret_cast<uint8_t*>(const_cast<char*>(request.body.data()));
    const int status = http.sendRequest(request.method.c_str(), body, request.body.size());
    if (status > 0) {
      response.status = status;
      const String payload = http.getString();  // an update chunk is binary: keep its length, NULs and all
      response.body.assign(payload.c_str(), payload.length());
      for (size_t i = 0; i < 4; ++i) {
        if (http.hasHeader(kHeaders[i])) response.headers[kLowerCase[i]] = http.header(kHeaders[i]).c_str();
      }
    } else {
      response.status = status == HTTPC_ERROR_READ_TIMEOUT ? tnx::kHttpTimeout : tnx::kHttpNetworkError;
    }
    http.end();
    return response;
  }

 private:
  tnx::KeyValueStore& store_;
};

// Readings a bare board has (free heap and uptime go out as stats.free_heap and stats.uptime_s).
// Add your sensors here, e.g. a DHT22:
//   out.push_back({"temperature", dht.readTemperature()});
// A failed read (NaN) is dropped by the core instead of breaking the report.
class BoardSensors : public tnx::Sensors {
 public:
  void read(std::vector<tnx::Reading>& out) override {
    if (WiFi.status() == WL_CONNECTED) out.push_back({"rssi", static_cast<double>(WiFi.RSSI())});
    // The targets Arduino-ESP32 3.x implements temperatureRead() for: the classic ESP32 (its
    // undocumented sensor) and the chips with IDF's temperature sensor driver (S2, S3, C3, C6...).
#if CONFIG_IDF_TARGET_ESP32 || SOC_TEMP_SENSOR_SUPPORTED
    out.push_back({tnx::kChipTempKey, tnx::chipTempReading(temperatureRead())});
#endif
  }
};

void startWatchdog() {
  esp_task_wdt_config_t config = {};
  config.timeout_ms = kWatchdogMs;
  config.idle_core_mask = 0;  // watch loop() only
  config.trigger_panic = true;  // reboot a hung board
  // The core may have started the watchdog already (CONFIG_ESP_TASK_WDT_INIT).
  if (esp_task_wdt_reconfigure(&config) != ESP_OK) esp_task_wdt_init(&config);
  esp_task_wdt_add(nullptr);  // this (loop) task
}

const tnx::PinMap kPins = tnx::PinMap::defaults();
NvsStore store;
BoardClock boardClock;
BoardGpio gpio;
SerialConsole console;
BoardSensors sensors;
WifiPlatform platform;
BoardHttp http(store);
BoardMqtt mqtt(store);  // used after `transport mqtt`
BoardOta ota(TNX_FIRMWARE_VERSION);
tnx::Device device(tnx::Ports{http, store, boardClock, gpio, console, sensors, platform, &mqtt, &ota}, kPins);

}  // namespace

// Arduino-ESP32 marks a new image valid in initArduino(), before setup(), unless this returns
// true: the core confirms it only once it has reached the server, else rolls it back.
extern "C" bool verifyRollbackLater() { return true; }

void setup() {
  Serial.begin(115200);
  Serial.println(kFirmware);
  store.begin();
  mqtt.begin();
  for (const auto& pin : kPins.entries()) pinMode(pin.gpio, OUTPUT);
  WiFi.persistent(false);  // credentials live in our NVS namespace only, erased by factory-reset
  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  startWatchdog();
  device.begin();
}

void loop() {
  esp_task_wdt_reset();
  device.tick();
  delay(10);  // lets the Wi-Fi stack and idle task run
}
