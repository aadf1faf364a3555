#pragma once
// Plain-http HTTP/1.1 client on POSIX sockets: one connection per request
// (Connection: close), one deadline covering connect, send and receive.
#include "platform.h"

namespace host {

class PosixHttpClient : public tnx::HttpClient {
 public:
  tnx::HttpResponse send(const tnx::HttpRequest& request) override;
};

}  // namespace host
