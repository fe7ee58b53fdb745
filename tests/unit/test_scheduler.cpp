// The Scheduler with real policies: hand-worked sequences, and properties over random ones.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "registry.h"
#include "scheduler.h"

using coldlab::policies::FunctionInfo;
using coldlab::policies::kForever;
using coldlab::policies::kSecondUs;
using coldlab::policies::make_keep_alive;
using coldlab::policies::make_scale_out;
using coldlab::policies::Scheduler;
using coldlab::policies::TimeUs;
using Kind = Scheduler::Admission::Kind;

namespace {

struct Harness {
  int64_t next_id = 100;
  Scheduler s;
  Harness(const std::string& keep_alive, const std::string& scale_out, int64_t budget_mb = 0)
      : s({budget_mb}, make_keep_alive(keep_alive), make_scale_out(scale_out), [this] { return next_id++; }) {}
};

}  // namespace

TEST_CASE("scheduler: fixed TTL reuses an environment inside the TTL and not after", "[scheduler]") {
  Harness h("fixed:ttl=60s", "lambda");
  h.s.set_function({"f", 512, std::nullopt});
  const TimeUs t0 = 1'000 * kSecondUs;

  auto a = h.s.request("f", t0);
  REQUIRE(a.kind == Kind::kRun);
  CHECK(a.placement.cold);
  const int64_t env = a.placement.environment_id;
  h.s.finished(env, true, true, 100.0, t0 + kSecondUs);
  CHECK(h.s.next_deadline() == t0 + kSecondUs + 60 * kSecondUs);

  // 30 s idle: warm, the same environment.
  CHECK(h.s.take_work(t0 + 31 * kSecondUs).empty());
  auto b = h.s.request("f", t0 + 31 * kSecondUs);
  REQUIRE(b.kind == Kind::kRun);
  CHECK_FALSE(b.placement.cold);
  CHECK(b.placement.environment_id == env);
  h.s.finished(env, true, false, 5.0, t0 + 32 * kSecondUs);

  // 90 s idle: the TTL evicted it at 92 s; the next request starts a new one.
  auto work = h.s.take_work(t0 + 92 * kSecondUs);
  REQUIRE(work.evict.size() == 1);
  CHECK(work.evict[0].environment_id == env);
  CHECK(work.evict[0].reason == "idle");
  auto c = h.s.request("f", t0 + 122 * kSecondUs);
  REQUIRE(c.kind == Kind::kRun);
  CHECK(c.placement.cold);
  CHECK(c.placement.environment_id != env);

  const auto costs = h.s.pool().costs().get("f", 512);
  CHECK(costs.cold_ms == Approx(100.0));
  CHECK(costs.warm_ms == Approx(5.0));
}

TEST_CASE("scheduler: a busy environment is never reused by a second request under lambda",
          "[scheduler]") {
  Harness h("fixed:ttl=60s", "lambda");
  h.s.set_function({"f", 128, std::nullopt});
  auto a = h.s.request("f", 0);
  auto b = h.s.request("f", 1);
  REQUIRE(a.kind == Kind::kRun);
  REQUIRE(b.kind == Kind::kRun);
  CHECK(b.placement.cold);
  CHECK(a.placement.environment_id != b.placement.environment_id);
}

TEST_CASE("scheduler: under a memory budget a start evicts idle environments and never busy ones",
          "[scheduler]") {
  Harness h("lru", "lambda", 1024);
  h.s.set_function({"a", 512, std::nullopt});
  h.s.set_function({"b", 512, std::nullopt});
  h.s.set_function({"c", 512, std::nullopt});
  auto a = h.s.request("a", 0);
  auto b = h.s.request("b", 1);
  h.s.finished(a.placement.environment_id, true, true, 10, 2);
  // 1024 MB held: a idle, b busy. c needs 512: a goes (the only idle one).
  auto c = h.s.request("c", 3);
  REQUIRE(c.kind == Kind::kRun);
  auto work = h.s.take_work(3);
  REQUIRE(work.evict.size() == 1);
  CHECK(work.evict[0].environment_id == a.placement.environment_id);
  CHECK(work.evict[0].reason == "memory");
  CHECK(h.s.pool().used_mb() == 1024);
  // Everything busy now: a fourth request cannot be placed and nothing is evicted.
  auto d = h.s.request("a", 4);
  CHECK(d.kind == Kind::kThrottled);
  CHECK(d.reason == "ConcurrentInvocationLimitExceeded");
  CHECK(h.s.take_work(4).evict.empty());
  CHECK(h.s.pool().find(b.placement.environment_id) != nullptr);
}

