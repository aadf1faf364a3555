#pragma once
// The device: state machine, request scheduling, error handling and the
// serial console. Everything board-specific comes in through Ports.
//
//   UNPROVISIONED --provision--> RUNNING --403--> NEEDS_PROVISIONING
//         ^                         |                    |
//         +----factory-reset--------+-----provision------+--> RUNNING
//
// RUNNING talks to the server over HTTP (requests.cpp: report, poll, health) or, after
// `transport mqtt`, over one MQTT session (mqtt_link.cpp; a refused CONNECT acts as the 403).
#include <cstdint>
#include <string>

#include "backoff.h"
#include "config.h"
#include "credentials.h"
#include "logger.h"
#include "ota.h"
#include "pin_map.h"
#include "platform.h"
#include "protocol.h"
#include "provisioning.h"
#include "sha256.h"
#include "stats.h"

namespace tnx {

enum class State { Unprovisioned, Running, NeedsProvisioning };
const char* stateName(State state);

class Device {
 public:
  Device(const Ports& ports, PinMap pins, const Config& config = Config());

  void begin();  // drive outputs LOW, load credentials, start running if complete
  void tick();   // call from loop(): console first, then at most one request

  State state() const { return state_; }
  const Stats& stats() const { return stats_; }
  const Credentials& credentials() const { return credentials_; }
  uint32_t longPollWaitS() const { return longPollWaitS_; }  // negotiated: min(cap, X-Long-Poll-Max); 0: plain
  bool mqttConnected() const { return mqttPhase_ == MqttPhase::Connected; }
  Logger& log() { return log_; }
  bool halted() const { return otaStep_ == OtaStep::Halted; }  // rebooting or rolling back: nothing more to do

 private:
  // A request kind with its own schedule and backoff: a 503 on reports
  // (storage down) must not slow the polls that still work, and vice versa.
  struct Channel {
    const char* name;
    uint32_t intervalMs;
    uint32_t dueAt = 0;
    Backoff backoff;
  };

  // console (commands.cpp)
  void handleLine(const std::string& line);
  void handleCommand(const std::string& line);
  void feedWizard(const std::string& line);
  void feedCaCert(const std::string& line);
  void provisioned(const Credentials& credentials);
  void factoryReset();
  void printStatus();
  void printStats();
  void printHelp();
  void handleTransport(const std::vector<std::string>& args);

  // lifecycle (device.cpp) and requests (requests.cpp)
  void enterRunning();
  void stopForbidden(const std::string& why = "403");
  bool trackNetwork();
  TelemetryInput telemetryInput(uint32_t now);
  void sendTelemetry();
  void poll();
  uint32_t pollWaitS(uint32_t now) const;
  bool pollYieldsToReport(uint32_t now) const;
  void checkHealth();
  HttpResponse exchange(const HttpRequest& request);
  bool settle(Channel& channel, const HttpResponse& response, uint32_t startedAt);
  void retryLater(Channel& channel, const std::string& why);
  void applyServerState(const cJSON* data, const char* source);
  void updateUptime();

  // transport mqtt (mqtt_link.cpp)
  enum class MqttPhase { Idle, Connecting, Connected };
  bool usingMqtt() const { return credentials_.transport == Transport::Mqtt && ports_.mqtt != nullptr; }
  std::string mqttUrl() const;
  void mqttTick(uint32_t now);
  void mqttConnect(uint32_t now);
  void onMqttEvent(const MqttEvent& event);
  void onMqttMessage(const MqttEvent& event);
  void mqttRetry(const std::string& what, const std::string& why);
  void mqttStop();
  void mqttReport(uint32_t now);
  std::string healthText() const;

  // over-the-air update (ota_link.cpp)
  enum class OtaStep { Idle, Download, Activate, Reboot, Halted };
  void otaBoot();
  bool otaDue(uint32_t now) const;
  void otaTick();
  void otaSeeState(const cJSON* data);
  void otaConsider(const OtaOffer& offer, const char* source);
  void otaDownload();
  bool otaTake(const HttpResponse& response);
  void otaFinish();
  void otaCheck();
  void otaFail(const std::string& why);
  void otaReachedServer();
  void otaReport(const std::string& key, const std::string& value);
  void otaWatchConfirm(uint32_t now);

  Ports ports_;
  PinMap pins_;
  Config config_;
  Logger log_;
  State state_ = State::Unprovisioned;
  Credentials credentials_;
  Stats stats_;

  Channel telemetry_;
  Channel poll_;
  Channel health_;
  bool rateLimited_ = false;       // 429: no request of any kind before gateUntil_
  uint32_t gateUntil_ = 0;
  uint32_t longPollWaitS_ = 0;    // 0: plain polling
  bool lastWasReport_ = false;    // the last request sent was a report
  bool reportAfterFirstPoll_ = false;
  int lastHealthStatus_ = 0;      // HTTP status of the last GET /health; 0: none yet
  bool linkUp_ = false;
  bool linkEverUp_ = false;
  bool readyAnnounced_ = false;

  MqttPhase mqttPhase_ = MqttPhase::Idle;
  Backoff mqttBackoff_;
  uint32_t mqttDueAt_ = 0;      // next connect attempt (Idle), or its deadline (Connecting)
  bool mqttEverConnected_ = false;
  std::string stateTopic_;      // {prefix}/device/{id}/state, /commands, /telemetry
  std::string commandsTopic_;
  std::string telemetryTopic_;

  OtaStep otaStep_ = OtaStep::Idle;
  OtaOffer offer_;
  uint32_t otaOffset_ = 0;       // bytes written and hashed so far: the next Range starts here
  bool otaBegun_ = false;        // the update port holds a begun image
  Sha256 otaHash_;
  Channel otaChunks_;            // chunk requests, with their own backoff
  Channel otaChecks_;            // GET /firmware/update without an offer in the state
  bool otaAwaitingConfirm_ = false;
  uint32_t otaConfirmBy_ = 0;
  std::vector<std::pair<std::string, std::string>> fwReport_;  // fw_* keys the next report carries
  int fwPublishId_ = 0;          // MQTT: the report that carried them, until its PUBACK
  size_t fwPublished_ = 0;

  uint32_t lastMillis_ = 0;
  uint64_t uptimeMs_ = 0;

  ProvisionWizard wizard_;
  bool capturingCaCert_ = false;
  std::string caCertDraft_;
};

}  // namespace tnx
