// The long poll and the report schedule: one request at a time, so a held poll
// must never hold back a report. Exact schedules on the fake clock.
#include <doctest/doctest.h>

#include <climits>

#include "fakes.h"

using fake::Rig;

namespace {

// A server that offers long polling and holds a poll for its whole `wait`
// (moving the fake clock), unless the app sends a command meanwhile: then it
// answers at that moment, as the real server does.
struct HoldingServer {
  Rig& rig;
  std::string maxHeader = "30";      // X-Long-Poll-Max, as the real server sends it
  uint32_t commandAt = UINT32_MAX;   // when the app switches v0 on
  bool commandSeen = false;          // the device has it
  int failReport = 0;                // answer the n-th report (from 1) with 503
  int reports = 0;

  std::string state() const {
    return commandAt <= rig.clock.now ? R"({"device_id":"dev1","data":{"v0":1},"timestamp":"x"})"
                                      : R"({"device_id":"dev1","data":{},"timestamp":null})";
  }

  tnx::HttpResponse operator()(const tnx::HttpRequest& r) {
    if (r.method == "POST" && ++reports == failReport) {
      return fake::response(503, R"({"detail":"storage unavailable"})");
    }
    if (r.method == "POST") return fake::response(200, R"({"message":"ok",)" + state().substr(1));
    if (r.url.find("/health") != std::string::npos) return fake::response(200, "{}");
    const size_t at = r.url.find("&wait=");
    const uint32_t wait = at == std::string::npos ? 0 : static_cast<uint32_t>(std::stoul(r.url.substr(at + 6)));
    const bool pending = commandAt <= rig.clock.now && !commandSeen;
    if (!pending && wait > 0) {
      const uint32_t until = rig.clock.now + wait * 1000;
      rig.clock.now = (commandAt > rig.clock.now && commandAt < until) ? commandAt : until;
    }
    if (commandAt <= rig.clock.now) commandSeen = true;
    return fake::response(200, state(), {{"x-long-poll-max", maxHeader}});
  }
};

// "<ms> report", "<ms> health", "<ms> poll" or "<ms> poll wait=<s>", in the order sent.
std::vector<std::string> timeline(const fake::Http& http) {
  std::vector<std::string> out;
  for (const auto& s : http.sent) {
    std::string what;
    if (s.request.method == "POST") {
      what = "report";
    } else if (s.request.url.find("/health") != std::string::npos) {
      what = "health";
    } else {
      const size_t at = s.request.url.find("&wait=");
      what = at == std::string::npos ? "poll" : "poll wait=" + s.request.url.substr(at + 6);
    }
    out.push_back(std::to_string(s.at) + " " + what);
  }
  return out;
}

std::vector<uint32_t> reportTimes(const fake::Http& http) {
  std::vector<uint32_t> out;
  for (const auto& s : http.sent) {
    if (s.request.method == "POST") out.push_back(s.at);
  }
  return out;
}

}  // namespace

TEST_CASE("long polls fill the gaps between reports, which keep their 10 s schedule") {
  Rig rig;  // defaults: report every 10 s, poll every 3 s, health every 60 s, ticks every 100 ms
  rig.provisionStore();
  HoldingServer server{rig};
  rig.http.handler = [&server](const tnx::HttpRequest& r) { return server(r); };
  rig.device.begin();
  rig.runUntil(75000);

  // Boot: a plain poll learns X-Long-Poll-Max, the report follows at once. After that
  // each poll holds for the whole seconds left until the next report (min 25 s, the
  // server's 30 s); with under 1 s left the poll waits for the report and goes right
  // after it. The health check takes the idle moment before a report.
  std::vector<std::string> expected = {"0 poll", "100 report", "200 health", "3000 poll wait=7"};
  for (uint32_t t = 10100; t <= 70100; t += 10000) {
    expected.push_back(std::to_string(t) + " report");
    expected.push_back(std::to_string(t + 100) + " poll wait=9");
    if (t == 60100) expected.push_back("69300 health");  // due at 60200, the poll came first
  }
  CHECK(timeline(rig.http) == expected);
  CHECK(reportTimes(rig.http) == std::vector<uint32_t>{100, 10100, 20100, 30100, 40100, 50100, 60100, 70100});

  // The HTTP timeout of a held poll is its wait + 5 s; a plain poll keeps the ordinary 10 s.
  for (const auto& s : rig.http.sent) {
    if (s.request.url.find("&wait=9") != std::string::npos) CHECK(s.request.timeoutMs == 14000);
    if (s.request.url.find("&wait=7") != std::string::npos) CHECK(s.request.timeoutMs == 12000);
  }
  CHECK(rig.http.sent[0].request.timeoutMs == 10000);
  CHECK(rig.device.longPollWaitS() == 25);  // the negotiated maximum; each poll asks for less
  CHECK(rig.console.printed("Long polling on: wait=25 s"));
  CHECK(rig.device.stats().failed == 0);
  rig.type("status");
  CHECK(rig.console.printed("debug=on polling=long(wait<=25s) health=healthy"));
}