TEST_CASE("scheduler: max-instances queues first-in first-out and expires at the deadline",
          "[scheduler]") {
  Harness h("fixed:ttl=60s", "max-instances:m=1,queue_timeout=10s");
  h.s.set_function({"f", 128, std::nullopt});
  auto a = h.s.request("f", 0);
  REQUIRE(a.kind == Kind::kRun);
  auto q1 = h.s.request("f", 1);
  auto q2 = h.s.request("f", 2);
  REQUIRE(q1.kind == Kind::kQueued);
  REQUIRE(q2.kind == Kind::kQueued);
  CHECK(h.s.queued("f") == 2);
  // The running request ends: the first queued one gets its environment, warm.
  h.s.finished(a.placement.environment_id, true, true, 10, 5 * kSecondUs);
  auto work = h.s.take_work(5 * kSecondUs);
  REQUIRE(work.dispatch.size() == 1);
  CHECK(work.dispatch[0].ticket == q1.ticket);
  CHECK(work.dispatch[0].placement.environment_id == a.placement.environment_id);
  CHECK_FALSE(work.dispatch[0].placement.cold);
  // The second one waits out its 10 s.
  CHECK(h.s.next_deadline() == 2 + 10 * kSecondUs);
  work = h.s.take_work(2 + 10 * kSecondUs);
  REQUIRE(work.expire.size() == 1);
  CHECK(work.expire[0].ticket == q2.ticket);
  CHECK(h.s.queued("f") == 0);
}

TEST_CASE("scheduler: provisioned environments are started at once and again when one dies",
          "[scheduler]") {
  Harness h("provisioned:n=2", "lambda");
  h.s.set_function({"f", 256, std::nullopt});
  auto work = h.s.take_work(0);
  REQUIRE(work.start.size() == 2);
  CHECK(work.start[0].provisioned);
  CHECK(h.s.pool().of("f").size() == 2);
  // A request uses one of them, warm.
  auto a = h.s.request("f", 10);
  REQUIRE(a.kind == Kind::kRun);
  CHECK_FALSE(a.placement.cold);
  // It crashes: the pool loses it and the policy brings the count back to 2.
  h.s.finished(a.placement.environment_id, false, false, -1, 20);
  work = h.s.take_work(20);
  CHECK(work.start.size() == 1);
  CHECK(h.s.pool().of("f").size() == 2);
}

TEST_CASE("scheduler: ping asks for a keep-warm request every period", "[scheduler]") {
  Harness h("ping:every=5m,ttl=20m", "lambda");
  h.s.set_function({"f", 256, std::nullopt});
  h.s.set_function({"g", 256, std::nullopt});
  TimeUs t = h.s.next_deadline();
  REQUIRE(t != kForever);
  auto work = h.s.take_work(t);
  CHECK(work.ping == std::vector<std::string>{"f", "g"});
  CHECK(h.s.next_deadline() == t + 5 * 60 * kSecondUs);
}

namespace {

// Unloads at once and asks for a pre-warm 10 s later, kept for 5 s: the shape of a Hybrid
// Histogram window, with numbers easy to follow.
class PrewarmLater : public coldlab::policies::KeepAlivePolicy {
 public:
  std::string name() const override { return "prewarm-later"; }
  coldlab::policies::IdleDecision on_idle(const coldlab::policies::EnvInfo& env,
                                          const coldlab::policies::Pool&, TimeUs now) override {
    auto d = coldlab::policies::IdleDecision::evict_now();
    d.prewarm = coldlab::policies::Prewarm{env.function, now + 10 * kSecondUs, now + 15 * kSecondUs, 1, false};
    return d;
  }
};

}  // namespace

TEST_CASE("scheduler: a pre-warm starts at its time and is warm for a request inside its window",
          "[scheduler]") {
  int64_t next_id = 1;
  Scheduler s({0}, std::make_unique<PrewarmLater>(), make_scale_out("lambda"), [&] { return next_id++; });
  s.set_function({"f", 256, std::nullopt});
  auto a = s.request("f", 0);
  s.finished(a.placement.environment_id, true, true, 50, kSecondUs);
  auto work = s.take_work(kSecondUs);
  REQUIRE(work.evict.size() == 1);  // unloaded at once
  CHECK(s.next_deadline() == 11 * kSecondUs);
  work = s.take_work(11 * kSecondUs);
  REQUIRE(work.start.size() == 1);
  CHECK(work.start[0].function == "f");
  CHECK(work.start[0].memory_mb == 256);
  const int64_t prewarmed = work.start[0].environment_id;
  // Inside the window: the pre-warmed environment serves the request, warm.
  auto b = s.request("f", 12 * kSecondUs);
  REQUIRE(b.kind == Kind::kRun);
  CHECK_FALSE(b.placement.cold);
  CHECK(b.placement.environment_id == prewarmed);
  s.finished(prewarmed, true, false, 5, 13 * kSecondUs);
  // Unused pre-warms end with their window.
  work = s.take_work(13 * kSecondUs);
  REQUIRE(work.evict.size() == 1);
  work = s.take_work(23 * kSecondUs);
  REQUIRE(work.start.size() == 1);
  CHECK(s.next_deadline() == 28 * kSecondUs);
  work = s.take_work(28 * kSecondUs);
  REQUIRE(work.evict.size() == 1);
  CHECK(s.pool().environments().empty());
}

// ---- properties over random sequences -------------------------------------------------

