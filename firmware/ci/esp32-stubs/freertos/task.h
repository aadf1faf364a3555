#pragma once
#include "FreeRTOS.h"
struct tskTaskControlBlock;
typedef struct tskTaskControlBlock *TaskHandle_t;
#ifdef __cplusplus
extern "C" {
#endif
void vTaskDelay(const TickType_t xTicksToDelay);
TaskHandle_t xTaskGetCurrentTaskHandle(void);
#ifdef __cplusplus
}
#endif
