// The serial console of Device: provisioning, status, statistics, debug level.
#include <vector>

#include "device.h"
#include "mqtt.h"
#include "text.h"

namespace tnx {

static const char kBeginCert[] = "-----BEGIN CERTIFICATE-----";
static const char kEndCert[] = "-----END CERTIFICATE-----";

void Device::handleLine(const std::string& raw) {
  if (capturingCaCert_) {
    feedCaCert(raw);
  } else if (wizard_.active()) {
    feedWizard(raw);
  } else {
    const std::string line = trim(raw);
    if (!line.empty()) handleCommand(line);
  }
}

void Device::handleCommand(const std::string& line) {
  std::vector<std::string> args;
  if (!splitArgs(line, args)) {
    log_.line("Unclosed \" in the command; nothing done");  // not echoed: it may hold a new token
    return;
  }
  const std::string command = args.front();
  args.erase(args.begin());

  if (command == "provision" && args.empty()) {
    wizard_.start(credentials_);
    log_.line("Provisioning: answer each prompt ('cancel' aborts)");
    log_.line(wizard_.prompt());
  } else if (command == "provision") {
    const ProvisionResult result = parseProvisionArgs(args, credentials_);
    if (result.ok) {
      provisioned(result.credentials);
    } else {
      log_.line("PROVISION_ERROR " + result.error);
    }
  } else if (command == "status") {
    printStatus();
  } else if (command == "stats") {
    printStats();
  } else if (command == "debug") {
    DebugLevel level = log_.level();  // bare "debug" shows the current level
    if (args.size() > 1 || (args.size() == 1 && !parseDebugLevel(args[0], level))) {
      log_.line("usage: debug on|off|verbose");
    } else {
      log_.setLevel(level);
      log_.line(std::string("debug ") + debugLevelName(level));
    }
  } else if (command == "factory-reset") {
    factoryReset();
  } else if (command == "cacert" && args.empty()) {
    capturingCaCert_ = true;
    caCertDraft_.clear();
    log_.line("Paste the root CA certificate (PEM) of the https:// API; 'cancel' aborts");
  } else if (command == "cacert" && args.size() == 1 && args[0] == "clear") {
    ports_.store.remove(keys::kCaCert);
    log_.line("CA certificate removed");
  } else if (command == "transport") {
    handleTransport(args);
  } else if (command == "help") {
    printHelp();
  } else {
    log_.line("Unknown command '" + command + "'. Type 'help' for the list of commands.");
  }
}

void Device::feedWizard(const std::string& line) {
  if (trim(line) == "cancel") {
    wizard_.cancel();
    log_.line("Provisioning cancelled; nothing changed");
    return;
  }
  const std::string error = wizard_.feed(line);
  if (!error.empty()) log_.line(error);
  if (wizard_.active()) {
    log_.line(wizard_.prompt());
  } else {
    provisioned(wizard_.result());
  }
}

void Device::feedCaCert(const std::string& raw) {
  const std::string line = trim(raw);
  if (line == "cancel") {
    capturingCaCert_ = false;
    log_.line("CA certificate unchanged");
    return;
  }
  if (line.empty()) return;
  caCertDraft_ += line + "\n";
  if (line != kEndCert) return;
  capturingCaCert_ = false;
  if (caCertDraft_.rfind(kBeginCert, 0) != 0) {
    log_.line("Not a PEM certificate (must start with " + std::string(kBeginCert) + "); unchanged");
    return;
  }
  ports_.store.set(keys::kCaCert, caCertDraft_);
  log_.line("CA certificate stored (" + std::to_string(caCertDraft_.size()) + " bytes)");
}

// transport | transport http | transport mqtt [url]. Stored at once; a running device switches.
void Device::handleTransport(const std::vector<std::string>& args) {
  const bool mqtt = !args.empty() && args[0] == "mqtt";
  if (args.size() > 2 || (!args.empty() && !mqtt && args[0] != "http") || (args.size() == 2 && !mqtt)) {
    log_.line("usage: transport http|mqtt [mqtt://host:port | mqtts://host:port]");
    return;
  }
  if (mqtt && ports_.mqtt == nullptr) {
    log_.line("transport mqtt: this build has no MQTT client");
    return;
  }
  if (!args.empty()) {
    std::string url = args.size() == 2 ? args[1] : "";
    const std::string error = url.empty() ? "" : checkMqttUrl(url);
    if (!error.empty()) {
      log_.line("TRANSPORT_ERROR " + error);
      return;
    }
    credentials_.transport = mqtt ? Transport::Mqtt : Transport::Http;
    credentials_.mqttUrl = url;
    saveTransport(ports_.store, credentials_);
  }
  if (credentials_.transport == Transport::Http) {
    log_.line("TRANSPORT http");
  } else {
    const std::string url = mqttUrl();
    log_.line("TRANSPORT mqtt " + (url.empty() ? "(the api url's host, port 1883, once provisioned)" : url));
  }
  if (!args.empty() && state_ == State::Running) enterRunning();
}

void Device::provisioned(const Credentials& credentials) {
  credentials_ = credentials;
  saveCredentials(ports_.store, credentials_);
  log_.setSecret(credentials_.token);
  log_.line("PROVISIONED device=" + credentials_.deviceId);
  enterRunning();
}

void Device::factoryReset() {
  mqttStop();
  eraseAll(ports_.store);
  credentials_ = Credentials();
  stats_ = Stats();
  state_ = State::Unprovisioned;
  longPollWaitS_ = 0;
  lastHealthStatus_ = 0;
  wizard_.cancel();
  // A reset device must not keep a relay switched on.
  for (const auto& pin : pins_.entries()) ports_.gpio.write(pin.gpio, false);
  ports_.platform.disconnectNetwork();
  log_.setSecret("");
  log_.line("FACTORY_RESET done; credentials erased. Run 'provision' to set up again.");
}

void Device::printStatus() {
  std::string ca;
  const bool hasCa = ports_.store.get(keys::kCaCert, ca);
  log_.line(std::string("state=") + stateName(state_) + " device=" +
            (credentials_.deviceId.empty() ? "(none)" : credentials_.deviceId) +
            " token=" + (credentials_.token.empty() ? "(none)" : maskToken(credentials_.token)) +
            " api=" + (credentials_.apiUrl.empty() ? "(none)" : credentials_.apiUrl));
  log_.line("wifi=" + (credentials_.wifiSsid.empty() ? std::string("(none)") : credentials_.wifiSsid) +
            " network=" + (ports_.platform.networkUp() ? "up" : "down") + " ca_cert=" + (hasCa ? "stored" : "none"));
  log_.line(std::string("debug=") + debugLevelName(log_.level()) + " polling=" +
            (longPollWaitS_ > 0 ? "long(wait<=" + std::to_string(longPollWaitS_) + "s)" : std::string("plain")) +
            " health=" + healthText());
  if (credentials_.transport == Transport::Mqtt) {
    const char* phase = mqttPhase_ == MqttPhase::Connected ? "connected" : mqttPhase_ == MqttPhase::Connecting ? "connecting" : "disconnected";
    log_.line("transport=mqtt url=" + mqttUrl() + " session=" + phase + " reconnect_failures=" +
              std::to_string(mqttBackoff_.failures()));
  } else {
    log_.line("transport=http");
  }
  log_.line("retries telemetry=" + std::to_string(telemetry_.backoff.failures()) +
            " poll=" + std::to_string(poll_.backoff.failures()) +
            " rate_limited=" + (rateLimited_ ? "yes" : "no"));
}

void Device::printStats() {
  stats_.freeHeap = ports_.platform.freeHeap();
  log_.line("stats sent=" + std::to_string(stats_.sent) + " failed=" + std::to_string(stats_.failed) +
            " polls=" + std::to_string(stats_.polls) + " commands=" + std::to_string(stats_.commands) +
            " reconnects=" + std::to_string(stats_.reconnects) + " free_heap=" + std::to_string(stats_.freeHeap) +
            " uptime_s=" + std::to_string(stats_.uptimeS) + " health=" + healthText());
}

void Device::printHelp() {
  for (const char* text : {
           "Commands:",
           "  provision                      interactive: device id, token, api url, wifi ssid, wifi password",
           "  provision <device_id> <token> <api_url> [wifi_ssid] [wifi_password]",
           "                                 one line; quote values with blanks: \"My WiFi\"",
           "  status                         state, identity (token masked), network, polling mode",
           "  stats                          counters also reported as stats.* in telemetry",
           "  debug on|off|verbose           verbose prints every request and body (token masked)",
           "  cacert | cacert clear          paste / remove the root CA (PEM) for an https:// API",
           "  transport http|mqtt [url]      how to reach the server (stored); mqtt url default:",
           "                                 mqtt://<api host>:1883 (mqtts://<api host>:8883 for https)",
           "  factory-reset                  erase all credentials and stop",
           "  help                           this list",
       }) {
    log_.line(text);
  }
}

}  // namespace tnx
