#pragma once
// The device: state machine, request scheduling, error handling and the
// serial console. Everything board-specific comes in through Ports.
//
//   UNPROVISIONED --provision--> RUNNING --403--> NEEDS_PROVISIONING
//         ^                         |                    |
//         +----factory-reset--------+-----provision------+--> RUNNING
#include <cstdint>
#include <string>

#include "backoff.h"
#include "config.h"
#include "credentials.h"
#include "logger.h"
#include "pin_map.h"
#include "platform.h"
#include "provisioning.h"
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
  Logger& log() { return log_; }

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

  // lifecycle (device.cpp) and requests (requests.cpp)
  void enterRunning();
  void stopForbidden();
  bool trackNetwork();
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
  std::string healthText() const;

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

  uint32_t lastMillis_ = 0;
  uint64_t uptimeMs_ = 0;

  ProvisionWizard wizard_;
  bool capturingCaCert_ = false;
  std::string caCertDraft_;
};

}  // namespace tnx
