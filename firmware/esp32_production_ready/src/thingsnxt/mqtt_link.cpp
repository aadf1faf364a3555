// Device over MQTT: one session to the server's endpoint (docs/mqtt.md) instead of report, poll
// and health requests. Username = device id, password = token; state and commands subscribed
// with QoS 1 after every CONNACK (the server keeps no sessions); reports published with QoS 1.
// A state message is applied exactly as a poll answer. A lost session or a failed attempt
// reconnects with the same backoff as HTTP retries; a refused CONNECT acts as the 403.
#include "device.h"
#include "mqtt.h"

namespace tnx {

static bool reached(uint32_t now, uint32_t deadline) { return static_cast<int32_t>(now - deadline) >= 0; }

std::string Device::mqttUrl() const {
  return credentials_.mqttUrl.empty() ? defaultMqttUrl(credentials_.apiUrl) : credentials_.mqttUrl;
}

void Device::mqttTick(uint32_t now) {
  MqttEvent event;
  while (state_ == State::Running && ports_.mqtt->nextEvent(event)) onMqttEvent(event);
  if (state_ != State::Running) return;
  now = ports_.clock.millis();
  switch (mqttPhase_) {
    case MqttPhase::Idle:
      if (reached(now, mqttDueAt_)) mqttConnect(now);
      break;
    case MqttPhase::Connecting:
      if (reached(now, mqttDueAt_)) {
        ports_.mqtt->disconnect();
        mqttRetry("connect", "no CONNACK within " + std::to_string(config_.mqttConnectTimeoutMs) + " ms");
      }
      break;
    case MqttPhase::Connected:
      if (reached(now, telemetry_.dueAt)) mqttReport(now);
      break;
  }
}

void Device::mqttConnect(uint32_t now) {
  MqttConnectOptions options;
  options.url = mqttUrl();
  options.clientId = "thingsnxt-" + credentials_.deviceId;
  options.username = credentials_.deviceId;
  options.password = credentials_.token;
  options.keepAliveS = static_cast<uint16_t>(config_.mqttKeepAliveS);
  log_.verbose("> MQTT CONNECT " + options.url + " username=" + options.username);
  std::string why;
  if (!ports_.mqtt->connect(options, why)) {
    mqttRetry("connect", why);
    return;
  }
  mqttPhase_ = MqttPhase::Connecting;
  mqttDueAt_ = now + config_.mqttConnectTimeoutMs;
}

void Device::onMqttEvent(const MqttEvent& event) {
  switch (event.kind) {
    case MqttEvent::Kind::Connected: {
      if (mqttPhase_ != MqttPhase::Connecting) return;
      mqttPhase_ = MqttPhase::Connected;
      mqttBackoff_.reset();
      if (mqttEverConnected_) ++stats_.reconnects;
      log_.line(std::string(mqttEverConnected_ ? "MQTT reconnected to " : "MQTT connected to ") + mqttUrl());
      mqttEverConnected_ = true;
      if (ports_.mqtt->subscribe(stateTopic_, 1) < 0 || ports_.mqtt->subscribe(commandsTopic_, 1) < 0) {
        ports_.mqtt->disconnect();
        mqttRetry("connection", "subscribe failed");
        return;
      }
      // The server answers the state subscription with the current state: as at boot over
      // HTTP, that answer comes first and the report after it confirms it (or at the latest
      // one interval from now).
      reportAfterFirstPoll_ = true;
      telemetry_.dueAt = ports_.clock.millis() + telemetry_.intervalMs;
      break;
    }
    case MqttEvent::Kind::Refused:
      if (mqttPhase_ != MqttPhase::Connecting) return;
      if (event.code == 4 || event.code == 5) {
        // Bad user name or password, or not authorized: the token was rotated or is wrong.
        stopForbidden("MQTT CONNACK " + std::to_string(event.code));
        return;
      }
      ports_.mqtt->disconnect();
      mqttRetry("connect", "refused, return code " + std::to_string(event.code));
      break;
    case MqttEvent::Kind::Lost:
      if (mqttPhase_ == MqttPhase::Idle) return;
      mqttRetry(mqttPhase_ == MqttPhase::Connected ? "connection" : "connect", event.text);
      break;
    case MqttEvent::Kind::Subscribed:
      if (mqttPhase_ != MqttPhase::Connected) return;
      if (event.code < 0 || event.code > 2) {
        log_.line("MQTT subscription refused (SUBACK code " + std::to_string(event.code) + "); reconnecting");
        ports_.mqtt->disconnect();
        mqttRetry("connection", "subscription refused");
        return;
      }
      log_.debug("MQTT subscribed (QoS " + std::to_string(event.code) + ")");
      break;
    case MqttEvent::Kind::Acked:
      // Reports are the only QoS 1 publishes: the server acknowledges one once it is committed.
      ++stats_.sent;
      log_.debug("Telemetry sent (MQTT PUBACK)");
      if (fwPublishId_ != 0 && event.id == fwPublishId_) {
        fwReport_.erase(fwReport_.begin(), fwReport_.begin() + static_cast<std::ptrdiff_t>(fwPublished_));
        fwPublishId_ = 0;
      }
      otaReachedServer();
      break;
    case MqttEvent::Kind::Message:
      onMqttMessage(event);
      break;
  }
}

void Device::onMqttMessage(const MqttEvent& event) {
  log_.verbose("< MQTT " + event.topic + " " + event.text);
  if (mqttPhase_ != MqttPhase::Connected) return;
  if (event.topic == stateTopic_) {
    const cJSON* data = nullptr;
    const JsonPtr doc = parseStateResponse(event.text, data);
    if (data == nullptr) {
      log_.line("MQTT state message without a data object; ignored");
      return;
    }
    ++stats_.polls;
    otaReachedServer();
    applyServerState(data, "mqtt state");
    if (reportAfterFirstPoll_) {
      reportAfterFirstPoll_ = false;
      telemetry_.dueAt = ports_.clock.millis();
    }
  } else if (event.topic == commandsTopic_) {
    const JsonPtr state = commandAsState(event.text);
    if (state) {
      applyServerState(state.get(), "mqtt command");
    } else {
      log_.line("MQTT command message not understood; ignored");
    }
  }
}

void Device::mqttReport(uint32_t now) {
  const TelemetryInput input = telemetryInput(now);
  const std::string body = buildMqttReport(input);
  log_.verbose("> MQTT " + telemetryTopic_ + " " + body);
  telemetry_.dueAt = now + telemetry_.intervalMs;
  lastWasReport_ = true;
  const int id = ports_.mqtt->publish(telemetryTopic_, body, 1);
  if (id >= 0 && !input.texts.empty()) {
    // fw_* keys leave the queue with this report's PUBACK; until then later reports repeat them.
    fwPublishId_ = id;
    fwPublished_ = input.texts.size();
  }
  if (id < 0) {
    // Not queued (the client's outbox is full, or the session just ended): the next report
    // carries the same pins a moment later.
    ++stats_.failed;
    log_.debug("telemetry publish failed; next report in " + std::to_string(telemetry_.intervalMs) + " ms");
  }
}

void Device::mqttRetry(const std::string& what, const std::string& why) {
  mqttPhase_ = MqttPhase::Idle;
  ++stats_.failed;
  const uint32_t delay = mqttBackoff_.nextDelay(ports_.clock);
  mqttDueAt_ = ports_.clock.millis() + delay;
  log_.line("MQTT " + what + (what == "connect" ? " failed (" : " lost (") + why + "); reconnect #" +
            std::to_string(mqttBackoff_.failures()) + " in " + std::to_string(delay) + " ms");
}

void Device::mqttStop() {
  if (mqttPhase_ != MqttPhase::Idle && ports_.mqtt != nullptr) ports_.mqtt->disconnect();
  mqttPhase_ = MqttPhase::Idle;
}

}  // namespace tnx
