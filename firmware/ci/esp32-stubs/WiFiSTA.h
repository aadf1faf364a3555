#pragma once
// libraries/WiFi/src/WiFiSTA.h, 3.x: the compatibility class WiFi inherits (subset).
#include "IPAddress.h"
#include "WString.h"
#include "WiFiGeneric.h"
#include "WiFiType.h"
class WiFiSTAClass {
 public:
  wl_status_t begin(const char *ssid, const char *passphrase = NULL, int32_t channel = 0, const uint8_t *bssid = NULL,
                    bool connect = true);
  wl_status_t begin(const String &ssid, const String &passphrase = (const char *)NULL, int32_t channel = 0,
                    const uint8_t *bssid = NULL, bool connect = true);
  wl_status_t begin();
  bool config(IPAddress local_ip, IPAddress gateway, IPAddress subnet, IPAddress dns1 = (uint32_t)0x00000000,
              IPAddress dns2 = (uint32_t)0x00000000);
  bool config(IPAddress local_ip, IPAddress dns = (uint32_t)0x00000000);
  bool reconnect();
  bool disconnectAsync(bool wifioff = false, bool eraseap = false);
  bool disconnect(bool wifioff = false, bool eraseap = false, unsigned long timeoutLength = 100);
  bool eraseAP(void);
  bool isConnected();
  bool setAutoReconnect(bool autoReconnect);
  bool getAutoReconnect();
  uint8_t waitForConnectResult(unsigned long timeoutLength = 60000);
  wl_status_t status();
  String SSID() const;
  String psk() const;
  uint8_t *BSSID(uint8_t *bssid = NULL);
  String BSSIDstr();
  int8_t RSSI();
  IPAddress localIP();
  uint8_t *macAddress(uint8_t *mac);
  String macAddress();
  IPAddress subnetMask();
  IPAddress gatewayIP();
  IPAddress dnsIP(uint8_t dns_no = 0);
};
