// Device lifecycle, commands and the console, driven through fake ports.
#include <doctest/doctest.h>

#include "fakes.h"

using fake::Rig;

namespace {
const char* kEmptyState = R"({"device_id":"dev1","data":{},"timestamp":null})";

std::vector<std::string> urls(const fake::Http& http) {
  std::vector<std::string> out;
  for (const auto& s : http.sent) out.push_back(s.request.method + " " + s.request.url);
  return out;
}
}  // namespace

TEST_CASE("boot without credentials, then one-line provisioning") {
  Rig rig;
  rig.device.begin();
  CHECK(rig.console.printed("UNPROVISIONED no credentials stored; type 'provision' (or 'help')"));
  rig.runUntil(5000);
  CHECK(rig.http.sent.empty());
  CHECK(rig.device.state() == tnx::State::Unprovisioned);

  rig.type("provision dev1 secret-token-42 http://api.test/ home-wifi wifipass");
  CHECK(rig.console.printed("PROVISIONED device=dev1"));
  CHECK(rig.console.printed("READY"));
  CHECK(rig.device.state() == tnx::State::Running);
  CHECK(rig.store.values == std::map<std::string, std::string>{{"device_id", "dev1"},
                                                               {"device_token", fake::kToken},
                                                               {"api_url", "http://api.test"},
                                                               {"wifi_ssid", "home-wifi"},
                                                               {"wifi_pass", "wifipass"}});
  CHECK(rig.platform.connects == std::vector<std::string>{"home-wifi"});

  // Poll first (adopt the app's state), then report, then check health.
  rig.device.tick();
  rig.device.tick();
  CHECK(urls(rig.http) == std::vector<std::string>{
                              "GET http://api.test/telemetry/latest?device_token=secret-token-42",
                              "POST http://api.test/devices/dev1/telemetry",
                              "GET http://api.test/health",
                          });
  CHECK(rig.http.sent[1].request.headers ==
        std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"}});
  CHECK(rig.http.sent[0].request.timeoutMs == 10000);
}

TEST_CASE("READY waits for the network; reconnects are counted") {
  Rig rig;
  rig.provisionStore();
  rig.platform.up = false;
  rig.device.begin();
  rig.runUntil(3000);
  CHECK_FALSE(rig.console.printed("READY"));
  CHECK(rig.http.sent.empty());

  rig.platform.up = true;
  rig.device.tick();
  CHECK(rig.console.printed("READY"));
  CHECK(rig.device.stats().reconnects == 0);  // the first connection is not a reconnect

  rig.platform.up = false;
  rig.device.tick();
  CHECK(rig.console.printed("Network lost; waiting for it to come back"));
  rig.platform.up = true;
  rig.device.tick();
  CHECK(rig.console.printed("Network reconnected"));
  CHECK(rig.device.stats().reconnects == 1);
}

TEST_CASE("the telemetry a running device sends is byte-exact") {
  Rig rig;
  rig.provisionStore();
  rig.clock.now = 5000;
  rig.http.handler = [](const tnx::HttpRequest& r) {
    if (r.url.find("/latest") != std::string::npos) {
      return fake::response(200, R"({"device_id":"dev1","data":{"v0":1,"v2":0},"timestamp":"2026-02-12T16:00:00.000Z"})");
    }
    return fake::response(200, R"({"message":"ok","device_id":"dev1","data":{"v0":1},"timestamp":"x"})");
  };
  rig.device.begin();
  rig.device.tick();  // poll: v0 -> 1
  rig.clock.now = 5250;
  rig.device.tick();  // report
  REQUIRE(rig.http.sent.size() == 2);
  CHECK(rig.http.sent[1].request.body ==
        R"({"device_token":"secret-token-42","data":{"v0":1,"v1":0,"v2":0,"v3":0,"led":1,"timestamp":5250,)"
        R"("temperature":25.5,"humidity":60,"stats.sent":0,"stats.failed":0,"stats.polls":1,"stats.commands":1,)"
        R"("stats.reconnects":0,"stats.free_heap":123456,"stats.uptime_s":5}})");
  CHECK(rig.device.stats().sent == 1);
}

TEST_CASE("a command from a poll drives the GPIO and is confirmed by the next report") {
  Rig rig;
  rig.provisionStore();
  std::string state = kEmptyState;
  rig.http.handler = [&state](const tnx::HttpRequest& r) {
    if (r.url.find("/latest") != std::string::npos) return fake::response(200, state);
    return fake::response(200, R"({"message":"ok","device_id":"dev1","data":{},"timestamp":"x"})");
  };
  rig.device.begin();
  rig.runUntil(20500);
  const size_t before = rig.http.sent.size();
  CHECK(rig.device.stats().commands == 0);

  state = R"({"device_id":"dev1","data":{"v1":1,"v0":0,"led":1},"timestamp":"x"})";
  rig.runUntil(23000);  // next poll at 21000 (polls at 0, 3000, ...)
  CHECK(rig.gpio.levels[4]);
  CHECK_FALSE(rig.gpio.levels[2]);  // vN keys present: led ignored
  CHECK(rig.device.stats().commands == 1);
  CHECK(rig.console.printed("Command from poll: v1=1 (GPIO 4)"));
  // The confirmation goes out on the tick right after the poll, not at the 30 s slot.
  REQUIRE(rig.http.sent.size() >= before + 2);
  const auto& poll = rig.http.sent[before];
  const auto& report = rig.http.sent[before + 1];
  CHECK(poll.request.url.find("/latest") != std::string::npos);
  CHECK(poll.at == 21000);
  CHECK(report.request.method == "POST");
  CHECK(report.at == 21100);
  CHECK(report.request.body.find(R"("v0":0,"v1":1,)") != std::string::npos);

  // The same state polled again is not a new command.
  rig.runUntil(40000);
  CHECK(rig.device.stats().commands == 1);
}

TEST_CASE("the state in a telemetry answer is applied like a poll") {
  Rig rig;
  rig.provisionStore();
  rig.http.handler = [](const tnx::HttpRequest& r) {
    if (r.method == "POST") return fake::response(200, R"({"message":"ok","device_id":"dev1","data":{"v3":true},"timestamp":"x"})");
    return fake::response(200, kEmptyState);
  };
  rig.device.begin();
  rig.runUntil(200);
  CHECK(rig.gpio.levels[18]);
  CHECK(rig.device.stats().commands == 1);
  CHECK(rig.console.printed("Command from telemetry: v3=1 (GPIO 18)"));
}

TEST_CASE("statistics counters") {
  Rig rig;
  rig.provisionStore();
  int polls = 0;
  rig.http.handler = [&polls](const tnx::HttpRequest& r) {
    if (r.url.find("/latest") != std::string::npos) {
      ++polls;
      if (polls == 2) return fake::response(503, R"({"detail":"storage unavailable"})");
      if (polls == 3) return fake::response(200, R"({"device_id":"dev1","data":{"v0":1,"v1":1},"timestamp":"x"})");
    }
    return fake::response(200, kEmptyState);
  };
  rig.device.begin();
  rig.runUntil(9000);
  // polls: 0 ok, 3000 fail (503), 3500 ok with two pin changes, 6500 ok; reports at 100 and 3600.
  const tnx::Stats& s = rig.device.stats();
  CHECK(s.polls == 3);
  CHECK(s.failed == 1);
  CHECK(s.commands == 2);
  CHECK(s.sent == 2);
  CHECK(s.uptimeS == 9);
  rig.type("stats");
  CHECK(rig.console.printed(
      "stats sent=2 failed=1 polls=3 commands=2 reconnects=0 free_heap=123456 uptime_s=9 health=healthy"));
}

TEST_CASE("health is checked every 60 s and shown in status") {
  Rig rig;
  rig.provisionStore();
  int status = 200;
  rig.http.handler = [&status](const tnx::HttpRequest& r) {
    if (r.url == "http://api.test/health") return fake::response(status, "{}");
    return fake::response(200, kEmptyState);
  };
  rig.device.begin();
  rig.runUntil(1000);
  CHECK(rig.http.count("/health") == 1);
  status = 503;
  rig.runUntil(59000);
  CHECK(rig.http.count("/health") == 1);
  rig.runUntil(61000);
  CHECK(rig.http.count("/health") == 2);
  CHECK(rig.device.stats().failed == 0);  // a probe, not a failed delivery
  rig.type("status");
  CHECK(rig.console.printed("debug=on polling=plain health=degraded (503)"));
}

TEST_CASE("factory-reset erases the store and stops") {
  Rig rig;
  rig.provisionStore();
  rig.store.values["wifi_ssid"] = "home";
  rig.store.values["wifi_pass"] = "pw";
  rig.store.values["ca_cert"] = "-----BEGIN CERTIFICATE-----\n...";
  rig.store.values["unrelated"] = "kept";
  rig.http.handler = [](const tnx::HttpRequest&) {
    return fake::response(200, R"({"device_id":"dev1","data":{"v0":1},"timestamp":"x"})");
  };
  rig.device.begin();
  rig.runUntil(1000);
  CHECK(rig.gpio.levels[2]);

  rig.type("factory-reset");
  CHECK(rig.store.values == std::map<std::string, std::string>{{"unrelated", "kept"}});
  CHECK(rig.device.state() == tnx::State::Unprovisioned);
  CHECK_FALSE(rig.gpio.levels[2]);
  CHECK(rig.platform.disconnects == 1);
  CHECK(rig.device.stats().sent == 0);
  CHECK(rig.console.printed("FACTORY_RESET done; credentials erased. Run 'provision' to set up again."));
  const size_t sent = rig.http.sent.size();
  rig.runUntil(100000);
  CHECK(rig.http.sent.size() == sent);
}

TEST_CASE("the token is never printed in full, even in verbose mode") {
  Rig rig;
  rig.device.begin();
  rig.type("debug verbose");
  rig.type(std::string("provision dev1 ") + fake::kToken + " http://api.test");
  rig.http.handler = [](const tnx::HttpRequest& r) {
    return fake::response(400, R"({"detail":"bad token )" + std::string(fake::kToken) + " at " + r.url + "\"}");
  };
  rig.runUntil(15000);
  rig.type("status");
  const std::string all = rig.console.all();
  CHECK(all.find("device_token=secr\xE2\x80\xA6") != std::string::npos);  // verbose request line, masked
  CHECK(all.find("token=secr\xE2\x80\xA6 api=http://api.test") != std::string::npos);  // status
  CHECK(all.find(fake::kToken) == std::string::npos);
  CHECK(all.find("secret-token") == std::string::npos);
}

