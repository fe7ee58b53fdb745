// provisioned: keeps n initialised environments per function, re-created when they die.
#include <catch2/catch.hpp>

#include "keep_alive/keep_alive_policy.h"
#include "registry.h"

using namespace coldlab::policies;

namespace {

constexpr TimeUs s(int64_t seconds) { return seconds * kSecondUs; }

Pool two_functions() {
  Pool pool;
  pool.set_function({"f", 128, std::nullopt});
  pool.set_function({"g", 256, std::nullopt});
  return pool;
}

// What the Scheduler does with a tick's pre-warms: the environments join the pool.
void apply(Pool& pool, const TickActions& a, int64_t& next_id, TimeUs now) {
  for (const Prewarm& p : a.prewarm) {
    for (int i = 0; i < p.count; ++i) {
      EnvInfo e;
      e.id = next_id++;
      e.function = p.function;
      e.memory_mb = pool.function(p.function)->memory_mb;
      e.created_us = now;
      e.last_used_us = now;
      e.provisioned = p.provisioned;
      pool.add(e);
    }
  }
}

}  // namespace

TEST_CASE("keep_alive provisioned: the first tick provisions every function", "[keep_alive]") {
  auto policy = make_keep_alive("provisioned:n=2");
  CHECK(policy->name() == "provisioned:n=2,ttl=10m");
  Pool pool = two_functions();
  CHECK(policy->next_tick() <= 0);
  const TickActions a = policy->on_tick(pool, s(1));
  REQUIRE(a.prewarm.size() == 2);
  CHECK(a.prewarm[0].function == "f");
  CHECK(a.prewarm[1].function == "g");
  for (const Prewarm& p : a.prewarm) {
    CHECK(p.count == 2);
    CHECK(p.provisioned);
    CHECK(p.at_us == s(1));
    CHECK(p.keep_until_us == kForever);
  }
  CHECK(a.evict.empty());
  CHECK(a.ping.empty());
  CHECK(policy->next_tick() == kForever);
}

TEST_CASE("keep_alive provisioned: never asks twice and re-creates the dead", "[keep_alive]") {
  auto policy = make_keep_alive("provisioned:n=2");
  Pool pool = two_functions();
  int64_t next_id = 1;
  apply(pool, policy->on_tick(pool, s(1)), next_id, s(1));  // 1, 2 for f; 3, 4 for g
  CHECK(pool.environments().size() == 4);
  // A tick now (however it came) asks for nothing: the pool already holds them.
  CHECK(policy->on_tick(pool, s(2)).prewarm.empty());
  // One is busy: it still counts.
  { EnvInfo e = *pool.find(1); e.active = 1; pool.add(e); }
  CHECK(policy->on_tick(pool, s(3)).prewarm.empty());
  // An on-demand environment dying asks for nothing.
  EnvInfo spill;
  spill.id = 99;
  spill.function = "f";
  spill.memory_mb = 128;
  policy->on_evicted(spill, pool, s(4));
  CHECK(policy->next_tick() == kForever);
  // A provisioned one dies: a tick at once, for that function only.
  const EnvInfo dead = *pool.find(3);
  pool.remove(3);
  policy->on_evicted(dead, pool, s(5));
  CHECK(policy->next_tick() == s(5));
  const TickActions a = policy->on_tick(pool, s(5));
  REQUIRE(a.prewarm.size() == 1);
  CHECK(a.prewarm[0].function == "g");
  CHECK(a.prewarm[0].count == 1);
  apply(pool, a, next_id, s(5));
  CHECK(policy->next_tick() == kForever);
  CHECK(policy->on_tick(pool, s(6)).prewarm.empty());
}

