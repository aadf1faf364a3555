#pragma once
#include <cstdint>

namespace tnx {

// Counters reported in every telemetry body as stats.<name>.
struct Stats {
  uint32_t sent = 0;        // telemetry reports the server accepted (2xx)
  uint32_t failed = 0;      // telemetry or poll requests without a 2xx answer
  uint32_t polls = 0;       // polls answered 2xx with a usable body
  uint32_t commands = 0;    // output pins that changed because the server said so
  uint32_t reconnects = 0;  // network link came back after being lost
  uint32_t freeHeap = 0;    // bytes, sampled when a report is built
  uint32_t uptimeS = 0;     // seconds since boot, does not wrap with millis()
};

}  // namespace tnx
