#pragma once
// cores/esp32/IPAddress.h, 3.x (IPv4 and IPv6 in one class; toString() takes includeZone).
#include <stdint.h>
#include "Printable.h"
#include "WString.h"
enum IPType { IPv4, IPv6 };
class IPAddress : public Printable {
 public:
  IPAddress();
  IPAddress(IPType ip_type);
  IPAddress(uint8_t first_octet, uint8_t second_octet, uint8_t third_octet, uint8_t fourth_octet);
  IPAddress(uint32_t address);
  IPAddress(const uint8_t *address);
  IPAddress(IPType ip_type, const uint8_t *address, uint8_t z = 0);
  IPAddress(const char *address);
  IPAddress(const IPAddress &address);
  bool fromString(const char *address);
  bool fromString(const String &address);
  operator uint32_t() const;
  bool operator==(const IPAddress &addr) const;
  bool operator!=(const IPAddress &addr) const;
  IPAddress &operator=(const IPAddress &address);
  virtual size_t printTo(Print &p) const;
  String toString(bool includeZone = false) const;
  IPType type() const;
};
extern const IPAddress IN6ADDR_ANY;
extern const IPAddress INADDR_NONE;
