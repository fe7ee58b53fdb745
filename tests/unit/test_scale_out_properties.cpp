// Property tests for the scale-out policies over long random sequences. The test plays
// the Scheduler with a hand-kept Pool (requests arrive, finish, idle environments are
// evicted or pre-warmed, time moves on) and, before every route(), works out from the
// pool alone what the policy must answer: which limit, if any, is reached, and which
// environment the routing rule prefers. The rate limit is modelled independently of
// TokenBucket, as GCRA (a token every T, at most `capacity` at once).
#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "policy_spec.h"
#include "policy_fixtures.h"
#include "registry.h"
#include "scale_out/factories.h"

using namespace coldlab::policies;

namespace {

using Kind = Route::Kind;

// GCRA: conforming at t unless t < tat - (capacity - 1) * interval.
struct Gcra {
  int64_t capacity;
  TimeUs interval;
  std::optional<TimeUs> tat;
  bool conforms(TimeUs t) const { return !tat || t >= *tat - (capacity - 1) * interval; }
  void take(TimeUs t) { tat = std::max(t, tat.value_or(t)) + interval; }
};

struct Mix {
  int request = 45;  // percent of steps
  int finish = 35;
  int evict = 8;
  int prewarm = 2;  // the rest advance time
  TimeUs max_step_us = 300'000;
  int hot = 0;  // percent of requests that go to function "a" (the rest: any)
};

struct Counts {
  std::map<std::string, int> throttles;  // by reason
  int starts = 0, reuses = 0, queued = 0;
};

class Sim {
 public:
  Sim(const std::string& spec, uint64_t seed, Mix mix) : rng_(seed), mix_(mix), policy_(make_scale_out(spec)) {
    for (const auto& [name, reserved] : std::vector<std::pair<std::string, std::optional<int>>>{
             {"a", std::nullopt}, {"b", std::nullopt}, {"r", 3}, {"z", 0}}) {
      FunctionInfo f;
      f.name = name;
      f.reserved_concurrency = reserved;
      pool_.set_function(f);
      names_.push_back(name);
    }
  }

  void run(int steps, const std::function<Route(const std::string&, int)>& expect) {
    for (int i = 0; i < steps; ++i) {
      const int dice = uniform(0, 99);
      if (dice < mix_.request) {
        const bool hot = uniform(0, 99) < mix_.hot;
        request(hot ? names_[0] : names_[uniform(0, static_cast<int>(names_.size()) - 1)], expect);
      } else if (dice < mix_.request + mix_.finish) {
        finish_one();
      } else if (dice < mix_.request + mix_.finish + mix_.evict) {
        evict_one();
      } else if (dice < mix_.request + mix_.finish + mix_.evict + mix_.prewarm) {
        prewarm_one();
      } else {
        now_ += uniform(0, static_cast<int>(mix_.max_step_us));
        expire_queues();
      }
      check_invariants();
    }
  }

