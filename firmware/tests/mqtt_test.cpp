// transport mqtt: the session over a fake MqttClient, and the URL/topic helpers.
#include <doctest/doctest.h>

#include "fakes.h"
#include "mqtt.h"

using fake::Rig;
using Kind = tnx::MqttEvent::Kind;

namespace {
const char* kState = "thingsnxt/device/dev1/state";
const char* kCommands = "thingsnxt/device/dev1/commands";
const char* kTelemetry = "thingsnxt/device/dev1/telemetry";

// A provisioned device on transport mqtt whose first CONNECT was accepted.
void connected(Rig& rig) {
  rig.provisionStore();
  rig.store.values["transport"] = "mqtt";
  rig.device.begin();
  rig.device.tick();
  REQUIRE(rig.mqtt.connects.size() == 1);
  rig.mqtt.push(Kind::Connected);
  rig.device.tick();
  REQUIRE(rig.device.mqttConnected());
}
}  // namespace

TEST_CASE("transport mqtt is stored, and the device connects as id/token to the api host on 1883") {
  Rig rig;
  rig.device.begin();
  rig.type("transport mqtt");
  CHECK(rig.console.printed("TRANSPORT mqtt (the api url's host, port 1883, once provisioned)"));
  rig.type("provision dev1 secret-token-42 http://api.test:8000");
  CHECK(rig.store.values.at("transport") == "mqtt");
  CHECK(rig.store.values.count("mqtt_url") == 0);
  CHECK(rig.console.printed("Running as device=dev1 api=http://api.test:8000 transport=mqtt mqtt=mqtt://api.test:1883"));
  rig.runUntil(14900);
  REQUIRE(rig.mqtt.connects.size() == 1);
  const auto& options = rig.mqtt.connects[0].options;
  CHECK(options.url == "mqtt://api.test:1883");
  CHECK(options.username == "dev1");
  CHECK(options.password == fake::kToken);
  CHECK(options.clientId == "thingsnxt-dev1");
  CHECK(options.keepAliveS == 30);
  CHECK(rig.mqtt.subscriptions.empty());  // not before the CONNACK

  // A CONNACK that never comes: the attempt is given up after 15 s and retried with backoff.
  rig.runUntil(30000);
  CHECK(rig.http.sent.empty());  // no report, poll or health over HTTP
  CHECK(rig.mqtt.connects.size() == 2);
  CHECK(rig.mqtt.connects[1].at == 15500);
  CHECK(rig.mqtt.disconnects == 1);
  CHECK(rig.console.printed("MQTT connect failed (no CONNACK within 15000 ms); reconnect #1 in 500 ms"));
}

TEST_CASE("on CONNACK it subscribes; the state message is applied as a poll answer and confirmed at once") {
  Rig rig;
  connected(rig);
  CHECK(rig.console.printed("MQTT connected to mqtt://api.test:1883"));
  CHECK(rig.mqtt.subscriptions == std::vector<std::pair<std::string, int>>{{kState, 1}, {kCommands, 1}});
  CHECK(rig.mqtt.published.empty());  // the report waits for the state, as at boot over HTTP

  rig.clock.now = 200;
  rig.mqtt.push(Kind::Subscribed, 1);
  rig.mqtt.push(Kind::Message, 0, kState, R"({"device_id":"dev1","data":{"v0":1,"v2":true},"timestamp":"2026-02-12T16:00:00.000Z"})");
  rig.device.tick();
  CHECK(rig.gpio.levels[2]);
  CHECK(rig.gpio.levels[5]);
  CHECK(rig.console.printed("Command from mqtt state: v0=1 (GPIO 2)"));
  REQUIRE(rig.mqtt.published.size() == 1);  // the confirmation, in the same tick
  CHECK(rig.mqtt.published[0].topic == kTelemetry);
  CHECK(rig.mqtt.published[0].qos == 1);
  CHECK(rig.mqtt.published[0].payload ==
        R"({"data":{"v0":1,"v1":0,"v2":1,"v3":0,"led":1,"timestamp":200,"temperature":25.5,"humidity":60,)"
        R"("stats.sent":0,"stats.failed":0,"stats.polls":1,"stats.commands":2,"stats.reconnects":0,)"
        R"("stats.free_heap":123456,"stats.uptime_s":0}})");
  CHECK(rig.device.stats().sent == 0);
  rig.mqtt.push(Kind::Acked);
  rig.device.tick();
  CHECK(rig.device.stats().sent == 1);  // counted on the PUBACK: committed, as an HTTP 200

  // Then every telemetry interval; a state that changes nothing is no command and sends nothing extra.
  rig.mqtt.push(Kind::Message, 0, kState, R"({"device_id":"dev1","data":{"v0":1},"timestamp":null})");
  rig.runUntil(20300);
  REQUIRE(rig.mqtt.published.size() == 3);
  CHECK(rig.mqtt.published[1].at == 10200);
  CHECK(rig.mqtt.published[2].at == 20200);
  CHECK(rig.device.stats().commands == 2);
  CHECK(rig.device.stats().polls == 2);
}

