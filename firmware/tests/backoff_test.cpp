#include <doctest/doctest.h>

#include "backoff.h"
#include "fakes.h"

TEST_CASE("backoff: equal jitter, base 1 s, factor 2, cap 60 s") {
  fake::Clock clock;
  tnx::Backoff backoff(1000, 60000);

  SUBCASE("lowest draw waits half the ceiling") {
    std::vector<uint32_t> delays;
    for (int i = 0; i < 9; ++i) delays.push_back(backoff.nextDelay(clock));
    CHECK(delays == std::vector<uint32_t>{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000});
    // The random source is asked for [0, ceiling/2]: bound = ceiling/2 + 1.
    CHECK(clock.bounds == std::vector<uint32_t>{501, 1001, 2001, 4001, 8001, 16001, 30001, 30001, 30001});
  }
  SUBCASE("highest draw waits the full ceiling") {
    clock.randomMax = true;
    std::vector<uint32_t> delays;
    for (int i = 0; i < 8; ++i) delays.push_back(backoff.nextDelay(clock));
    CHECK(delays == std::vector<uint32_t>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000});
  }
  SUBCASE("a long outage stays at the cap without overflow") {
    clock.randomMax = true;
    uint32_t last = 0;
    for (int i = 0; i < 100; ++i) last = backoff.nextDelay(clock);
    CHECK(last == 60000);
    CHECK(backoff.failures() == 100);
  }
  SUBCASE("reset starts over") {
    backoff.nextDelay(clock);
    backoff.nextDelay(clock);
    backoff.reset();
    CHECK(backoff.failures() == 0);
    CHECK(backoff.nextDelay(clock) == 500);
  }
}
