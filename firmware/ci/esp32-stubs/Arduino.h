#pragma once
// cores/esp32/Arduino.h, Arduino-ESP32 3.x: what a sketch sees after #include <Arduino.h>.
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "esp_arduino_version.h"
#include "esp32-hal.h"
typedef bool boolean;
typedef uint8_t byte;
typedef unsigned int word;
#ifdef __cplusplus
void setup(void);
void loop(void);
long random(long);
long random(long, long);
void randomSeed(unsigned long);
#include <algorithm>
#include <cmath>
#include "Client.h"
#include "Esp.h"
#include "HardwareSerial.h"
#include "IPAddress.h"
#include "Print.h"
#include "Stream.h"
#include "WString.h"
using std::abs;
using std::isinf;
using std::isnan;
using std::max;
using std::min;
using std::round;
#endif
