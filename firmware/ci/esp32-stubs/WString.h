#pragma once
// cores/esp32/WString.h (subset): the constructors (they decide overload resolution), c_str(), length().
#include <stddef.h>
#include <stdint.h>
class __FlashStringHelper;
class StringSumHelper;
class String {
 public:
  String(const char *cstr = "");
  String(const char *cstr, unsigned int length);
  String(const uint8_t *cstr, unsigned int length);
  String(const String &str);
  String(const __FlashStringHelper *str);
  String(String &&rval);
  String(StringSumHelper &&rval);
  explicit String(char c);
  explicit String(unsigned char, unsigned char base = 10);
  explicit String(int, unsigned char base = 10);
  explicit String(unsigned int, unsigned char base = 10);
  explicit String(long, unsigned char base = 10);
  explicit String(unsigned long, unsigned char base = 10);
  explicit String(float, unsigned int decimalPlaces = 2);
  explicit String(double, unsigned int decimalPlaces = 2);
  explicit String(long long, unsigned char base = 10);
  explicit String(unsigned long long, unsigned char base = 10);
  ~String(void);

  String &operator=(const String &rhs);
  String &operator=(const char *cstr);
  String &operator=(String &&rval);
  unsigned int length(void) const;
  bool isEmpty(void) const;
  const char *c_str() const;
  bool concat(const String &str);
  bool concat(const char *cstr);
  String &operator+=(const String &rhs);
  String &operator+=(const char *cstr);
  bool equals(const String &s) const;
  bool equals(const char *cstr) const;
  bool operator==(const String &rhs) const;
  bool operator==(const char *cstr) const;
  long toInt(void) const;
};
class StringSumHelper : public String {
 public:
  StringSumHelper(const String &s);
  StringSumHelper(const char *p);
};
extern const String emptyString;
