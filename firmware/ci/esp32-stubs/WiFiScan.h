#pragma once
// libraries/WiFi/src/WiFiScan.h, 3.x (subset: the members WiFiClass brings in with `using`).
#include "WString.h"
#include "WiFiType.h"
class WiFiScanClass {
 public:
  int16_t scanComplete();
  void scanDelete();
  String SSID(uint8_t networkItem);
  wifi_auth_mode_t encryptionType(uint8_t networkItem);
  int32_t RSSI(uint8_t networkItem);
  uint8_t *BSSID(uint8_t networkItem);
  String BSSIDstr(uint8_t networkItem);
  int32_t channel(uint8_t networkItem);
};
