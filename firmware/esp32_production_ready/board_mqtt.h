#pragma once
// tnx::MqttClient on ESP-IDF's esp-mqtt (<mqtt_client.h>, part of the Arduino-ESP32 3.x core, no
// library to install): MQTT 3.1.1 over TCP, or TLS for mqtts:// with the CA stored by `cacert`.
// esp-mqtt runs its own FreeRTOS task; its event handler only queues events under a mutex, and the
// core takes them in loop(). Auto-reconnect is off: the core reconnects, with its backoff.
#include <freertos/FreeRTOS.h>
#include <freertos/semphr.h>
#include <mqtt_client.h>

#include <deque>
#include <string>

#include "src/thingsnxt/credentials.h"
#include "src/thingsnxt/mqtt.h"
#include "src/thingsnxt/platform.h"

class BoardMqtt : public tnx::MqttClient {
 public:
  explicit BoardMqtt(tnx::KeyValueStore& store) : store_(store) {}

  void begin() { lock_ = xSemaphoreCreateMutex(); }  // from setup(): the scheduler is running

  bool connect(const tnx::MqttConnectOptions& options, std::string& why) override {
    disconnect();
    tnx::MqttAddress address;
    if (!tnx::parseMqttUrl(options.url, address)) {
      why = "bad mqtt url";
      return false;
    }
    caCert_.clear();
    if (address.tls && !store_.get(tnx::keys::kCaCert, caCert_)) {
      why = "mqtts:// needs the server's root CA: run 'cacert'";  // never unverified, as for https
      return false;
    }
    esp_mqtt_client_config_t config = {};
    config.broker.address.uri = options.url.c_str();  // strings are copied by init, except the CA
    if (address.tls) config.broker.verification.certificate = caCert_.c_str();  // PEM: NUL-terminated, length 0
    config.credentials.client_id = options.clientId.c_str();
    config.credentials.username = options.username.c_str();
    config.credentials.authentication.password = options.password.c_str();
    config.session.keepalive = options.keepAliveS;
    config.session.protocol_ver = MQTT_PROTOCOL_V_3_1_1;
    config.network.disable_auto_reconnect = true;
    config.network.timeout_ms = 10000;
    config.buffer.size = 2048;  // a state message in one MQTT_EVENT_DATA, mostly
    client_ = esp_mqtt_client_init(&config);
    if (client_ == nullptr) {
      why = "esp_mqtt_client_init failed";
      return false;
    }
    esp_mqtt_client_register_event(client_, MQTT_EVENT_ANY, &BoardMqtt::onEvent, this);
    ended_ = false;
    if (esp_mqtt_client_start(client_) != ESP_OK) {
      disconnect();
      why = "esp_mqtt_client_start failed";
      return false;
    }
    return true;
  }

  void disconnect() override {
    // destroy() stops esp-mqtt's task first (blocking), so no handler runs after it.
    if (client_ != nullptr) esp_mqtt_client_destroy(client_);
    client_ = nullptr;
    xSemaphoreTake(lock_, portMAX_DELAY);
    events_.clear();
    partial_ = tnx::MqttEvent();
    xSemaphoreGive(lock_);
  }

  int subscribe(const std::string& topic, int qos) override {
    return client_ == nullptr ? -1 : esp_mqtt_client_subscribe(client_, topic.c_str(), qos);
  }

  // enqueue, not publish: esp-mqtt's task sends it, so loop() never waits on the network.
  int publish(const std::string& topic, const std::string& payload, int qos) override {
    if (client_ == nullptr) return -1;
    return esp_mqtt_client_enqueue(client_, topic.c_str(), payload.data(), static_cast<int>(payload.size()), qos, 0, true);
  }

  bool nextEvent(tnx::MqttEvent& event) override {
    xSemaphoreTake(lock_, portMAX_DELAY);
    const bool any = !events_.empty();
    if (any) {
      event = events_.front();
      events_.pop_front();
    }
    xSemaphoreGive(lock_);
    return any;
  }

