// Device: the three requests and what their answers do (statuses, backoff,
// Retry-After, long poll, applying server state).
#include "device.h"
#include "protocol.h"

namespace tnx {

static std::string describe(int status) {
  if (status == kHttpTimeout) return "timeout";
  if (status <= 0) return "network error";
  return "HTTP " + std::to_string(status);
}

// The server's {"detail": "..."} error text, else the start of the body.
static std::string errorDetail(const std::string& body) {
  JsonPtr doc(cJSON_ParseWithLength(body.data(), body.size()));
  const cJSON* detail = doc ? cJSON_GetObjectItemCaseSensitive(doc.get(), "detail") : nullptr;
  if (cJSON_IsString(detail)) return detail->valuestring;
  return body.substr(0, 120);
}

HttpResponse Device::exchange(const HttpRequest& request) {
  log_.verbose("> " + request.method + " " + request.url);
  if (!request.body.empty()) log_.verbose("> " + request.body);
  HttpResponse response = ports_.http.send(request);
  log_.verbose("< " + describe(response.status) + " " + response.body);
  return response;
}

// What a report says, over either transport.
TelemetryInput Device::telemetryInput(uint32_t now) {
  TelemetryInput input;
  for (const auto& pin : pins_.entries()) input.pins.emplace_back(pin.vpin, ports_.gpio.read(pin.gpio) ? 1 : 0);
  input.millis = now;
  ports_.sensors.read(input.sensors);
  stats_.freeHeap = ports_.platform.freeHeap();
  input.stats = stats_;
  input.texts = fwReport_;
  return input;
}

void Device::sendTelemetry() {
  const uint32_t startedAt = ports_.clock.millis();
  const TelemetryInput input = telemetryInput(startedAt);

  HttpRequest request;
  request.method = "POST";
  request.url = telemetryUrl(credentials_);
  request.headers = {{"Content-Type", "application/json"}};
  request.body = buildTelemetryBody(credentials_.token, input);
  request.timeoutMs = config_.httpTimeoutMs;
  const size_t fwSent = input.texts.size();
  const HttpResponse response = exchange(request);
  lastWasReport_ = true;
  if (!settle(telemetry_, response, startedAt)) return;

  ++stats_.sent;
  fwReport_.erase(fwReport_.begin(), fwReport_.begin() + static_cast<std::ptrdiff_t>(fwSent));
  otaReachedServer();
  log_.debug("Telemetry sent (" + describe(response.status) + ")");
  const cJSON* data = nullptr;
  const JsonPtr doc = parseStateResponse(response.body, data);
  if (data != nullptr) applyServerState(data, "telemetry");
}

// The device sends one request at a time, so a held poll would hold back the
// next report: the wait is bounded by the whole seconds left until the report
// is due. 0: a plain poll.
uint32_t Device::pollWaitS(uint32_t now) const {
  if (longPollWaitS_ == 0 || otaStep_ != OtaStep::Idle) return 0;  // a held poll would stall an update
  const int32_t leftMs = static_cast<int32_t>(telemetry_.dueAt - now);
  const uint32_t leftS = leftMs > 0 ? static_cast<uint32_t>(leftMs) / 1000 : 0;
  return leftS < longPollWaitS_ ? leftS : longPollWaitS_;
}

// Less than 1 s to the report while long polling: report first, then hold the
// poll for the whole next gap. But never twice in a row: when even right after
// a report less than 1 s is left (a telemetry interval under ~1 s, or a report
// that took almost the whole interval), the poll goes out plain, so polls are
// never starved.
bool Device::pollYieldsToReport(uint32_t now) const {
  return longPollWaitS_ > 0 && otaStep_ == OtaStep::Idle && pollWaitS(now) == 0 && !lastWasReport_;
}

void Device::poll() {
  const uint32_t startedAt = ports_.clock.millis();
  const uint32_t wait = pollWaitS(startedAt);
  HttpRequest request;
  request.method = "GET";
  request.url = pollUrl(credentials_, wait);
  request.timeoutMs = wait > 0 ? (wait + config_.longPollSlackS) * 1000 : config_.httpTimeoutMs;
  const HttpResponse response = exchange(request);
  lastWasReport_ = false;

  if (response.status <= 0 && wait > 0) {
    // A proxy may cut held connections: fall back to a plain poll, whose
    // answer tells again whether long polling is on offer.
    longPollWaitS_ = 0;
    log_.debug("Long poll failed; back to plain polling");
  }
  const cJSON* data = nullptr;
  JsonPtr doc;
  if (classify(response.status) == Outcome::Ok) {
    doc = parseStateResponse(response.body, data);
    if (data == nullptr) {
      // e.g. a captive portal answering 200 with HTML: an outage, not a command.
      ++stats_.failed;
      retryLater(poll_, "answer without a data object");
      return;
    }
  }
  if (!settle(poll_, response, startedAt)) return;

  ++stats_.polls;
  otaReachedServer();
  const uint32_t offered = negotiateLongPoll(response.header("x-long-poll-max"), config_.longPollCapS);
  if (offered != longPollWaitS_) {
    log_.debug(offered > 0 ? "Long polling on: wait=" + std::to_string(offered) + " s" : "Long polling off");
  }
  longPollWaitS_ = offered;
  applyServerState(data, "poll");
  if (reportAfterFirstPoll_) {
    reportAfterFirstPoll_ = false;
    telemetry_.dueAt = ports_.clock.millis();
  }
}

void Device::checkHealth() {
  const uint32_t startedAt = ports_.clock.millis();
  HttpRequest request;
  request.method = "GET";
  request.url = healthUrl(credentials_);
  request.timeoutMs = config_.httpTimeoutMs;
  const HttpResponse response = exchange(request);
  lastWasReport_ = false;
  // A probe only: it never feeds the backoff, and /health is exempt from rate limiting.
  health_.dueAt = startedAt + health_.intervalMs;
  const bool changed = response.status != lastHealthStatus_;
  lastHealthStatus_ = response.status;
  if (changed) log_.debug("Health: " + healthText());
}

std::string Device::healthText() const {
  if (lastHealthStatus_ == 0) return "not checked yet";
  if (lastHealthStatus_ == 200) return "healthy";
  if (lastHealthStatus_ == 503) return "degraded (503)";
  return "unreachable (" + describe(lastHealthStatus_) + ")";
}

// Handles every outcome but success; returns true on success.
bool Device::settle(Channel& channel, const HttpResponse& response, uint32_t startedAt) {
  const Outcome outcome = classify(response.status);
  if (outcome == Outcome::Ok) {
    channel.backoff.reset();
    channel.dueAt = startedAt + channel.intervalMs;
    return true;
  }
  ++stats_.failed;
  const std::string name = channel.name;
  switch (outcome) {
    case Outcome::Retry:
      retryLater(channel, describe(response.status));
      break;
    case Outcome::RateLimited: {
      uint32_t seconds = 0;
      const uint32_t waitMs = parseRetryAfter(response.header("retry-after"), config_.retryAfterCapS, seconds)
                                  ? seconds * 1000
                                  : channel.backoff.nextDelay(ports_.clock);
      rateLimited_ = true;
      gateUntil_ = ports_.clock.millis() + waitMs;
      channel.dueAt = gateUntil_;
      log_.line(name + " rate limited (429); pausing all requests for " + std::to_string(waitMs) + " ms");
      break;
    }
    case Outcome::Forbidden:
      stopForbidden();
      break;
    case Outcome::Rejected:
      // The same payload would be rejected again: skip to the next regular slot.
      channel.backoff.reset();
      channel.dueAt = startedAt + channel.intervalMs;
      log_.line(name + " rejected (" + describe(response.status) + "): " + errorDetail(response.body));
      break;
    case Outcome::Ok:
      break;
  }
  return false;
}

void Device::retryLater(Channel& channel, const std::string& why) {
  const uint32_t delay = channel.backoff.nextDelay(ports_.clock);
  channel.dueAt = ports_.clock.millis() + delay;
  log_.debug(std::string(channel.name) + " failed (" + why + "); retry #" +
             std::to_string(channel.backoff.failures()) + " in " + std::to_string(delay) + " ms");
}

void Device::applyServerState(const cJSON* data, const char* source) {
  const std::vector<PinChange> changes = applyState(data, pins_, ports_.gpio);
  for (const auto& change : changes) {
    ++stats_.commands;
    log_.debug(std::string("Command from ") + source + ": " + change.vpin + "=" + (change.high ? "1" : "0") +
               " (GPIO " + std::to_string(change.gpio) + ")");
  }
  // Confirm at once so the app sees its command took effect, unless reports
  // are backing off (then the retry carries the new state anyway).
  if (!changes.empty() && telemetry_.backoff.failures() == 0) telemetry_.dueAt = ports_.clock.millis();
  otaSeeState(data);
}

}  // namespace tnx
