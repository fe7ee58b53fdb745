#include "simulate_command.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "log/invocation_log.h"
#include "registry.h"
#include "report/report.h"
#include "simulation.h"
#include "sweep.h"
#include "workload.h"

namespace coldlab::sim {
namespace {

namespace fs = std::filesystem;

// One line redrawn in place on stderr.
class ProgressBar {
 public:
  explicit ProgressBar(bool on) : on_(on), began_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() {
    if (on_ && drawn_) std::fputs("\n", stderr);
  }

  // A simulation: simulated time reached, invocations, their rate.
  void show(const char* what, const SimulationProgress& p) {
    if (!on_) return;
    const double fraction = p.duration_us > 0 ? std::min(1.0, static_cast<double>(p.now_us) / p.duration_us) : 1;
    const double wall = seconds();
    char text[160];
    std::snprintf(text, sizeof text, "simulated %.0f s  %lld invocations  %.2f M/s", static_cast<double>(p.now_us) / 1e6,
                  static_cast<long long>(p.invocations),
                  wall > 0 ? static_cast<double>(p.invocations) / wall / 1e6 : 0.0);
    draw(what, fraction, text);
  }

  // A sweep: points done.
  void points(size_t done, size_t total) {
    if (!on_) return;
    char text[80];
    std::snprintf(text, sizeof text, "%zu of %zu points  %.0f s", done, total, seconds());
    std::lock_guard lock(mu_);
    draw("sweep", total ? static_cast<double>(done) / static_cast<double>(total) : 1, text);
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
  }
  void draw(const char* what, double fraction, const char* text) {
    char bar[31];
    const int filled = static_cast<int>(fraction * 30);
    for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '#' : '.';
    bar[30] = 0;
    std::fprintf(stderr, "\r%s [%s] %5.1f%%  %s   ", what, bar, fraction * 100, text);
    drawn_ = true;
  }

