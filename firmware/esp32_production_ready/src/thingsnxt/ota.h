#pragma once
// The device side of over-the-air updates (docs/ota.md on the server): the offer under the
// reserved state key `ota`, GET /firmware/update with Range, and the ESP32 image format.
#include <cstdint>
#include <string>

#include "credentials.h"
#include "json.h"
#include "platform.h"

namespace tnx {

// {"version","size","sha256","md5","url","release"} as the server puts it in the desired state.
struct OtaOffer {
  std::string version;
  uint32_t size = 0;
  std::string sha256;  // lower-case hex
  std::string md5;
  std::string url;      // usually "/firmware/update", relative to the api url
  std::string release;  // the release's id; empty for an offer learnt from GET /firmware/update
};

// The `ota` key of a state (poll answer, report answer, MQTT state message). false: absent or
// not a usable offer (no version, a size of 0, a sha256 that is not 64 hex digits).
bool parseOffer(const cJSON* data, OtaOffer& offer);

// The update request: device token and running version as headers (HTTPUpdate's
// x-ESP32-version), bytes first..last of the image. An absolute `url` is used as is.
HttpRequest otaRequest(const Credentials& c, const OtaOffer& offer, const std::string& runningVersion, uint32_t first,
                       uint32_t last, uint32_t timeoutMs);

// "bytes first-last/total" of a 206. false: absent or malformed.
bool parseContentRange(const std::string& header, uint32_t& first, uint32_t& last, uint32_t& total);

// An ESP32 application image starts with 0xE9; its esp_app_desc_t sits at byte 32 (magic
// 0xABCD5432, little endian) with `version` (char[32]) at byte 48. The version, or "" when
// `head` is not such an image or too short (kImageHeadBytes are enough).
constexpr size_t kImageHeadBytes = 112;
std::string imageVersion(const std::string& head);

}  // namespace tnx
