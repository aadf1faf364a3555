#pragma once
// libraries/WiFi/src/WiFiGeneric.h, 3.x (subset; the event API is left out).
#include "IPAddress.h"
#include "WString.h"
#include "WiFiType.h"
#include "esp_err.h"
class WiFiGenericClass {
 public:
  WiFiGenericClass();
  static int getStatusBits();
  static int waitStatusBits(int bits, uint32_t timeout_ms);
  int32_t channel(void);
  void persistent(bool persistent);
  void enableLongRange(bool enable);
  static bool mode(wifi_mode_t);
  static wifi_mode_t getMode();
  bool enableSTA(bool enable);
  bool enableAP(bool enable);
  bool setSleep(bool enabled);
  bool setSleep(wifi_ps_type_t sleepType);
  wifi_ps_type_t getSleep();
  static const char *getHostname();
  static bool setHostname(const char *hostname);
  static bool hostname(const String &aHostname);
  static int hostByName(const char *aHostname, IPAddress &aResult);
};
