#pragma once
// libraries/WiFi/src/WiFi.h, 3.x.
#include <stdint.h>
#include "IPAddress.h"
#include "Print.h"
#include "WiFiAP.h"
#include "WiFiClient.h"
#include "WiFiGeneric.h"
#include "WiFiSTA.h"
#include "WiFiScan.h"
#include "WiFiType.h"
class WiFiClass : public WiFiGenericClass, public WiFiSTAClass, public WiFiScanClass, public WiFiAPClass {
 public:
  WiFiClass();
  using WiFiGenericClass::channel;
  using WiFiSTAClass::BSSID;
  using WiFiSTAClass::BSSIDstr;
  using WiFiSTAClass::RSSI;
  using WiFiSTAClass::SSID;
  using WiFiScanClass::BSSID;
  using WiFiScanClass::BSSIDstr;
  using WiFiScanClass::channel;
  using WiFiScanClass::encryptionType;
  using WiFiScanClass::RSSI;
  using WiFiScanClass::SSID;
  void printDiag(Print &dest);
  void enableProv(bool status);
  bool isProvEnabled();
};
extern WiFiClass WiFi;