  bool on_;
  bool drawn_ = false;
  std::mutex mu_;
  std::chrono::steady_clock::time_point began_;
};

std::string keep_alive_of(const SimulateCommandOptions& o) {
  return o.keep_alive.empty() ? std::string(kBaselineKeepAlive) : o.keep_alive.front();
}

int64_t budget_of(const SimulateCommandOptions& o) { return o.memory_budget_mb.empty() ? 0 : o.memory_budget_mb.front(); }

std::unique_ptr<log::InvocationLog> open_db(const std::string& path) {
  log::InvocationLog::Options lo;
  lo.batch_max_rows = 50000;  // large batches: a simulation writes far faster than a disk commits
  lo.flush_interval = std::chrono::milliseconds(1000);
  return log::InvocationLog::open(path, lo);
}

log::RunInfo run_info(const SimulateCommandOptions& o, const std::string& keep_alive, int64_t budget,
                      const std::string& workload_json, const std::string& command_line, int64_t experiment_id) {
  log::RunInfo run;
  run.started_at_us = 0;  // the simulated clock starts at 0
  run.coldlab_version = COLDLAB_VERSION;
  run.command_line = command_line;
  run.clock = "simulated";
  run.kind = "simulation";
  run.experiment_id = experiment_id;
  run.scenario = o.workload;
  run.label = keep_alive;
  run.memory_budget_mb = budget;
  run.keep_alive = policies::make_keep_alive(keep_alive)->name();
  run.scale_out = policies::make_scale_out(o.scale_out)->name();
  nlohmann::ordered_json params;
  params["workload"] = workload_json.empty() ? nlohmann::json(o.workload) : nlohmann::json::parse(workload_json);
  params["keep_alive"] = keep_alive;
  params["scale_out"] = o.scale_out;
  params["memory_budget_mb"] = budget;
  params["seed"] = o.seed;
  run.parameters_json = params.dump();
  return run;
}

void end_run(log::InvocationLog& db, int64_t run_id, const Summary& s) {
  log::RunEnd end;
  end.ended_at_us = static_cast<int64_t>(std::llround(s.span_s * 1e6));
  end.wall_ms = s.wall_s * 1e3;
  end.summary_json = summary_json(s);
  db.end_run(run_id, end);
}

// Simulates once; with `db`, records the run and its rows, and leaves the run open in
// *run_id for the caller to end with the final summary.
Summary run_once(const SimulateCommandOptions& o, const std::string& keep_alive, log::InvocationLog* db,
                 const std::string& command_line, ProgressBar& bar, const char* what, int64_t* run_id_out) {
  Workload w = load_workload(o.workload, o.seed);
  SimulationOptions so;
  so.keep_alive = keep_alive;
  so.scale_out = o.scale_out;
  so.memory_budget_mb = budget_of(o);
  so.seed = o.seed;
  so.progress = [&](const SimulationProgress& p) { bar.show(what, p); };
  if (db) {
    so.log = db;
    so.run_id = db->begin_run(run_info(o, keep_alive, so.memory_budget_mb, w.parameters_json, command_line, 0));
    if (run_id_out) *run_id_out = so.run_id;
  }
  Summary s = simulate(w, so);
  return s;
}

int run_single(const SimulateCommandOptions& o, const std::string& command_line, bool bar_on) {
  std::unique_ptr<log::InvocationLog> db;
  if (!o.db.empty()) db = open_db(o.db);
  Summary s;
  int64_t run_id = 0;
  {
    ProgressBar bar(bar_on);
    s = run_once(o, keep_alive_of(o), db.get(), command_line, bar, "simulate", &run_id);
  }
  if (!o.no_baseline) {
    // Wasted memory means little alone: Shahrad et al. normalise it to a fixed 10-minute
    // keep-alive on the same workload, seed and limits.
    if (s.keep_alive == policies::make_keep_alive(kBaselineKeepAlive)->name()) {
      s.wasted_memory_pct_of_fixed_10m = 100;
    } else {
      ProgressBar bar(bar_on);
      const Summary base = run_once(o, kBaselineKeepAlive, nullptr, command_line, bar, "baseline fixed:ttl=10m", nullptr);
      s.wasted_memory_pct_of_fixed_10m = base.wasted_memory_gb_s > 0 ? 100 * s.wasted_memory_gb_s / base.wasted_memory_gb_s : 0;
      s.wall_s += base.wall_s;
    }
  }
  if (db) end_run(*db, run_id, s);
  std::cout << (o.summary == "json" ? summary_json(s) + "\n" : summary_table(s));
  return 0;
}

// Rows by budget, each budget's policies in the order they came: the order given on the
// command line for --sweep (its fixed 10-minute baseline last), the order of the files for
// --merge (which --plan numbers in point order, so a sorted glob gives the same table).
void order(std::vector<Summary>& summaries) {
  std::stable_sort(summaries.begin(), summaries.end(),
                   [](const Summary& a, const Summary& b) { return a.memory_budget_mb < b.memory_budget_mb; });
}

// The table on stdout; with --out, sweep.csv, sweep.md and the plots.
int write_table(const SimulateCommandOptions& o, std::vector<Summary> summaries) {
  normalise_to_baseline(summaries);
  order(summaries);
  const std::string markdown = sweep_markdown(summaries);
  std::cout << markdown;
  if (o.out.empty()) return 0;
  fs::create_directories(o.out);
  std::ofstream(fs::path(o.out) / "sweep.csv") << sweep_csv(summaries);
  std::string md = "# Simulation sweep\n\nWorkload: `" + (summaries.empty() ? std::string() : summaries[0].workload) +
                   "`, seed " + (summaries.empty() ? std::string() : std::to_string(summaries[0].seed)) +
                   ", scale-out `" + (summaries.empty() ? std::string() : summaries[0].scale_out) + "`.\n\n" + markdown;
  const auto why = report::run_plot_script(o.python, o.plot_script, o.out);
  if (why) {
    std::cerr << "coldlab simulate: plots not drawn: " << *why << "\n";
    md += "\nPlots not drawn: " + *why + ".\n";
  } else {
    for (const char* stem : {"cold-vs-memory", "pareto"})
      if (fs::exists(fs::path(o.out) / (std::string(stem) + ".png"))) md += "\n![" + std::string(stem) + "](" + stem + ".png)\n";
  }
  std::ofstream(fs::path(o.out) / "sweep.md") << md;
  std::cerr << "coldlab simulate: table and plots in " << o.out << "\n";
  return 0;
}

std::vector<std::string> keep_alives_of(const SimulateCommandOptions& o) {
  std::vector<std::string> k = o.keep_alive;
  for (const std::string& ttl : o.ttls) k.push_back("fixed:ttl=" + ttl);
  if (k.empty()) k.push_back(kBaselineKeepAlive);
  return k;
}

// A word the shell reads back unchanged.
std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,@%+") ==
                           std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run_plan(const SimulateCommandOptions& o) {
  const std::vector<SweepPoint> points = sweep_points(keep_alives_of(o), o.memory_budget_mb);
  const fs::path out = fs::absolute(o.out.empty() ? fs::path("sweep") : fs::path(o.out));
  const fs::path dir = out / "points";
  fs::create_directories(dir);
  for (size_t i = 0; i < points.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "point-%04zu.db", i + 1);
    std::cout << shell_quote(o.executable.string()) << " simulate --workload " << shell_quote(fs::absolute(o.workload).string())
              << " --keep-alive " << shell_quote(points[i].keep_alive) << " --scale-out " << shell_quote(o.scale_out)
              << " --memory-budget " << points[i].memory_budget_mb << " --seed " << o.seed
              << " --no-baseline --progress off --summary json --db " << shell_quote((dir / name).string())
              << " >/dev/null\n";
  }
  std::cerr << "coldlab simulate: " << points.size() << " points; then: " << shell_quote(o.executable.string())
            << " simulate --merge " << shell_quote(dir.string()) << "/point-*.db --out " << shell_quote(out.string())
            << "\n";
  return 0;
}

int run_sweep_command(const SimulateCommandOptions& o, const std::string& command_line, bool bar_on) {
  const std::vector<SweepPoint> points = sweep_points(keep_alives_of(o), o.memory_budget_mb);
  SweepOptions so;
  so.workload = o.workload;
  so.scale_out = o.scale_out;
  so.seed = o.seed;
  so.jobs = o.jobs > 0 ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::vector<Summary> summaries;
  {
    ProgressBar bar(bar_on);
    so.progress = [&](size_t done, size_t total) { bar.points(done, total); };
    summaries = run_sweep(points, so);
  }
  if (!o.db.empty()) {
    // The points' summaries, in point order; their rows would be one database per point
    // (--plan), not one file many threads write into.
    auto db = open_db(o.db);
    int64_t experiment = 0;
    for (size_t i = 0; i < points.size(); ++i) {
      const int64_t id =
          db->begin_run(run_info(o, points[i].keep_alive, points[i].memory_budget_mb, "", command_line, experiment));
      if (experiment == 0) experiment = id;
      end_run(*db, id, summaries[i]);
    }
  }
  return write_table(o, summaries);
}

// The summaries of every simulation run in the databases, in the order given.
std::vector<Summary> read_summaries(const std::vector<std::string>& paths) {
  std::vector<Summary> out;
  for (const std::string& path : paths) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      const std::string why = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error(path + ": " + why);
    }
    sqlite3_stmt* stmt = nullptr;
    const char* sql = "SELECT summary_json FROM runs WHERE kind = 'simulation' AND summary_json IS NOT NULL ORDER BY id";
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      const std::string why = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error(path + ": not a coldlab database with simulation summaries (" + why + ")");
    }
    size_t found = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      out.push_back(summary_from_json(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))));
      ++found;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (found == 0) throw std::runtime_error(path + ": no finished simulation in it");
  }
  return out;
}

