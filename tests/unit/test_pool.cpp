// The pool's indexes against brute force: after any sequence of adds, removes, starts and
// ends, every indexed query answers what a scan of the environments would.
#include <catch2/catch.hpp>
#include <random>

#include "pool.h"

namespace coldlab::policies {
namespace {

void check_against_scan(const Pool& pool) {
  int active = 0;
  int64_t used = 0;
  std::map<std::string, int> active_of, count_of;
  std::map<std::string, int64_t> invocations_of;
  std::map<std::string, std::vector<const EnvInfo*>> idle_of;
  std::vector<const EnvInfo*> idle;
  for (const auto& [id, env] : pool.environments()) {
    active += env.active;
    used += env.memory_mb;
    active_of[env.function] += env.active;
    invocations_of[env.function] += env.invocations;
    ++count_of[env.function];
    if (env.idle()) {
      idle_of[env.function].push_back(&env);
      idle.push_back(&env);
    }
  }
  REQUIRE(pool.concurrency() == active);
  REQUIRE(pool.used_mb() == used);
  for (const std::string f : {"a", "b", "c"}) {
    REQUIRE(pool.concurrency(f) == active_of[f]);
    REQUIRE(pool.invocations(f) == invocations_of[f]);
    REQUIRE(pool.count(f) == static_cast<size_t>(count_of[f]));
    REQUIRE(pool.idle(f) == idle_of[f]);
    // The routers' picks: provisioned first, then by last use, ties by id.
    const EnvInfo* mru = nullptr;
    const EnvInfo* lru = nullptr;
    for (const EnvInfo* e : idle_of[f]) {
      auto key = [](const EnvInfo* x) { return std::make_tuple(x->provisioned, x->last_used_us, x->id); };
      auto lru_key = [](const EnvInfo* x) { return std::make_tuple(!x->provisioned, x->last_used_us, x->id); };
      if (!mru || key(e) > key(mru)) mru = e;
      if (!lru || lru_key(e) < lru_key(lru)) lru = e;
    }
    REQUIRE(pool.most_recently_used_idle(f) == mru);
    REQUIRE(pool.least_recently_used_idle(f) == lru);
  }
  REQUIRE(pool.idle() == idle);
  std::vector<const EnvInfo*> by_use = idle;
  std::stable_sort(by_use.begin(), by_use.end(),
                   [](const EnvInfo* x, const EnvInfo* y) { return x->last_used_us < y->last_used_us; });
  std::vector<const EnvInfo*> visited;
  pool.for_each_idle_lru([&](const EnvInfo& e) {
    visited.push_back(&e);
    return true;
  });
  REQUIRE(visited == by_use);
}

TEST_CASE("pool: indexed queries agree with a scan after random sequences", "[pool]") {
  std::mt19937 rng(7);
  auto below = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  Pool pool;
  const char* names[] = {"a", "b", "c"};
  int64_t next_id = 1;
  TimeUs now = 0;
  for (int step = 0; step < 20000; ++step) {
    now += below(3);  // ties in last_used_us are common
    const auto& envs = pool.environments();
    const int op = below(10);
    if (op < 3 || envs.empty()) {
      EnvInfo e;
      e.id = next_id++;
      e.function = names[below(3)];
      e.memory_mb = 128 << below(3);
      e.created_us = e.last_used_us = now;
      e.provisioned = below(5) == 0;
      e.active = below(2);
      e.invocations = e.active;
      pool.add(e);
    } else {
      auto it = envs.begin();
      std::advance(it, below(static_cast<int>(envs.size())));
      const EnvInfo env = it->second;
      if (op == 3) {
        pool.remove(env.id);
      } else if (op < 7) {
        pool.start_request(env.id);
      } else if (op < 9) {
        pool.end_request(env.id, now);
      } else {
        EnvInfo changed = env;  // add() replaces: e.g. a pre-warm turned on-demand
        changed.provisioned = !changed.provisioned;
        pool.add(changed);
      }
    }
    if (step % 50 == 0) check_against_scan(pool);
  }
  check_against_scan(pool);
}

TEST_CASE("pool: reserved functions are listed apart, and leave the list when their reservation goes",
          "[pool]") {
  Pool pool;
  pool.set_function({"a", 128, 5});
  pool.set_function({"b", 128, std::nullopt});
  CHECK(pool.reserved() == std::map<std::string, int>{{"a", 5}});
  pool.set_function({"a", 128, std::nullopt});
  CHECK(pool.reserved().empty());
}

}  // namespace
}  // namespace coldlab::policies
