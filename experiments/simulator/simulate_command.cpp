#include "simulate_command.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "log/invocation_log.h"
#include "registry.h"
#include "simulation.h"
#include "workload.h"

namespace coldlab::sim {
namespace {

constexpr const char* kBaseline = "fixed:ttl=10m";

// One line redrawn in place: simulated time reached, invocations, their rate.
class ProgressBar {
 public:
  explicit ProgressBar(bool on) : on_(on), began_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() {
    if (on_ && drawn_) std::fputs("\n", stderr);
  }

  void show(const char* what, const SimulationProgress& p) {
    if (!on_) return;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
    const double fraction = p.duration_us > 0 ? std::min(1.0, static_cast<double>(p.now_us) / p.duration_us) : 1;
    char bar[31];
    const int filled = static_cast<int>(fraction * 30);
    for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '#' : '.';
    bar[30] = 0;
    std::fprintf(stderr, "\r%s [%s] %5.1f%%  simulated %.0f s  %lld invocations  %.2f M/s   ", what, bar,
                 fraction * 100, static_cast<double>(p.now_us) / 1e6, static_cast<long long>(p.invocations),
                 wall > 0 ? static_cast<double>(p.invocations) / wall / 1e6 : 0.0);
    drawn_ = true;
  }

 private:
  bool on_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point began_;
};

// Simulates once; with `db`, records the run and its rows, and leaves the run open in
// *run_id for the caller to end with the final summary.
Summary run_once(const SimulateCommandOptions& o, const std::string& keep_alive, log::InvocationLog* db,
                 const std::string& command_line, ProgressBar& bar, const char* what, int64_t* run_id_out) {
  Workload w = load_workload(o.workload, o.seed);
  SimulationOptions so;
  so.keep_alive = keep_alive;
  so.scale_out = o.scale_out;
  so.memory_budget_mb = o.memory_budget_mb;
  so.seed = o.seed;
  so.progress = [&](const SimulationProgress& p) { bar.show(what, p); };
  int64_t run_id = 0;
  if (db) {
    log::RunInfo run;
    run.started_at_us = 0;  // the simulated clock starts at 0
    run.coldlab_version = COLDLAB_VERSION;
    run.command_line = command_line;
    run.clock = "simulated";
    run.kind = "simulation";
    run.scenario = o.workload;
    run.label = keep_alive;
    run.memory_budget_mb = o.memory_budget_mb;
    run.keep_alive = policies::make_keep_alive(keep_alive)->name();
    run.scale_out = policies::make_scale_out(o.scale_out)->name();
    nlohmann::ordered_json params;
    params["workload"] = nlohmann::json::parse(w.parameters_json);
    params["keep_alive"] = keep_alive;
    params["scale_out"] = o.scale_out;
    params["memory_budget_mb"] = o.memory_budget_mb;
    params["seed"] = o.seed;
    run.parameters_json = params.dump();
    run_id = db->begin_run(run);
    so.log = db;
    so.run_id = run_id;
  }
  Summary s = simulate(w, so);
  if (run_id_out) *run_id_out = run_id;
  return s;
}

void end_run(log::InvocationLog& db, int64_t run_id, const Summary& s) {
  log::RunEnd end;
  end.ended_at_us = static_cast<int64_t>(std::llround(s.span_s * 1e6));
  end.wall_ms = s.wall_s * 1e3;
  end.summary_json = summary_json(s);
  db.end_run(run_id, end);
}

}  // namespace

void add_simulate_options(CLI::App& cmd, SimulateCommandOptions& o) {
  cmd.add_option("--workload", o.workload, "Workload file (YAML: kind synthetic, azure2019 or replay)")
      ->required()->check(CLI::ExistingFile);
  cmd.add_option("--keep-alive", o.keep_alive, "Keep-alive policy, NAME[:key=value,...] (docs/policies.md)")
      ->capture_default_str();
  cmd.add_option("--scale-out", o.scale_out, "Scale-out policy, NAME[:key=value,...] (docs/policies.md)")
      ->capture_default_str();
  cmd.add_option("--memory-budget", o.memory_budget_mb, "Memory in MB all environments together may hold (0: none)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd.add_option("--seed", o.seed, "Seed of every random draw (arrivals, service times, sampling)")
      ->capture_default_str();
  cmd.add_option("--db", o.db, "Write the run, its environments and invocations to this SQLite file");
  cmd.add_option("--summary", o.summary, "Summary format on stdout")
      ->capture_default_str()->check(CLI::IsMember({"table", "json"}));
  cmd.add_flag("--no-baseline", o.no_baseline,
               "Do not simulate fixed:ttl=10m beside the policy (its wasted memory normalises this one's)");
  cmd.add_option("--progress", o.progress, "Progress bar on stderr: auto (when stdout and stderr are terminals), on, off")
      ->capture_default_str()->check(CLI::IsMember({"auto", "on", "off"}));
}

int run_simulate_command(const SimulateCommandOptions& o, const std::string& command_line) {
  const bool bar_on = o.progress == "on" || (o.progress == "auto" && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO));
  try {
    std::unique_ptr<log::InvocationLog> db;
    if (!o.db.empty()) {
      log::InvocationLog::Options lo;
      lo.batch_max_rows = 50000;  // large batches: a simulation writes far faster than a disk commits
      lo.flush_interval = std::chrono::milliseconds(1000);
      db = log::InvocationLog::open(o.db, lo);
    }
    Summary s;
    int64_t run_id = 0;
    {
      ProgressBar bar(bar_on);
      s = run_once(o, o.keep_alive, db.get(), command_line, bar, "simulate", &run_id);
    }
    if (!o.no_baseline) {
      // Wasted memory means little alone: Shahrad et al. normalise it to a fixed
      // 10-minute keep-alive on the same workload, seed and limits.
      if (s.keep_alive == "fixed:ttl=10m") {
        s.wasted_memory_pct_of_fixed_10m = 100;
      } else {
        ProgressBar bar(bar_on);
        const Summary base = run_once(o, kBaseline, nullptr, command_line, bar, "baseline fixed:ttl=10m", nullptr);
        s.wasted_memory_pct_of_fixed_10m = base.wasted_memory_gb_s > 0 ? 100 * s.wasted_memory_gb_s / base.wasted_memory_gb_s : 0;
        s.wall_s += base.wall_s;
      }
    }
    if (db) end_run(*db, run_id, s);
    std::cout << (o.summary == "json" ? summary_json(s) + "\n" : summary_table(s));
    return 0;
  } catch (const std::exception& e) {  // a refused workload or policy spec, an unwritable database
    std::cerr << "coldlab simulate: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace coldlab::sim
