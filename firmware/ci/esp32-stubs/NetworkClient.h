#pragma once
// libraries/Network/src/NetworkClient.h, 3.x (subset).
#include <memory>
#include "Arduino.h"
#include "Client.h"
class ESPLwIPClient : public Client {
 public:
  virtual int connect(IPAddress ip, uint16_t port, int32_t timeout) = 0;
  virtual int connect(const char *host, uint16_t port, int32_t timeout) = 0;
  virtual void setConnectionTimeout(uint32_t milliseconds) = 0;
};
class NetworkClient : public ESPLwIPClient {
 public:
  NetworkClient();
  NetworkClient(int fd);
  ~NetworkClient();
  int connect(IPAddress ip, uint16_t port);
  int connect(IPAddress ip, uint16_t port, int32_t timeout_ms);
  int connect(const char *host, uint16_t port);
  int connect(const char *host, uint16_t port, int32_t timeout_ms);
  size_t write(uint8_t data);
  size_t write(const uint8_t *buf, size_t size);
  size_t write(Stream &stream);
  void flush();
  int available();
  int read();
  int read(uint8_t *buf, size_t size);
  int peek();
  void clear();
  void stop();
  uint8_t connected();
  operator bool();
  virtual int fd() const;
  void setConnectionTimeout(uint32_t milliseconds);
  int setNoDelay(bool nodelay);
  bool getNoDelay();
  IPAddress remoteIP() const;
  uint16_t remotePort() const;
  IPAddress localIP() const;
  uint16_t localPort() const;
  using Print::write;
};
