// The host build's pure parts: HTTP response parsing and the file store.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "file_store.h"
#include "http_parse.h"

using host::ParseStatus;

TEST_CASE("HTTP: Content-Length body and case-insensitive headers") {
  const std::string raw =
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nX-Long-Poll-Max: 25\r\n"
      "Content-Length: 14\r\n\r\n{\"detail\":\"x\"}";
  tnx::HttpResponse r;
  CHECK(host::parseHttpResponse(raw.substr(0, raw.size() - 3), false, r) == ParseStatus::Incomplete);
  CHECK(host::parseHttpResponse(raw.substr(0, raw.size() - 3), true, r) == ParseStatus::Malformed);
  REQUIRE(host::parseHttpResponse(raw, false, r) == ParseStatus::Complete);
  CHECK(r.status == 429);
  CHECK(r.header("retry-after") == "30");
  CHECK(r.header("x-long-poll-max") == "25");
  CHECK(r.body == "{\"detail\":\"x\"}");
}

TEST_CASE("HTTP: chunked body") {
  const std::string raw =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "7\r\n{\"data\"\r\nA;ext=1\r\n:{\"v0\":1}}\r\n0\r\n\r\n";
  tnx::HttpResponse r;
  CHECK(host::parseHttpResponse(raw.substr(0, 60), false, r) == ParseStatus::Incomplete);
  REQUIRE(host::parseHttpResponse(raw, false, r) == ParseStatus::Complete);
  CHECK(r.body == "{\"data\":{\"v0\":1}}");
  CHECK(host::parseHttpResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, r) ==
        ParseStatus::Malformed);
}

TEST_CASE("HTTP: body delimited by close, and garbage") {
  tnx::HttpResponse r;
  const std::string raw = "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}";
  CHECK(host::parseHttpResponse(raw, false, r) == ParseStatus::Incomplete);
  REQUIRE(host::parseHttpResponse(raw, true, r) == ParseStatus::Complete);
  CHECK(r.body == "{\"a\":1}");
  CHECK(host::parseHttpResponse("SSH-2.0-OpenSSH\r\n\r\n", true, r) == ParseStatus::Malformed);
  CHECK(host::parseHttpResponse("HTTP/1.1 204 No Content\r\n\r\n", false, r) == ParseStatus::Complete);
}

TEST_CASE("FileStore persists across instances") {
  char path[] = "/tmp/tnx_store_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::remove(path);  // start from a missing file, like a first run
  {
    host::FileStore store(path);
    std::string v;
    CHECK_FALSE(store.get("device_id", v));
    store.set("device_id", "dev1");
    store.set("device_token", "tok \"quoted\"");
    store.set("gone", "x");
    store.remove("gone");
  }
  {
    host::FileStore store(path);
    std::string v;
    CHECK(store.get("device_id", v));
    CHECK(v == "dev1");
    CHECK(store.get("device_token", v));
    CHECK(v == "tok \"quoted\"");
    CHECK_FALSE(store.get("gone", v));
  }
  std::remove(path);
}
