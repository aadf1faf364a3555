// 403 / 429 / 5xx / timeout / 4xx handling and long-poll negotiation
// (the long-poll schedule is in long_poll_test.cpp).
#include <doctest/doctest.h>

#include "fakes.h"

using fake::Rig;

namespace {
const char* kEmptyState = R"({"device_id":"dev1","data":{},"timestamp":null})";

bool isPoll(const tnx::HttpRequest& r) { return r.url.find("/telemetry/latest") != std::string::npos; }

std::vector<uint32_t> timesOf(const fake::Http& http, const std::string& urlPart) {
  std::vector<uint32_t> out;
  for (const auto& s : http.sent) {
    if (s.request.url.find(urlPart) != std::string::npos) out.push_back(s.at);
  }
  return out;
}
}  // namespace

TEST_CASE("403 stops all requests until provisioned again") {
  Rig rig;
  rig.provisionStore();
  bool revoked = true;
  rig.http.handler = [&revoked](const tnx::HttpRequest&) {
    return revoked ? fake::response(403, R"({"detail":"invalid device token"})") : fake::response(200, kEmptyState);
  };
  rig.device.begin();
  rig.runUntil(120000);
  CHECK(rig.http.sent.size() == 1);
  CHECK(rig.device.state() == tnx::State::NeedsProvisioning);
  CHECK(rig.console.printed("NEEDS_PROVISIONING the server rejected the device token (403); run 'provision'"));
  CHECK(rig.device.stats().failed == 1);

  revoked = false;
  rig.type("provision dev1 new-token-0001 http://api.test");
  CHECK(rig.device.state() == tnx::State::Running);
  rig.runUntil(121000);
  CHECK(rig.http.sent.size() > 1);
  CHECK(rig.http.count("device_token=new-token-0001") == 1);
}

TEST_CASE("429 honours Retry-After for every kind of request") {
  Rig rig;
  rig.provisionStore();
  bool limited = true;
  rig.http.handler = [&limited](const tnx::HttpRequest&) {
    if (limited) {
      limited = false;
      return fake::response(429, R"({"detail":"rate limit exceeded"})", {{"retry-after", "7"}});
    }
    return fake::response(200, kEmptyState);
  };
  rig.device.begin();
  rig.runUntil(9000);
  // Poll at 0 -> 429. Nothing (not even the due health check) until 7000.
  REQUIRE(rig.http.sent.size() >= 2);
  CHECK(rig.http.sent[0].at == 0);
  CHECK(rig.http.sent[1].at == 7000);
  CHECK(rig.http.sent[1].request.url.find("/telemetry/latest") != std::string::npos);
  CHECK(rig.console.printed("poll rate limited (429); pausing all requests for 7000 ms"));
  CHECK(rig.device.stats().failed == 1);
}

TEST_CASE("429 without Retry-After falls back to the backoff delay") {
  Rig rig;
  rig.provisionStore();
  rig.http.handler = [](const tnx::HttpRequest& r) {
    return isPoll(r) ? fake::response(429, "") : fake::response(200, kEmptyState);
  };
  rig.device.begin();
  rig.runUntil(4000);
  CHECK(timesOf(rig.http, "/latest") == std::vector<uint32_t>{0, 500, 1500, 3500});
}

TEST_CASE("5xx: exponential backoff with jitter, cap 60 s, reset on success") {
  Rig rig;
  rig.provisionStore();
  bool down = true;
  rig.http.handler = [&down](const tnx::HttpRequest& r) {
    if (isPoll(r) && down) return fake::response(503, R"({"detail":"storage unavailable"})");
    return fake::response(200, kEmptyState);
  };
  rig.device.begin();
  SUBCASE("lowest jitter draw") {
    rig.runUntil(210000);
    // waits 0.5, 1, 2, 4, 8, 16, 30, 30, 30... s (equal jitter: half of 1, 2, 4 ... 60 s)
    CHECK(timesOf(rig.http, "/latest") ==
          std::vector<uint32_t>{0, 500, 1500, 3500, 7500, 15500, 31500, 61500, 91500, 121500, 151500, 181500});
    CHECK(rig.device.stats().failed == 12);
    CHECK(rig.device.stats().polls == 0);
    // Reports are a separate channel and kept their 10 s rhythm.
    CHECK(rig.device.stats().sent == 21);

    down = false;
    rig.runUntil(218000);
    CHECK(timesOf(rig.http, "/latest").back() == 217500);  // 211500 ok, then every 3 s again
    CHECK(rig.device.stats().polls == 3);
  }
  SUBCASE("highest jitter draw") {
    rig.clock.randomMax = true;
    rig.runUntil(250000);
    CHECK(timesOf(rig.http, "/latest") ==
          std::vector<uint32_t>{0, 1000, 3000, 7000, 15000, 31000, 63000, 123000, 183000, 243000});
  }
}

