// The lambda scale-out policy against hand-computed sequences: routing, reserved and
// account concurrency, and the scaling rate (2023 per function, legacy per account).
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "policy_spec.h"
#include "policy_fixtures.h"
#include "registry.h"
#include "scale_out/factories.h"

using namespace coldlab::policies;
using coldlab::policies::testing::env;
using coldlab::policies::testing::function;

namespace {

using Kind = Route::Kind;

// Plays the Scheduler's part: applies each route to the pool and reports starts.
struct Host {
  explicit Host(std::unique_ptr<ScaleOutPolicy> p) : policy(std::move(p)) {}

  Route request(const std::string& fn, TimeUs now) {
    Route r = policy->route(fn, 0, pool, now);
    if (r.kind == Kind::kStart) {
      EnvInfo e = env(next_id++, fn, 1, now);
      e.created_us = now;
      e.invocations = 1;
      pool.add(e);
      policy->on_environment_started(e, now);
    } else if (r.kind == Kind::kReuse) {
      const EnvInfo* e = pool.find(r.environment_id);
      REQUIRE(e);
      REQUIRE(e->function == fn);
      pool.start_request(e->id);
    }
    return r;
  }

  // Starts `count` requests at `now`; how many were started cold.
  int starts(const std::string& fn, int count, TimeUs now) {
    int started = 0;
    for (int i = 0; i < count; ++i)
      if (request(fn, now).kind == Kind::kStart) ++started;
    return started;
  }

  void finish(int64_t id, TimeUs now) {
    const EnvInfo* e = pool.find(id);
    REQUIRE(e);
    REQUIRE(e->active > 0);
    pool.end_request(id, now);
  }

  // Stops every idle environment, so the next requests need new ones.
  void evict_idle() {
    for (const EnvInfo* e : pool.idle()) pool.remove(e->id);
  }

  // Ends every request and evicts every environment.
  void clear() { pool = Pool(functions_only()); }
  Pool functions_only() const {
    Pool p;
    for (const auto& [name, f] : pool.functions()) p.set_function(f);
    return p;
  }

  std::unique_ptr<ScaleOutPolicy> policy;
  Pool pool;
  int64_t next_id = 1;
};

}  // namespace

TEST_CASE("lambda: name prints every parameter and round-trips", "[scale_out]") {
  CHECK(make_scale_out("lambda")->name() == "lambda:concurrency=1000,rate=2023,routing=mru");
  CHECK(make_scale_out("lambda:rate=legacy")->name() == "lambda:concurrency=1000,rate=legacy,burst=3000,routing=mru");
  CHECK(make_scale_out("lambda:rate=legacy,burst=500,routing=lru,concurrency=20")->name() ==
        "lambda:concurrency=20,rate=legacy,burst=500,routing=lru");
  CHECK(make_scale_out("lambda:rate=none")->name() == "lambda:concurrency=1000,rate=none,routing=mru");
  for (const char* text : {"lambda", "lambda:rate=legacy,burst=1000", "lambda:rate=none,routing=lru"}) {
    const std::string name = make_scale_out(text)->name();
    CHECK(make_scale_out(name)->name() == name);
  }
  CHECK(make_scale_out("lambda")->per_environment_concurrency() == 1);
}

TEST_CASE("lambda: bad parameters are errors", "[scale_out]") {
  CHECK_THROWS_AS(make_scale_out("lambda:rate=2019"), SpecError);
  CHECK_THROWS_AS(make_scale_out("lambda:routing=random"), SpecError);
  CHECK_THROWS_AS(make_scale_out("lambda:concurrency=0"), SpecError);
  CHECK_THROWS_AS(make_scale_out("lambda:rate=legacy,burst=0"), SpecError);
  CHECK_THROWS_AS(make_scale_out("lambda:burst=3000"), SpecError);  // burst without rate=legacy
  CHECK_THROWS_AS(make_scale_out("lambda:rate=none,burst=500"), SpecError);
  CHECK_THROWS_AS(make_scale_out("lambda:ttl=10"), SpecError);
  CHECK_NOTHROW(make_scale_out("lambda:rate=legacy,burst=1234"));
}

