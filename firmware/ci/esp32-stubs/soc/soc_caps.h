#pragma once
// ESP-IDF 5.x components/soc/esp32/include/soc/soc_caps.h, the entries the stubs use.
// The classic ESP32 defines no SOC_TEMP_SENSOR_SUPPORTED (its sensor is the undocumented ROM one).
#include "sdkconfig.h"
#define SOC_WIFI_SUPPORTED 1
#define SOC_UART_NUM (3)
#define SOC_CPU_CORES_NUM 2
#define SOC_GPIO_PIN_COUNT 40
