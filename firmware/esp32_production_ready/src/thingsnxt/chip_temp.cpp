#include "chip_temp.h"

#include <cmath>

namespace tnx {

// The classic ESP32's sensor is undocumented (dropped from the manual in 2018); on many chips it
// reads a raw 128 °F whatever the temperature, which Arduino-ESP32 turns into (128 - 32) / 1.8 =
// 53.33 °C, a constant that would look plausible on a gauge. Its raw steps are 1 °F, so a chip
// really at 128 °F loses its reading too; the other targets' driver never lands on it exactly.
static constexpr double kStuckC = (128 - 32) / 1.8;
static constexpr double kMinC = -40.0;
static constexpr double kMaxC = 125.0;

double chipTempReading(double celsius) {
  if (!std::isfinite(celsius) || celsius < kMinC || celsius > kMaxC) return NAN;
  if (std::fabs(celsius - kStuckC) < 0.01) return NAN;
  return std::round(celsius * 10.0) / 10.0;
}

}  // namespace tnx