 private:
  static constexpr int kMaxPayload = 8192;  // larger messages are dropped rather than exhaust the heap

  static tnx::MqttEvent eventOf(tnx::MqttEvent::Kind kind, int code = 0, int id = 0) {
    tnx::MqttEvent event;
    event.kind = kind;
    event.code = code;
    event.id = id;
    return event;
  }

  // esp-mqtt's task.
  static void onEvent(void* self, esp_event_base_t, int32_t id, void* data) {
    static_cast<BoardMqtt*>(self)->handle(static_cast<esp_mqtt_event_id_t>(id), static_cast<esp_mqtt_event_handle_t>(data));
  }

  void handle(esp_mqtt_event_id_t id, esp_mqtt_event_handle_t event) {
    xSemaphoreTake(lock_, portMAX_DELAY);
    switch (id) {
      case MQTT_EVENT_CONNECTED:
        if (!ended_) events_.push_back(eventOf(tnx::MqttEvent::Kind::Connected));
        break;
      case MQTT_EVENT_ERROR:
        // A refused CONNACK comes as an error, then DISCONNECTED: the refusal is what counts.
        if (event->error_handle != nullptr && event->error_handle->error_type == MQTT_ERROR_TYPE_CONNECTION_REFUSED) {
          end(eventOf(tnx::MqttEvent::Kind::Refused, event->error_handle->connect_return_code));
        } else if (event->error_handle != nullptr && event->error_handle->esp_transport_sock_errno != 0) {
          lastError_ = "socket errno " + std::to_string(event->error_handle->esp_transport_sock_errno);
        }
        break;
      case MQTT_EVENT_DISCONNECTED: {
        tnx::MqttEvent lost = eventOf(tnx::MqttEvent::Kind::Lost);
        lost.text = lastError_.empty() ? "disconnected" : lastError_;
        lastError_.clear();
        end(lost);
        break;
      }
      case MQTT_EVENT_SUBSCRIBED: {
        // data: the SUBACK's return codes (0x80: refused).
        const int code = event->data_len > 0 ? static_cast<uint8_t>(event->data[0]) : 1;
        if (!ended_) events_.push_back(eventOf(tnx::MqttEvent::Kind::Subscribed, code, event->msg_id));
        break;
      }
      case MQTT_EVENT_PUBLISHED:
        if (!ended_) events_.push_back(eventOf(tnx::MqttEvent::Kind::Acked, 0, event->msg_id));
        break;
      case MQTT_EVENT_DATA:
        collect(event);
        break;
      default:
        break;
    }
    xSemaphoreGive(lock_);
  }

  // A message longer than the buffer arrives in pieces; only the first names the topic.
  void collect(esp_mqtt_event_handle_t event) {
    if (ended_ || event->total_data_len > kMaxPayload) return;
    if (event->current_data_offset == 0) {
      partial_ = eventOf(tnx::MqttEvent::Kind::Message, 0, event->msg_id);
      partial_.topic.assign(event->topic, static_cast<size_t>(event->topic_len));
    }
    partial_.text.append(event->data, static_cast<size_t>(event->data_len));
    if (event->current_data_offset + event->data_len >= event->total_data_len) {
      events_.push_back(partial_);
      partial_ = tnx::MqttEvent();
    }
  }

  void end(const tnx::MqttEvent& event) {
    if (ended_) return;
    ended_ = true;
    events_.push_back(event);
  }

  tnx::KeyValueStore& store_;
  esp_mqtt_client_handle_t client_ = nullptr;
  SemaphoreHandle_t lock_ = nullptr;
  std::string caCert_;  // must outlive the client: esp-mqtt keeps the pointer
  std::deque<tnx::MqttEvent> events_;
  tnx::MqttEvent partial_;
  std::string lastError_;
  bool ended_ = false;
};
