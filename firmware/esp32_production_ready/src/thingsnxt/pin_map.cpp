#include "pin_map.h"

namespace tnx {

PinMap PinMap::defaults() { return PinMap({{"v0", 2}, {"v1", 4}, {"v2", 5}, {"v3", 18}}); }

const PinMapping* PinMap::find(const std::string& vpin) const {
  for (const auto& entry : entries_) {
    if (entry.vpin == vpin) return &entry;
  }
  return nullptr;
}

static bool isVirtualPinKey(const char* key) {
  if (key == nullptr || key[0] != 'v' || key[1] == '\0') return false;
  for (const char* c = key + 1; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9') return false;
  }
  return true;
}

// false when the value is not a level (string, null, object...).
static bool levelOf(const cJSON* value, bool& high) {
  if (cJSON_IsBool(value)) {
    high = cJSON_IsTrue(value);
    return true;
  }
  if (cJSON_IsNumber(value)) {
    high = value->valuedouble != 0;
    return true;
  }
  return false;
}

static void drive(const PinMapping& pin, const cJSON* value, Gpio& gpio, std::vector<PinChange>& changes) {
  bool high = false;
  if (!levelOf(value, high) || gpio.read(pin.gpio) == high) return;
  gpio.write(pin.gpio, high);
  changes.push_back({pin.vpin, pin.gpio, high});
}

std::vector<PinChange> applyState(const cJSON* data, const PinMap& pins, Gpio& gpio) {
  std::vector<PinChange> changes;
  if (!cJSON_IsObject(data)) return changes;

  bool anyVirtualPin = false;
  for (const cJSON* item = data->child; item != nullptr; item = item->next) {
    anyVirtualPin = anyVirtualPin || isVirtualPinKey(item->string);
  }
  if (anyVirtualPin) {
    for (const auto& pin : pins.entries()) {
      const cJSON* value = cJSON_GetObjectItemCaseSensitive(data, pin.vpin.c_str());
      if (value != nullptr) drive(pin, value, gpio, changes);
    }
  } else if (const PinMapping* v0 = pins.find("v0")) {
    const cJSON* led = cJSON_GetObjectItemCaseSensitive(data, "led");
    if (led != nullptr) drive(*v0, led, gpio, changes);
  }
  return changes;
}

}  // namespace tnx
