#pragma once
// libraries/WiFi/src/WiFiClient.h, 3.x: WiFiClient is the Network library's NetworkClient.
#include "NetworkClient.h"
typedef NetworkClient WiFiClient;
