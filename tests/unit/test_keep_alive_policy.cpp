#include <catch2/catch.hpp>
#include <cstdint>
#include <initializer_list>

#include "keep_alive/keep_alive_policy.h"

using coldlab::policies::IdleDecision;
using coldlab::policies::IdleEnvironment;
using coldlab::policies::make_fixed_ttl;

namespace {

IdleEnvironment idle_env(int64_t idle_since_us) {
  IdleEnvironment env;
  env.environment_id = 7;
  env.function = "fn";
  env.memory_mb = 128;
  env.idle_since_us = idle_since_us;
  return env;
}

}  // namespace

TEST_CASE("keep_alive_policy: fixed TTL keeps until idle_since plus the TTL",
          "[keep_alive_policy]") {
  auto policy = make_fixed_ttl(600'000'000);
  const int64_t idle_since = 1'700'000'000'000'000;
  // The deadline counts from when the environment went idle, not from when it is asked.
  for (int64_t now : std::initializer_list<int64_t>{idle_since, idle_since + 5'000'000, idle_since + int64_t{3'600'000'000}}) {
    CAPTURE(now);
    const auto d = policy->on_idle(idle_env(idle_since), now);
    CHECK(d.kind == IdleDecision::Kind::kKeepUntil);
    CHECK(d.until_us == idle_since + 600'000'000);
  }
}

TEST_CASE("keep_alive_policy: fixed TTL gives the same answer every time",
          "[keep_alive_policy]") {
  auto policy = make_fixed_ttl(1'500'000);
  for (int i = 0; i < 3; ++i) {
    const auto d = policy->on_idle(idle_env(1000), 2000);
    CHECK(d.kind == IdleDecision::Kind::kKeepUntil);
    CHECK(d.until_us == 1'501'000);
  }
  const auto other = policy->on_idle(idle_env(5'000'000), 5'000'000);
  CHECK(other.until_us == 6'500'000);
}

TEST_CASE("keep_alive_policy: TTL 0 evicts at once", "[keep_alive_policy]") {
  auto policy = make_fixed_ttl(0);
  const auto d = policy->on_idle(idle_env(1'000'000), 1'000'000);
  CHECK(d.kind == IdleDecision::Kind::kEvictNow);
}

TEST_CASE("keep_alive_policy: fixed TTL name prints its parameter", "[keep_alive_policy]") {
  CHECK(make_fixed_ttl(600'000'000)->name() == "fixed:ttl=600s");
  CHECK(make_fixed_ttl(1'500'000)->name() == "fixed:ttl=1500ms");
  CHECK(make_fixed_ttl(1'000'000)->name() == "fixed:ttl=1s");
  CHECK(make_fixed_ttl(250'000)->name() == "fixed:ttl=250ms");
  CHECK(make_fixed_ttl(0)->name() == "fixed:ttl=0s");
}

TEST_CASE("keep_alive_policy: IdleDecision factories", "[keep_alive_policy]") {
  const auto keep = IdleDecision::keep_until(42);
  CHECK(keep.kind == IdleDecision::Kind::kKeepUntil);
  CHECK(keep.until_us == 42);
  CHECK(IdleDecision::evict_now().kind == IdleDecision::Kind::kEvictNow);
}
