#pragma once
// The few sdkconfig values the stubs and the sketch test: a classic ESP32 (DevKitC), dual core.
#define CONFIG_IDF_TARGET_ESP32 1
#define CONFIG_IDF_TARGET "esp32"
#define CONFIG_FREERTOS_HZ 1000
