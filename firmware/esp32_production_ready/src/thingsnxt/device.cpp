#include "device.h"

#include "mqtt.h"

namespace tnx {

// millis() wraps every ~49 days; comparing through a signed difference keeps
// deadlines right across the wrap as long as they are < 24 days away.
static bool reached(uint32_t now, uint32_t deadline) { return static_cast<int32_t>(now - deadline) >= 0; }

const char* stateName(State state) {
  switch (state) {
    case State::Unprovisioned: return "UNPROVISIONED";
    case State::Running: return "RUNNING";
    case State::NeedsProvisioning: return "NEEDS_PROVISIONING";
  }
  return "?";
}

Device::Device(const Ports& ports, PinMap pins, const Config& config)
    : ports_(ports),
      pins_(std::move(pins)),
      config_(config),
      log_(ports.console),
      telemetry_{"telemetry", config.telemetryIntervalMs, 0, Backoff(config.backoffBaseMs, config.backoffCapMs)},
      poll_{"poll", config.pollIntervalMs, 0, Backoff(config.backoffBaseMs, config.backoffCapMs)},
      health_{"health", config.healthIntervalMs, 0, Backoff(config.backoffBaseMs, config.backoffCapMs)},
      mqttBackoff_(config.backoffBaseMs, config.backoffCapMs),
      otaChunks_{"ota download", 0, 0, Backoff(config.backoffBaseMs, config.backoffCapMs)},
      otaChecks_{"ota check", config.otaCheckIntervalMs, 0, Backoff(config.backoffBaseMs, config.backoffCapMs)} {}

void Device::begin() {
  // Outputs start LOW, a known state after a brown-out; the first poll restores what the app wants.
  for (const auto& pin : pins_.entries()) ports_.gpio.write(pin.gpio, false);
  credentials_ = loadCredentials(ports_.store);
  otaBoot();
  if (credentials_.complete()) {
    enterRunning();
    if (config_.firstContactSpreadMs > 0) {
      const uint32_t spread = ports_.clock.random(config_.firstContactSpreadMs);
      for (Channel* channel : {&telemetry_, &poll_, &health_}) channel->dueAt += spread;
      mqttDueAt_ += spread;
    }
  } else {
    log_.line("UNPROVISIONED no credentials stored; type 'provision' (or 'help')");
  }
}

void Device::enterRunning() {
  mqttStop();  // a session of the previous credentials or transport
  log_.setSecret(credentials_.token);
  state_ = State::Running;
  const uint32_t now = ports_.clock.millis();
  // Poll before the first report, so the report confirms the app's state
  // instead of announcing the power-on defaults.
  poll_.dueAt = now;
  health_.dueAt = now;
  telemetry_.dueAt = now + telemetry_.intervalMs;
  reportAfterFirstPoll_ = true;
  for (Channel* channel : {&telemetry_, &poll_, &health_}) channel->backoff.reset();
  rateLimited_ = false;
  longPollWaitS_ = 0;
  lastWasReport_ = false;
  linkUp_ = linkEverUp_ = readyAnnounced_ = false;
  if (credentials_.transport == Transport::Mqtt && ports_.mqtt == nullptr) {
    log_.line("transport mqtt: this build has no MQTT client; using http");
  }
  if (usingMqtt()) {
    mqttPhase_ = MqttPhase::Idle;
    mqttDueAt_ = now;
    mqttBackoff_.reset();
    mqttEverConnected_ = false;
    stateTopic_ = mqttTopic(config_.mqttTopicPrefix, credentials_.deviceId, "state");
    commandsTopic_ = mqttTopic(config_.mqttTopicPrefix, credentials_.deviceId, "commands");
    telemetryTopic_ = mqttTopic(config_.mqttTopicPrefix, credentials_.deviceId, "telemetry");
  }
  log_.line("Running as device=" + credentials_.deviceId + " api=" + credentials_.apiUrl +
            (usingMqtt() ? " transport=mqtt mqtt=" + mqttUrl() : std::string()));
  ports_.platform.connectNetwork(credentials_.wifiSsid, credentials_.wifiPassword);
}

void Device::stopForbidden(const std::string& why) {
  mqttStop();
  state_ = State::NeedsProvisioning;
  longPollWaitS_ = 0;
  log_.line("NEEDS_PROVISIONING the server rejected the device token (" + why + "); run 'provision'");
}

void Device::tick() {
  if (halted()) return;
  updateUptime();
  std::string line;
  while (ports_.console.readLine(line)) handleLine(line);
  otaWatchConfirm(ports_.clock.millis());  // also while unprovisioned or refused: the image cannot reach the server
  if (halted() || state_ != State::Running || !trackNetwork()) return;

  const uint32_t now = ports_.clock.millis();
  // Asked after mqttTick(): a state message in it may have started an update.
  const auto canCheck = [this] { return ports_.update != nullptr && otaStep_ == OtaStep::Idle && !otaAwaitingConfirm_; };
  if (rateLimited_ && reached(now, gateUntil_)) rateLimited_ = false;
  if (usingMqtt()) {
    mqttTick(now);
    // The image itself always comes over HTTP, between MQTT events.
    if (state_ != State::Running || rateLimited_ || !mqttConnected()) return;
    if (otaDue(ports_.clock.millis())) {
      otaTick();
    } else if (canCheck() && reached(ports_.clock.millis(), otaChecks_.dueAt) && !reportAfterFirstPoll_) {
      otaCheck();
    }
    return;
  }
  if (rateLimited_) return;
  // One request per tick keeps the console and the watchdog serviced.
  // Reports go first: after a command they carry the confirmation. A long
  // poll never holds past the next report (see pollWaitS), and with less than
  // 1 s left the poll waits for the report instead.
  // An update's chunks fill the time between reports and (plain) polls, so commands still come within 3 s.
  if (reached(now, telemetry_.dueAt)) {
    sendTelemetry();
  } else if (reached(now, poll_.dueAt) && !pollYieldsToReport(now)) {
    poll();
  } else if (otaDue(now)) {
    otaTick();
  } else if (canCheck() && reached(now, otaChecks_.dueAt) && !reportAfterFirstPoll_) {
    otaCheck();  // after the first poll, whose state may carry the offer already
  } else if (reached(now, health_.dueAt)) {
    checkHealth();
  }
}

bool Device::trackNetwork() {
  const bool up = ports_.platform.networkUp();
  if (up && !linkUp_) {
    if (linkEverUp_) {
      ++stats_.reconnects;
      log_.line("Network reconnected");
    }
    linkEverUp_ = true;
  } else if (!up && linkUp_) {
    log_.line("Network lost; waiting for it to come back");
  }
  linkUp_ = up;
  if (up && !readyAnnounced_) {
    readyAnnounced_ = true;
    log_.line("READY");
  }
  return up;
}

void Device::updateUptime() {
  const uint32_t now = ports_.clock.millis();
  uptimeMs_ += static_cast<uint32_t>(now - lastMillis_);
  lastMillis_ = now;
  stats_.uptimeS = static_cast<uint32_t>(uptimeMs_ / 1000);
}

}  // namespace tnx
