#pragma once
// libraries/NetworkClientSecure/src/NetworkClientSecure.h, 3.x (subset).
#include "Arduino.h"
#include "IPAddress.h"
#include "Network.h"
class NetworkClientSecure : public NetworkClient {
 public:
  NetworkClientSecure();
  NetworkClientSecure(int socket);
  ~NetworkClientSecure();
  int connect(IPAddress ip, uint16_t port);
  int connect(IPAddress ip, uint16_t port, int32_t timeout);
  int connect(const char *host, uint16_t port);
  int connect(const char *host, uint16_t port, int32_t timeout);
  int connect(IPAddress ip, uint16_t port, const char *rootCABuff, const char *cli_cert, const char *cli_key);
  int connect(const char *host, uint16_t port, const char *rootCABuff, const char *cli_cert, const char *cli_key);
  int peek();
  size_t write(uint8_t data);
  size_t write(const uint8_t *buf, size_t size);
  int available();
  int read();
  int read(uint8_t *buf, size_t size);
  void flush() {}
  void stop();
  uint8_t connected();
  int lastError(char *buf, const size_t size);
  void setInsecure();
  void setPreSharedKey(const char *pskIdent, const char *psKey);
  void setCACert(const char *rootCA);
  void setCertificate(const char *client_ca);
  void setPrivateKey(const char *private_key);
  bool loadCACert(Stream &stream, size_t size);
  void setCACertBundle(const uint8_t *bundle, size_t size);
  bool loadCertificate(Stream &stream, size_t size);
  bool loadPrivateKey(Stream &stream, size_t size);
  bool verify(const char *fingerprint, const char *domain_name);
  void setHandshakeTimeout(unsigned long handshake_timeout);
  void setAlpnProtocols(const char **alpn_protos);
  operator bool();
 private:
  using Print::write;
};
