// The max-instances scale-out policy against hand-computed sequences.
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "policy_spec.h"
#include "policy_fixtures.h"
#include "registry.h"
#include "scale_out/factories.h"

using namespace coldlab::policies;
using coldlab::policies::testing::env;

namespace {

using Kind = Route::Kind;

Pool pool_of(std::initializer_list<EnvInfo> envs) {
  Pool pool;
  for (const char* name : {"f", "g"}) {
    FunctionInfo f;
    f.name = name;
    pool.set_function(f);
  }
  for (const EnvInfo& e : envs) pool.add(e);
  return pool;
}

}  // namespace

TEST_CASE("max-instances: name and parameters", "[scale_out]") {
  auto p = make_scale_out("max-instances");
  CHECK(p->name() == "max-instances:m=10,queue=1000,queue_timeout=30s,routing=mru");
  CHECK(p->per_environment_concurrency() == 1);
  auto q = make_scale_out("max-instances:m=3,queue=0,queue_timeout=1500ms,routing=lru");
  CHECK(q->name() == "max-instances:m=3,queue=0,queue_timeout=1500ms,routing=lru");
  CHECK(make_scale_out(q->name())->name() == q->name());
  CHECK_THROWS_AS(make_scale_out("max-instances:m=0"), SpecError);
  CHECK_THROWS_AS(make_scale_out("max-instances:queue=-1"), SpecError);
  CHECK_THROWS_AS(make_scale_out("max-instances:queue_timeout=soon"), SpecError);
  CHECK_THROWS_AS(make_scale_out("max-instances:concurrency=5"), SpecError);
}

TEST_CASE("max-instances: starts up to m then queues with a deadline then throttles", "[scale_out]") {
  auto policy = make_scale_out("max-instances:m=2,queue=2,queue_timeout=5s");
  Pool pool = pool_of({});
  CHECK(policy->route("f", 0, pool, 0).kind == Kind::kStart);
  pool.add(env(1, "f", 1, 0));
  CHECK(policy->route("f", 0, pool, 0).kind == Kind::kStart);
  pool.add(env(2, "f", 1, 0));

  Route r = policy->route("f", 0, pool, kSecondUs);
  CHECK(r.kind == Kind::kQueue);
  CHECK(r.queue_deadline_us == 6 * kSecondUs);
  r = policy->route("f", 1, pool, 2 * kSecondUs);
  CHECK(r.kind == Kind::kQueue);
  CHECK(r.queue_deadline_us == 7 * kSecondUs);
  r = policy->route("f", 2, pool, 3 * kSecondUs);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kReservedFunctionConcurrentInvocationLimitExceeded);
  CHECK_FALSE(r.message.empty());

  // Another function is not limited by f's environments.
  CHECK(policy->route("g", 0, pool, 3 * kSecondUs).kind == Kind::kStart);
  // An idle environment of f is reused (the Scheduler hands it to the queue first).
  { EnvInfo e = *pool.find(2); e.active = 0; pool.add(e); }
  r = policy->route("f", 0, pool, 4 * kSecondUs);
  CHECK(r.kind == Kind::kReuse);
  CHECK(r.environment_id == 2);
}

TEST_CASE("max-instances: idle environments count towards m", "[scale_out]") {
  auto policy = make_scale_out("max-instances:m=2");
  Pool pool = pool_of({env(1, "f", 1, 0), env(2, "f", 0, 0), env(3, "g", 0, 0)});
  Route r = policy->route("f", 0, pool, 10);
  CHECK(r.kind == Kind::kReuse);
  CHECK(r.environment_id == 2);
  { EnvInfo e = *pool.find(2); e.active = 1; pool.add(e); }
  CHECK(policy->route("f", 0, pool, 10).kind == Kind::kQueue);
  // More than m (pre-warmed by the keep-alive policy): still no start.
  pool.add(env(4, "f", 1, 0));
  CHECK(policy->route("f", 0, pool, 10).kind == Kind::kQueue);
}

TEST_CASE("max-instances: routing picks among idle environments", "[scale_out]") {
  Pool pool = pool_of({env(1, "f", 0, 100), env(2, "f", 0, 300), env(3, "f", 0, 200), env(4, "g", 0, 900)});
  Route mru = make_scale_out("max-instances")->route("f", 0, pool, 1000);
  Route lru = make_scale_out("max-instances:routing=lru")->route("f", 0, pool, 1000);
  REQUIRE(mru.kind == Kind::kReuse);
  REQUIRE(lru.kind == Kind::kReuse);
  CHECK(mru.environment_id == 2);
  CHECK(lru.environment_id == 1);
}

TEST_CASE("max-instances: queue 0 throttles at once and deadlines saturate", "[scale_out]") {
  Pool pool = pool_of({env(1, "f", 1, 0)});
  Route r = make_scale_out("max-instances:m=1,queue=0")->route("f", 0, pool, 0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kReservedFunctionConcurrentInvocationLimitExceeded);
  r = make_scale_out("max-instances:m=1,queue_timeout=1000000h")->route("f", 0, pool, kForever - 5);
  CHECK(r.kind == Kind::kQueue);
  CHECK(r.queue_deadline_us == kForever);
}
