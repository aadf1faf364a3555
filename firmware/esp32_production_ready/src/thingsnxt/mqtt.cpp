#include "mqtt.h"

#include "text.h"

namespace tnx {

bool parseMqttUrl(const std::string& url, MqttAddress& address) {
  std::string rest;
  if (url.rfind("mqtt://", 0) == 0) {
    address.tls = false;
    rest = url.substr(7);
  } else if (url.rfind("mqtts://", 0) == 0) {
    address.tls = true;
    rest = url.substr(8);
  } else {
    return false;
  }
  if (rest.empty() || rest.find_first_of("/@?# ") != std::string::npos) return false;
  // The port separator is the last ':' outside an IPv6 literal's brackets.
  const size_t bracket = rest.rfind(']');
  const size_t colon = rest.rfind(':');
  const bool hasPort = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  std::string portText;
  if (hasPort) {
    portText = rest.substr(colon + 1);
    rest.erase(colon);
  }
  if (rest.empty()) return false;
  if (bracket == std::string::npos ? rest.find(':') != std::string::npos : (rest.front() != '[' || rest.back() != ']')) return false;
  uint32_t port = address.tls ? 8883 : 1883;
  if (hasPort && (!parseUint(portText, port) || port == 0 || port > 65535)) return false;
  address.host = rest;
  address.port = static_cast<uint16_t>(port);
  return true;
}

std::string checkMqttUrl(std::string& url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  MqttAddress address;
  if (url.rfind("mqtt://", 0) != 0 && url.rfind("mqtts://", 0) != 0) return "mqtt url must start with mqtt:// or mqtts://";
  if (!parseMqttUrl(url, address)) return "mqtt url must be mqtt(s)://host[:port], without user or path";
  return "";
}

std::string defaultMqttUrl(const std::string& apiUrl) {
  const bool https = apiUrl.rfind("https://", 0) == 0;
  const size_t start = apiUrl.find("://");
  if (start == std::string::npos) return "";
  std::string host = apiUrl.substr(start + 3);
  host = host.substr(0, host.find('/'));
  const size_t bracket = host.rfind(']');
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) host.erase(colon);
  return (https ? "mqtts://" : "mqtt://") + host + (https ? ":8883" : ":1883");
}

std::string mqttTopic(const std::string& prefix, const std::string& deviceId, const char* leaf) {
  std::string id = deviceId;
  for (char& c : id) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return prefix + "/device/" + id + "/" + leaf;
}

JsonPtr commandAsState(const std::string& payload) {
  JsonPtr doc(cJSON_ParseWithLength(payload.data(), payload.size()));
  if (!doc || !cJSON_IsObject(doc.get())) return nullptr;
  const cJSON* state = cJSON_GetObjectItemCaseSensitive(doc.get(), "state");
  const cJSON* pin = cJSON_GetObjectItemCaseSensitive(doc.get(), "virtual_pin");
  const cJSON* type = cJSON_GetObjectItemCaseSensitive(doc.get(), "type");
  const char* key = nullptr;
  if (cJSON_IsString(pin)) {
    key = pin->valuestring;
  } else if (cJSON_IsString(type) && std::string(type->valuestring) == "led") {
    key = "led";
  }
  if (key == nullptr || state == nullptr) return nullptr;
  JsonPtr out(cJSON_CreateObject());
  cJSON_AddItemToObject(out.get(), key, cJSON_Duplicate(state, true));
  return out;
}

}  // namespace tnx
