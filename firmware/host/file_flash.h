#pragma once
// The host's two-slot application flash: <dir>/slot0.bin and slot1.bin hold images,
// <dir>/ota_state.json which slot boots and each slot's state, as ESP-IDF's otadata does.
// Slot 0 without a file is the image the binary was started as (--firmware-version). The host
// binary never changes: "booting" an image only means reporting the version in its app
// descriptor. boot() plays the boot loader with rollback enabled: a slot marked "new" boots
// on trial ("pending"); one still "pending" at the next boot was never confirmed and is
// abandoned for the other slot.
#include <cstdio>
#include <string>

#include "platform.h"

namespace host {

class FileFlash : public tnx::UpdatePort {
 public:
  FileFlash(std::string dir, std::string factoryVersion);
  ~FileFlash() override;
  std::string boot();  // call once at start; returns what the "boot loader" chose, to print
  bool rebootRequested() const { return rebootRequested_; }

  std::string runningVersion() override;
  bool pendingVerify() override { return states_[running_] == "pending"; }
  bool begin(uint32_t size, std::string& why) override;
  bool write(const uint8_t* data, size_t size, std::string& why) override;
  bool end(std::string& why) override;
  void abort() override;
  bool markPending(std::string& why) override;
  void reboot() override { rebootRequested_ = true; }
  bool confirm(std::string& why) override;
  void rollback() override;

 private:
  std::string slotPath(int slot) const { return dir_ + "/slot" + std::to_string(slot) + ".bin"; }
  void load();
  bool save();

  std::string dir_;
  std::string factoryVersion_;
  int boot_ = 0;
  int running_ = 0;
  std::string states_[2] = {"valid", ""};  // "", new, pending, valid, invalid, aborted
  std::FILE* writing_ = nullptr;  // the other slot's temporary file while an image comes in
  uint32_t expected_ = 0;
  uint32_t written_ = 0;
  bool complete_ = false;  // the other slot holds a whole, checked image
  bool rebootRequested_ = false;
};

}  // namespace host