TEST_CASE("a command arrives during a held poll: applied at once, confirmed at once, schedule continues") {
  Rig rig;
  rig.provisionStore();
  HoldingServer server{rig};
  server.commandAt = 25000;  // while the poll sent at 20200 is held (until 29200)
  rig.http.handler = [&server](const tnx::HttpRequest& r) { return server(r); };
  rig.device.begin();
  rig.runUntil(47000);

  CHECK(timeline(rig.http) == std::vector<std::string>{
                                  "0 poll", "100 report", "200 health", "3000 poll wait=7",
                                  "10100 report", "10200 poll wait=9",  //
                                  "20100 report", "20200 poll wait=9",  // answered at 25000 with v0=1
                                  "25100 report",                       // the confirmation, next tick
                                  "25200 poll wait=9",                  // the next report is due at 35100
                                  "35100 report", "35200 poll wait=9",  //
                                  "45100 report", "45200 poll wait=9",
                              });
  CHECK(rig.gpio.levels[2]);
  CHECK(rig.console.printed("Command from poll: v0=1 (GPIO 2)"));
  CHECK(rig.device.stats().commands == 1);
  const auto& confirmation = rig.http.sent[8];
  REQUIRE(confirmation.request.method == "POST");
  CHECK(confirmation.request.body.find(R"("v0":1,"v1":0,"v2":0,"v3":0,"led":1,"timestamp":25100,)") != std::string::npos);
}

TEST_CASE("a report due in under 1 s goes first, but a poll never waits twice in a row") {
  // A telemetry interval of 1 s never leaves a whole second to hold a poll: the poll
  // waits for the report once, then goes out plain right after it (never starved).
  tnx::Config config;
  config.telemetryIntervalMs = 1000;
  config.pollIntervalMs = 500;
  Rig rig(config);
  rig.provisionStore();
  HoldingServer server{rig};
  rig.http.handler = [&server](const tnx::HttpRequest& r) { return server(r); };
  rig.device.begin();
  rig.runUntil(4300);
  CHECK(timeline(rig.http) == std::vector<std::string>{
                                  "0 poll", "100 report", "200 health",  // 500: poll due, report in 600 ms: waits
                                  "1100 report", "1200 poll",            // plain: 900 ms left after the report
                                  "2100 report", "2200 poll",            // 1700: waits for the report again
                                  "3100 report", "3200 poll",            //
                                  "4100 report", "4200 poll",
                              });
  CHECK(rig.device.longPollWaitS() == 25);
}

TEST_CASE("both the server's maximum and the time to the report bound the wait") {
  tnx::Config config;
  config.telemetryIntervalMs = 4000;
  config.pollIntervalMs = 500;
  Rig rig(config);
  rig.provisionStore();
  HoldingServer server{rig};
  server.maxHeader = "2";
  rig.http.handler = [&server](const tnx::HttpRequest& r) { return server(r); };
  rig.device.begin();
  rig.runUntil(8150);
  CHECK(timeline(rig.http) == std::vector<std::string>{
                                  "0 poll", "100 report", "200 health",
                                  "500 poll wait=2",   // 3.6 s to the report: the server's 2 s
                                  "2600 poll wait=1",  // 1.5 s left
                                  "4100 report",       // 3700: 0.4 s left, the poll waits for it
                                  "4200 poll wait=2", "6300 poll wait=1", "8100 report", "8200 poll wait=2",
                              });
  CHECK(rig.device.longPollWaitS() == 2);
}

TEST_CASE("a report retry bounds the wait like a regular report") {
  Rig rig;
  rig.provisionStore();
  HoldingServer server{rig};
  rig.http.handler = [&server](const tnx::HttpRequest& r) { return server(r); };
  server.failReport = 2;
  rig.device.begin();
  rig.runUntil(21000);
  // The report at 10100 fails; its retry is due 0.5 s later (fixed random: the low end),
  // too soon to hold a poll, and a poll right after a report does not wait: plain.
  const std::vector<std::string> all = timeline(rig.http);
  CHECK(std::vector<std::string>(all.begin() + 4, all.end()) ==
        std::vector<std::string>{"10100 report", "10200 poll", "10600 report", "13200 poll wait=7", "20600 report",
                                 "20700 poll wait=9"});
  CHECK(rig.device.stats().failed == 1);
  CHECK(rig.device.stats().sent == 3);
}