  // What the test knows about the pool, computed without the policy's helpers.
  int concurrency_of(const std::string& fn) const {
    int n = 0;
    for (const auto& [id, e] : pool_.environments())
      if (e.function == fn) n += e.active;
    return n;
  }
  int environments_of(const std::string& fn) const {
    int n = 0;
    for (const auto& [id, e] : pool_.environments()) n += e.function == fn;
    return n;
  }
  // Lambda's concurrency limits, from their definition.
  std::optional<std::string> concurrency_limit(const std::string& fn, int64_t account) const {
    const std::optional<int> reserved = pool_.functions().at(fn).reserved_concurrency;
    if (reserved) {
      if (concurrency_of(fn) >= *reserved)
        return std::string(kReservedFunctionConcurrentInvocationLimitExceeded);
      return std::nullopt;
    }
    int64_t reservations = 0, unreserved_running = 0;
    for (const auto& [name, f] : pool_.functions()) {
      if (f.reserved_concurrency)
        reservations += *f.reserved_concurrency;
      else
        unreserved_running += concurrency_of(name);
    }
    if (unreserved_running >= std::max<int64_t>(account - reservations, 0))
      return std::string(kConcurrentInvocationLimitExceeded);
    return std::nullopt;
  }
  // The environment routing must pick among those of `fn` with fewer than `below`
  // requests: least loaded, then provisioned, then last used (mru newest, lru oldest),
  // then id (mru higher, lru lower).
  std::optional<int64_t> preferred(const std::string& fn, int below, bool lru) const {
    std::vector<const EnvInfo*> c;
    for (const auto& [id, e] : pool_.environments())
      if (e.function == fn && e.active < below) c.push_back(&e);
    if (c.empty()) return std::nullopt;
    auto key = [lru](const EnvInfo* e) {
      const int64_t sign = lru ? 1 : -1;
      return std::make_tuple(e->active, !e->provisioned, sign * e->last_used_us, sign * e->id);
    };
    std::sort(c.begin(), c.end(), [&](const EnvInfo* x, const EnvInfo* y) { return key(x) < key(y); });
    return c.front()->id;
  }

  int queued(const std::string& fn) const {
    auto it = queues_.find(fn);
    return it == queues_.end() ? 0 : static_cast<int>(it->second.size());
  }
  TimeUs now() const { return now_; }
  const Counts& counts() const { return counts_; }
  const Pool& pool() const { return pool_; }
  ScaleOutPolicy& policy() { return *policy_; }

  // Extra checks after every step (per policy).
  std::function<void(const Pool&)> invariant;

 private:
  // Not std::uniform_int_distribution, whose draws differ between standard libraries: the
  // same seed should give the same sequence everywhere. The modulo bias does not matter.
  int uniform(int lo, int hi) { return lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1)); }

  void request(const std::string& fn, const std::function<Route(const std::string&, int)>& expect) {
    const int waiting = queued(fn);
    const Route want = expect(fn, waiting);
    const Route got = policy_->route(fn, waiting, pool_, now_);
    CAPTURE(fn, now_, waiting, got.reason, got.message);
    REQUIRE(static_cast<int>(got.kind) == static_cast<int>(want.kind));
    switch (got.kind) {
      case Kind::kReuse: {
        REQUIRE(got.environment_id == want.environment_id);
        const EnvInfo* e = pool_.find(got.environment_id);
        REQUIRE(e);
        REQUIRE(e->function == fn);
        REQUIRE(e->active < policy_->per_environment_concurrency());
        pool_.start_request(e->id);
        ++counts_.reuses;
        break;
      }
      case Kind::kStart: {
        EnvInfo e;
        e.id = next_id_++;
        e.function = fn;
        e.memory_mb = 128;
        e.created_us = e.last_used_us = now_;
        e.invocations = 1;
        e.active = 1;
        pool_.add(e);
        policy_->on_environment_started(e, now_);
        ++counts_.starts;
        break;
      }
      case Kind::kQueue:
        REQUIRE(got.queue_deadline_us == want.queue_deadline_us);
        queues_[fn].push_back(got.queue_deadline_us);
        ++counts_.queued;
        break;
      case Kind::kThrottle:
        REQUIRE(got.reason == want.reason);
        REQUIRE_FALSE(got.message.empty());
        ++counts_.throttles[got.reason];
        break;
    }
  }

  void finish_one() {
    std::vector<const EnvInfo*> busy;
    for (const auto& [id, e] : pool_.environments())
      if (e.active > 0) busy.push_back(pool_.find(id));
    if (busy.empty()) return;
    const EnvInfo* e = busy[uniform(0, static_cast<int>(busy.size()) - 1)];
    pool_.end_request(e->id, now_);
    // The Scheduler hands a freed environment to its function's queue first.
    auto& q = queues_[e->function];
    if (!q.empty() && e->active < policy_->per_environment_concurrency()) {
      q.pop_front();
      pool_.start_request(e->id);
    }
  }

  void evict_one() {
    const std::vector<const EnvInfo*> idle = pool_.idle();
    if (idle.empty()) return;
    pool_.remove(idle[uniform(0, static_cast<int>(idle.size()) - 1)]->id);
  }

  void prewarm_one() {
    EnvInfo e;
    e.id = next_id_++;
    e.function = names_[uniform(0, static_cast<int>(names_.size()) - 1)];
    e.memory_mb = 128;
    e.created_us = e.last_used_us = now_;
    e.provisioned = uniform(0, 1) == 1;
    pool_.add(e);
  }

  void expire_queues() {
    for (auto& [fn, q] : queues_)
      while (!q.empty() && q.front() <= now_) q.pop_front();
  }

  void check_invariants() {
    // One assertion per step, not per environment: the runs are long.
    int64_t over = 0;
    for (const auto& [id, e] : pool_.environments())
      if (e.active < 0 || e.active > policy_->per_environment_concurrency()) over = id;
    REQUIRE(over == 0);
    if (invariant) invariant(pool_);
  }

  std::mt19937_64 rng_;
  Mix mix_;
  std::unique_ptr<ScaleOutPolicy> policy_;
  Pool pool_;
  std::vector<std::string> names_;
  std::map<std::string, std::deque<TimeUs>> queues_;
  TimeUs now_ = 1'700'000'000'000'000;
  int64_t next_id_ = 1;
  Counts counts_;
};