TEST_CASE("lambda: reuses an idle environment of the function before starting one", "[scale_out]") {
  Host host(make_scale_out("lambda"));
  host.pool.set_function(function("f"));
  host.pool.set_function(function("g"));
  host.pool.add(env(1, "g", 0, 50));  // idle, but another function's
  host.pool.add(env(2, "f", 1, 40));  // the function's, but busy
  host.pool.add(env(3, "f", 0, 30));
  host.next_id = 10;

  Route r = host.request("f", 100);
  CHECK(r.kind == Kind::kReuse);
  CHECK(r.environment_id == 3);
  r = host.request("f", 100);
  CHECK(r.kind == Kind::kStart);
  host.finish(2, 200);
  r = host.request("f", 300);
  CHECK(r.kind == Kind::kReuse);
  CHECK(r.environment_id == 2);
}

TEST_CASE("lambda: mru takes the most recently used idle environment and lru the least", "[scale_out]") {
  Pool pool;
  pool.set_function(function("f"));
  pool.add(env(1, "f", 0, 100));
  pool.add(env(2, "f", 0, 300));
  pool.add(env(3, "f", 0, 200));
  pool.add(env(4, "f", 0, 300));  // ties with 2
  pool.add(env(5, "f", 0, 100));  // ties with 1
  pool.add(env(6, "f", 1, 900));  // busy
  pool.add(env(7, "g", 0, 999));  // another function

  Route mru = make_scale_out("lambda")->route("f", 0, pool, 1000);
  REQUIRE(mru.kind == Kind::kReuse);
  CHECK(mru.environment_id == 4);  // newest, ties to the higher id
  Route lru = make_scale_out("lambda:routing=lru")->route("f", 0, pool, 1000);
  REQUIRE(lru.kind == Kind::kReuse);
  CHECK(lru.environment_id == 1);  // oldest, ties to the lower id
}

TEST_CASE("lambda: provisioned environments are used before on-demand ones", "[scale_out]") {
  Pool pool;
  pool.set_function(function("f"));
  pool.add(env(1, "f", 0, 500));
  EnvInfo p = env(2, "f", 0, 10);
  p.provisioned = true;
  pool.add(p);
  for (const char* text : {"lambda", "lambda:routing=lru"}) {
    Route r = make_scale_out(text)->route("f", 0, pool, 1000);
    REQUIRE(r.kind == Kind::kReuse);
    CHECK(r.environment_id == 2);
  }
}

TEST_CASE("lambda: reserved concurrency 0 throttles every request", "[scale_out]") {
  Host host(make_scale_out("lambda"));
  host.pool.set_function(function("f", 0));
  host.pool.add(env(1, "f", 0, 0));  // even with an idle environment
  Route r = host.request("f", 10);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kReservedFunctionConcurrentInvocationLimitExceeded);
  CHECK_FALSE(r.message.empty());
}

TEST_CASE("lambda: reserved concurrency 2 caps the function and only it", "[scale_out]") {
  Host host(make_scale_out("lambda"));
  host.pool.set_function(function("f", 2));
  host.pool.set_function(function("g"));
  CHECK(host.request("f", 0).kind == Kind::kStart);  // env 1
  CHECK(host.request("f", 0).kind == Kind::kStart);  // env 2
  Route r = host.request("f", 0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kReservedFunctionConcurrentInvocationLimitExceeded);
  CHECK(host.request("g", 0).kind == Kind::kStart);  // env 3
  host.finish(1, 5);
  r = host.request("f", 6);
  CHECK(r.kind == Kind::kReuse);
  CHECK(r.environment_id == 1);
  CHECK(host.request("f", 7).kind == Kind::kThrottle);
}

