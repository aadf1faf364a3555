#pragma once
// cores/esp32/HardwareSerial.h, 3.x (subset). In 3.x `Serial` is a macro for Serial0 (UART0)
// unless USB CDC on boot is enabled.
#include <string.h>
#include "Stream.h"
#include "esp32-hal.h"
#include "soc/soc_caps.h"
#define SERIAL_8N1 0x800001c
class HardwareSerial : public Stream {
 public:
  HardwareSerial(uint8_t uart_nr);
  ~HardwareSerial();
  void begin(unsigned long baud, uint32_t config = SERIAL_8N1, int8_t rxPin = -1, int8_t txPin = -1, bool invert = false,
             unsigned long timeout_ms = 20000UL, uint8_t rxfifo_full_thrhd = 120);
  void end(void);
  void updateBaudRate(unsigned long baud);
  int available(void);
  int availableForWrite(void);
  int peek(void);
  int read(void);
  size_t read(uint8_t *buffer, size_t size);
  size_t read(char *buffer, size_t size);
  size_t readBytes(uint8_t *buffer, size_t length);
  size_t readBytes(char *buffer, size_t length);
  void flush(void);
  void flush(bool txOnly);
  size_t write(uint8_t);
  size_t write(const uint8_t *buffer, size_t size);
  size_t write(const char *buffer, size_t size);
  size_t write(const char *s);
  size_t write(unsigned long n);
  size_t write(long n);
  size_t write(unsigned int n);
  size_t write(int n);
  uint32_t baudRate();
  operator bool() const;
  void setDebugOutput(bool);
  size_t setRxBufferSize(size_t new_size);
  size_t setTxBufferSize(size_t new_size);
};
#ifndef ARDUINO_USB_CDC_ON_BOOT
#define ARDUINO_USB_CDC_ON_BOOT 0
#endif
#if !ARDUINO_USB_CDC_ON_BOOT
#define Serial Serial0
#endif
extern HardwareSerial Serial0;
extern HardwareSerial Serial1;
extern HardwareSerial Serial2;
