#pragma once
// KeyValueStore in a JSON file ({"key": "value", ...}), the host's stand-in
// for NVS. Written via a temporary file and rename, mode 0600: it holds the token.
#include <map>
#include <string>

#include "platform.h"

namespace host {

class FileStore : public tnx::KeyValueStore {
 public:
  explicit FileStore(std::string path);

  bool get(const std::string& key, std::string& value) override;
  void set(const std::string& key, const std::string& value) override;
  void remove(const std::string& key) override;

 private:
  void save();

  std::string path_;
  std::map<std::string, std::string> values_;
};

}  // namespace host
