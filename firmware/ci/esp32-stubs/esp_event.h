#pragma once
// ESP-IDF 5.x components/esp_event/include/esp_event.h (subset: the types mqtt_client.h uses).
#include <stdbool.h>
#include <stdint.h>
#include "esp_err.h"
#include "esp_event_base.h"
#include "freertos/FreeRTOS.h"
