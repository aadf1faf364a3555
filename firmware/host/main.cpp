// host_device: the portable firmware core on a PC, for end-to-end tests
// against a real server. Console on stdin/stdout; see firmware/README.md.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <unistd.h>

#include "config.h"
#include "device.h"
#include "file_flash.h"
#include "file_store.h"
#include "host_ports.h"
#include "http_client.h"
#include "text.h"
#if TNX_HOST_MQTT
#include "mosquitto_client.h"
#endif

namespace {

volatile std::sig_atomic_t g_stop = 0;

void onSignal(int) { g_stop = 1; }

struct Options {
  std::string storePath = "./host_device_store.json";
  std::string flashDir;  // empty: no over-the-air updates
  std::string firmwareVersion = "2.0.0";
  tnx::Config config;
  tnx::DebugLevel debug = tnx::DebugLevel::On;
};

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: host_device [--store FILE] [--telemetry-ms N] [--poll-ms N] [--health-ms N]\n"
               "                   [--timeout-ms N] [--debug off|on|verbose]\n"
               "                   [--flash DIR] [--firmware-version V] [--ota-confirm-ms N] [--ota-check-ms N]\n"
               "                   [--ota-chunk-bytes N] [--first-contact-spread-ms N]\n"
               "Commands are read from stdin (type 'help'); output goes to stdout.\n");
}

bool parsePositive(const std::string& text, uint32_t& out) {
  uint32_t value = 0;
  if (!tnx::parseUint(text, value) || value == 0) return false;
  out = value;
  return true;
}

// Returns false on a bad command line (message already printed).
bool parseOptions(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help") {
      usage(stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "host_device: %s needs a value\n", flag.c_str());
      return false;
    }
    const std::string value = argv[++i];
    bool ok = true;
    if (flag == "--store") {
      options.storePath = value;
    } else if (flag == "--debug") {
      ok = tnx::parseDebugLevel(value, options.debug);
    } else if (flag == "--telemetry-ms") {
      ok = parsePositive(value, options.config.telemetryIntervalMs);
    } else if (flag == "--poll-ms") {
      ok = parsePositive(value, options.config.pollIntervalMs);
    } else if (flag == "--health-ms") {
      ok = parsePositive(value, options.config.healthIntervalMs);
    } else if (flag == "--timeout-ms") {
      ok = parsePositive(value, options.config.httpTimeoutMs);
    } else if (flag == "--first-contact-spread-ms") {
      ok = tnx::parseUint(value, options.config.firstContactSpreadMs);  // 0: at once
    } else if (flag == "--flash") {
      options.flashDir = value;
    } else if (flag == "--firmware-version") {
      options.firmwareVersion = value;
      ok = !value.empty() && value.size() < 32;  // esp_app_desc_t.version is char[32]
    } else if (flag == "--ota-confirm-ms") {
      ok = parsePositive(value, options.config.otaConfirmTimeoutMs);
    } else if (flag == "--ota-check-ms") {
      ok = parsePositive(value, options.config.otaCheckIntervalMs);
    } else if (flag == "--ota-chunk-bytes") {
      ok = parsePositive(value, options.config.otaChunkBytes);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "host_device: bad option %s %s\n", flag.c_str(), value.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parseOptions(argc, argv, options)) {
    usage(stderr);
    return 2;
  }

  // No SA_RESTART: a signal interrupts a blocking poll() so we exit promptly.
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = onSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  const tnx::PinMap pins = tnx::PinMap::defaults();
  host::PosixHttpClient http;
  host::FileStore store(options.storePath);
  host::HostClock clock;
  host::PrintingGpio gpio(pins);
  host::StdinConsole console;
  host::FakeSensors sensors(clock);
  host::HostPlatform platform;

#if TNX_HOST_MQTT
  host::MosquittoClient mqtt;
  tnx::MqttClient* mqttPort = &mqtt;
#else
  tnx::MqttClient* mqttPort = nullptr;  // built without libmosquitto-dev: transport http only
#endif
  std::unique_ptr<host::FileFlash> flash;  // only with --flash: no files are touched otherwise
  if (!options.flashDir.empty()) {
    flash.reset(new host::FileFlash(options.flashDir, options.firmwareVersion));
    host::printLine(flash->boot());
  }
  tnx::UpdatePort* updatePort = flash.get();
  tnx::Device device(tnx::Ports{http, store, clock, gpio, console, sensors, platform, mqttPort, updatePort}, pins, options.config);
  device.log().setLevel(options.debug);
  device.begin();
  while (!g_stop) {
#if TNX_HOST_MQTT
    mqtt.loop();
#endif
    device.tick();
    if (flash && flash->rebootRequested()) {
      // The board resets; the host starts itself again, same binary and arguments, and the
      // "boot loader" (FileFlash::boot) picks the slot. stdout stays the harness's pipe.
#if TNX_HOST_MQTT
      mqtt.disconnect();
#endif
      host::printLine("REBOOTING");
      execv("/proc/self/exe", argv);
      std::fprintf(stderr, "host_device: re-exec failed: %s\n", std::strerror(errno));
      return 1;
    }
    console.waitForInput(10);
  }
#if TNX_HOST_MQTT
  mqtt.disconnect();  // a clean DISCONNECT: the server marks the device offline at once
#endif
  host::printLine("STOPPED");
  return 0;
}
