// A test's stand-in for the Scheduler under a memory budget, for the caching keep-alive
// policies (greedy-dual, freq, size, landlord): it evicts the policy's victims to make room,
// starts and finishes requests, and calls the policy in the order the seam documents.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "keep_alive/keep_alive_policy.h"
#include "registry.h"

namespace coldlab::policies::testing {

// Drives a policy the way the Scheduler does under a memory budget.
struct BudgetHost {
  std::unique_ptr<KeepAlivePolicy> policy;
  Pool pool;
  int64_t next_id = 1;

  BudgetHost(const char* spec, int64_t budget_mb) : policy(make_keep_alive(spec)) { pool.set_budget_mb(budget_mb); }

  // A request that needs a new environment: evicts the policy's victims to make room,
  // then starts the environment. Returns the victims.
  std::vector<int64_t> cold(const std::string& function, int mb, TimeUs t, int64_t* id = nullptr) {
    std::vector<int64_t> evicted;
    const int64_t need = pool.used_mb() + mb - pool.budget_mb();
    if (need > 0) {
      evicted = policy->victims(pool, need, t);
      for (int64_t v : evicted) {
        REQUIRE(pool.find(v));
        REQUIRE(pool.find(v)->idle());
        const EnvInfo gone = *pool.find(v);
        pool.remove(v);
        policy->on_evicted(gone, pool, t);
      }
    }
    REQUIRE(pool.used_mb() + mb <= pool.budget_mb());
    EnvInfo e;
    e.id = next_id++;
    e.function = function;
    e.memory_mb = mb;
    e.created_us = t;
    e.last_used_us = t;
    e.invocations = 1;
    e.active = 1;
    pool.add(e);
    policy->on_start(*pool.find(e.id), true, pool, t);
    if (id) *id = e.id;
    return evicted;
  }

  void warm(int64_t id, TimeUs t) {
    pool.start_request(id);
    policy->on_start(*pool.find(id), false, pool, t);
  }

  void finish(int64_t id, TimeUs t) {
    pool.end_request(id, t);
    CHECK(policy->on_idle(*pool.find(id), pool, t).keep_until_us == kForever);
  }

  // A request on a new environment that runs and goes idle at `t`. Returns the victims.
  std::vector<int64_t> cold_and_idle(const std::string& function, int mb, TimeUs t, int64_t* id) {
    int64_t started = 0;
    std::vector<int64_t> evicted = cold(function, mb, t, &started);
    finish(started, t);
    if (id) *id = started;
    return evicted;
  }
};

}  // namespace coldlab::policies::testing