TEST_CASE("console: help, debug levels, unknown commands") {
  Rig rig;
  rig.device.begin();
  rig.type("help");
  CHECK(rig.console.printed("Commands:"));
  CHECK(rig.console.printedContaining("factory-reset"));
  rig.type("debug");
  CHECK(rig.console.printed("debug on"));
  rig.type("debug off");
  CHECK(rig.device.log().level() == tnx::DebugLevel::Off);
  rig.type("debug loud");
  CHECK(rig.console.printed("usage: debug on|off|verbose"));
  CHECK(rig.device.log().level() == tnx::DebugLevel::Off);
  rig.type("reboot now");
  CHECK(rig.console.printed("Unknown command 'reboot'. Type 'help' for the list of commands."));
  rig.type("provision a b");
  CHECK(rig.console.printed(
      "PROVISION_ERROR usage: provision <device_id> <token> <api_url> [wifi_ssid] [wifi_password]"));
  CHECK(rig.device.state() == tnx::State::Unprovisioned);
}

TEST_CASE("console: interactive provisioning") {
  Rig rig;
  rig.device.begin();
  rig.type("provision");
  CHECK(rig.console.printed("device id:"));
  rig.type("dev7");
  rig.type("tok-7777");
  rig.type("not a url");
  CHECK(rig.console.printed("api url must start with http:// or https://"));
  rig.type("http://10.0.0.2:8000");
  rig.type("Home Net");
  rig.type("hunter22");
  CHECK(rig.console.printed("PROVISIONED device=dev7"));
  CHECK(rig.store.values["wifi_ssid"] == "Home Net");
  CHECK(rig.device.state() == tnx::State::Running);

  rig.type("provision");
  rig.type("cancel");
  CHECK(rig.console.printed("Provisioning cancelled; nothing changed"));
  CHECK(rig.store.values["device_id"] == "dev7");
}

