#pragma once
#include <cstdint>

namespace tnx {

// Timing defaults follow the REST contract ("poll every 3-5 s, report every
// 10 s"); they keep one device at ~26 requests/min against a 100/min budget.
struct Config {
  uint32_t telemetryIntervalMs = 10000;  // 10 s between V2 reports
  uint32_t pollIntervalMs = 3000;        // 3 s between polls (measured from poll start)
  uint32_t healthIntervalMs = 60000;     // 60 s between GET /health
  uint32_t httpTimeoutMs = 10000;        // 10 s for an ordinary request
  uint32_t longPollCapS = 25;            // never ask the server to hold a poll longer
  uint32_t longPollSlackS = 5;           // long-poll HTTP timeout = wait + 5 s
  uint32_t retryAfterCapS = 3600;        // ignore absurd Retry-After values beyond 1 h
  uint32_t backoffBaseMs = 1000;         // first retry after 0.5-1 s
  uint32_t backoffCapMs = 60000;         // retries never further apart than 60 s
  // At power-on the first request waits random[0, this): a fleet powered on together (after a power
  // cut) reaches the server spread over 3 s, not in one instant. Provisioning starts at once.
  uint32_t firstContactSpreadMs = 3000;
  // transport mqtt (mqtt.h): reconnects use the same backoff
  uint32_t mqttKeepAliveS = 30;          // the server calls a silent device offline after 1.5x this
  uint32_t mqttConnectTimeoutMs = 15000; // an attempt without CONNACK by then counts as failed
  const char* mqttTopicPrefix = "thingsnxt";  // the server's MQTT_TOPIC_PREFIX
  // over-the-air updates (ota_link.cpp)
  uint32_t otaChunkBytes = 16384;           // one Range request; the board holds one chunk in RAM
  uint32_t otaMaxFailures = 10;             // consecutive failed chunk requests before FAILED
  uint32_t otaCheckIntervalMs = 14400000;   // GET /firmware/update every 4 h (and once at boot)
  uint32_t otaConfirmTimeoutMs = 300000;    // a new image that cannot reach the server by then rolls back
};

}  // namespace tnx
