#pragma once
// The chip's own temperature: the one reading every bare board can show on a gauge.

namespace tnx {

constexpr const char* kChipTempKey = "chip_temp_c";

// A temperatureRead() value (Celsius) as it goes into a report: rounded to 0.1 °C, or NaN
// (which the report leaves out) when it cannot be a real reading: not finite, outside the
// chips' rated -40..125 °C, or the classic ESP32's stuck value (see chip_temp.cpp).
double chipTempReading(double celsius);

}  // namespace tnx
