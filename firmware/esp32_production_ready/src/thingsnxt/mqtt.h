#pragma once
// The device side of the server's MQTT endpoint (docs/mqtt.md): URLs, topics and the command
// message. The session itself (connect, subscribe, reports, reconnects) is Device's, in
// mqtt_link.cpp, on top of the MqttClient port (platform.h).
#include <cstdint>
#include <string>

#include "json.h"

namespace tnx {

// mqtt://host[:port] or mqtts://host[:port] (an IPv6 host in brackets); no user, no path.
struct MqttAddress {
  bool tls = false;
  std::string host;
  uint16_t port = 0;  // the scheme's default (1883, 8883) when the URL names none
};
bool parseMqttUrl(const std::string& url, MqttAddress& address);

// Checks a URL typed at the console and strips trailing '/'; returns an error, or "".
std::string checkMqttUrl(std::string& url);

// The API server's host on the MQTT port: http://h:8000/x -> mqtt://h:1883, https://h -> mqtts://h:8883.
std::string defaultMqttUrl(const std::string& apiUrl);

// {prefix}/device/{id}/{leaf}; the server's topics name the id in lower case.
std::string mqttTopic(const std::string& prefix, const std::string& deviceId, const char* leaf);

// A commands-topic message, {"type":"led","state":1,"virtual_pin":"v0",...}, as the one-key state
// object applyState() takes ({"v0":1}; {"led":1} when it names no pin); null when it is neither.
JsonPtr commandAsState(const std::string& payload);

}  // namespace tnx
