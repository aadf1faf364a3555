#include <doctest/doctest.h>

#include "fakes.h"
#include "pin_map.h"

namespace {
// Parses `json` and applies it to a fresh default pin map.
std::vector<tnx::PinChange> apply(const std::string& json, fake::Gpio& gpio) {
  tnx::JsonPtr data(cJSON_Parse(json.c_str()));
  REQUIRE(data);
  return tnx::applyState(data.get(), tnx::PinMap::defaults(), gpio);
}
}  // namespace

TEST_CASE("default pin map") {
  const tnx::PinMap pins = tnx::PinMap::defaults();
  const auto& e = pins.entries();
  REQUIRE(e.size() == 4);
  CHECK((e[0].vpin == "v0" && e[0].gpio == 2));
  CHECK((e[1].vpin == "v1" && e[1].gpio == 4));
  CHECK((e[2].vpin == "v2" && e[2].gpio == 5));
  CHECK((e[3].vpin == "v3" && e[3].gpio == 18));
}

TEST_CASE("vN keys drive their mapped GPIO") {
  fake::Gpio gpio;
  auto changes = apply(R"({"v0":1,"v1":0,"v3":1,"v9":1,"temperature":25.5})", gpio);
  REQUIRE(changes.size() == 2);  // v1 already LOW, v9 unmapped
  CHECK((changes[0].vpin == "v0" && changes[0].gpio == 2 && changes[0].high));
  CHECK((changes[1].vpin == "v3" && changes[1].gpio == 18 && changes[1].high));
  CHECK(gpio.levels[2]);
  CHECK(gpio.levels[18]);
  CHECK(gpio.levels.count(9) == 0);

  // Same state again: nothing changes, nothing is written.
  const int writes = gpio.writes;
  CHECK(apply(R"({"v0":1,"v3":1})", gpio).empty());
  CHECK(gpio.writes == writes);
}

TEST_CASE("values: integers, booleans, nonzero numbers; other types ignored") {
  fake::Gpio gpio;
  CHECK(apply(R"({"v0":true,"v1":2,"v2":0.5})", gpio).size() == 3);
  CHECK((gpio.levels[2] && gpio.levels[4] && gpio.levels[5]));
  CHECK(apply(R"({"v0":false,"v1":0,"v2":-0.0})", gpio).size() == 3);
  CHECK_FALSE((gpio.levels[2] || gpio.levels[4] || gpio.levels[5]));
  CHECK(apply(R"({"v0":"1","v1":null,"v2":{"x":1},"v3":[1]})", gpio).empty());
}

TEST_CASE("led drives v0 only when data holds no vN key at all") {
  fake::Gpio gpio;
  CHECK(apply(R"({"led":1,"temperature":20})", gpio).size() == 1);
  CHECK(gpio.levels[2]);
  // A vN key present, even unmapped, means the state speaks in pins: led is not used.
  CHECK(apply(R"({"led":0,"v9":1})", gpio).empty());
  CHECK(gpio.levels[2]);
  CHECK(apply(R"({"led":0,"v0":1})", gpio).empty());
  CHECK(apply(R"({"led":false})", gpio).size() == 1);
  CHECK_FALSE(gpio.levels[2]);
  // "vx" or "v" are not pin keys.
  CHECK(apply(R"({"led":1,"vx":0,"v":0})", gpio).size() == 1);
}

TEST_CASE("non-object data is ignored") {
  fake::Gpio gpio;
  CHECK(apply("[1,2]", gpio).empty());
  CHECK(tnx::applyState(nullptr, tnx::PinMap::defaults(), gpio).empty());
}
