// Sweeps: the grid with its baseline, results independent of the number of threads, the
// normalisation, and the table's files.
#include <catch2/catch.hpp>

#include "metrics.h"
#include "sweep.h"
#include "temp_dir.h"

namespace coldlab::sim {
namespace {

using coldlab::testing::TempDir;

TEST_CASE("sweep: the grid is budgets x policies, with fixed 10 min added once per budget", "[simulator]") {
  auto points = sweep_points({"lru", "greedy-dual"}, {1024, 2048});
  REQUIRE(points.size() == 6);
  CHECK(points[0].keep_alive == "lru");
  CHECK(points[0].memory_budget_mb == 1024);
  CHECK(points[2].keep_alive == kBaselineKeepAlive);
  CHECK(points[2].baseline_only);
  CHECK(points[5].memory_budget_mb == 2048);
  // Given already, under another spelling, it is not added twice.
  points = sweep_points({"fixed:ttl=600", "none"}, {});
  REQUIRE(points.size() == 2);
  CHECK(points[0].memory_budget_mb == 0);
  CHECK_FALSE(points[0].baseline_only);
}

TEST_CASE("sweep: the same points give the same summaries on one thread or four", "[simulator]") {
  TempDir dir;
  const std::string file = dir.file(
      "w.yaml",
      "kind: synthetic\nduration: 3h\nfunctions:\n"
      "  - {name: a, memory_mb: 256, arrivals: {process: poisson, rate: 0.2}, warm: {dist: exponential, mean: 0.4}, "
      "cold: {dist: exponential, mean: 2}}\n"
      "  - {name: b, memory_mb: 512, arrivals: {process: poisson, rate: 0.004}, warm: 1, cold: 3}\n"
      "  - {name: c, memory_mb: 1024, arrivals: {process: fixed, interval: 700}, warm: 1, init: 2}\n");
  const auto points = sweep_points({"lru", "greedy-dual", "fixed:ttl=5m", "hybrid-histogram"}, {1024, 2048});
  SweepOptions o;
  o.workload = file;
  o.seed = 5;
  o.jobs = 1;
  std::vector<Summary> one = run_sweep(points, o);
  o.jobs = 4;
  std::vector<Summary> four = run_sweep(points, o);
  REQUIRE(one.size() == points.size());
  for (size_t i = 0; i < one.size(); ++i) {
    one[i].wall_s = four[i].wall_s = 0;
    CHECK(summary_json(one[i]) == summary_json(four[i]));
    CHECK(one[i].memory_budget_mb == points[i].memory_budget_mb);
  }
  // A tighter budget costs cold starts under the caching policies.
  CHECK(one[0].cold_starts >= one[5].cold_starts);
}

TEST_CASE("sweep: wasted memory is normalised to fixed 10 min of the same budget", "[simulator]") {
  std::vector<Summary> s(3);
  s[0].keep_alive = "lru";
  s[0].memory_budget_mb = 1024;
  s[0].wasted_memory_gb_s = 50;
  s[1].keep_alive = "fixed:ttl=10m";
  s[1].memory_budget_mb = 1024;
  s[1].wasted_memory_gb_s = 200;
  s[2].keep_alive = "lru";
  s[2].memory_budget_mb = 2048;  // no baseline at this budget: left unset
  s[2].wasted_memory_gb_s = 70;
  normalise_to_baseline(s);
  CHECK(s[0].wasted_memory_pct_of_fixed_10m == Approx(25));
  CHECK(s[1].wasted_memory_pct_of_fixed_10m == Approx(100));
  CHECK(s[2].wasted_memory_pct_of_fixed_10m < 0);
  const std::string csv = sweep_csv(s);
  CHECK(csv.substr(0, csv.find('\n')) ==
        "keep_alive,memory_budget_mb,invocations,cold_starts,cold_pct,p75_app_cold_pct,wasted_memory_gb_s,"
        "wasted_pct_of_fixed_10m,avg_envs,avg_busy,rejected_pct,mean_lifespan_s");
  CHECK(csv.find("lru,2048,0,0,0.0000,0.0000,70.0,,") != std::string::npos);
}

TEST_CASE("sweep: a summary survives its JSON", "[simulator]") {
  Summary s;
  s.workload = "w.yaml";
  s.keep_alive = "lru";
  s.scale_out = "lambda";
  s.memory_budget_mb = 4096;
  s.seed = 9;
  s.invocations = 123;
  s.cold_starts = 7;
  s.cold_fraction = 7.0 / 123;
  s.wasted_memory_gb_s = 1.5;
  s.wasted_memory_pct_of_fixed_10m = 42;
  s.mean_lifespan_s = 3.25;
  s.wall_s = 0.5;
  CHECK(summary_json(summary_from_json(summary_json(s))) == summary_json(s));
  CHECK_THROWS(summary_from_json("{\"invocations\": 1}"));
}

}  // namespace
}  // namespace coldlab::sim
