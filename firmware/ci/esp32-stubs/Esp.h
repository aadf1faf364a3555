#pragma once
// cores/esp32/Esp.h (subset).
#include <stdint.h>
class EspClass {
 public:
  EspClass() {}
  ~EspClass() {}
  void restart();
  uint32_t getHeapSize();
  uint32_t getFreeHeap();
  uint32_t getMinFreeHeap();
  uint32_t getMaxAllocHeap();
  uint32_t getPsramSize();
  uint32_t getFreePsram();
  uint8_t getChipRevision();
  const char *getChipModel();
  uint8_t getChipCores();
  uint32_t getCpuFreqMHz();
  const char *getSdkVersion();
  const char *getCoreVersion();
  uint32_t getFlashChipSize();
  uint64_t getEfuseMac();
};
extern EspClass ESP;
