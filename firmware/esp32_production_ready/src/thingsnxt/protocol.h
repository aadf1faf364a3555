#pragma once
// The device side of the REST compatibility layer (GET /docs on the server; firmware/README.md):
// URLs, the exact V2 telemetry body, response parsing and status handling.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "credentials.h"
#include "json.h"
#include "platform.h"
#include "stats.h"

namespace tnx {

std::string telemetryUrl(const Credentials& c);                // POST {api}/devices/{id}/telemetry
std::string pollUrl(const Credentials& c, uint32_t waitS);     // GET {api}/telemetry/latest?device_token=...[&wait=N]
std::string healthUrl(const Credentials& c);                   // GET {api}/health

struct TelemetryInput {
  std::vector<std::pair<std::string, int>> pins;  // vpin -> 0/1, in pin-map order
  uint32_t millis = 0;
  std::vector<Reading> sensors;
  std::vector<std::pair<std::string, std::string>> texts;  // string values: fw_version, fw_state, fw_error
  Stats stats;
};

// {"device_token":"<token>","data":{<pins>,"led":<v0>,"timestamp":<millis>,
//   <sensors>,"stats.sent":N,...}} with no whitespace. Sensor readings that
// are NaN/infinite, have an unacceptable key or clash with a key already
// present are left out, because one bad key makes the server reject all.
std::string buildTelemetryBody(const std::string& token, const TelemetryInput& input);

// The same without the token, {"data":{...}}: the payload of an MQTT report.
std::string buildMqttReport(const TelemetryInput& input);

// Parses a poll or V2 telemetry answer; `data` points into the returned
// document, or is null when the body is not JSON or has no `data` object.
JsonPtr parseStateResponse(const std::string& body, const cJSON*& data);

// Wait in seconds from a Retry-After header (delta-seconds form only), at
// least 1 and at most capS; false when absent or unparseable.
bool parseRetryAfter(const std::string& header, uint32_t capS, uint32_t& seconds);

// The `wait` to use from an X-Long-Poll-Max header: min(capS, value), or 0
// (plain polling) when the header is absent, zero or unparseable.
uint32_t negotiateLongPoll(const std::string& header, uint32_t capS);

enum class Outcome {
  Ok,           // 2xx
  Retry,        // network error, timeout, 5xx: back off and try again
  RateLimited,  // 429: honour Retry-After before any request
  Forbidden,    // 403: token revoked or wrong; stop until re-provisioned
  Rejected,     // other 4xx (400, 404, 413, 415): this payload will never pass
};
Outcome classify(int status);

}  // namespace tnx
