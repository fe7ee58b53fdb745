// ping: a keep-warm request to every function every `every`.
#include <catch2/catch.hpp>

#include "keep_alive/keep_alive_policy.h"
#include "registry.h"

using namespace coldlab::policies;

namespace {

constexpr TimeUs m(int64_t minutes) { return minutes * kMinuteUs; }

}  // namespace

TEST_CASE("keep_alive ping: pings every function every period, the first at once", "[keep_alive]") {
  auto policy = make_keep_alive("ping");
  CHECK(policy->name() == "ping:every=5m,ttl=20m");
  Pool pool;
  pool.set_function({"a", 128, std::nullopt});
  pool.set_function({"b", 128, std::nullopt});
  const TimeUs t0 = m(1000);
  CHECK(policy->next_tick() <= t0);
  CHECK(policy->on_tick(pool, t0).ping == std::vector<std::string>{"a", "b"});
  CHECK(policy->next_tick() == t0 + m(5));
  // Not due: nothing.
  CHECK(policy->on_tick(pool, t0 + m(4)).ping.empty());
  CHECK(policy->on_tick(pool, t0 + m(5)).ping.size() == 2);
  CHECK(policy->next_tick() == t0 + m(10));
  // A late tick keeps the phase; after a missed period the next one counts from now,
  // without catching up.
  CHECK(policy->on_tick(pool, t0 + m(11)).ping.size() == 2);
  CHECK(policy->next_tick() == t0 + m(15));
  CHECK(policy->on_tick(pool, t0 + m(31)).ping.size() == 2);
  CHECK(policy->next_tick() == t0 + m(36));
}

TEST_CASE("keep_alive ping: function= pings one function, ttl keeps idle ones", "[keep_alive]") {
  auto policy = make_keep_alive("ping:every=2m,function=b,ttl=3m");
  CHECK(policy->name() == "ping:every=2m,function=b,ttl=3m");
  Pool pool;
  pool.set_function({"a", 128, std::nullopt});
  pool.set_function({"b", 128, std::nullopt});
  CHECK(policy->on_tick(pool, 0).ping == std::vector<std::string>{"b"});
  EnvInfo e;
  e.id = 1;
  e.function = "b";
  e.last_used_us = m(1);
  pool.add(e);
  CHECK(policy->on_idle(e, pool, m(1)).keep_until_us == m(4));
  // A function the pool does not serve is never pinged.
  auto missing = make_keep_alive("ping:function=zzz");
  CHECK(missing->on_tick(pool, 0).ping.empty());
}