TEST_CASE("a pin change from the commands topic is applied and reported at once; junk is ignored") {
  Rig rig;
  connected(rig);
  rig.mqtt.push(Kind::Message, 0, kState, R"({"device_id":"dev1","data":{},"timestamp":null})");
  rig.device.tick();
  REQUIRE(rig.mqtt.published.size() == 1);

  rig.clock.now = 3000;
  rig.mqtt.push(Kind::Message, 0, kCommands, R"({"type":"led","state":1,"virtual_pin":"v1","timestamp":"2026-02-12T16:00:00.000Z"})");
  rig.device.tick();
  CHECK(rig.gpio.levels[4]);
  CHECK(rig.console.printed("Command from mqtt command: v1=1 (GPIO 4)"));
  REQUIRE(rig.mqtt.published.size() == 2);
  CHECK(rig.mqtt.published[1].at == 3000);
  CHECK(rig.mqtt.published[1].payload.find(R"("v1":1)") != std::string::npos);

  rig.mqtt.push(Kind::Message, 0, kCommands, R"({"type":"led","state":0})");  // no pin: led drives v0
  rig.mqtt.push(Kind::Message, 0, kCommands, "not json");
  rig.mqtt.push(Kind::Message, 0, kState, "<html>");
  rig.device.tick();
  CHECK(rig.console.printed("MQTT command message not understood; ignored"));
  CHECK(rig.console.printed("MQTT state message without a data object; ignored"));
  CHECK(rig.gpio.levels[4]);
  CHECK(rig.device.state() == tnx::State::Running);
}

TEST_CASE("a lost session reconnects with the backoff, subscribes again, and the backoff resets") {
  Rig rig;
  connected(rig);
  rig.clock.randomMax = true;  // the longest wait of each step: d
  rig.clock.now = 1000;
  rig.mqtt.push(Kind::Lost, 0, "", "The connection was lost.");
  rig.device.tick();
  CHECK_FALSE(rig.device.mqttConnected());
  CHECK(rig.console.printed("MQTT connection lost (The connection was lost.); reconnect #1 in 1000 ms"));
  rig.mqtt.failConnect = "Connection refused";  // the server is down for a while
  rig.runUntil(9000);
  std::vector<uint32_t> at;
  for (const auto& c : rig.mqtt.connects) at.push_back(c.at);
  // 0 (boot), then after 1 s, 2 s, 4 s of backoff (ticks of 0.1 s round up).
  CHECK(at == std::vector<uint32_t>{0, 2000, 4000, 8000});
  CHECK(rig.console.printed("MQTT connect failed (Connection refused); reconnect #3 in 4000 ms"));

  rig.mqtt.failConnect.clear();
  rig.runUntil(16100);
  REQUIRE(rig.mqtt.connects.size() == 5);
  rig.mqtt.push(Kind::Connected);
  rig.device.tick();
  CHECK(rig.console.printed("MQTT reconnected to mqtt://api.test:1883"));
  CHECK(rig.mqtt.subscriptions.size() == 4);  // state and commands again: the server keeps no session
  CHECK(rig.mqtt.subscriptions[2].first == kState);
  CHECK(rig.device.stats().reconnects == 1);

  rig.mqtt.push(Kind::Lost, 0, "", "closed");
  rig.device.tick();
  CHECK(rig.console.printed("MQTT connection lost (closed); reconnect #1 in 1000 ms"));
}

TEST_CASE("a refused CONNECT (bad credentials) stops like a 403 until provisioned again") {
  Rig rig;
  connected(rig);
  rig.mqtt.push(Kind::Lost, 0, "", "closed");  // the token was rotated: the server ends the session
  rig.runUntil(2000);
  REQUIRE(rig.mqtt.connects.size() == 2);
  rig.mqtt.push(Kind::Refused, 4);
  rig.device.tick();
  CHECK(rig.device.state() == tnx::State::NeedsProvisioning);
  CHECK(rig.console.printed("NEEDS_PROVISIONING the server rejected the device token (MQTT CONNACK 4); run 'provision'"));
  rig.runUntil(120000);
  CHECK(rig.mqtt.connects.size() == 2);

  rig.type("provision dev1 new-token-4242 http://api.test");
  CHECK(rig.store.values.at("transport") == "mqtt");  // kept across provisioning
  REQUIRE(rig.mqtt.connects.size() == 3);
  CHECK(rig.mqtt.connects[2].options.password == "new-token-4242");

  // Server unavailable (3) is an outage, not a verdict on the token.
  rig.mqtt.push(Kind::Refused, 3);
  rig.device.tick();
  CHECK(rig.device.state() == tnx::State::Running);
  CHECK(rig.console.printedContaining("MQTT connect failed (refused, return code 3); reconnect #1"));
}

