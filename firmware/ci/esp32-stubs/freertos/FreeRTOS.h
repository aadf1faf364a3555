#pragma once
// FreeRTOS as ESP-IDF 5.x ships it: the types the stubs use.
#include <stdint.h>
typedef int BaseType_t;
typedef unsigned int UBaseType_t;
typedef uint32_t TickType_t;
#define portTICK_PERIOD_MS ((TickType_t)1000 / CONFIG_FREERTOS_HZ)