TEST_CASE("timeouts and network errors back off from when the request gave up") {
  Rig rig;
  rig.provisionStore();
  rig.http.handler = [&rig](const tnx::HttpRequest& r) {
    if (r.method == "POST") {
      rig.clock.now += 10000;  // the request hangs for its whole timeout
      return fake::response(tnx::kHttpTimeout);
    }
    return fake::response(200, kEmptyState);
  };
  rig.device.begin();
  rig.runUntil(40000);
  // Report at 100 times out at 10100 -> retry 0.5 s later at 10600, which ends at 20600 -> +1 s ...
  std::vector<uint32_t> reports;
  for (const auto& s : rig.http.sent) {
    if (s.request.method == "POST") reports.push_back(s.at);
  }
  CHECK(reports == std::vector<uint32_t>{100, 10600, 21600, 33600});
  CHECK(rig.device.stats().failed == 4);
  CHECK(rig.device.stats().sent == 0);

  rig.http.handler = [](const tnx::HttpRequest&) { return fake::response(tnx::kHttpNetworkError); };
  const uint32_t failedBefore = rig.device.stats().failed;
  const uint32_t polls = rig.device.stats().polls;
  rig.runUntil(rig.clock.now + 5000);
  CHECK(rig.device.stats().failed > failedBefore);
  CHECK(rig.device.stats().polls == polls);
}

TEST_CASE("400/404/413: logged, the payload is not retried in a loop") {
  for (int status : {400, 404, 413}) {
    CAPTURE(status);
    Rig rig;
    rig.provisionStore();
    rig.http.handler = [status](const tnx::HttpRequest& r) {
      if (r.method == "POST") return fake::response(status, R"({"detail":"key not acceptable"})");
      return fake::response(200, kEmptyState);
    };
    rig.device.begin();
    rig.runUntil(25000);
    std::vector<uint32_t> reports;
    for (const auto& s : rig.http.sent) {
      if (s.request.method == "POST") reports.push_back(s.at);
    }
    CHECK(reports == std::vector<uint32_t>{100, 10100, 20100});  // the regular rhythm, no retries
    CHECK(rig.console.printed("telemetry rejected (HTTP " + std::to_string(status) + "): key not acceptable"));
    CHECK(rig.device.state() == tnx::State::Running);
  }
}

TEST_CASE("a 200 that is not a state (captive portal) counts as a failure") {
  Rig rig;
  rig.provisionStore();
  rig.http.handler = [](const tnx::HttpRequest& r) {
    return isPoll(r) ? fake::response(200, "<html>Sign in to Hotel WiFi</html>") : fake::response(200, kEmptyState);
  };
  rig.device.begin();
  rig.runUntil(4000);
  CHECK(timesOf(rig.http, "/latest") == std::vector<uint32_t>{0, 500, 1500, 3500});
  CHECK(rig.device.stats().polls == 0);
  CHECK(rig.device.stats().failed == 4);
}

TEST_CASE("long poll is negotiated from X-Long-Poll-Max") {
  // Reports far apart, so only the cap and the header bound the wait (the report
  // bound is tested in long_poll_test.cpp).
  tnx::Config config;
  config.telemetryIntervalMs = 600000;
  Rig rig(config);
  rig.provisionStore();
  std::string offered;  // header value the fake server sends; "" = no header
  int failNext = 0;
  rig.http.handler = [&](const tnx::HttpRequest& r) {
    if (!isPoll(r)) return fake::response(200, kEmptyState);
    if (failNext > 0) {
      --failNext;
      return fake::response(tnx::kHttpTimeout);
    }
    std::map<std::string, std::string> headers;
    if (!offered.empty()) headers["x-long-poll-max"] = offered;
    return fake::response(200, kEmptyState, headers);
  };
  auto lastPoll = [&rig]() {
    for (auto it = rig.http.sent.rbegin(); it != rig.http.sent.rend(); ++it) {
      if (isPoll(it->request)) return it->request;
    }
    return tnx::HttpRequest();
  };
  rig.device.begin();

  rig.runUntil(100);  // first poll: no header yet
  CHECK(lastPoll().url == "http://api.test/telemetry/latest?device_token=secret-token-42");
  CHECK(lastPoll().timeoutMs == 10000);

  offered = "60";
  rig.runUntil(6100);  // the poll at 3000 learns the header, the one at 6000 uses it
  CHECK(lastPoll().url == "http://api.test/telemetry/latest?device_token=secret-token-42&wait=25");
  CHECK(lastPoll().timeoutMs == 30000);
  CHECK(rig.device.longPollWaitS() == 25);
  CHECK(rig.console.printed("Long polling on: wait=25 s"));

  offered = "10";
  rig.runUntil(12100);
  CHECK(lastPoll().url.substr(lastPoll().url.size() - 8) == "&wait=10");
  CHECK(lastPoll().timeoutMs == 15000);

  offered = "";  // server stopped offering it: back to plain polling
  rig.runUntil(18100);
  CHECK(lastPoll().url == "http://api.test/telemetry/latest?device_token=secret-token-42");
  CHECK(lastPoll().timeoutMs == 10000);
  CHECK(rig.device.longPollWaitS() == 0);

  offered = "20";
  rig.runUntil(21100);
  CHECK(rig.device.longPollWaitS() == 20);
  failNext = 1;  // a held poll is cut: the retry is a plain poll
  rig.runUntil(24100);
  CHECK(rig.device.longPollWaitS() == 0);
  rig.runUntil(24700);
  CHECK(lastPoll().url == "http://api.test/telemetry/latest?device_token=secret-token-42");
}
