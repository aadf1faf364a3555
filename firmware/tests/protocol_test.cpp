#include <doctest/doctest.h>

#include <cmath>

#include "protocol.h"

namespace {
tnx::Credentials creds() {
  tnx::Credentials c;
  c.deviceId = "6123456abcdef12345678901";
  c.token = "dev_token_12345";
  c.apiUrl = "http://192.168.1.103:8000";
  return c;
}
}  // namespace

TEST_CASE("URLs of the three device endpoints") {
  tnx::Credentials c = creds();
  CHECK(tnx::telemetryUrl(c) == "http://192.168.1.103:8000/devices/6123456abcdef12345678901/telemetry");
  CHECK(tnx::pollUrl(c, 0) == "http://192.168.1.103:8000/telemetry/latest?device_token=dev_token_12345");
  CHECK(tnx::pollUrl(c, 25) == "http://192.168.1.103:8000/telemetry/latest?device_token=dev_token_12345&wait=25");
  CHECK(tnx::healthUrl(c) == "http://192.168.1.103:8000/health");
  c.token = "a+b/c=d";
  CHECK(tnx::pollUrl(c, 0) == "http://192.168.1.103:8000/telemetry/latest?device_token=a%2Bb%2Fc%3Dd");
}

TEST_CASE("V2 telemetry body is byte-exact") {
  tnx::TelemetryInput in;
  in.pins = {{"v0", 1}, {"v1", 0}, {"v2", 0}, {"v3", 1}};
  in.millis = 123456;
  in.sensors = {{"temperature", 25.5}, {"humidity", 60}};
  in.stats.sent = 3;
  in.stats.failed = 1;
  in.stats.polls = 12;
  in.stats.commands = 2;
  in.stats.reconnects = 0;
  in.stats.freeHeap = 201234;
  in.stats.uptimeS = 42;
  CHECK(tnx::buildTelemetryBody("dev_token_12345", in) ==
        R"({"device_token":"dev_token_12345","data":{"v0":1,"v1":0,"v2":0,"v3":1,"led":1,"timestamp":123456,)"
        R"("temperature":25.5,"humidity":60,"stats.sent":3,"stats.failed":1,"stats.polls":12,)"
        R"("stats.commands":2,"stats.reconnects":0,"stats.free_heap":201234,"stats.uptime_s":42}})");
}

TEST_CASE("telemetry body: edge cases stay valid for the server") {
  tnx::TelemetryInput in;
  in.pins = {{"v0", 0}};
  in.millis = 4000000000u;  // past INT32_MAX: still a plain integer
  in.sensors = {{"bad key", 1}, {"nan", std::nan("")}, {"inf", INFINITY}, {"led", 7}, {"rssi", -61}};
  const std::string body = tnx::buildTelemetryBody("t\"q", in);
  CHECK(body.rfind(R"({"device_token":"t\"q","data":{"v0":0,"led":0,"timestamp":4000000000,"rssi":-61,)", 0) == 0);
  CHECK(body.find("nan") == std::string::npos);
  CHECK(body.find("null") == std::string::npos);

  CHECK(body.find("\"led\":7") == std::string::npos);  // a sensor cannot shadow a pin key

  in.pins.clear();  // no v0 mapped: no led copy is invented
  in.sensors.clear();
  CHECK(tnx::buildTelemetryBody("t", in).find("\"led\"") == std::string::npos);
}

TEST_CASE("parseStateResponse finds the data object") {
  const cJSON* data = nullptr;
  auto doc = tnx::parseStateResponse(R"({"device_id":"d","data":{"v0":1},"timestamp":null})", data);
  REQUIRE(data != nullptr);
  CHECK(cJSON_GetObjectItem(data, "v0")->valueint == 1);
  doc = tnx::parseStateResponse(R"({"device_id":"d","data":{},"timestamp":null})", data);
  CHECK(data != nullptr);
  doc = tnx::parseStateResponse("<html>captive portal</html>", data);
  CHECK(data == nullptr);
  doc = tnx::parseStateResponse(R"({"data":[1]})", data);
  CHECK(data == nullptr);
  doc = tnx::parseStateResponse("", data);
  CHECK(data == nullptr);
}

TEST_CASE("Retry-After: delta seconds, floored at 1, capped") {
  uint32_t s = 0;
  CHECK(tnx::parseRetryAfter("17", 3600, s));
  CHECK(s == 17);
  CHECK(tnx::parseRetryAfter(" 0 ", 3600, s));
  CHECK(s == 1);
  CHECK(tnx::parseRetryAfter("999999", 3600, s));
  CHECK(s == 3600);
  CHECK_FALSE(tnx::parseRetryAfter("", 3600, s));
  CHECK_FALSE(tnx::parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 3600, s));
}

TEST_CASE("X-Long-Poll-Max negotiation") {
  CHECK(tnx::negotiateLongPoll("", 25) == 0);
  CHECK(tnx::negotiateLongPoll("0", 25) == 0);
  CHECK(tnx::negotiateLongPoll("10", 25) == 10);
  CHECK(tnx::negotiateLongPoll("25", 25) == 25);
  CHECK(tnx::negotiateLongPoll("60", 25) == 25);
  CHECK(tnx::negotiateLongPoll("soon", 25) == 0);
}

TEST_CASE("status classification") {
  using tnx::Outcome;
  CHECK(tnx::classify(200) == Outcome::Ok);
  CHECK(tnx::classify(204) == Outcome::Ok);
  CHECK(tnx::classify(403) == Outcome::Forbidden);
  CHECK(tnx::classify(429) == Outcome::RateLimited);
  for (int status : {400, 401, 404, 413, 415}) CHECK(tnx::classify(status) == Outcome::Rejected);
  for (int status : {500, 502, 503, 504, 0, tnx::kHttpNetworkError, tnx::kHttpTimeout, 302}) {
    CHECK(tnx::classify(status) == Outcome::Retry);
  }
}
