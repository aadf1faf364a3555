#pragma once
// cJSON is found under different paths: ESP-IDF's json component (which the
// Arduino-ESP32 core ships) exposes <cJSON.h>, Debian's libcjson-dev <cjson/cJSON.h>.
#if __has_include(<cjson/cJSON.h>)
#include <cjson/cJSON.h>
#else
#include <cJSON.h>
#endif

#include <memory>

namespace tnx {

struct JsonDeleter {
  void operator()(cJSON* json) const { cJSON_Delete(json); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

}  // namespace tnx