// Runs lambda with the given rate model and checks every answer.
Counts run_lambda(const std::string& spec, int64_t account, std::optional<Gcra> rate, bool per_function,
                  uint64_t seed, Mix mix, int steps) {
  const bool lru = spec.find("routing=lru") != std::string::npos;
  Sim sim(spec, seed, mix);
  std::map<std::string, Gcra> buckets;  // per function, or one under ""
  sim.run(steps, [&](const std::string& fn, int) {
    if (auto reason = sim.concurrency_limit(fn, account)) return Route::throttle(*reason, "");
    if (auto id = sim.preferred(fn, 1, lru)) return Route::reuse(*id);
    if (!rate) return Route::start();
    Gcra& bucket = buckets.try_emplace(per_function ? fn : "", *rate).first->second;
    if (!bucket.conforms(sim.now())) return Route::throttle(kFunctionInvocationRateLimitExceeded, "");
    bucket.take(sim.now());  // the route will start it
    return Route::start();
  });
  // The limits held at the end too (reservations do not change during the run).
  CHECK(sim.concurrency_of("r") <= 3);
  CHECK(sim.concurrency_of("z") == 0);
  CHECK(sim.concurrency_of("a") + sim.concurrency_of("b") <= account - 3);
  return sim.counts();
}

}  // namespace

