// Over-the-air updates in the core: offer, chunked Range download, SHA-256 and size checks,
// fw_state reports, boot on trial, confirm once the server is reached, rollback after the timeout.
#include <doctest/doctest.h>

#include "fakes.h"
#include "ota.h"
#include "sha256.h"
#include "text.h"

using fake::Rig;

namespace {

// An ESP32 application image as the contract describes it: 0xE9, the app descriptor at byte 32
// (magic 0xABCD5432 little endian, version at 48), then filler.
std::string makeImage(const std::string& version, size_t size) {
  std::string image(size, '\0');
  image[0] = static_cast<char>(0xE9);
  const uint8_t magic[4] = {0x32, 0x54, 0xCD, 0xAB};
  for (int i = 0; i < 4; ++i) image[32 + i] = static_cast<char>(magic[i]);
  image.replace(48, version.size(), version);
  for (size_t i = 112; i < size; ++i) image[i] = static_cast<char>((i * 7 + 3) % 251);
  return image;
}

std::string sha256Of(const std::string& bytes) {
  tnx::Sha256 hash;
  hash.update(bytes);
  return hash.hexDigest();
}

std::string fieldOf(const std::string& body, const char* key) {
  tnx::JsonPtr doc(cJSON_Parse(body.c_str()));
  const cJSON* data = doc ? cJSON_GetObjectItemCaseSensitive(doc.get(), "data") : nullptr;
  const cJSON* item = data ? cJSON_GetObjectItemCaseSensitive(data, key) : nullptr;
  return cJSON_IsString(item) ? item->valuestring : "";
}

// The server side: a poll state carrying the offer, GET /firmware/update serving `image` by Range.
struct Server {
  std::string image;
  std::string offeredSha;  // what the offer claims
  uint32_t offeredSize = 0;
  std::string version = "1.1.0";
  bool offering = true;
  int failRequest = -1;  // this download request (0-based) gets no answer: a cut
  int shortRequest = -1;  // this one is cut short after 100 bytes
  int withdrawAt = -1;    // from this download request on, the offer is withdrawn
  std::vector<std::string> ranges;
  std::vector<std::string> fwStates;  // fw_state of each report that had one
  std::vector<std::string> fwVersions;
  std::string lastError;