TEST_CASE("keep_alive provisioned: function= limits it to one function", "[keep_alive]") {
  auto policy = make_keep_alive("provisioned:function=g,n=3,ttl=1m");
  CHECK(policy->name() == "provisioned:n=3,function=g,ttl=1m");
  Pool pool = two_functions();
  const TickActions a = policy->on_tick(pool, 0);
  REQUIRE(a.prewarm.size() == 1);
  CHECK(a.prewarm[0].function == "g");
  CHECK(a.prewarm[0].count == 3);
  int64_t next_id = 1;
  apply(pool, a, next_id, 0);
  CHECK(policy->on_tick(pool, 0).prewarm.empty());
  // An environment of another function, even one marked provisioned, is none of its business.
  EnvInfo f_env;
  f_env.id = 50;
  f_env.function = "f";
  f_env.provisioned = true;
  policy->on_evicted(f_env, pool, s(1));
  CHECK(policy->next_tick() == kForever);
}

TEST_CASE("keep_alive provisioned: a function added later is provisioned at its first request",
          "[keep_alive]") {
  auto policy = make_keep_alive("provisioned");
  Pool pool;
  pool.set_function({"f", 128, std::nullopt});
  int64_t next_id = 1;
  apply(pool, policy->on_tick(pool, 0), next_id, 0);
  pool.set_function({"h", 512, std::nullopt});
  policy->on_request("f", pool, s(10));
  CHECK(policy->next_tick() == kForever);
  policy->on_request("h", pool, s(20));
  CHECK(policy->next_tick() == s(20));
  const TickActions a = policy->on_tick(pool, s(20));
  REQUIRE(a.prewarm.size() == 1);
  CHECK(a.prewarm[0].function == "h");
}

TEST_CASE("keep_alive provisioned: idle provisioned stay, spill-over ones get the ttl", "[keep_alive]") {
  auto policy = make_keep_alive("provisioned:ttl=90s");
  Pool pool = two_functions();
  EnvInfo p;
  p.id = 1;
  p.function = "f";
  p.memory_mb = 128;
  p.last_used_us = s(10);
  p.provisioned = true;
  EnvInfo od = p;
  od.id = 2;
  od.provisioned = false;
  pool.add(p);
  pool.add(od);
  CHECK(policy->on_idle(p, pool, s(10)).keep_until_us == kForever);
  CHECK(policy->on_idle(od, pool, s(10)).keep_until_us == s(100));
  auto zero = make_keep_alive("provisioned:ttl=0");
  CHECK(zero->on_idle(od, pool, s(10)).keep_until_us <= s(10));
  // Under a budget only on-demand environments are victims.
  CHECK(policy->victims(pool, 100, s(11)) == std::vector<int64_t>{2});
  CHECK(policy->victims(pool, 200, s(11)) == std::vector<int64_t>{2});
}

TEST_CASE("keep_alive provisioned: what did not fit is asked again once something changes", "[keep_alive]") {
  auto policy = make_keep_alive("provisioned");
  Pool pool = two_functions();
  int64_t next_id = 1;
  REQUIRE(policy->on_tick(pool, 0).prewarm.size() == 2);
  // The Scheduler placed f's but not g's (no memory). Nothing is due until something
  // happens: no polling.
  TickActions placed_f;
  placed_f.prewarm.push_back({"f", 0, kForever, 1, true});
  apply(pool, placed_f, next_id, 0);
  CHECK(policy->next_tick() == kForever);
  // A request ends: memory may be free now.
  EnvInfo od;
  od.id = 50;
  od.function = "f";
  od.memory_mb = 128;
  od.last_used_us = s(3);
  pool.add(od);
  policy->on_idle(od, pool, s(3));
  CHECK(policy->next_tick() == s(3));
  const TickActions again = policy->on_tick(pool, s(3));
  REQUIRE(again.prewarm.size() == 1);
  CHECK(again.prewarm[0].function == "g");
  apply(pool, again, next_id, s(3));
  // Placed this time: the next tick finds nothing missing and stops the re-asking.
  policy->on_idle(od, pool, s(4));
  CHECK(policy->next_tick() == s(4));
  CHECK(policy->on_tick(pool, s(4)).prewarm.empty());
  policy->on_idle(od, pool, s(5));
  CHECK(policy->next_tick() == kForever);
}
