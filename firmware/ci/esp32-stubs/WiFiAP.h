#pragma once
// libraries/WiFi/src/WiFiAP.h, 3.x: WiFiClass derives from it; the sketch uses none of its members,
// so none are declared (a call to one fails here until it is added from the real header).
class WiFiAPClass {};
