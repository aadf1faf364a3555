#pragma once
// tnx::MqttClient on libmosquitto (Debian libmosquitto-dev), plain mqtt:// only, like the host's
// HTTP. No loop thread: loop() does the network I/O from the main loop, so the callbacks run on
// the main thread and queue events without locks, and nothing reconnects behind the core's back.
#include <deque>
#include <string>

#include "platform.h"

struct mosquitto;
struct mosquitto_message;

namespace host {

class MosquittoClient : public tnx::MqttClient {
 public:
  MosquittoClient();
  ~MosquittoClient() override;
  MosquittoClient(const MosquittoClient&) = delete;
  MosquittoClient& operator=(const MosquittoClient&) = delete;

  bool connect(const tnx::MqttConnectOptions& options, std::string& why) override;
  void disconnect() override;
  int subscribe(const std::string& topic, int qos) override;
  int publish(const std::string& topic, const std::string& payload, int qos) override;
  bool nextEvent(tnx::MqttEvent& event) override;

  void loop();  // reads, writes and pings without blocking; call often (every 10 ms here)

 private:
  static void onConnect(mosquitto*, void* self, int rc);
  static void onDisconnect(mosquitto*, void* self, int rc);
  static void onSubscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void onPublish(mosquitto*, void* self, int mid);
  static void onMessage(mosquitto*, void* self, const mosquitto_message* message);
  void ended(tnx::MqttEvent event);  // the session is over: one last event, no more I/O
  void destroy();

  mosquitto* mosq_ = nullptr;
  bool active_ = false;  // an attempt or a session is under way
  std::deque<tnx::MqttEvent> events_;
};

}  // namespace host
