#include "protocol.h"

#include <cmath>

#include "text.h"

namespace tnx {

std::string telemetryUrl(const Credentials& c) { return c.apiUrl + "/devices/" + c.deviceId + "/telemetry"; }

std::string pollUrl(const Credentials& c, uint32_t waitS) {
  std::string url = c.apiUrl + "/telemetry/latest?device_token=" + urlEncode(c.token);
  if (waitS > 0) url += "&wait=" + std::to_string(waitS);
  return url;
}

std::string healthUrl(const Credentials& c) { return c.apiUrl + "/health"; }

// The body of both transports: HTTP names the token in it, MQTT authenticated the session.
static std::string buildReport(const std::string* token, const TelemetryInput& input) {
  JsonPtr root(cJSON_CreateObject());
  if (token != nullptr) cJSON_AddStringToObject(root.get(), "device_token", token->c_str());
  cJSON* data = cJSON_AddObjectToObject(root.get(), "data");

  for (const auto& pin : input.pins) cJSON_AddNumberToObject(data, pin.first.c_str(), pin.second);
  const cJSON* v0 = cJSON_GetObjectItemCaseSensitive(data, "v0");
  if (v0 != nullptr) cJSON_AddNumberToObject(data, "led", v0->valuedouble);
  // millis() as a double stays an exact integer: cJSON prints it without a fraction.
  cJSON_AddNumberToObject(data, "timestamp", input.millis);

  for (const auto& reading : input.sensors) {
    if (!std::isfinite(reading.value) || !isValidDataKey(reading.name)) continue;
    if (cJSON_HasObjectItem(data, reading.name.c_str())) continue;
    cJSON_AddNumberToObject(data, reading.name.c_str(), reading.value);
  }
  for (const auto& text : input.texts) {
    if (!isValidDataKey(text.first) || cJSON_HasObjectItem(data, text.first.c_str())) continue;
    cJSON_AddStringToObject(data, text.first.c_str(), text.second.c_str());
  }

  const Stats& s = input.stats;
  const std::pair<const char*, uint32_t> counters[] = {
      {"stats.sent", s.sent},           {"stats.failed", s.failed},   {"stats.polls", s.polls},
      {"stats.commands", s.commands},   {"stats.reconnects", s.reconnects},
      {"stats.free_heap", s.freeHeap},  {"stats.uptime_s", s.uptimeS},
  };
  for (const auto& counter : counters) cJSON_AddNumberToObject(data, counter.first, counter.second);

  char* printed = cJSON_PrintUnformatted(root.get());
  std::string body = printed != nullptr ? printed : "";
  cJSON_free(printed);
  return body;
}

std::string buildTelemetryBody(const std::string& token, const TelemetryInput& input) { return buildReport(&token, input); }

std::string buildMqttReport(const TelemetryInput& input) { return buildReport(nullptr, input); }

JsonPtr parseStateResponse(const std::string& body, const cJSON*& data) {
  JsonPtr doc(cJSON_ParseWithLength(body.data(), body.size()));
  data = nullptr;
  if (doc) {
    const cJSON* candidate = cJSON_GetObjectItemCaseSensitive(doc.get(), "data");
    if (cJSON_IsObject(candidate)) data = candidate;
  }
  return doc;
}

bool parseRetryAfter(const std::string& header, uint32_t capS, uint32_t& seconds) {
  uint32_t value = 0;
  if (!parseUint(trim(header), value)) return false;
  seconds = value < 1 ? 1 : (value > capS ? capS : value);
  return true;
}

uint32_t negotiateLongPoll(const std::string& header, uint32_t capS) {
  uint32_t value = 0;
  if (!parseUint(trim(header), value)) return 0;
  return value < capS ? value : capS;
}

Outcome classify(int status) {
  if (status >= 200 && status < 300) return Outcome::Ok;
  if (status == 403) return Outcome::Forbidden;
  if (status == 429) return Outcome::RateLimited;
  if (status >= 400 && status < 500) return Outcome::Rejected;
  return Outcome::Retry;  // no answer, 5xx, or something no server should send
}

}  // namespace tnx
