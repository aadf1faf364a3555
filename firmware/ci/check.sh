#!/usr/bin/env bash
# The firmware beyond the host, compile only (no ESP32 toolchain is reachable from Debian):
#  1. the sketch against stub headers of the Arduino-ESP32 3.x API (ci/esp32-stubs), by g++ and by
#     arm-none-eabi-g++ (32-bit newlib types, as the ESP32 toolchain has them): a call with a wrong
#     argument type or count, or to a method 3.x does not have, fails;
#  2. the portable core cross-compiled for Cortex-M4 on newlib, with its code size printed.
# Installs the Debian packages it needs when missing, like .ci/run. Exits non-zero on any error.
set -euo pipefail
cd "$(dirname "$0")/.."

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
need=()
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
[ -f /usr/include/cjson/cJSON.h ] || need+=(libcjson-dev)
command -v arm-none-eabi-g++ >/dev/null || need+=(gcc-arm-none-eabi)
# Compiling needs only the headers: the C++ library's (1 MB) and newlib's. Their prebuilt archives,
# libstdc++-arm-none-eabi-newlib, are 313 MB to fetch and 1.9 GB unpacked, for linking only.
installed libstdc++-arm-none-eabi-dev || need+=(libstdc++-arm-none-eabi-dev)
installed libnewlib-dev || need+=(libnewlib-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "firmware/ci/check.sh: installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

make --no-print-directory esp32-headers
echo "ESP32 sketch: compiles against the Arduino-ESP32 3.x stubs"
make --no-print-directory cross
