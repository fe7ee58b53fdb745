// The simulator's event loop against closed forms and hand-computed traces: what a user
// comparing policies relies on.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "simulation.h"
#include "temp_dir.h"
#include "workload.h"

namespace coldlab::sim {
namespace {

using coldlab::testing::TempDir;

Summary run(const std::string& yaml, const std::string& keep_alive, int64_t budget_mb = 0, uint64_t seed = 1,
            const std::string& scale_out = "lambda") {
  TempDir dir;
  Workload w = load_workload(dir.file("w.yaml", yaml), seed);
  SimulationOptions o;
  o.keep_alive = keep_alive;
  o.scale_out = scale_out;
  o.memory_budget_mb = budget_mb;
  o.seed = seed;
  return simulate(w, o);
}

// One function, requests at `times` (seconds), warm 1 s and cold 2 s.
std::string listed(const std::string& times, int duration, int memory_mb = 256) {
  return "kind: synthetic\nduration: " + std::to_string(duration) +
         "\nfunctions:\n  - name: f\n    memory_mb: " + std::to_string(memory_mb) +
         "\n    arrivals: {process: list, times: [" + times +
         "]}\n    warm: {dist: constant, value: 1}\n    cold: {dist: constant, value: 2}\n";
}

TEST_CASE("simulate: keep-alive none makes every request cold", "[simulator]") {
  const Summary s = run(
      "kind: synthetic\nduration: 3600\nfunctions:\n  - name: f\n    arrivals: {process: poisson, rate: 3}\n"
      "    warm: {dist: exponential, mean: 0.1}\n    cold: {dist: exponential, mean: 0.5}\n",
      "none");
  REQUIRE(s.invocations > 10000);
  CHECK(s.cold_starts == s.invocations);
  CHECK(s.cold_fraction == 1.0);
  CHECK(s.p75_app_cold_pct == 100.0);
  CHECK(s.environments == s.invocations);
  CHECK(s.avg_idle == Approx(0).margin(1e-12));
  CHECK(s.wasted_memory_gb_s == 0);
  // Little's law with every request cold: 3/s x 0.5 s.
  CHECK(s.avg_busy == Approx(1.5).epsilon(0.03));
}

TEST_CASE("simulate: a fixed TTL under sparse Poisson arrivals is cold with probability exp(-rate x ttl)",
          "[simulator]") {
  // One environment at a time (requests last 1 ms, ten minutes apart on average): a request
  // is cold exactly when the gap since the previous one's end exceeds the TTL.
  for (const double ttl : {300.0, 600.0, 1200.0}) {
    const double rate = 1.0 / 600;
    const Summary s = run("kind: synthetic\nduration: 60000000\nfunctions:\n  - name: f\n"
                          "    arrivals: {process: poisson, rate: " + std::to_string(rate) + "}\n"
                          "    warm: {dist: constant, value: 0.001}\n    cold: {dist: constant, value: 0.001}\n",
                          "fixed:ttl=" + std::to_string(static_cast<int>(ttl)) + "s", 0, 7);
    INFO("ttl " << ttl << " invocations " << s.invocations);
    REQUIRE(s.invocations > 90000);
    CHECK(s.cold_fraction == Approx(std::exp(-rate * ttl)).margin(0.01));
  }
}

TEST_CASE("simulate: busy environments obey Little's law, idle ones are what the TTL keeps", "[simulator]") {
  const Summary s = run(
      "kind: synthetic\nduration: 20000\nfunctions:\n  - name: f\n    arrivals: {process: poisson, rate: 20}\n"
      "    warm: {dist: lognormal, mean: 0.3, sd: 0.2}\n    cold: {dist: constant, value: 1.5}\n",
      "fixed:ttl=10m", 0, 3);
  REQUIRE(s.invocations > 350000);
  // Cold starts are rare at this rate: E[service] is the warm mean.
  CHECK(s.cold_fraction < 0.001);
  CHECK(s.avg_busy == Approx(20 * 0.3).epsilon(0.02));
  CHECK(s.avg_envs == Approx(s.avg_busy + s.avg_idle));
  CHECK(s.mean_latency_s == Approx(0.3).epsilon(0.02));
}

TEST_CASE("simulate: a hand-computed trace under a fixed TTL (a request at exactly end + ttl is warm)",
          "[simulator]") {
  // f (256 MB): requests at 0, 5, 16, 30 s; cold 2 s, warm 1 s; TTL 10 s.
  //   0 cold, busy to 2; 5 warm (idle since 2), to 6; 16 warm (kept until exactly 16), to 17;
  //   evicted at 27; 30 cold, to 32; idle to the end at 40.
  const Summary s = run(listed("0, 5, 16, 30", 40), "fixed:ttl=10s");
  CHECK(s.invocations == 4);
  CHECK(s.cold_starts == 2);
  CHECK(s.environments == 2);
  CHECK(s.span_s == 40);
  // Idle: 2-5, 6-16, 17-27, 32-40 = 31 s at 0.25 GB.
  CHECK(s.wasted_memory_gb_s == Approx(31 * 0.25));
  CHECK(s.avg_envs == Approx((27.0 + 10.0) / 40));
  CHECK(s.avg_busy == Approx(6.0 / 40));
  CHECK(s.mean_lifespan_s == Approx((27.0 + 10.0) / 2));  // the second one counts until the end
  CHECK(s.mean_latency_s == Approx((2.0 + 1 + 1 + 2) / 4));
}

TEST_CASE("simulate: under a memory budget, LRU evicts the least recently used idle environment", "[simulator]") {
  // a, b, c at 256 MB each, budget 512 MB; requests a@0 b@10 a@20 c@30 a@40 b@50.
  //   c@30 needs room: b (idle since 12) goes, not a (idle since 21): cold.
  //   a@40 warm. b@50 needs room: c (idle since 32) goes, not a (41): cold.
  const std::string yaml =
      "kind: synthetic\nduration: 60\nfunctions:\n"
      "  - {name: a, memory_mb: 256, arrivals: {process: list, times: [0, 20, 40]}, warm: 1, cold: 2}\n"
      "  - {name: b, memory_mb: 256, arrivals: {process: list, times: [10, 50]}, warm: 1, cold: 2}\n"
      "  - {name: c, memory_mb: 256, arrivals: {process: list, times: [30]}, warm: 1, cold: 2}\n";
  const Summary s = run(yaml, "lru", 512);
  CHECK(s.invocations == 6);
  CHECK(s.cold_starts == 4);
  CHECK(s.rejected == 0);
  CHECK(s.environments == 4);
  // Per app: a 1/3 cold, b 2/2, c 1/1: the 75th percentile of {33.3, 100, 100} is 100.
  CHECK(s.apps == 3);
  CHECK(s.p75_app_cold_pct == Approx(100));
}

TEST_CASE("simulate: a request that no eviction can make room for is rejected, not cold", "[simulator]") {
  // Budget 256 MB: a is busy (cold, 10 s) when b arrives, and busy environments are never
  // evicted.
  const std::string yaml =
      "kind: synthetic\nduration: 60\nfunctions:\n"
      "  - {name: a, memory_mb: 256, arrivals: {process: list, times: [0]}, warm: 1, cold: 10}\n"
      "  - {name: b, memory_mb: 256, arrivals: {process: list, times: [1, 20]}, warm: 1, cold: 2}\n";
  const Summary s = run(yaml, "lru", 256);
  CHECK(s.invocations == 3);
  CHECK(s.rejected == 1);
  CHECK(s.rejected_fraction == Approx(1.0 / 3));
  CHECK(s.cold_starts == 2);      // a@0, and b@20 after a's environment was evicted for it
  CHECK(s.cold_fraction == 1.0);  // of the requests that ran
}

TEST_CASE("simulate: keep-warm pings keep an environment past a gap the TTL alone would not", "[simulator]") {
  // Requests 50 minutes apart. fixed:ttl=20m loses the environment; ping every 5 m with a
  // 20 m TTL keeps it warm, at the cost of the pings' memory time.
  const std::string yaml = listed("0, 3000", 3600);
  const Summary fixed = run(yaml, "fixed:ttl=20m");
  CHECK(fixed.cold_starts == 2);
  const Summary ping = run(yaml, "ping:every=5m,ttl=20m");
  CHECK(ping.invocations == 2);
  CHECK(ping.cold_starts == 1);
  CHECK(ping.pings >= 10);
  CHECK(ping.wasted_memory_gb_s > fixed.wasted_memory_gb_s);
}

TEST_CASE("simulate: provisioned environments are loaded ahead and serve every request warm", "[simulator]") {
  const Summary s = run(listed("100, 200, 300", 400), "provisioned:n=1");
  CHECK(s.invocations == 3);
  CHECK(s.cold_starts == 0);
  CHECK(s.environments == 1);
  // Loaded from 0 to the end, busy 3 x 1 s.
  CHECK(s.wasted_memory_gb_s == Approx((400 - 3) * 0.25));
}

TEST_CASE("simulate: the account concurrency limit rejects what exceeds it", "[simulator]") {
  // 30 requests at once, each busy 5 s, under an account limit of 10.
  const std::string yaml = listed("0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0", 60);
  const Summary s = run(yaml, "fixed:ttl=10m", 0, 1, "lambda:concurrency=10");
  CHECK(s.invocations == 30);
  CHECK(s.rejected == 20);
  CHECK(s.cold_starts == 10);
}

TEST_CASE("simulate: the same workload, policies and seed give the same summary, another seed another",
          "[simulator]") {
  const std::string yaml =
      "kind: synthetic\nduration: 7200\nfunctions:\n"
      "  - {name: a, memory_mb: 256, arrivals: {process: poisson, rate: 0.05}, warm: {dist: exponential, mean: 0.4}, "
      "cold: {dist: lognormal, mean: 2, sd: 1}}\n"
      "  - {name: b, memory_mb: 512, arrivals: {process: poisson, rate: 0.01}, warm: {dist: exponential, mean: 1}, "
      "cold: {dist: exponential, mean: 3}}\n";
  auto without_wall = [](Summary s) {
    s.wall_s = 0;
    s.workload.clear();
    return summary_json(s);
  };
  const std::string first = without_wall(run(yaml, "hybrid-histogram", 0, 42));
  CHECK(without_wall(run(yaml, "hybrid-histogram", 0, 42)) == first);
  CHECK(without_wall(run(yaml, "hybrid-histogram", 0, 43)) != first);
}

TEST_CASE("simulate: unknown policies, and caching policies without a memory budget, are refused",
          "[simulator]") {
  CHECK_THROWS_WITH(run(listed("0", 10), "no-such-policy"), Catch::Contains("no-such-policy"));
  CHECK_THROWS_WITH(run(listed("0", 10), "lru"), Catch::Contains("--memory-budget"));
}

}  // namespace
}  // namespace coldlab::sim