  std::string offerJson() const {
    return R"({"version":")" + version + R"(","size":)" + std::to_string(offeredSize) + R"(,"sha256":")" + offeredSha +
           R"(","md5":"00","url":"/firmware/update","release":"rel-1"})";
  }
  tnx::HttpResponse handle(const tnx::HttpRequest& r) {
    if (r.url.find("/firmware/update") != std::string::npos) return download(r);
    if (r.method == "POST") {
      if (!fieldOf(r.body, "fw_state").empty()) fwStates.push_back(fieldOf(r.body, "fw_state"));
      if (!fieldOf(r.body, "fw_version").empty()) fwVersions.push_back(fieldOf(r.body, "fw_version"));
      if (!fieldOf(r.body, "fw_error").empty()) lastError = fieldOf(r.body, "fw_error");
      return fake::response(200, R"({"data":{}})");
    }
    if (r.url.find("/telemetry/latest") != std::string::npos) {
      return fake::response(200, R"({"device_id":"dev1","data":{"v0":0)" + (offering ? ",\"ota\":" + offerJson() : "") + "}}");
    }
    return fake::response(200);
  }
  tnx::HttpResponse download(const tnx::HttpRequest& r) {
    std::string range;
    for (const auto& h : r.headers) {
      if (h.first == "Range") range = h.second;
    }
    const int index = static_cast<int>(ranges.size());
    ranges.push_back(range);
    if (index == withdrawAt) offering = false;
    if (!offering) return fake::response(304);
    if (index == failRequest) return fake::response(tnx::kHttpNetworkError);
    uint32_t first = 0, last = 0;
    const size_t dash = range.find('-');
    tnx::parseUint(range.substr(6, dash - 6), first);
    tnx::parseUint(range.substr(dash + 1), last);
    if (first >= image.size()) return fake::response(416);
    if (last >= image.size()) last = static_cast<uint32_t>(image.size() - 1);
    std::string body = image.substr(first, last - first + 1);
    if (index == shortRequest) body.resize(100);
    return fake::response(206, body,
                          {{"content-range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                                 std::to_string(image.size())}});
  }
};

tnx::Config otaConfig() {
  tnx::Config config;
  config.otaChunkBytes = 1000;
  return config;
}

struct OtaRig {
  fake::Update update;
  Server server;
  Rig rig{otaConfig(), &update};
  explicit OtaRig(size_t size = 3500) {
    server.image = makeImage("1.1.0", size);
    server.offeredSha = sha256Of(server.image);
    server.offeredSize = static_cast<uint32_t>(size);
    rig.provisionStore();
    rig.http.handler = [this](const tnx::HttpRequest& r) { return server.handle(r); };
  }
};

}  // namespace

TEST_CASE("SHA-256 of known vectors, fed in odd pieces") {
  CHECK(sha256Of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256Of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  tnx::Sha256 hash;
  const std::string piece(997, 'a');
  size_t fed = 0;
  while (fed + piece.size() <= 1000000) {
    hash.update(piece);
    fed += piece.size();
  }
  hash.update(std::string(1000000 - fed, 'a'));
  CHECK(hash.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("offer parsing, Content-Range and the image's own version") {
  tnx::JsonPtr doc(cJSON_Parse(R"({"ota":{"version":"1.2.0","size":1234,"sha256":")"
                               "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
                               R"(","url":"/firmware/update","release":"r1"}})"));
  tnx::OtaOffer offer;
  REQUIRE(tnx::parseOffer(doc.get(), offer));
  CHECK(offer.version == "1.2.0");
  CHECK(offer.size == 1234);
  CHECK(offer.sha256.substr(0, 6) == "abcdef");
  CHECK(offer.release == "r1");
  tnx::JsonPtr bad(cJSON_Parse(R"({"ota":{"version":"1.2.0","size":0,"sha256":"x"}})"));
  CHECK_FALSE(tnx::parseOffer(bad.get(), offer));

  uint32_t first = 0, last = 0, total = 0;
  CHECK(tnx::parseContentRange("bytes 1000-1999/3500", first, last, total));
  CHECK((first == 1000 && last == 1999 && total == 3500));
  CHECK_FALSE(tnx::parseContentRange("bytes */3500", first, last, total));

  CHECK(tnx::imageVersion(makeImage("2.3.4-rc1", 200)) == "2.3.4-rc1");
  std::string notAnApp = makeImage("2.3.4", 200);
  notAnApp[0] = 0;
  CHECK(tnx::imageVersion(notAnApp) == "");
}

TEST_CASE("a good image: DOWNLOADING, chunks by Range, DOWNLOADED, UPDATING, reboot; confirmed on the next boot") {
  OtaRig o;
  o.rig.device.begin();
  o.rig.runUntil(20000);
  CHECK(o.update.slot == o.server.image);
  CHECK(o.update.beganSize == 3500);
  CHECK(o.server.ranges == std::vector<std::string>{"bytes=0-999", "bytes=1000-1999", "bytes=2000-2999", "bytes=3000-3499"});
  CHECK(o.server.fwStates == std::vector<std::string>{"DOWNLOADING", "DOWNLOADED", "UPDATING"});
  CHECK(o.server.fwVersions == std::vector<std::string>{"1.0.0"});
  CHECK(o.update.marked);
  CHECK(o.update.reboots == 1);
  CHECK(o.rig.device.halted());
  CHECK(o.rig.store.values["ota_attempt"] == "1.1.0 rel-1");
  const auto& download = o.rig.http.sent[2].request;  // after the first poll and the DOWNLOADING report
  CHECK(download.url == "http://api.test/firmware/update");
  CHECK(download.headers[0] == std::pair<std::string, std::string>{"X-Device-Token", fake::kToken});
  CHECK(download.headers[1] == std::pair<std::string, std::string>{"x-ESP32-version", "1.0.0"});
  const size_t sentBefore = o.rig.http.sent.size();
  o.rig.runUntil(30000);
  CHECK(o.rig.http.sent.size() == sentBefore);  // halted: the board is resetting

  // The next boot: the new image on trial; the first poll reaches the server and confirms it.
  fake::Update booted;
  booted.version = "1.1.0";
  booted.pending = true;
  Server server = o.server;
  server.offering = false;
  server.fwVersions.clear();
  Rig next(otaConfig(), &booted);
  next.store.values = o.rig.store.values;
  next.http.handler = [&server](const tnx::HttpRequest& r) { return server.handle(r); };
  next.device.begin();
  CHECK(next.console.printedContaining("OTA_TRIAL 1.1.0 runs on trial"));
  CHECK(next.store.values.count("ota_attempt") == 1);  // kept until confirmed: a rollback would need it
  next.device.tick();  // the poll
  CHECK(booted.confirmed);
  CHECK(next.console.printed("OTA_CONFIRMED 1.1.0 marked valid"));
  next.runUntil(2000);
  CHECK(server.fwVersions == std::vector<std::string>{"1.1.0"});
  CHECK(next.store.values.count("ota_attempt") == 0);
  next.runUntil(600000);
  CHECK_FALSE(booted.rolledBack);
}

TEST_CASE("a wrong digest: FAILED with fw_error, nothing marked, not retried") {
  OtaRig o;
  o.server.offeredSha = sha256Of("something else");
  o.rig.device.begin();
  o.rig.runUntil(30000);
  CHECK(o.server.fwStates == std::vector<std::string>{"DOWNLOADING", "FAILED"});
  CHECK(o.server.lastError.find("sha256 mismatch") == 0);
  CHECK(o.update.aborts == 1);
  CHECK_FALSE(o.update.ended);
  CHECK_FALSE(o.update.marked);
  CHECK(o.update.reboots == 0);
  CHECK(o.update.begins == 1);  // the offer still stands in every poll, but this release failed here
  CHECK(o.rig.store.values["ota_skip"] == "rel-1");
  CHECK(o.rig.console.printedContaining("OTA_FAILED sha256 mismatch"));
}

TEST_CASE("a truncated image (shorter than the offer says): FAILED, nothing marked") {
  OtaRig o;
  o.server.offeredSize = 4000;  // the server holds 3500 bytes
  o.rig.device.begin();
  o.rig.runUntil(30000);
  CHECK(o.server.fwStates == std::vector<std::string>{"DOWNLOADING", "FAILED"});
  CHECK(o.server.lastError == "the image is 3500 bytes, the offer says 4000");
  CHECK(o.update.aborts == 1);
  CHECK_FALSE(o.update.marked);
  CHECK(o.update.reboots == 0);
}

TEST_CASE("a download cut twice resumes with Range from the byte after the last one written") {
  OtaRig o;
  o.server.shortRequest = 1;  // the second chunk stops after 100 bytes
  o.server.failRequest = 2;   // the next request gets no answer at all
  o.rig.device.begin();
  o.rig.runUntil(30000);
  CHECK(o.server.ranges == std::vector<std::string>{"bytes=0-999", "bytes=1000-1999", "bytes=1100-2099", "bytes=1100-2099",
                                                    "bytes=2100-3099", "bytes=3100-3499"});
  CHECK(o.update.slot == o.server.image);
  CHECK(o.update.begins == 1);
  CHECK(o.server.fwStates == std::vector<std::string>{"DOWNLOADING", "DOWNLOADED", "UPDATING"});
  CHECK(o.update.reboots == 1);
}

TEST_CASE("a withdrawn offer (304) stops the download quietly") {
  OtaRig o;
  o.server.withdrawAt = 2;
  o.rig.device.begin();
  o.rig.runUntil(30000);
  CHECK(o.server.ranges.size() == 4);  // three chunk requests, then the boot check (304 too)
  CHECK(o.update.aborts == 1);
  CHECK(o.server.fwStates == std::vector<std::string>{"DOWNLOADING"});
  CHECK(o.rig.console.printedContaining("OTA offer withdrawn (304)"));
}

TEST_CASE("a new image that never reaches the server rolls back after the timeout") {
  fake::Update update;
  update.version = "1.1.0";
  update.pending = true;
  tnx::Config config = otaConfig();
  config.otaConfirmTimeoutMs = 120000;
  Rig rig(config, &update);
  rig.provisionStore();
  rig.store.values["ota_attempt"] = "1.1.0 rel-1";
  rig.http.handler = [](const tnx::HttpRequest&) { return fake::response(tnx::kHttpNetworkError); };
  rig.device.begin();
  rig.runUntil(119000, 500);
  CHECK_FALSE(update.rolledBack);
  CHECK_FALSE(update.confirmed);
  rig.runUntil(121000, 500);
  CHECK(update.rolledBack);
  CHECK_FALSE(update.confirmed);
  CHECK(rig.console.printedContaining("OTA_ROLLBACK the new image did not reach the server within 120 s"));
  CHECK(rig.store.values["ota_attempt"] == "1.1.0 rel-1");  // for the old image, after the boot loader went back
  const size_t sent = rig.http.sent.size();
  rig.runUntil(200000, 500);
  CHECK(rig.http.sent.size() == sent);
}

TEST_CASE("the old image after a rollback reports its version and does not take the same release again") {
  fake::Update update;  // 1.0.0, not pending: the boot loader went back
  OtaRig o;
  o.rig.store.values["ota_attempt"] = "1.1.0 rel-1";
  o.rig.device.begin();
  CHECK(o.rig.console.printed("OTA_ROLLED_BACK image 1.1.0 did not stay; running 1.0.0 again"));
  o.rig.runUntil(20000);
  CHECK(o.server.fwVersions == std::vector<std::string>{"1.0.0"});
  CHECK(o.server.fwStates.empty());
  CHECK(o.update.begins == 0);
}

TEST_CASE("the check at boot: GET /firmware/update, 304 means nothing to do; an image there starts the download") {
  OtaRig o;
  o.server.offering = false;
  o.rig.device.begin();
  o.rig.runUntil(5000);
  REQUIRE(o.server.ranges.size() == 1);  // once, after the first poll; the next in 4 h
  CHECK(o.server.ranges[0] == "bytes=0-999");
  CHECK(o.server.fwStates.empty());

  OtaRig p;
  p.rig.http.handler = [&p](const tnx::HttpRequest& r) {
    if (r.url.find("/telemetry/latest") != std::string::npos) return fake::response(200, R"({"data":{}})");
    tnx::HttpResponse answer = p.server.handle(r);
    answer.headers["x-sha256"] = p.server.offeredSha;
    return answer;
  };
  p.rig.device.begin();
  p.rig.runUntil(20000);
  CHECK(p.rig.console.printed("OTA_OFFER 1.1.0 (3500 bytes) from GET /firmware/update; downloading"));
  CHECK(p.update.slot == p.server.image);
  CHECK(p.update.reboots == 1);
}

TEST_CASE("while an image comes in, polls still go out (plain, not held) and reports keep their schedule") {
  OtaRig o(10000);  // ten chunks, each taking a second on the wire
  o.rig.http.handler = [&o](const tnx::HttpRequest& r) {
    if (r.url.find("/firmware/update") != std::string::npos) o.rig.clock.now += 1000;
    tnx::HttpResponse answer = o.server.handle(r);
    if (r.url.find("/telemetry/latest") != std::string::npos) answer.headers["x-long-poll-max"] = "30";
    return answer;
  };
  o.rig.device.begin();
  o.rig.runUntil(40000);
  REQUIRE(o.update.reboots == 1);
  size_t firstChunk = 0, lastChunk = 0, polls = 0;
  for (size_t i = 0; i < o.rig.http.sent.size(); ++i) {
    const auto& url = o.rig.http.sent[i].request.url;
    if (url.find("/firmware/update") == std::string::npos) continue;
    if (firstChunk == 0) firstChunk = i;
    lastChunk = i;
  }
  for (size_t i = firstChunk; i < lastChunk; ++i) {
    const auto& url = o.rig.http.sent[i].request.url;
    if (url.find("/telemetry/latest") == std::string::npos) continue;
    ++polls;
    CHECK(url.find("&wait=") == std::string::npos);
  }
  CHECK(polls >= 2);  // a poll every 3 s of the 10 s download
}

TEST_CASE("over MQTT: the offer comes in a state message, the image over HTTP, fw_state in published reports") {
  OtaRig o;
  o.rig.store.values["transport"] = "mqtt";
  o.rig.device.begin();
  o.rig.device.tick();
  o.rig.mqtt.push(tnx::MqttEvent::Kind::Connected);
  o.rig.device.tick();
  const std::string stateTopic = "thingsnxt/device/dev1/state";
  o.rig.mqtt.push(tnx::MqttEvent::Kind::Message, 0, stateTopic, R"({"data":{"ota":)" + o.server.offerJson() + "}}");
  // The broker acknowledges every report at once (ids 1 and 2 went to the two subscriptions).
  size_t acked = 0;
  for (int i = 0; i < 400 && o.update.reboots == 0; ++i) {
    o.rig.device.tick();
    for (; acked < o.rig.mqtt.published.size(); ++acked) {
      tnx::MqttEvent ack;
      ack.kind = tnx::MqttEvent::Kind::Acked;
      ack.id = 3 + static_cast<int>(acked);
      o.rig.mqtt.events.push_back(ack);
    }
    o.rig.clock.now += 100;
  }
  CHECK(o.update.reboots == 1);
  CHECK(o.update.slot == o.server.image);
  std::vector<std::string> states;
  for (const auto& p : o.rig.mqtt.published) {
    const std::string state = fieldOf(p.payload, "fw_state");
    if (!state.empty() && (states.empty() || states.back() != state)) states.push_back(state);
  }
  CHECK(states == std::vector<std::string>{"DOWNLOADING", "DOWNLOADED", "UPDATING"});
  CHECK(o.rig.http.count("/firmware/update") == 4);
  CHECK(o.rig.http.count("/telemetry") == 0);  // no HTTP poll or report over MQTT
}

TEST_CASE("another image offered in the middle of a download: the first is dropped, the second starts from byte 0") {
  OtaRig o;
  o.rig.http.handler = [&o](const tnx::HttpRequest& r) {
    if (r.url.find("/firmware/update") != std::string::npos) o.rig.clock.now += 1000;  // a slow link
    if (o.server.ranges.size() >= 2 && o.server.version == "1.1.0" && r.url.find("/telemetry/latest") != std::string::npos) {
      // The release was replaced: a new image (1.2.0) stands in the state from now on.
      o.server.image = makeImage("1.2.0", 2500);
      o.server.offeredSha = sha256Of(o.server.image);
      o.server.offeredSize = 2500;
      o.server.version = "1.2.0";
    }
    return o.server.handle(r);
  };
  o.rig.device.begin();
  o.rig.runUntil(30000);
  CHECK(o.rig.console.printed("OTA another image is offered (1.2.0); dropping the download of 1.1.0"));
  CHECK(o.update.aborts == 1);
  CHECK(o.update.begins == 2);
  CHECK(o.update.slot == o.server.image);
  CHECK(o.rig.store.values["ota_attempt"] == "1.2.0 rel-1");
  CHECK(o.update.reboots == 1);
}
