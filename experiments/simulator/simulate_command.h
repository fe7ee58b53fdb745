// `coldlab simulate`: a workload through the policies in simulated time (simulation.h),
// with a summary on stdout and, with --db, every environment and invocation in the log's
// schema (docs/schema.md; the run's kind is "simulation", its clock "simulated").
//   coldlab simulate --workload w.yaml --keep-alive fixed:ttl=600 --seed 7 --summary json
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace coldlab::sim {

struct SimulateCommandOptions {
  std::string workload;
  std::string keep_alive = "fixed:ttl=10m";
  std::string scale_out = "lambda";
  int64_t memory_budget_mb = 0;
  uint64_t seed = 1;
  std::string db;                 // empty: no rows, the summary only
  std::string summary = "table";  // "table" or "json"
  bool no_baseline = false;       // skip the fixed 10-minute run that normalises wasted memory
  std::string progress = "auto";  // "auto" (a bar when stdout and stderr are terminals), "on", "off"
};

void add_simulate_options(CLI::App& cmd, SimulateCommandOptions& o);

// Returns the exit status: 0, 1 for a refused workload or policy (message on stderr).
int run_simulate_command(const SimulateCommandOptions& o, const std::string& command_line);

}  // namespace coldlab::sim
