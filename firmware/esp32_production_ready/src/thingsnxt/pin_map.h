#pragma once
// The virtual pins (v0, v1, ...) the app controls, and the GPIO behind each.
#include <string>
#include <vector>

#include "json.h"
#include "platform.h"

namespace tnx {

struct PinMapping {
  std::string vpin;  // "v0"
  int gpio;          // 2
};

class PinMap {
 public:
  explicit PinMap(std::vector<PinMapping> entries) : entries_(std::move(entries)) {}
  // v0 -> GPIO 2 (onboard LED of most DevKits), v1 -> 4, v2 -> 5, v3 -> 18.
  static PinMap defaults();

  const std::vector<PinMapping>& entries() const { return entries_; }
  const PinMapping* find(const std::string& vpin) const;

 private:
  std::vector<PinMapping> entries_;
};

struct PinChange {
  std::string vpin;
  int gpio;
  bool high;
};

// Applies a server state object to the outputs, as firmware always has: every
// mapped vN key sets its pin (numbers: nonzero is HIGH; true/false accepted;
// other types ignored); when `data` holds no vN key at all, `led` drives v0.
// Returns the pins whose level actually changed.
std::vector<PinChange> applyState(const cJSON* data, const PinMap& pins, Gpio& gpio);

}  // namespace tnx
