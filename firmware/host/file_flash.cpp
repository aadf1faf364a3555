#include "file_flash.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "json.h"
#include "ota.h"

namespace host {

FileFlash::FileFlash(std::string dir, std::string factoryVersion) : dir_(std::move(dir)), factoryVersion_(std::move(factoryVersion)) {
  mkdir(dir_.c_str(), 0700);  // EEXIST is fine; a real failure shows at the first write
  load();
}

FileFlash::~FileFlash() { abort(); }

void FileFlash::load() {
  std::ifstream in(dir_ + "/ota_state.json", std::ios::binary);
  if (!in) return;  // a fresh board: slot 0, the factory image
  std::stringstream text;
  text << in.rdbuf();
  tnx::JsonPtr doc(cJSON_Parse(text.str().c_str()));
  const cJSON* bootItem = cJSON_GetObjectItemCaseSensitive(doc.get(), "boot");
  const cJSON* states = cJSON_GetObjectItemCaseSensitive(doc.get(), "states");
  if (cJSON_IsNumber(bootItem)) boot_ = bootItem->valueint == 1 ? 1 : 0;
  for (int slot = 0; slot < 2 && cJSON_IsArray(states); ++slot) {
    const cJSON* state = cJSON_GetArrayItem(states, slot);
    if (cJSON_IsString(state)) states_[slot] = state->valuestring;
  }
}

bool FileFlash::save() {
  tnx::JsonPtr doc(cJSON_CreateObject());
  cJSON_AddNumberToObject(doc.get(), "boot", boot_);
  cJSON* states = cJSON_AddArrayToObject(doc.get(), "states");
  for (const auto& state : states_) cJSON_AddItemToArray(states, cJSON_CreateString(state.c_str()));
  char* printed = cJSON_PrintUnformatted(doc.get());
  const std::string path = dir_ + "/ota_state.json";
  bool ok = false;
  if (std::FILE* out = std::fopen((path + ".tmp").c_str(), "wb")) {
    ok = std::fputs(printed, out) >= 0;
    ok = std::fclose(out) == 0 && ok && std::rename((path + ".tmp").c_str(), path.c_str()) == 0;
  }
  cJSON_free(printed);
  return ok;
}

std::string FileFlash::boot() {
  std::string said;
  if (states_[boot_] == "new") {
    states_[boot_] = "pending";
  } else if (states_[boot_] == "pending" || states_[boot_] == "invalid" || states_[boot_] == "aborted") {
    // Reset while still on trial (or marked invalid): the boot loader takes the other slot.
    if (states_[boot_] == "pending") states_[boot_] = "aborted";
    said = "BOOTLOADER slot " + std::to_string(boot_) + " not confirmed; booting slot " + std::to_string(1 - boot_) + "\n";
    boot_ = 1 - boot_;
  }
  running_ = boot_;
  save();
  return said + "BOOT slot " + std::to_string(running_) + " version " + runningVersion() + (pendingVerify() ? " (on trial)" : "");
}

std::string FileFlash::runningVersion() {
  std::ifstream in(slotPath(running_), std::ios::binary);
  if (!in) return factoryVersion_;
  std::string head(tnx::kImageHeadBytes, '\0');
  in.read(&head[0], static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const std::string version = tnx::imageVersion(head);
  return version.empty() ? factoryVersion_ : version;
}

bool FileFlash::begin(uint32_t size, std::string& why) {
  abort();
  const int target = 1 - running_;
  states_[target] = "";  // no longer bootable while it is rewritten
  save();
  writing_ = std::fopen((slotPath(target) + ".tmp").c_str(), "wb");
  if (writing_ == nullptr) {
    why = std::strerror(errno);
    return false;
  }
  expected_ = size;
  written_ = 0;
  complete_ = false;
  return true;
}

bool FileFlash::write(const uint8_t* data, size_t size, std::string& why) {
  if (writing_ == nullptr || written_ + size > expected_) {
    why = writing_ == nullptr ? "no update begun" : "more bytes than announced";
    return false;
  }
  if (std::fwrite(data, 1, size, writing_) != size) {
    why = std::strerror(errno);
    return false;
  }
  written_ += static_cast<uint32_t>(size);
  return true;
}

bool FileFlash::end(std::string& why) {
  if (writing_ == nullptr) {
    why = "no update begun";
    return false;
  }
  const bool closed = std::fclose(writing_) == 0;
  writing_ = nullptr;
  const std::string target = slotPath(1 - running_);
  std::string head(1, '\0');
  if (std::FILE* in = std::fopen((target + ".tmp").c_str(), "rb")) {
    head.resize(std::fread(&head[0], 1, 1, in));
    std::fclose(in);
  }
  // esp_ota_end() checks the image; the host checks what it can: complete, an app image.
  if (!closed || written_ != expected_ || head.empty() || static_cast<uint8_t>(head[0]) != 0xE9) {
    why = written_ != expected_ ? "incomplete image" : "not an ESP32 application image";
    std::remove((target + ".tmp").c_str());
    return false;
  }
  complete_ = std::rename((target + ".tmp").c_str(), target.c_str()) == 0;
  if (!complete_) why = std::strerror(errno);
  return complete_;
}

void FileFlash::abort() {
  if (writing_ == nullptr) return;
  std::fclose(writing_);
  writing_ = nullptr;
  std::remove((slotPath(1 - running_) + ".tmp").c_str());
}

bool FileFlash::markPending(std::string& why) {
  if (!complete_) {
    why = "no complete image in the other slot";
    return false;
  }
  boot_ = 1 - running_;
  states_[boot_] = "new";
  if (!save()) why = "cannot write ota_state.json";
  return why.empty();
}

bool FileFlash::confirm(std::string& why) {
  states_[running_] = "valid";
  if (!save()) why = "cannot write ota_state.json";
  return why.empty();
}

void FileFlash::rollback() {
  states_[running_] = "invalid";
  boot_ = 1 - running_;
  save();
  rebootRequested_ = true;
}

}  // namespace host
