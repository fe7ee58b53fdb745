// none, fixed and the provider presets; the registry's parameter errors; the seam's
// default (LRU) victims, which fixed uses under a memory budget.
#include <catch2/catch.hpp>
#include <set>

#include "keep_alive/factories.h"
#include "keep_alive/keep_alive_policy.h"
#include "registry.h"

using namespace coldlab::policies;

namespace {

EnvInfo idle_env(int64_t id, const std::string& function, int mb, TimeUs last_used) {
  EnvInfo e;
  e.id = id;
  e.function = function;
  e.memory_mb = mb;
  e.created_us = last_used;
  e.last_used_us = last_used;
  e.invocations = 1;
  return e;
}

}  // namespace

TEST_CASE("keep_alive fixed: keeps until the idle time plus the TTL", "[keep_alive]") {
  auto policy = make_keep_alive("fixed:ttl=60");
  Pool pool;
  const TimeUs idle_since = 1'700'000'000'000'000;
  const EnvInfo env = idle_env(7, "fn", 128, idle_since);
  pool.add(env);
  // The deadline counts from when the environment went idle, not from when it is asked.
  for (TimeUs now : {idle_since, idle_since + 5 * kSecondUs}) {
    const IdleDecision d = policy->on_idle(env, pool, now);
    CHECK(d.keep_until_us == idle_since + 60 * kSecondUs);
    CHECK_FALSE(d.prewarm);
  }
  CHECK_FALSE(policy->needs_memory_budget());
  CHECK(policy->next_tick() == kForever);
}

TEST_CASE("keep_alive fixed: the issue's example is warm after 30 s and cold after 90 s", "[keep_alive]") {
  // A request in (e, e + ttl] finds the environment; the Scheduler evicts at keep_until.
  auto policy = make_keep_alive("fixed:ttl=60");
  Pool pool;
  const EnvInfo env = idle_env(1, "fn", 128, 10 * kSecondUs);
  pool.add(env);
  const TimeUs until = policy->on_idle(env, pool, 10 * kSecondUs).keep_until_us;
  CHECK(10 * kSecondUs + 30 * kSecondUs < until);
  CHECK(10 * kSecondUs + 90 * kSecondUs > until);
}

TEST_CASE("keep_alive fixed: ttl=0 and none evict at once", "[keep_alive]") {
  Pool pool;
  const EnvInfo env = idle_env(1, "fn", 128, kSecondUs);
  pool.add(env);
  for (const char* spec : {"fixed:ttl=0", "none"}) {
    CAPTURE(spec);
    auto policy = make_keep_alive(spec);
    CHECK(policy->on_idle(env, pool, kSecondUs).keep_until_us <= kSecondUs);
  }
  CHECK(make_keep_alive("none")->name() == "none");
}

TEST_CASE("keep_alive fixed: name prints the TTL as specs write it", "[keep_alive]") {
  CHECK(make_keep_alive("fixed")->name() == "fixed:ttl=10m");
  CHECK(make_keep_alive("fixed:ttl=90")->name() == "fixed:ttl=90s");
  CHECK(make_keep_alive("fixed:ttl=1500ms")->name() == "fixed:ttl=1500ms");
  CHECK(make_keep_alive("fixed:ttl=2h")->name() == "fixed:ttl=2h");
}

TEST_CASE("keep_alive presets: names say their profile and TTL", "[keep_alive]") {
  const std::pair<const char*, const char*> presets[] = {
      {"aws-2018", "aws-2018 (fixed:ttl=27m)"},     {"aws-2019", "aws-2019 (fixed:ttl=10m)"},
      {"azure-2019", "azure-2019 (fixed:ttl=20m)"}, {"openwhisk", "openwhisk (fixed:ttl=10m)"},
      {"localstack", "localstack (fixed:ttl=10m)"}, {"study", "study (fixed:ttl=22m)"},
  };
  Pool pool;
  const EnvInfo env = idle_env(1, "fn", 128, 0);
  pool.add(env);
  for (const auto& [spec, name] : presets) {
    CAPTURE(spec);
    auto policy = make_keep_alive(spec);
    CHECK(policy->name() == name);
    CHECK(policy->on_idle(env, pool, 0).keep_until_us > 0);
  }
}

TEST_CASE("keep_alive presets: study reproduces warm-warm-warm-cold of Scenario 1", "[keep_alive]") {
  // Requests at minutes 0, 6, 16, 31, 61; the first is cold (8 s), warm ones take 1 s. The
  // keep-alive sees the gap minus the previous request's duration.
  struct Expect {
    const char* spec;
    std::vector<bool> warm;  // for the requests at 6, 16, 31, 61
  };
  const Expect cases[] = {
      {"study", {true, true, true, false}},
      {"aws-2018", {true, true, true, false}},
      {"aws-2019", {true, true, false, false}},  // the 15-min gap is cold under 10 min
  };
  for (const auto& c : cases) {
    CAPTURE(c.spec);
    auto policy = make_keep_alive(c.spec);
    Pool pool;
    TimeUs until = -1;  // no environment yet
    std::vector<bool> warm;
    for (int minute : {0, 6, 16, 31, 61}) {
      const TimeUs start = minute * kMinuteUs;
      const bool is_warm = until >= start;
      if (minute > 0) warm.push_back(is_warm);
      const TimeUs end = start + (is_warm ? 1 : 8) * kSecondUs;
      pool.add(idle_env(1, "kdd", 512, end));
      until = policy->on_idle(*pool.find(1), pool, end).keep_until_us;
    }
    CHECK(warm == c.warm);
  }
}

