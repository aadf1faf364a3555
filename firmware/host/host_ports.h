#pragma once
// Host stand-ins for the board: real clock, GPIO that prints, stdin console,
// drifting fake sensors, a network that is always up.
#include <chrono>
#include <map>
#include <random>
#include <string>

#include "pin_map.h"
#include "platform.h"

namespace host {

void printLine(const std::string& text);  // stdout, flushed: harnesses read it live

class HostClock : public tnx::Clock {
 public:
  uint32_t millis() override;
  uint32_t random(uint32_t bound) override;

 private:
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mt19937 rng_{std::random_device{}()};
};

// Prints "GPIO <gpio> <0|1> (<vpin>)" on every change of level.
class PrintingGpio : public tnx::Gpio {
 public:
  explicit PrintingGpio(const tnx::PinMap& pins) : pins_(pins) {}
  void write(int gpio, bool high) override;
  bool read(int gpio) override { return levels_[gpio]; }

 private:
  const tnx::PinMap& pins_;
  std::map<int, bool> levels_;
};

// Non-blocking line reader on stdin. After EOF it simply has no more lines:
// the device keeps running, as a board does with the serial cable unplugged.
class StdinConsole : public tnx::Console {
 public:
  bool readLine(std::string& line) override;
  void writeLine(const std::string& text) override { printLine(text); }
  void waitForInput(int timeoutMs);  // sleeps until stdin is readable or the timeout passes

 private:
  std::string buffer_;
  bool eof_ = false;
};

// Temperature drifting within 20-30 °C and humidity within 40-70 %.
class FakeSensors : public tnx::Sensors {
 public:
  explicit FakeSensors(tnx::Clock& clock) : clock_(clock) {}
  void read(std::vector<tnx::Reading>& out) override;

 private:
  tnx::Clock& clock_;
  double temperature_ = 25.0;
  double humidity_ = 55.0;
};

class HostPlatform : public tnx::Platform {
 public:
  void connectNetwork(const std::string&, const std::string&) override {}  // the host is online
  void disconnectNetwork() override {}
  bool networkUp() override { return true; }
  uint32_t freeHeap() override { return 262144; }  // a plausible ESP32 figure; the host has no heap limit
};

}  // namespace host
