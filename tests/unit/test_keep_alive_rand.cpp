// rand: seeded, deterministic, uniform, idle-only victims.
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "keep_alive/keep_alive_policy.h"
#include "registry.h"

using namespace coldlab::policies;

namespace {

Pool pool_of(int n, int busy_every = 0) {
  Pool pool;
  pool.set_budget_mb(128 * n);
  for (int i = 1; i <= n; ++i) {
    EnvInfo e;
    e.id = i;
    e.function = "f" + std::to_string(i % 3);
    e.memory_mb = 128;
    e.last_used_us = i;
    e.invocations = 1;
    e.active = (busy_every > 0 && i % busy_every == 0) ? 1 : 0;
    pool.add(e);
  }
  return pool;
}

// The policy as the Scheduler leaves it: it has seen every idle environment go idle.
std::unique_ptr<KeepAlivePolicy> policy_over(const char* spec, const Pool& pool) {
  auto policy = make_keep_alive(spec);
  for (const EnvInfo* e : pool.idle()) policy->on_idle(*e, pool, e->last_used_us);
  return policy;
}

}  // namespace

TEST_CASE("keep_alive rand: the same seed gives the same victims", "[keep_alive]") {
  const Pool pool = pool_of(10);
  auto a = policy_over("rand", pool);
  auto b = policy_over("rand:seed=1", pool);
  auto c = policy_over("rand:seed=2", pool);
  CHECK(a->name() == "rand:seed=1");
  CHECK(c->name() == "rand:seed=2");
  CHECK(a->needs_memory_budget());
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    const auto va = a->victims(pool, 300, 0);
    CHECK(va == b->victims(pool, 300, 0));
    differs = differs || va != c->victims(pool, 300, 0);
    CHECK(va.size() == 3);  // 3 x 128 MB >= 300
    CHECK(std::set<int64_t>(va.begin(), va.end()).size() == 3);
  }
  CHECK(differs);
}

TEST_CASE("keep_alive rand: the first victim is uniform over idle environments", "[keep_alive]") {
  // Every third environment is busy: ids 3, 6, 9 must never come up.
  const Pool pool = pool_of(10, 3);
  auto policy = policy_over("rand:seed=42", pool);
  std::map<int64_t, int> first;
  const int draws = 7000;
  for (int i = 0; i < draws; ++i) ++first[policy->victims(pool, 1, 0).at(0)];
  CHECK(first.size() == 7);
  for (const auto& [id, count] : first) {
    CAPTURE(id);
    CHECK(id % 3 != 0);
    CHECK(count > 850);  // expected 1000; 5 sigma is about 150
    CHECK(count < 1150);
  }
  // Not enough idle memory: every idle environment, once.
  CHECK(policy->victims(pool, 5000, 0).size() == 7);
}

TEST_CASE("keep_alive rand: keeps idle environments forever", "[keep_alive]") {
  Pool pool = pool_of(1);
  auto policy = make_keep_alive("rand");
  CHECK(policy->on_idle(*pool.find(1), pool, 5).keep_until_us == kForever);
}
