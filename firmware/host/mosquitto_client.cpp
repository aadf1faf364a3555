#include "mosquitto_client.h"

#include <mosquitto.h>

#include <cerrno>
#include <cstring>

#include "mqtt.h"

namespace host {

namespace {
tnx::MqttEvent eventOf(tnx::MqttEvent::Kind kind, int code = 0, int id = 0) {
  tnx::MqttEvent event;
  event.kind = kind;
  event.code = code;
  event.id = id;
  return event;
}

std::string errorText(int rc) { return rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc); }
}  // namespace

MosquittoClient::MosquittoClient() { mosquitto_lib_init(); }

MosquittoClient::~MosquittoClient() {
  disconnect();
  mosquitto_lib_cleanup();
}

bool MosquittoClient::connect(const tnx::MqttConnectOptions& options, std::string& why) {
  destroy();
  events_.clear();
  tnx::MqttAddress address;
  if (!tnx::parseMqttUrl(options.url, address)) {
    why = "bad mqtt url";
    return false;
  }
  if (address.tls) {
    why = "the host build has no TLS; use mqtt://";
    return false;
  }
  std::string hostname = address.host;
  if (hostname.size() > 2 && hostname.front() == '[') hostname = hostname.substr(1, hostname.size() - 2);
  mosq_ = mosquitto_new(options.clientId.c_str(), true, this);
  if (mosq_ == nullptr) {
    why = std::strerror(errno);
    return false;
  }
  mosquitto_connect_callback_set(mosq_, onConnect);
  mosquitto_disconnect_callback_set(mosq_, onDisconnect);
  mosquitto_subscribe_callback_set(mosq_, onSubscribe);
  mosquitto_publish_callback_set(mosq_, onPublish);
  mosquitto_message_callback_set(mosq_, onMessage);
  mosquitto_username_pw_set(mosq_, options.username.c_str(), options.password.c_str());
  const int rc = mosquitto_connect_async(mosq_, hostname.c_str(), address.port, options.keepAliveS);
  if (rc != MOSQ_ERR_SUCCESS) {
    why = errorText(rc);
    destroy();
    return false;
  }
  active_ = true;
  return true;
}

void MosquittoClient::disconnect() {
  if (mosq_ != nullptr && active_) {
    mosquitto_disconnect(mosq_);
    mosquitto_loop(mosq_, 0, 1);  // sends the DISCONNECT; its callback finds active_ false
  }
  destroy();
  events_.clear();
}

void MosquittoClient::destroy() {
  active_ = false;
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  mosq_ = nullptr;
}

int MosquittoClient::subscribe(const std::string& topic, int qos) {
  int mid = 0;
  if (mosq_ == nullptr || mosquitto_subscribe(mosq_, &mid, topic.c_str(), qos) != MOSQ_ERR_SUCCESS) return -1;
  return mid;
}

int MosquittoClient::publish(const std::string& topic, const std::string& payload, int qos) {
  int mid = 0;
  if (mosq_ == nullptr) return -1;
  const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), qos, false);
  return rc == MOSQ_ERR_SUCCESS ? mid : -1;
}

bool MosquittoClient::nextEvent(tnx::MqttEvent& event) {
  if (events_.empty()) return false;
  event = std::move(events_.front());
  events_.pop_front();
  return true;
}

void MosquittoClient::loop() {
  if (mosq_ == nullptr || !active_) return;
  const int rc = mosquitto_loop(mosq_, 0, 1);
  if (rc != MOSQ_ERR_SUCCESS && active_) {
    tnx::MqttEvent event = eventOf(tnx::MqttEvent::Kind::Lost);
    event.text = errorText(rc);
    ended(event);
  }
}

void MosquittoClient::ended(tnx::MqttEvent event) {
  if (!active_) return;  // the first end counts: a refused CONNACK is also followed by a disconnect
  active_ = false;
  events_.push_back(std::move(event));
}

void MosquittoClient::onConnect(mosquitto*, void* self, int rc) {
  auto* client = static_cast<MosquittoClient*>(self);
  if (!client->active_) return;
  if (rc == 0) {
    client->events_.push_back(eventOf(tnx::MqttEvent::Kind::Connected));
  } else {
    client->ended(eventOf(tnx::MqttEvent::Kind::Refused, rc));
  }
}

void MosquittoClient::onDisconnect(mosquitto*, void* self, int rc) {
  auto* client = static_cast<MosquittoClient*>(self);
  tnx::MqttEvent event = eventOf(tnx::MqttEvent::Kind::Lost);
  event.text = rc == MOSQ_ERR_SUCCESS ? "closed" : errorText(rc);
  client->ended(event);
}

void MosquittoClient::onSubscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
  auto* client = static_cast<MosquittoClient*>(self);
  if (client->active_) client->events_.push_back(eventOf(tnx::MqttEvent::Kind::Subscribed, count > 0 ? granted[0] : 0x80, mid));
}

void MosquittoClient::onPublish(mosquitto*, void* self, int mid) {
  auto* client = static_cast<MosquittoClient*>(self);
  if (client->active_) client->events_.push_back(eventOf(tnx::MqttEvent::Kind::Acked, 0, mid));
}

void MosquittoClient::onMessage(mosquitto*, void* self, const mosquitto_message* message) {
  auto* client = static_cast<MosquittoClient*>(self);
  if (!client->active_) return;
  tnx::MqttEvent event = eventOf(tnx::MqttEvent::Kind::Message, 0, message->mid);
  event.topic = message->topic;
  event.text.assign(static_cast<const char*>(message->payload), static_cast<size_t>(message->payloadlen));
  client->events_.push_back(std::move(event));
}

}  // namespace host