TEST_CASE("lambda: account concurrency without reservations", "[scale_out]") {
  Host host(make_scale_out("lambda:concurrency=3"));
  host.pool.set_function(function("a"));
  host.pool.set_function(function("b"));
  CHECK(host.request("a", 0).kind == Kind::kStart);  // env 1
  CHECK(host.request("a", 0).kind == Kind::kStart);  // env 2
  CHECK(host.request("b", 0).kind == Kind::kStart);  // env 3
  Route r = host.request("b", 0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kConcurrentInvocationLimitExceeded);
  CHECK(host.request("a", 0).kind == Kind::kThrottle);
  host.finish(1, 10);
  // Concurrency counts requests, not environments: b may now start a new one.
  CHECK(host.request("b", 11).kind == Kind::kStart);  // env 4
  CHECK(host.request("a", 11).kind == Kind::kThrottle);
}

TEST_CASE("lambda: account concurrency with reservations", "[scale_out]") {
  // Account 5, r reserves 2: the unreserved pool is 3, shared by a and b.
  Host host(make_scale_out("lambda:concurrency=5"));
  host.pool.set_function(function("r", 2));
  host.pool.set_function(function("a"));
  host.pool.set_function(function("b"));
  CHECK(host.request("a", 0).kind == Kind::kStart);
  CHECK(host.request("a", 0).kind == Kind::kStart);
  CHECK(host.request("b", 0).kind == Kind::kStart);
  Route r = host.request("a", 0);  // 3 running in all, below 5, but the unreserved pool is full
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kConcurrentInvocationLimitExceeded);
  // r's reservation is its own: it runs 2 although unreserved functions fill theirs.
  CHECK(host.request("r", 0).kind == Kind::kStart);
  CHECK(host.request("r", 0).kind == Kind::kStart);
  r = host.request("r", 0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kReservedFunctionConcurrentInvocationLimitExceeded);
}

TEST_CASE("lambda: reservations at or above the account limit leave no unreserved pool", "[scale_out]") {
  Host host(make_scale_out("lambda:concurrency=4"));
  host.pool.set_function(function("r", 4));
  host.pool.set_function(function("a"));
  Route r = host.request("a", 0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kConcurrentInvocationLimitExceeded);
  CHECK(host.request("r", 0).kind == Kind::kStart);
}

