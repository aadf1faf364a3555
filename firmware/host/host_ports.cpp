#include "host_ports.h"

#include <poll.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace host {

void printLine(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

uint32_t HostClock::millis() {
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count());
}

uint32_t HostClock::random(uint32_t bound) { return std::uniform_int_distribution<uint32_t>(0, bound - 1)(rng_); }

void PrintingGpio::write(int gpio, bool high) {
  bool& level = levels_[gpio];
  if (level == high) return;
  level = high;
  const tnx::PinMapping* match = nullptr;
  for (const auto& pin : pins_.entries()) {
    if (pin.gpio == gpio) match = &pin;
  }
  printLine("GPIO " + std::to_string(gpio) + " " + (high ? "1" : "0") + " (" + (match ? match->vpin : "?") + ")");
}

bool StdinConsole::readLine(std::string& line) {
  size_t newline = buffer_.find('\n');
  while (newline == std::string::npos && !eof_) {
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    if (poll(&pfd, 1, 0) <= 0) break;
    char chunk[1024];
    const ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
    if (n <= 0) {
      eof_ = true;
      if (!buffer_.empty()) buffer_ += '\n';  // a last line without newline still counts
    } else {
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    newline = buffer_.find('\n');
  }
  if (newline == std::string::npos) return false;
  line = buffer_.substr(0, newline);
  buffer_.erase(0, newline + 1);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

void StdinConsole::waitForInput(int timeoutMs) {
  if (eof_) {
    usleep(static_cast<useconds_t>(timeoutMs) * 1000);
    return;
  }
  pollfd pfd{STDIN_FILENO, POLLIN, 0};
  poll(&pfd, 1, timeoutMs);
}

void FakeSensors::read(std::vector<tnx::Reading>& out) {
  // A small random step per reading, clamped: looks like a real room.
  const auto step = [this](double scale) { return (static_cast<double>(clock_.random(2001)) / 1000.0 - 1.0) * scale; };
  temperature_ = std::fmin(30.0, std::fmax(20.0, temperature_ + step(0.3)));
  humidity_ = std::fmin(70.0, std::fmax(40.0, humidity_ + step(1.0)));
  out.push_back({"temperature", std::round(temperature_ * 100) / 100});
  out.push_back({"humidity", std::round(humidity_ * 10) / 10});
}

}  // namespace host
