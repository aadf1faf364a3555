// What a bare board reports for a gauge: the chip temperature, free heap and uptime.
#include <doctest/doctest.h>

#include <cmath>

#include "chip_temp.h"
#include "fakes.h"

TEST_CASE("chip temperature: rounded to 0.1 °C, impossible readings become NaN") {
  CHECK(tnx::chipTempReading(47.77777862548828) == doctest::Approx(47.8).epsilon(1e-12));
  CHECK(tnx::chipTempReading(-12.25) == doctest::Approx(-12.3).epsilon(1e-12));
  CHECK(tnx::chipTempReading(125.0) == 125.0);
  CHECK(tnx::chipTempReading(-40.0) == -40.0);
  // The classic ESP32's stuck sensor: raw 128 °F, as temperatureRead() returns it (a float).
  CHECK(std::isnan(tnx::chipTempReading(static_cast<float>((128 - 32) / 1.8))));
  CHECK_FALSE(std::isnan(tnx::chipTempReading(static_cast<float>((129 - 32) / 1.8))));  // 53.9 °C is real
  for (double bad : {std::nan(""), double(INFINITY), -double(INFINITY), 125.1, -40.1, 255.0}) {
    CHECK(std::isnan(tnx::chipTempReading(bad)));
  }
}

TEST_CASE("a bare board's report carries chip_temp_c, stats.free_heap and stats.uptime_s") {
  fake::Rig rig;
  rig.provisionStore();
  rig.sensors.readings = {{tnx::kChipTempKey, tnx::chipTempReading(static_cast<float>((118 - 32) / 1.8))}};
  rig.platform.heap = 187432;
  rig.device.begin();
  rig.runUntil(10100);  // a report right after the first poll, the next one at 10 s

  const auto report = [&rig]() -> std::string {
    for (auto it = rig.http.sent.rbegin(); it != rig.http.sent.rend(); ++it) {
      if (it->request.method == "POST") return it->request.body;
    }
    return "";
  };
  const std::string body = report();
  REQUIRE_FALSE(body.empty());
  // After the pins and the timestamp, before the counters, as every sensor reading.
  CHECK(body.find(R"(,"timestamp":10100,"chip_temp_c":47.8,"stats.sent":1,)") != std::string::npos);
  CHECK(body.find(R"(,"stats.free_heap":187432,"stats.uptime_s":10}})") != std::string::npos);

  // A stuck sensor leaves the key out rather than report a plausible constant.
  rig.sensors.readings = {{tnx::kChipTempKey, tnx::chipTempReading(static_cast<float>((128 - 32) / 1.8))}};
  rig.runUntil(20100);
  CHECK(report().find("chip_temp_c") == std::string::npos);
  CHECK(report().find(R"(,"stats.uptime_s":20}})") != std::string::npos);
}
