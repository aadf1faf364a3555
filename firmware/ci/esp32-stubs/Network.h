#pragma once
// libraries/Network/src/Network.h, 3.x (subset).
#include "NetworkClient.h"