TEST_CASE("scale_out properties: lambda legacy rate and concurrency limits over random sequences",
          "[scale_out][property]") {
  for (const char* routing : {"mru", "lru"}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      CAPTURE(routing, seed);
      const std::string spec = std::string("lambda:concurrency=30,rate=legacy,burst=20,routing=") + routing;
      Mix mix;
      mix.request = 55;
      mix.finish = 25;
      mix.evict = 8;
      mix.max_step_us = 150'000;
      mix.hot = 40;
      Counts c = run_lambda(spec, 30, Gcra{20, 120'000, std::nullopt}, false, seed, mix, 20000);
      // Every limit was actually reached somewhere in the run.
      CHECK(c.throttles[kReservedFunctionConcurrentInvocationLimitExceeded] > 0);
      CHECK(c.throttles[kConcurrentInvocationLimitExceeded] > 0);
      CHECK(c.throttles[kFunctionInvocationRateLimitExceeded] > 0);
      CHECK(c.starts > 0);
      CHECK(c.reuses > 0);
    }
  }
}

TEST_CASE("scale_out properties: lambda 2023 rate per function over random sequences",
          "[scale_out][property]") {
  // Mostly starts for one function: requests find few idle environments, time moves slowly.
  Mix burst;
  burst.request = 38;
  burst.finish = 30;
  burst.evict = 29;
  burst.prewarm = 1;
  burst.max_step_us = 20'000;
  burst.hot = 80;
  for (const char* routing : {"mru", "lru"}) {
    CAPTURE(routing);
    const std::string spec = std::string("lambda:concurrency=3000,routing=") + routing;
    Counts c = run_lambda(spec, 3000, Gcra{1000, 10'000, std::nullopt}, true, 42, burst, 12000);
    CHECK(c.throttles[kFunctionInvocationRateLimitExceeded] > 0);
    CHECK(c.starts > 1000);
  }
}

TEST_CASE("scale_out properties: lambda rate none throttles only on concurrency", "[scale_out][property]") {
  Counts c = run_lambda("lambda:concurrency=10,rate=none", 10, std::nullopt, false, 7, Mix{}, 20000);
  CHECK(c.throttles[kFunctionInvocationRateLimitExceeded] == 0);
  CHECK(c.throttles[kConcurrentInvocationLimitExceeded] > 0);
}

TEST_CASE("scale_out properties: per-env-concurrency never exceeds n and throttles only at a limit",
          "[scale_out][property]") {
  for (const char* routing : {"mru", "lru"}) {
    for (uint64_t seed : {11u, 12u}) {
      CAPTURE(routing, seed);
      const bool lru = std::string(routing) == "lru";
      Sim sim(std::string("per-env-concurrency:n=3,concurrency=20,routing=") + routing, seed, Mix{});
      REQUIRE(sim.policy().per_environment_concurrency() == 3);
      sim.run(20000, [&](const std::string& fn, int) {
        if (auto reason = sim.concurrency_limit(fn, 20)) return Route::throttle(*reason, "");
        if (auto id = sim.preferred(fn, 3, lru)) return Route::reuse(*id);
        return Route::start();
      });
      Counts c = sim.counts();
      CHECK(c.throttles[kReservedFunctionConcurrentInvocationLimitExceeded] > 0);
      CHECK(c.throttles[kConcurrentInvocationLimitExceeded] > 0);
      CHECK(c.reuses > 0);
      CHECK(c.starts > 0);
    }
  }
}

TEST_CASE("scale_out properties: max-instances never exceeds m and queues only at m",
          "[scale_out][property]") {
  Mix mix;
  mix.prewarm = 0;  // pre-warms could exceed m by themselves
  for (const char* routing : {"mru", "lru"}) {
    for (uint64_t seed : {21u, 22u}) {
      CAPTURE(routing, seed);
      const bool lru = std::string(routing) == "lru";
      Sim sim(std::string("max-instances:m=3,queue=4,queue_timeout=1s,routing=") + routing, seed, mix);
      sim.invariant = [&](const Pool&) {
        for (const char* fn : {"a", "b", "r", "z"}) REQUIRE(sim.environments_of(fn) <= 3);
      };
      sim.run(20000, [&](const std::string& fn, int waiting) {
        if (auto id = sim.preferred(fn, 1, lru)) return Route::reuse(*id);
        if (sim.environments_of(fn) < 3) return Route::start();
        if (waiting >= 4) return Route::throttle(kReservedFunctionConcurrentInvocationLimitExceeded, "");
        return Route::queue(sim.now() + kSecondUs);
      });
      Counts c = sim.counts();
      CHECK(c.queued > 0);
      CHECK(c.throttles[kReservedFunctionConcurrentInvocationLimitExceeded] > 0);
      // Reservations do not apply to max-instances: z (reserved 0) runs.
      CHECK(c.throttles.count(kConcurrentInvocationLimitExceeded) == 0);
    }
  }
}
