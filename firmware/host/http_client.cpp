#include "http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fcntl.h>

#include "http_parse.h"

namespace host {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Url {
  std::string host;
  std::string port = "80";
  std::string target = "/";  // path and query
};

bool parseUrl(const std::string& url, Url& out) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return false;  // https needs the device's TLS stack
  const size_t hostStart = scheme.size();
  const size_t slash = url.find('/', hostStart);
  const std::string authority = url.substr(hostStart, slash == std::string::npos ? std::string::npos : slash - hostStart);
  if (slash != std::string::npos) out.target = url.substr(slash);
  const size_t colon = authority.rfind(':');
  out.host = authority.substr(0, colon);
  if (colon != std::string::npos) out.port = authority.substr(colon + 1);
  return !out.host.empty() && !out.port.empty();
}

// Closes the socket on every return path.
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

int msLeft(SteadyClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events`; returns the status to report on failure, or 0 when ready.
// A signal (EINTR) aborts the request so SIGTERM is not delayed by a long poll.
int waitFor(int fd, short events, SteadyClock::time_point deadline) {
  pollfd pfd{fd, events, 0};
  const int ready = poll(&pfd, 1, msLeft(deadline));
  if (ready == 0) return tnx::kHttpTimeout;
  if (ready < 0) return tnx::kHttpNetworkError;
  return 0;
}

int connectTo(const Url& url, SteadyClock::time_point deadline, Socket& sock) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found) != 0) return tnx::kHttpNetworkError;
  int result = tnx::kHttpNetworkError;
  for (addrinfo* ai = found; ai != nullptr && result != 0; ai = ai->ai_next) {
    if (sock.fd >= 0) close(sock.fd);
    sock.fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (sock.fd < 0) continue;
    if (connect(sock.fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      result = 0;
    } else if (errno == EINPROGRESS) {
      result = waitFor(sock.fd, POLLOUT, deadline);
      int error = 0;
      socklen_t length = sizeof(error);
      if (result == 0 && (getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0)) {
        result = tnx::kHttpNetworkError;
      }
    }
  }
  freeaddrinfo(found);
  return result;
}

std::string buildRequest(const tnx::HttpRequest& request, const Url& url) {
  std::string text = request.method + " " + url.target + " HTTP/1.1\r\n";
  text += "Host: " + url.host + (url.port == "80" ? "" : ":" + url.port) + "\r\n";
  text += "Connection: close\r\nUser-Agent: thingsnxt-host-device\r\n";
  for (const auto& header : request.headers) text += header.first + ": " + header.second + "\r\n";
  if (!request.body.empty() || request.method == "POST") {
    text += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  return text + "\r\n" + request.body;
}

}  // namespace

tnx::HttpResponse PosixHttpClient::send(const tnx::HttpRequest& request) {
  tnx::HttpResponse response;
  Url url;
  if (!parseUrl(request.url, url)) {
    std::fprintf(stderr, "host_device: only http:// URLs are supported on the host\n");
    return response;  // kHttpNetworkError
  }
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(request.timeoutMs);
  Socket sock;
  response.status = connectTo(url, deadline, sock);
  if (response.status != 0) return response;

  const std::string out = buildRequest(request, url);
  for (size_t sent = 0; sent < out.size();) {
    response.status = waitFor(sock.fd, POLLOUT, deadline);
    if (response.status != 0) return response;
    const ssize_t n = ::send(sock.fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      response.status = tnx::kHttpNetworkError;
      return response;
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }

  std::string raw;
  char buffer[4096];
  for (;;) {
    const int waited = waitFor(sock.fd, POLLIN, deadline);
    if (waited != 0) {
      response = tnx::HttpResponse();
      response.status = waited;
      return response;
    }
    const ssize_t n = recv(sock.fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EAGAIN) continue;
    if (n > 0) raw.append(buffer, static_cast<size_t>(n));
    const ParseStatus parsed = parseHttpResponse(raw, n <= 0, response);
    if (parsed == ParseStatus::Complete) return response;
    if (parsed == ParseStatus::Malformed || n <= 0) {
      response = tnx::HttpResponse();  // kHttpNetworkError
      return response;
    }
  }
}

}  // namespace host
