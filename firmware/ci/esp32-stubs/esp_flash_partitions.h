#pragma once
// ESP-IDF 5.x components/bootloader_support/include/esp_flash_partitions.h (subset): the states
// otadata keeps per OTA slot (with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE).
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
typedef enum {
  ESP_OTA_IMG_NEW = 0x0U,             // written, never booted
  ESP_OTA_IMG_PENDING_VERIFY = 0x1U,  // booted once on trial; the next reset without a confirm rolls back
  ESP_OTA_IMG_VALID = 0x2U,
  ESP_OTA_IMG_INVALID = 0x3U,
  ESP_OTA_IMG_ABORTED = 0x4U,
  ESP_OTA_IMG_UNDEFINED = 0xFFFFFFFFU,
} esp_ota_img_states_t;
#ifdef __cplusplus
}
#endif
