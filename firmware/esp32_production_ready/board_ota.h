#pragma once
// The core's UpdatePort on ESP-IDF's app_update component (esp_ota_ops.h). The core downloads
// the image itself, in Range requests over the sketch's own HTTP port (so a cut link resumes
// and the SHA-256 is checked), and hands each chunk to write(). Needs a partition scheme with
// two OTA slots and otadata (Arduino's default "Default 4MB with spiffs" has them: app0/app1)
// and a boot loader with rollback (CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE), see firmware/README.md.
#include <Arduino.h>
#include <esp_ota_ops.h>
#include <esp_system.h>

#include <string>

#include "src/thingsnxt/platform.h"

class BoardOta : public tnx::UpdatePort {
 public:
  // The sketch's own version. The app descriptor (esp_app_get_description()->version) of an
  // Arduino build may carry the precompiled core's version rather than the sketch's.
  explicit BoardOta(const char* version) : version_(version) {}

  std::string runningVersion() override { return version_; }

  bool pendingVerify() override {
    esp_ota_img_states_t state = ESP_OTA_IMG_UNDEFINED;
    const esp_partition_t* running = esp_ota_get_running_partition();
    return running != nullptr && esp_ota_get_state_partition(running, &state) == ESP_OK && state == ESP_OTA_IMG_PENDING_VERIFY;
  }

  bool begin(uint32_t size, std::string& why) override {
    abort();
    target_ = esp_ota_get_next_update_partition(nullptr);
    if (target_ == nullptr) {
      why = "no second OTA slot in the partition table";
      return false;
    }
    if (size > target_->size) {
      why = "image of " + std::to_string(size) + " bytes, slot of " + std::to_string(target_->size);
      return false;
    }
    // Erases only `size` bytes of the slot, so a large slot does not stall loop() for seconds.
    begun_ = check(esp_ota_begin(target_, size, &handle_), why);
    return begun_;
  }

  bool write(const uint8_t* data, size_t size, std::string& why) override {
    return check(esp_ota_write(handle_, data, size), why);  // rejects a first byte other than 0xE9
  }

  bool end(std::string& why) override {
    begun_ = false;  // esp_ota_end frees the handle whatever it returns
    return check(esp_ota_end(handle_), why);  // checks the image (segments, its own checksum and hash)
  }

  void abort() override {
    if (begun_) esp_ota_abort(handle_);
    begun_ = false;
  }

  bool markPending(std::string& why) override { return check(esp_ota_set_boot_partition(target_), why); }

  void reboot() override {
    Serial.flush();
    esp_restart();
  }

  bool confirm(std::string& why) override { return check(esp_ota_mark_app_valid_cancel_rollback(), why); }

  void rollback() override {
    Serial.flush();
    const esp_err_t err = esp_ota_mark_app_invalid_rollback_and_reboot();  // returns only when it failed
    Serial.printf("OTA rollback failed (%s): no other valid image; keeping this one\n", esp_err_to_name(err));
    std::string why;
    confirm(why);  // better a running image than a boot loop
  }

 private:
  static bool check(esp_err_t err, std::string& why) {
    if (err == ESP_OK) return true;
    why = esp_err_to_name(err);
    return false;
  }

  const char* version_;
  const esp_partition_t* target_ = nullptr;
  esp_ota_handle_t handle_ = 0;
  bool begun_ = false;
};
