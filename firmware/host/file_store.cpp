#include "file_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "json.h"

namespace host {

FileStore::FileStore(std::string path) : path_(std::move(path)) {
  std::ifstream in(path_);
  if (!in) return;  // first run: empty store
  std::stringstream text;
  text << in.rdbuf();
  const tnx::JsonPtr doc(cJSON_Parse(text.str().c_str()));
  if (!cJSON_IsObject(doc.get())) {
    std::fprintf(stderr, "host_device: %s is not a JSON object; starting empty\n", path_.c_str());
    return;
  }
  for (const cJSON* item = doc->child; item != nullptr; item = item->next) {
    if (cJSON_IsString(item)) values_[item->string] = item->valuestring;
  }
}

bool FileStore::get(const std::string& key, std::string& value) {
  const auto it = values_.find(key);
  if (it == values_.end()) return false;
  value = it->second;
  return true;
}

void FileStore::set(const std::string& key, const std::string& value) {
  values_[key] = value;
  save();
}

void FileStore::remove(const std::string& key) {
  if (values_.erase(key) > 0) save();
}

void FileStore::save() {
  tnx::JsonPtr doc(cJSON_CreateObject());
  for (const auto& entry : values_) cJSON_AddStringToObject(doc.get(), entry.first.c_str(), entry.second.c_str());
  char* printed = cJSON_Print(doc.get());
  const std::string text = std::string(printed) + "\n";
  cJSON_free(printed);

  const std::string temp = path_ + ".tmp";
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const bool written = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (fd >= 0) close(fd);
  if (!written || rename(temp.c_str(), path_.c_str()) != 0) {
    std::fprintf(stderr, "host_device: cannot write %s\n", path_.c_str());
  }
}

}  // namespace host
