// lru: keeps everything while memory allows, least recently used first when it does not.
#include <catch2/catch.hpp>

#include "keep_alive/keep_alive_policy.h"
#include "registry.h"

using namespace coldlab::policies;

TEST_CASE("keep_alive lru: keeps forever and evicts the least recently used", "[keep_alive]") {
  auto policy = make_keep_alive("lru");
  CHECK(policy->name() == "lru");
  CHECK(policy->needs_memory_budget());
  Pool pool;
  pool.set_budget_mb(512);
  auto add = [&](int64_t id, int mb, TimeUs last_used, int active) {
    EnvInfo e;
    e.id = id;
    e.function = "f";
    e.memory_mb = mb;
    e.last_used_us = last_used;
    e.active = active;
    pool.add(e);
  };
  add(1, 128, 40 * kSecondUs, 0);
  add(2, 128, 10 * kSecondUs, 1);  // the least recently used, but busy
  add(3, 128, 20 * kSecondUs, 0);
  add(4, 128, 30 * kSecondUs, 0);
  CHECK(policy->on_idle(*pool.find(1), pool, 40 * kSecondUs).keep_until_us == kForever);
  CHECK(policy->victims(pool, 128, 0) == std::vector<int64_t>{3});
  CHECK(policy->victims(pool, 129, 0) == std::vector<int64_t>{3, 4});
  CHECK(policy->victims(pool, 384, 0) == std::vector<int64_t>{3, 4, 1});
  // A request reuses 3: it becomes the most recently used.
  pool.start_request(3);
  pool.end_request(3, 50 * kSecondUs);
  CHECK(policy->victims(pool, 128, 0) == std::vector<int64_t>{4});
}