TEST_CASE("lambda: rate 2023 gives each function 1000 new environments per 10 s", "[scale_out]") {
  Host host(make_scale_out("lambda:concurrency=100000"));
  host.pool.set_function(function("f"));
  host.pool.set_function(function("g"));
  const TimeUs t0 = 1'000 * kSecondUs;

  CHECK(host.starts("f", 1000, t0) == 1000);
  Route r = host.request("f", t0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kFunctionInvocationRateLimitExceeded);
  // Each function has its own bucket.
  CHECK(host.starts("g", 1000, t0) == 1000);
  // Reuse never needs a token.
  host.finish(1, t0 + 1);
  r = host.request("f", t0 + 2);
  CHECK(r.kind == Kind::kReuse);
  CHECK(r.environment_id == 1);

  // 1 s later: 100 more, the 101st throttled.
  CHECK(host.starts("f", 100, t0 + kSecondUs) == 100);
  CHECK(host.request("f", t0 + kSecondUs).kind == Kind::kThrottle);
  // One token per 10 ms.
  CHECK(host.request("f", t0 + kSecondUs + 9'999).kind == Kind::kThrottle);
  CHECK(host.request("f", t0 + kSecondUs + 10'000).kind == Kind::kStart);
  // 10 s after that: the full 1000 again.
  CHECK(host.starts("f", 1000, t0 + 11 * kSecondUs + 10'000) == 1000);
  CHECK(host.request("f", t0 + 11 * kSecondUs + 10'000).kind == Kind::kThrottle);
}

TEST_CASE("lambda: rate 2023 does not bank unused rate", "[scale_out]") {
  Host host(make_scale_out("lambda:concurrency=100000"));
  host.pool.set_function(function("f"));
  // An hour with nothing started still leaves only 1000.
  CHECK(host.starts("f", 1000, 3600 * kSecondUs) == 1000);
  CHECK(host.request("f", 3600 * kSecondUs).kind == Kind::kThrottle);
  host.clear();
  CHECK(host.starts("f", 2000, 7200 * kSecondUs) == 1000);
}

TEST_CASE("lambda: route does not take a token and never starts with the bucket empty", "[scale_out]") {
  Host host(make_scale_out("lambda:concurrency=100000"));
  host.pool.set_function(function("f"));
  REQUIRE(host.starts("f", 999, 0) == 999);
  // One token left: asking twice without starting leaves it there.
  CHECK(host.policy->route("f", 0, host.pool, 0).kind == Kind::kStart);
  CHECK(host.policy->route("f", 0, host.pool, 0).kind == Kind::kStart);
  CHECK(host.request("f", 0).kind == Kind::kStart);
  // Empty: asking again and again stays a throttle.
  for (int i = 0; i < 3; ++i) CHECK(host.policy->route("f", 0, host.pool, 0).kind == Kind::kThrottle);
}

TEST_CASE("lambda: legacy rate is one burst shared by the account then 500 per minute", "[scale_out]") {
  Host host(make_scale_out("lambda:concurrency=100000,rate=legacy"));
  host.pool.set_function(function("a"));
  host.pool.set_function(function("b"));
  const TimeUs t0 = 10 * kMinuteUs;

  CHECK(host.starts("a", 1500, t0) == 1500);
  CHECK(host.starts("b", 1500, t0) == 1500);
  Route r = host.request("a", t0);
  CHECK(r.kind == Kind::kThrottle);
  CHECK(r.reason == kFunctionInvocationRateLimitExceeded);
  CHECK(host.request("b", t0).kind == Kind::kThrottle);
  // +500 per minute is one token per 120 ms, shared.
  CHECK(host.request("b", t0 + 119'999).kind == Kind::kThrottle);
  CHECK(host.request("b", t0 + 120'000).kind == Kind::kStart);
  CHECK(host.request("a", t0 + 120'000).kind == Kind::kThrottle);
  // A minute after the burst: 499 more (one went to b already), for both functions.
  CHECK(host.starts("a", 250, t0 + kMinuteUs) == 250);
  CHECK(host.starts("b", 300, t0 + kMinuteUs) == 249);
  CHECK(host.request("a", t0 + kMinuteUs).kind == Kind::kThrottle);
}

TEST_CASE("lambda: legacy burst sizes 500 1000 and 3000", "[scale_out]") {
  for (int burst : {500, 1000, 3000}) {
    CAPTURE(burst);
    Host host(make_scale_out("lambda:concurrency=100000,rate=legacy,burst=" + std::to_string(burst)));
    host.pool.set_function(function("a"));
    CHECK(host.starts("a", burst + 10, 0) == burst);
    host.clear();
    // Not banked: hours later it is the burst again, not more.
    CHECK(host.starts("a", burst + 10, 5 * 3600 * kSecondUs) == burst);
  }
}

TEST_CASE("lambda: rate none starts as many as concurrency allows", "[scale_out]") {
  Host host(make_scale_out("lambda:concurrency=5000,rate=none"));
  host.pool.set_function(function("a"));
  CHECK(host.starts("a", 5001, 0) == 5000);
  CHECK(host.request("a", 0).reason == kConcurrentInvocationLimitExceeded);
}

TEST_CASE("lambda: limits are checked reserved then account then rate", "[scale_out]") {
  Host host(make_scale_out("lambda:concurrency=1000,rate=legacy,burst=2"));
  host.pool.set_function(function("a"));
  host.pool.set_function(function("r", 998));  // unreserved pool: 2
  REQUIRE(host.starts("a", 2, 0) == 2);        // bucket and unreserved pool both empty
  CHECK(host.request("a", 0).reason == kConcurrentInvocationLimitExceeded);
  CHECK(host.request("r", 0).reason == kFunctionInvocationRateLimitExceeded);
  host.pool.set_function(function("r", 0));
  CHECK(host.request("r", 0).reason == kReservedFunctionConcurrentInvocationLimitExceeded);
}
