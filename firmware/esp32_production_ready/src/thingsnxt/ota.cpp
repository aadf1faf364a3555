#include "ota.h"

#include "text.h"

namespace tnx {

static bool isHex64(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

static std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

static std::string stringItem(const cJSON* object, const char* name) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(object, name);
  return cJSON_IsString(item) ? item->valuestring : "";
}

bool parseOffer(const cJSON* data, OtaOffer& offer) {
  const cJSON* ota = cJSON_GetObjectItemCaseSensitive(data, "ota");
  if (!cJSON_IsObject(ota)) return false;
  const cJSON* size = cJSON_GetObjectItemCaseSensitive(ota, "size");
  if (!cJSON_IsNumber(size) || size->valuedouble < 1 || size->valuedouble > 0xffffffffu) return false;
  OtaOffer parsed;
  parsed.version = stringItem(ota, "version");
  parsed.size = static_cast<uint32_t>(size->valuedouble);
  parsed.sha256 = lower(stringItem(ota, "sha256"));
  parsed.md5 = lower(stringItem(ota, "md5"));
  parsed.url = stringItem(ota, "url");
  parsed.release = stringItem(ota, "release");
  if (parsed.url.empty()) parsed.url = "/firmware/update";
  if (parsed.version.empty() || !isHex64(parsed.sha256)) return false;
  offer = parsed;
  return true;
}

HttpRequest otaRequest(const Credentials& c, const OtaOffer& offer, const std::string& runningVersion, uint32_t first,
                       uint32_t last, uint32_t timeoutMs) {
  HttpRequest request;
  request.method = "GET";
  const bool absolute = offer.url.rfind("http://", 0) == 0 || offer.url.rfind("https://", 0) == 0;
  request.url = absolute ? offer.url : c.apiUrl + offer.url;
  request.headers = {{"X-Device-Token", c.token},
                     {"x-ESP32-version", runningVersion},
                     {"Range", "bytes=" + std::to_string(first) + "-" + std::to_string(last)}};
  request.timeoutMs = timeoutMs;
  return request;
}

bool parseContentRange(const std::string& header, uint32_t& first, uint32_t& last, uint32_t& total) {
  const std::string text = trim(header);
  if (text.rfind("bytes ", 0) != 0) return false;
  const size_t dash = text.find('-', 6);
  const size_t slash = text.find('/', 6);
  if (dash == std::string::npos || slash == std::string::npos || dash > slash) return false;
  return parseUint(text.substr(6, dash - 6), first) && parseUint(text.substr(dash + 1, slash - dash - 1), last) &&
         parseUint(text.substr(slash + 1), total) && first <= last && last < total;
}

std::string imageVersion(const std::string& head) {
  if (head.size() < kImageHeadBytes || static_cast<uint8_t>(head[0]) != 0xE9) return "";
  uint32_t magic = 0;
  for (int i = 3; i >= 0; --i) magic = magic << 8 | static_cast<uint8_t>(head[32 + i]);
  if (magic != 0xABCD5432u) return "";
  const std::string field = head.substr(48, 32);
  return field.substr(0, field.find('\0'));
}

}  // namespace tnx
