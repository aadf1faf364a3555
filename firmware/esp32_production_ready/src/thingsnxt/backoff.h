#pragma once
#include <cstdint>

#include "platform.h"

namespace tnx {

// Exponential backoff with "equal jitter": after the n-th consecutive failure
// the wait is d/2 + random[0, d/2], where d = min(cap, base * 2^(n-1)).
// Equal rather than full jitter so a retry never returns almost at once to a
// server that is down, while devices that failed together still spread out.
class Backoff {
 public:
  Backoff(uint32_t baseMs, uint32_t capMs) : baseMs_(baseMs), capMs_(capMs) {}

  uint32_t nextDelay(Clock& clock);  // records a failure, returns the wait in ms
  void reset() { failures_ = 0; }
  uint32_t failures() const { return failures_; }

 private:
  uint32_t baseMs_;
  uint32_t capMs_;
  uint32_t failures_ = 0;
};

}  // namespace tnx