TEST_CASE("the transport command: validation, a URL of its own, back to http, factory reset") {
  Rig rig;
  connected(rig);
  rig.type("transport mqtt http://x");
  CHECK(rig.console.printed("TRANSPORT_ERROR mqtt url must start with mqtt:// or mqtts://"));
  rig.type("transport mqtt mqtt://user@x");
  CHECK(rig.console.printed("TRANSPORT_ERROR mqtt url must be mqtt(s)://host[:port], without user or path"));
  rig.type("transport tcp");
  CHECK(rig.console.printed("usage: transport http|mqtt [mqtt://host:port | mqtts://host:port]"));
  CHECK(rig.mqtt.connects.size() == 1);

  rig.type("transport mqtt mqtts://broker.test:8884/");
  CHECK(rig.console.printed("TRANSPORT mqtt mqtts://broker.test:8884"));
  CHECK(rig.store.values.at("mqtt_url") == "mqtts://broker.test:8884");
  CHECK(rig.mqtt.disconnects == 1);  // the old session ends, a new one starts
  rig.device.tick();
  REQUIRE(rig.mqtt.connects.size() == 2);
  CHECK(rig.mqtt.connects[1].options.url == "mqtts://broker.test:8884");

  rig.type("transport http");
  CHECK(rig.console.printed("TRANSPORT http"));
  CHECK(rig.store.values.count("transport") == 0);
  CHECK(rig.mqtt.disconnects == 2);
  rig.device.tick();
  CHECK(rig.http.count("/telemetry/latest") == 1);  // polling again

  rig.type("transport mqtt");
  rig.type("factory-reset");
  CHECK(rig.store.values.empty());
  CHECK(rig.mqtt.disconnects == 3);
}

TEST_CASE("a build without an MQTT client refuses transport mqtt") {
  fake::Clock clock;
  fake::Http http{clock};
  fake::Store store;
  fake::Gpio gpio;
  fake::Console console;
  fake::Sensors sensors;
  fake::Platform platform;
  tnx::Device device{tnx::Ports{http, store, clock, gpio, console, sensors, platform}, tnx::PinMap::defaults()};
  device.begin();
  console.input.push_back("transport mqtt");
  device.tick();
  CHECK(console.printed("transport mqtt: this build has no MQTT client"));
  CHECK(store.values.empty());
}

TEST_CASE("MQTT URLs and topics") {
  tnx::MqttAddress a;
  CHECK(tnx::parseMqttUrl("mqtt://10.0.0.5", a));
  CHECK((a.host == "10.0.0.5" && a.port == 1883 && !a.tls));
  CHECK(tnx::parseMqttUrl("mqtts://broker.test", a));
  CHECK((a.host == "broker.test" && a.port == 8883 && a.tls));
  CHECK(tnx::parseMqttUrl("mqtt://[::1]:1884", a));
  CHECK((a.host == "[::1]" && a.port == 1884));
  CHECK(tnx::parseMqttUrl("mqtt://[fe80::1]", a));
  CHECK(a.port == 1883);
  for (const char* bad : {"mqtt://", "mqtt://h:", "mqtt://h:0", "mqtt://h:65536", "mqtt://h:x", "mqtt://h/p", "mqtt://u:p@h", "ws://h", "mqtt://::1"}) {
    CHECK_MESSAGE(!tnx::parseMqttUrl(bad, a), bad);
  }
  CHECK(tnx::defaultMqttUrl("http://192.168.1.103:8000") == "mqtt://192.168.1.103:1883");
  CHECK(tnx::defaultMqttUrl("https://iot.example.com/api") == "mqtts://iot.example.com:8883");
  CHECK(tnx::defaultMqttUrl("http://[::1]:8000") == "mqtt://[::1]:1883");
  CHECK(tnx::mqttTopic("thingsnxt", "6123456ABCdef", "state") == "thingsnxt/device/6123456abcdef/state");
}