TEST_CASE("console: CA certificate for https") {
  Rig rig;
  rig.device.begin();
  rig.type("cacert");
  rig.type("-----BEGIN CERTIFICATE-----");
  rig.type("MIIBszCCAVmgAwIBAgIU");
  rig.type("-----END CERTIFICATE-----");
  CHECK(rig.store.values["ca_cert"] ==
        "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n");
  rig.type("status");
  CHECK(rig.console.printedContaining("ca_cert=stored"));
  rig.type("cacert clear");
  CHECK(rig.store.values.count("ca_cert") == 0);
}

TEST_CASE("at power-on the first contact waits a random share of firstContactSpreadMs; provisioning does not") {
  Rig rig;
  rig.provisionStore();
  rig.clock.randomMax = true;  // the latest draw: 2999 ms of the default 3000
  rig.device.begin();
  CHECK(rig.clock.bounds.front() == 3000);
  rig.runUntil(2900);
  CHECK(rig.http.sent.empty());  // a fleet powered on together is not in one instant
  rig.runUntil(3100);
  REQUIRE_FALSE(rig.http.sent.empty());
  CHECK(rig.http.sent[0].request.method + " " + rig.http.sent[0].request.url ==
        "GET http://api.test/telemetry/latest?device_token=secret-token-42");

  // Provisioning by hand starts at once, whatever the draw.
  Rig typed;
  typed.clock.randomMax = true;
  typed.device.begin();
  typed.type("provision dev1 secret-token-42 http://api.test/ home-wifi wifipass");
  typed.device.tick();
  CHECK_FALSE(typed.http.sent.empty());
}
