// The per-env-concurrency scale-out policy against hand-computed sequences.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "policy_spec.h"
#include "policy_fixtures.h"
#include "registry.h"
#include "scale_out/factories.h"

using namespace coldlab::policies;
using coldlab::policies::testing::env;
using coldlab::policies::testing::function;

namespace {

using Kind = Route::Kind;

// Applies a route to the pool as the Scheduler would; returns the environment used, or 0.
int64_t apply(ScaleOutPolicy& policy, Pool& pool, const std::string& fn, int64_t& next_id, TimeUs now) {
  Route r = policy.route(fn, 0, pool, now);
  if (r.kind == Kind::kStart) {
    EnvInfo e = env(next_id++, fn, 1, now);
    pool.add(e);
    policy.on_environment_started(e, now);
    return e.id;
  }
  if (r.kind == Kind::kReuse) {
    const EnvInfo* e = pool.find(r.environment_id);
    REQUIRE(e);
    REQUIRE(e->function == fn);
    REQUIRE(e->active < policy.per_environment_concurrency());
    pool.start_request(e->id);
    return e->id;
  }
  return 0;
}

}  // namespace

TEST_CASE("per-env-concurrency: name and parameters", "[scale_out]") {
  auto p = make_scale_out("per-env-concurrency");
  CHECK(p->name() == "per-env-concurrency:n=4,concurrency=1000,routing=mru");
  CHECK(p->per_environment_concurrency() == 4);
  auto q = make_scale_out("per-env-concurrency:n=80,concurrency=50,routing=lru");
  CHECK(q->name() == "per-env-concurrency:n=80,concurrency=50,routing=lru");
  CHECK(q->per_environment_concurrency() == 80);
  CHECK(make_scale_out(q->name())->name() == q->name());
  CHECK_THROWS_AS(make_scale_out("per-env-concurrency:n=0"), SpecError);
  CHECK_THROWS_AS(make_scale_out("per-env-concurrency:rate=2023"), SpecError);
}

TEST_CASE("per-env-concurrency: 9 requests on 3 idle environments with n=4 spread evenly", "[scale_out]") {
  // Idle environments last used at 100 (env 1), 300 (env 2) and 200 (env 3). Each request
  // goes to the least loaded; among equals mru takes 2 then 3 then 1, lru 1 then 3 then 2.
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
           {"per-env-concurrency", {2, 3, 1, 2, 3, 1, 2, 3, 1}},
           {"per-env-concurrency:routing=lru", {1, 3, 2, 1, 3, 2, 1, 3, 2}}}) {
    CAPTURE(text);
    auto policy = make_scale_out(text);
    Pool pool;
    pool.set_function(function("f"));
    pool.add(env(1, "f", 0, 100));
    pool.add(env(2, "f", 0, 300));
    pool.add(env(3, "f", 0, 200));
    int64_t next_id = 10;
    std::vector<int64_t> got;
    for (int i = 0; i < 9; ++i) got.push_back(apply(*policy, pool, "f", next_id, 1000));
    CHECK(got == expected);
    // Three more fill every environment to 4, the next starts a fourth.
    for (int i = 0; i < 3; ++i) CHECK(apply(*policy, pool, "f", next_id, 1000) < 10);
    CHECK(apply(*policy, pool, "f", next_id, 1000) == 10);
    for (int64_t id : {1, 2, 3}) CHECK(pool.find(id)->active == 4);
  }
}

TEST_CASE("per-env-concurrency: from an empty pool a new environment starts only when all are full",
          "[scale_out]") {
  auto policy = make_scale_out("per-env-concurrency");
  Pool pool;
  pool.set_function(function("f"));
  int64_t next_id = 1;
  std::vector<int64_t> got;
  for (int i = 0; i < 9; ++i) got.push_back(apply(*policy, pool, "f", next_id, 0));
  CHECK(got == std::vector<int64_t>{1, 1, 1, 1, 2, 2, 2, 2, 3});
}

TEST_CASE("per-env-concurrency: least loaded below n and never another function's", "[scale_out]") {
  auto policy = make_scale_out("per-env-concurrency:n=4");
  Pool pool;
  pool.set_function(function("f"));
  pool.set_function(function("g"));
  pool.add(env(1, "f", 3, 900));
  pool.add(env(2, "f", 2, 100));
  pool.add(env(3, "f", 4, 500));  // full
  pool.add(env(4, "g", 0, 999));  // idle but g's
  Route r = policy->route("f", 0, pool, 1000);
  REQUIRE(r.kind == Kind::kReuse);
  CHECK(r.environment_id == 2);
  { EnvInfo e = *pool.find(2); e.active = 3; pool.add(e); }  // 1 and 2 tie at 3: mru takes 1 (used at 900)
  r = policy->route("f", 0, pool, 1000);
  REQUIRE(r.kind == Kind::kReuse);
  CHECK(r.environment_id == 1);
  { EnvInfo e = *pool.find(1); e.active = 4; pool.add(e); }
  { EnvInfo e = *pool.find(2); e.active = 4; pool.add(e); }
  CHECK(policy->route("f", 0, pool, 1000).kind == Kind::kStart);
}

TEST_CASE("per-env-concurrency: account and reserved concurrency count requests", "[scale_out]") {
  auto policy = make_scale_out("per-env-concurrency:n=4,concurrency=5");
  Pool pool;
  pool.set_function(function("a"));
  pool.set_function(function("r", 2));
  int64_t next_id = 1;
  for (int i = 0; i < 3; ++i) CHECK(apply(*policy, pool, "a", next_id, 0) == 1);
  // Env 1 has room, but the unreserved pool (5 - 2 = 3) is in use.
  Route r = policy->route("a", 0, pool, 0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kConcurrentInvocationLimitExceeded);
  CHECK(apply(*policy, pool, "r", next_id, 0) == 2);
  CHECK(apply(*policy, pool, "r", next_id, 0) == 2);
  r = policy->route("r", 0, pool, 0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kReservedFunctionConcurrentInvocationLimitExceeded);
  pool.set_function(function("z", 0));
  CHECK(policy->route("z", 0, pool, 0).reason == kReservedFunctionConcurrentInvocationLimitExceeded);
}
