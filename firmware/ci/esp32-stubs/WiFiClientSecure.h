#pragma once
// libraries/NetworkClientSecure/src/WiFiClientSecure.h, 3.x.
#include "NetworkClientSecure.h"
typedef NetworkClientSecure WiFiClientSecure;
