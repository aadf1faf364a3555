#pragma once
// cores/esp32/Stream.h (subset).
#include "Print.h"
class Stream : public Print {
 public:
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int peek() = 0;
  Stream();
  virtual ~Stream() {}
  void setTimeout(unsigned long timeout);
  unsigned long getTimeout(void);
  bool find(const char *target);
  virtual size_t readBytes(char *buffer, size_t length);
  virtual size_t readBytes(uint8_t *buffer, size_t length);
  virtual String readString();
  String readStringUntil(char terminator);
};
