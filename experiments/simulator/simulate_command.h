// `coldlab simulate`: a workload through the policies in simulated time (simulation.h),
// with a summary on stdout and, with --db, every environment and invocation in the log's
// schema (docs/schema.md; the run's kind is "simulation", its clock "simulated").
//   coldlab simulate --workload w.yaml --keep-alive fixed:ttl=600 --seed 7 --summary json
// Sweeps (sweep.h): every --keep-alive (repeatable; --ttls adds fixed TTLs) x every
// --memory-budget, on --jobs threads, a table on stdout and with --out DIR sweep.csv,
// sweep.md and plots:
//   coldlab simulate --sweep --workload w.yaml --keep-alive lru --keep-alive greedy-dual
//       --memory-budget 4096 --memory-budget 8192 --out sweep/
// For more than one machine, --plan prints one command line per point instead (each
// writing its own database), and --merge gathers their databases into the same table:
//   coldlab simulate --sweep --plan ... --out sweep/ | parallel
//   coldlab simulate --merge sweep/points/*.db --out sweep/
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace coldlab::sim {

struct SimulateCommandOptions {
  std::string workload;
  std::vector<std::string> keep_alive;  // empty: fixed:ttl=10m
  std::vector<std::string> ttls;        // sweeps: fixed:ttl=<each> added to keep_alive
  std::string scale_out = "lambda";
  std::vector<int64_t> memory_budget_mb;  // empty: none
  uint64_t seed = 1;
  std::string db;                 // empty: no rows, the summary only
  std::string summary = "table";  // "table" or "json"
  bool no_baseline = false;       // skip the fixed 10-minute run that normalises wasted memory
  std::string progress = "auto";  // "auto" (a bar when stdout and stderr are terminals), "on", "off"
  bool sweep = false;
  bool plan = false;
  std::vector<std::string> merge;  // databases of --plan's points
  std::string out;                 // sweeps and merges: where the table and plots go
  unsigned jobs = 0;               // 0: one per hardware thread
  // Set by the caller: the coldlab binary (for --plan's lines), the plot script and Python.
  std::filesystem::path executable;
  std::filesystem::path plot_script;
  std::string python = "/usr/bin/python3";
};

void add_simulate_options(CLI::App& cmd, SimulateCommandOptions& o);

// Returns the exit status: 0, 1 for a refused workload, policy or database (message on
// stderr), 2 for options that do not go together.
int run_simulate_command(const SimulateCommandOptions& o, const std::string& command_line);

}  // namespace coldlab::sim