TEST_CASE("keep_alive presets: take no parameters", "[keep_alive]") {
  for (const char* spec : {"aws-2018:ttl=5m", "aws-2019:ttl=5m", "azure-2019:x=1", "openwhisk:ttl=1",
                           "localstack:ttl=1", "study:ttl=20m", "none:ttl=1"}) {
    CAPTURE(spec);
    CHECK_THROWS_AS(make_keep_alive(spec), SpecError);
  }
}

TEST_CASE("keep_alive registry: unknown names and keys and bad values are errors", "[keep_alive]") {
  CHECK_THROWS_WITH(make_keep_alive("fixed:tll=5m"), Catch::Contains("tll"));
  CHECK_THROWS_WITH(make_keep_alive("nosuch"), Catch::Contains("greedy-dual"));
  const char* bad[] = {
      "fixed:ttl=5parsecs",
      "fixed:ttl=-1",
      "fixed:ttl=",
      "halving:period=0",
      "halving:period=x",
      "rand:seed=x",
      "rand:seed=-1",
      "provisioned:n=0",
      "provisioned:n=1.5",
      "ping:every=0",
      "ping:ttl=soon",
      "hybrid-histogram:range=61s",
      "hybrid-histogram:head=0.5,tail=0.4",
      "hybrid-histogram:cv=-1",
      "hybrid-histogram:min_its=0",
      "hybrid-histogram:oob=2",
      "lru:ttl=1",
      "greedy-dual:cost=1",
      "landlord:x=1",
      "freq:x=1",
      "size:x=1",
      "fixed:ttl=1,ttl=2",
  };
  for (const char* spec : bad) {
    CAPTURE(spec);
    CHECK_THROWS_AS(make_keep_alive(spec), SpecError);
  }
}

TEST_CASE("keep_alive registry: every policy builds with its defaults and names itself", "[keep_alive]") {
  std::set<std::string> names;
  for (const auto& d : keep_alive_policies()) {
    CAPTURE(d.name);
    CHECK(names.insert(d.name).second);
    CHECK_FALSE(d.summary.empty());
    CHECK(d.summary.find('\n') == std::string::npos);
    auto policy = make_keep_alive(d.name);
    CHECK(policy->name().rfind(d.name, 0) == 0);
  }
  for (const char* name : {"none", "fixed", "aws-2018", "aws-2019", "azure-2019", "openwhisk", "localstack",
                           "study", "halving", "lru", "greedy-dual", "freq", "size", "landlord", "rand",
                           "hybrid-histogram", "provisioned", "ping"}) {
    CAPTURE(name);
    CHECK(names.count(name) == 1);
  }
}

TEST_CASE("keep_alive default victims: least recently used first and only as many as needed",
          "[keep_alive]") {
  auto policy = make_keep_alive("fixed");
  Pool pool;
  pool.set_budget_mb(1024);
  pool.add(idle_env(1, "a", 128, 30 * kSecondUs));
  pool.add(idle_env(2, "b", 256, 10 * kSecondUs));
  pool.add(idle_env(3, "c", 512, 20 * kSecondUs));
  pool.add(idle_env(4, "a", 128, 10 * kSecondUs));  // ties with 2: the lower id goes first
  EnvInfo busy = idle_env(5, "a", 128, 0);          // the oldest, but busy
  busy.active = 1;
  pool.add(busy);

  CHECK(lru_victims(pool) == std::vector<int64_t>{2, 4, 3, 1});
  CHECK(policy->victims(pool, 100, 0) == std::vector<int64_t>{2});
  CHECK(policy->victims(pool, 256, 0) == std::vector<int64_t>{2});
  CHECK(policy->victims(pool, 300, 0) == std::vector<int64_t>{2, 4});
  CHECK(policy->victims(pool, 500, 0) == std::vector<int64_t>{2, 4, 3});
  // Not enough idle memory: every idle one, and the Scheduler evicts none of them.
  CHECK(policy->victims(pool, 5000, 0) == std::vector<int64_t>{2, 4, 3, 1});
  CHECK(policy->victims(pool, 0, 0).empty());
}

TEST_CASE("keep_alive enough: skips unknown, busy and repeated ids", "[keep_alive]") {
  Pool pool;
  pool.add(idle_env(1, "a", 100, 0));
  EnvInfo busy = idle_env(2, "a", 100, 0);
  busy.active = 1;
  pool.add(busy);
  pool.add(idle_env(3, "a", 100, 0));
  CHECK(keep_alive::enough(pool, {9, 2, 1, 1, 3}, 150) == std::vector<int64_t>{1, 3});
  CHECK(keep_alive::enough(pool, {1, 3}, -5).empty());
}

TEST_CASE("keep_alive helpers: costs fall back in a documented order", "[keep_alive]") {
  Pool pool;
  CHECK(keep_alive::miss_cost_ms(pool, "f", 128) == 0);
  CHECK(keep_alive::hit_cost_ms(pool, "f", 128) == 0);
  pool.costs().add("f", 128, true, 900);
  CHECK(keep_alive::miss_cost_ms(pool, "f", 128) == 900);  // cold alone
  CHECK(keep_alive::hit_cost_ms(pool, "f", 128) == 900);
  pool.costs().add("f", 128, false, 100);
  CHECK(keep_alive::miss_cost_ms(pool, "f", 128) == 800);  // cold - warm
  CHECK(keep_alive::hit_cost_ms(pool, "f", 128) == 100);
  CHECK(keep_alive::miss_cost_ms(pool, "f", 256) == 0);  // per memory size
  pool.costs().add("g", 128, true, 50);
  pool.costs().add("g", 128, false, 80);
  CHECK(keep_alive::miss_cost_ms(pool, "g", 128) == 0);  // never negative
  CHECK(keep_alive::format_number(0.05) == "0.05");
  CHECK(keep_alive::format_number(2) == "2");
}