namespace {

struct Mirror {
  std::map<int64_t, int> active;     // by environment, as the test saw placements and ends
  std::map<int64_t, std::string> fn;
};

void check_work(const Scheduler::Work& work, Mirror& m, int64_t budget, const Scheduler& s) {
  for (const auto& e : work.evict) {
    INFO("evicted environment " << e.environment_id);
    CHECK(m.active[e.environment_id] == 0);
    m.active.erase(e.environment_id);
  }
  for (const auto& st : work.start) m.active[st.environment_id] = 0, m.fn[st.environment_id] = st.function;
  for (const auto& d : work.dispatch) ++m.active[d.placement.environment_id];
  if (budget > 0) CHECK(s.pool().used_mb() <= budget);
}

}  // namespace

TEST_CASE("scheduler: properties over random sequences", "[scheduler][property]") {
  const std::string keep_alive = GENERATE(as<std::string>{}, "fixed:ttl=30s", "none", "lru", "greedy-dual",
                                          "landlord", "freq", "size", "rand:seed=3", "halving:period=20s",
                                          "hybrid-histogram:min_its=3", "provisioned:n=1,ttl=10s",
                                          "ping:every=15s,ttl=20s");
  const std::string scale_out = GENERATE(as<std::string>{}, "lambda:concurrency=6,rate=none",
                                         "per-env-concurrency:n=3,concurrency=8",
                                         "max-instances:m=2,queue_timeout=5s");
  CAPTURE(keep_alive, scale_out);
  const int64_t budget = 2048;
  Harness h(keep_alive, scale_out, budget);
  const std::vector<FunctionInfo> functions = {{"a", 256, std::nullopt}, {"b", 512, 2}, {"c", 1024, std::nullopt}};
  for (const auto& f : functions) h.s.set_function(f);
  const int per_env = h.s.scale_out().per_environment_concurrency();

  std::mt19937_64 rng(42);
  Mirror m;
  TimeUs now = 0;
  int placed = 0, throttled = 0;
  for (int step = 0; step < 3000; ++step) {
    now += static_cast<TimeUs>(rng() % (3 * kSecondUs));
    check_work(h.s.take_work(now), m, budget, h.s);
    const int op = static_cast<int>(rng() % 10);
    if (op < 5) {
      const FunctionInfo& f = functions[rng() % functions.size()];
      // What the limits allow, computed here independently of the policies.
      // Lambda's unreserved pool: the account limit less every reservation, shared by the
      // functions without one.
      const int running_unreserved = h.s.pool().concurrency("a") + h.s.pool().concurrency("c");
      const int running_f = h.s.pool().concurrency(f.name);
      int64_t busy_mb = 0;
      for (const auto& [id, env] : h.s.pool().environments())
        if (!env.idle() || env.provisioned) busy_mb += env.memory_mb;  // provisioned ones are kept
      bool idle_or_shared = false;
      for (const auto* env : h.s.pool().of(f.name)) idle_or_shared |= env->active < per_env;
      auto a = h.s.request(f.name, now);
      if (a.kind == Kind::kRun) {
        ++placed;
        CHECK(a.placement.environment_id > 0);
        if (a.placement.cold) m.fn[a.placement.environment_id] = f.name;
        CHECK(++m.active[a.placement.environment_id] <= per_env);
        CHECK(h.s.pool().used_mb() <= budget);
      } else if (a.kind == Kind::kThrottled) {
        ++throttled;
        INFO("throttled: " << a.reason << ": " << a.message);
        const bool reserved_full = f.reserved_concurrency && running_f >= *f.reserved_concurrency;
        const int account_limit = scale_out.rfind("lambda", 0) == 0 ? 6
                                  : scale_out.rfind("per-env", 0) == 0 ? 8 : 1 << 30;
        const bool account_full = !f.reserved_concurrency && running_unreserved >= account_limit - 2;
        const bool memory_full = !idle_or_shared && busy_mb + f.memory_mb > budget;
        CHECK((reserved_full || account_full || memory_full));
      }
    } else if (op < 9) {
      // A random busy environment finishes a request; now and then it crashes.
      std::vector<int64_t> busy;
      for (const auto& [id, n] : m.active)
        if (n > 0) busy.push_back(id);
      if (busy.empty()) continue;
      const int64_t id = busy[rng() % busy.size()];
      const bool reusable = rng() % 10 != 0;
      --m.active[id];
      if (!reusable) m.active.erase(id);
      h.s.finished(id, reusable, false, 10.0, now);
      if (!reusable) {
        // Requests still counted on a crashed shared environment are lost with it.
        CHECK(h.s.pool().find(id) == nullptr);
      }
    } else {
      // An idle environment dies on its own.
      std::vector<int64_t> idle;
      for (const auto* env : h.s.pool().idle()) idle.push_back(env->id);
      if (idle.empty()) continue;
      const int64_t id = idle[rng() % idle.size()];
      h.s.removed(id, now);
      m.active.erase(id);
    }
    check_work(h.s.take_work(now), m, budget, h.s);
    // The pool and the test agree on who is busy.
    for (const auto& [id, env] : h.s.pool().environments()) {
      INFO("environment " << id);
      CHECK(env.active == m.active[id]);
      CHECK(env.active <= per_env);
    }
  }
  CHECK(placed > 100);
  (void)throttled;
}