int run_merge(const SimulateCommandOptions& o, const std::string& command_line) {
  std::vector<Summary> summaries = read_summaries(o.merge);
  if (!o.db.empty()) {
    auto db = open_db(o.db);
    int64_t experiment = 0;
    for (const Summary& s : summaries) {
      SimulateCommandOptions point = o;
      point.workload = s.workload;
      point.scale_out = s.scale_out;
      point.seed = s.seed;
      const int64_t id = db->begin_run(run_info(point, s.keep_alive, s.memory_budget_mb, "", command_line, experiment));
      if (experiment == 0) experiment = id;
      end_run(*db, id, s);
    }
  }
  return write_table(o, summaries);
}

}  // namespace

void add_simulate_options(CLI::App& cmd, SimulateCommandOptions& o) {
  cmd.add_option("--workload", o.workload, "Workload file (YAML: kind synthetic, azure2019 or replay)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--keep-alive", o.keep_alive,
                 "Keep-alive policy, NAME[:key=value,...] (docs/policies.md; default fixed:ttl=10m); "
                 "repeat it with --sweep");
  cmd.add_option("--ttls", o.ttls, "With --sweep: also fixed:ttl=T for each T (e.g. --ttls 5m,10m,20m)")
      ->delimiter(',');
  cmd.add_option("--scale-out", o.scale_out, "Scale-out policy, NAME[:key=value,...] (docs/policies.md)")
      ->capture_default_str();
  cmd.add_option("--memory-budget", o.memory_budget_mb,
                 "Memory in MB all environments together may hold (0: none); repeat it with --sweep")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--seed", o.seed, "Seed of every random draw (arrivals, service times, sampling)")
      ->capture_default_str();
  cmd.add_option("--db", o.db,
                 "SQLite file: a single simulation's run with every environment and invocation; a sweep's "
                 "or a merge's runs with their summaries");
  cmd.add_option("--summary", o.summary, "Summary format on stdout")
      ->capture_default_str()->check(CLI::IsMember({"table", "json"}));
  cmd.add_flag("--no-baseline", o.no_baseline,
               "Do not simulate fixed:ttl=10m beside the policy (its wasted memory normalises this one's)");
  cmd.add_option("--progress", o.progress, "Progress on stderr: auto (when stdout and stderr are terminals), on, off")
      ->capture_default_str()->check(CLI::IsMember({"auto", "on", "off"}));
  cmd.add_flag("--sweep", o.sweep, "Every --keep-alive (and --ttls) x every --memory-budget: a table and plots");
  cmd.add_flag("--plan", o.plan, "With --sweep: print one command line per point instead of running them");
  cmd.add_option("--merge", o.merge, "Gather the results of --plan's databases into one table (and --db)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--out", o.out, "Sweeps and merges: write sweep.csv, sweep.md and the plots to this folder");
  cmd.add_option("--jobs", o.jobs, "Sweeps: points run at once (default: one per hardware thread)");
}

int run_simulate_command(const SimulateCommandOptions& o, const std::string& command_line) {
  const bool bar_on = o.progress == "on" || (o.progress == "auto" && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO));
  auto refuse = [](const std::string& why) {
    std::cerr << "coldlab simulate: " << why << "\n";
    return 2;
  };
  if (!o.merge.empty() && (o.sweep || !o.workload.empty())) return refuse("--merge takes databases, not --workload or --sweep");
  if (o.merge.empty() && o.workload.empty()) return refuse("--workload FILE is required");
  if (o.plan && !o.sweep) return refuse("--plan goes with --sweep");
  if (!o.sweep && o.merge.empty()) {
    if (o.keep_alive.size() > 1 || o.memory_budget_mb.size() > 1 || !o.ttls.empty())
      return refuse("several policies, budgets or --ttls need --sweep");
  }
  try {
    if (!o.merge.empty()) return run_merge(o, command_line);
    if (o.plan) return run_plan(o);
    if (o.sweep) return run_sweep_command(o, command_line, bar_on);
    return run_single(o, command_line, bar_on);
  } catch (const std::exception& e) {  // a refused workload or policy spec, an unwritable database
    std::cerr << "coldlab simulate: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace coldlab::sim
