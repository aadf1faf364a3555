#pragma once
// ESP-IDF 5.x components/tcp_transport/include/esp_transport.h (subset: the types of
// esp_mqtt_client_config_t.network).
#include <stdbool.h>
#include "esp_err.h"
#ifdef __cplusplus
extern "C" {
#endif
typedef struct esp_transport_keepalive {
  bool keep_alive_enable;
  int keep_alive_idle;
  int keep_alive_interval;
  int keep_alive_count;
} esp_transport_keep_alive_t;
typedef struct esp_transport_list_t *esp_transport_list_handle_t;
typedef struct esp_transport_item_t *esp_transport_handle_t;
#ifdef __cplusplus
}
#endif
