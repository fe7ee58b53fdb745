// `coldlab simulate --sweep`: one workload under every keep-alive policy x memory budget,
// the points run in parallel, the results in one table and two plots (docs/simulation.md).
//
// Every point is an independent, deterministic simulation (its own workload stream, the
// same seed), so the table is the same whatever the number of cores; rows are ordered by
// memory budget, then by the order the policies were given.
//
// For each memory budget the sweep also runs fixed:ttl=10m (unless it is already a point):
// Shahrad et al. normalise wasted memory time to it, and the table's `wasted_pct_of_fixed_10m`
// column needs it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "metrics.h"

namespace coldlab::sim {

inline constexpr const char* kBaselineKeepAlive = "fixed:ttl=10m";

struct SweepPoint {
  std::string keep_alive;
  int64_t memory_budget_mb = 0;
  bool baseline_only = false;  // added for the normalisation, not asked for
};

// The grid, budgets outer, policies inner, with the baseline added per budget.
std::vector<SweepPoint> sweep_points(const std::vector<std::string>& keep_alives, const std::vector<int64_t>& budgets);

struct SweepOptions {
  std::filesystem::path workload;
  std::string scale_out = "lambda";
  uint64_t seed = 1;
  unsigned jobs = 1;  // threads
  // Called after each point, from the thread that ran it, with how many are done.
  std::function<void(size_t done, size_t total)> progress;
};

// Runs every point; summaries in point order. Throws the first point's error.
std::vector<Summary> run_sweep(const std::vector<SweepPoint>& points, const SweepOptions& options);

// Fills wasted_memory_pct_of_fixed_10m from the fixed:ttl=10m summary of the same budget.
void normalise_to_baseline(std::vector<Summary>& summaries);

// The sweep's table: one row per summary, in the order given.
std::string sweep_csv(const std::vector<Summary>& summaries);
std::string sweep_markdown(const std::vector<Summary>& summaries);

}  // namespace coldlab::sim
