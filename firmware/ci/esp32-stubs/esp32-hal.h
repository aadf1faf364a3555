#pragma once
// cores/esp32/esp32-hal.h (subset): time, yield, chip temperature.
#include <math.h>
#include <stdint.h>
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"
#ifdef __cplusplus
extern "C" {
#endif
void yield(void);
// Celsius. Implemented (esp32-hal-misc.c) for CONFIG_IDF_TARGET_ESP32 through the undocumented
// temprature_sens_read() and for SOC_TEMP_SENSOR_SUPPORTED chips through the IDF driver;
// other targets have the declaration but no definition (a link error).
float temperatureRead();
unsigned long micros();
unsigned long millis();
void delay(uint32_t);
void delayMicroseconds(uint32_t us);
// Weak hooks of esp32-hal-misc.c. With rollback enabled, initArduino() marks a new image valid
// at once unless the sketch defines verifyRollbackLater() returning true; then the sketch
// confirms (esp_ota_mark_app_valid_cancel_rollback) or rolls back by itself.
bool verifyOta(void);
bool verifyRollbackLater(void);
#ifdef __cplusplus
}
#endif
#include "esp32-hal-gpio.h"
