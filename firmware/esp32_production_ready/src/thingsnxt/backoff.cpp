#include "backoff.h"

namespace tnx {

uint32_t Backoff::nextDelay(Clock& clock) {
  ++failures_;
  uint32_t ceiling = baseMs_;
  // Doubling stops at the cap, so this never overflows however long the outage.
  for (uint32_t i = 1; i < failures_ && ceiling < capMs_; ++i) ceiling *= 2;
  if (ceiling > capMs_) ceiling = capMs_;
  const uint32_t half = ceiling / 2;
  return (ceiling - half) + clock.random(half + 1);
}

}  // namespace tnx
