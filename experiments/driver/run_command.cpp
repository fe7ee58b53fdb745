#include "driver/run_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/sam_template.h"
#include "driver/http_sender.h"
#include "driver/load_driver.h"
#include "driver/network_model.h"
#include "host_facts.h"
#include "report/report.h"
#include "scenario/scenario.h"
#include "serve.h"

namespace coldlab::driver {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// Ctrl-C (and SIGTERM) stop the experiment cleanly: a thread waits for them and interrupts
// the driver that is running. Every other thread has them blocked.
class InterruptWatch {
 public:
  InterruptWatch() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGHUP);
    sigaddset(&set_, SIGUSR1);  // ours: time to go
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    // A shell starts background jobs with SIGINT ignored, and an ignored signal is dropped
    // even while blocked: restore the default so that sigwait() sees it.
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    thread_ = std::thread([this] {
      for (;;) {
        int sig = 0;
        sigwait(&set_, &sig);
        if (sig == SIGUSR1) return;
        interrupted_ = true;
        std::fprintf(stderr, "\ncoldlab run: %s: stopping after the requests in flight (again to quit at once)\n",
                     strsignal(sig));
        std::lock_guard<std::mutex> lock(mu_);
        if (driver_) driver_->interrupt();
        if (++count_ > 1) std::_Exit(130);
      }
    });
  }
  ~InterruptWatch() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  void watch(LoadDriver* driver) {
    std::lock_guard<std::mutex> lock(mu_);
    driver_ = driver;
    if (driver_ && interrupted_) driver_->interrupt();
  }
  bool interrupted() const { return interrupted_; }

 private:
  sigset_t set_;
  std::atomic<bool> interrupted_{false};
  std::mutex mu_;
  LoadDriver* driver_ = nullptr;
  int count_ = 0;
  std::thread thread_;
};

std::string format_duration(int64_t us) {
  const int64_t s = us / 1000000;
  char buf[64];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(us) / 1e6);
  }
  return buf;
}

// Progress on stderr while a combination runs: a bar redrawn in place on a terminal, a plain
// line every 10 s otherwise (CI logs).
class ProgressPrinter {
 public:
  ProgressPrinter(const std::string& mode, const LoadDriver& driver, core::Clock& clock, std::string title)
      : driver_(driver), clock_(clock), title_(std::move(title)), clock_start_(clock.now_us()),
        wall_start_(SteadyClock::now()) {
    tty_ = mode == "bar" || (mode == "auto" && isatty(STDERR_FILENO));
    if (mode == "off") return;
    thread_ = std::thread([this] { loop(); });
  }
  ~ProgressPrinter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    const auto period = tty_ ? std::chrono::milliseconds(250) : std::chrono::milliseconds(10000);
    while (!cv_.wait_for(lock, period, [this] { return done_; })) print(false);
    print(true);
  }
  void print(bool last) {
    const Progress p = driver_.progress();
    const double wall = std::chrono::duration<double>(SteadyClock::now() - wall_start_).count();
    char line[256];
    std::snprintf(line, sizeof line, "%s  stage %d/%d  users %d  requests %lld (%lld in flight)  errors %lld  "
                  "elapsed %.1fs  clock +%s",
                  title_.c_str(), p.stage + 1, p.stages, p.users, static_cast<long long>(p.sent),
                  static_cast<long long>(p.in_flight), static_cast<long long>(p.errors), wall,
                  format_duration(clock_.now_us() - clock_start_).c_str());
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%s%s", line, last ? "\n" : "");
    } else if (!last) {
      std::fprintf(stderr, "%s\n", line);
    }
    std::fflush(stderr);
  }

  const LoadDriver& driver_;
  core::Clock& clock_;
  const std::string title_;
  const int64_t clock_start_;
  const SteadyClock::time_point wall_start_;
  bool tty_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// --memory and --runtime narrow or replace the file's sweep.
void apply_overrides(const RunCommandOptions& o, scenario::ScenarioFile& file) {
  if (!o.memory.empty()) file.memory_mb = o.memory;
  if (!o.network.empty()) file.network = scenario::parse_network(o.network, "--network");
  if (!o.runtimes.empty()) {
    std::vector<scenario::Target> kept;
    std::vector<std::string> known;
    for (const auto& t : file.targets) known.push_back(t.runtime);
    for (const auto& wanted : o.runtimes) {
      bool found = false;
      for (const auto& t : file.targets)
        if (t.runtime == wanted) {
          kept.push_back(t);
          found = true;
        }
      if (!found)
        throw scenario::ScenarioError(file.path.string() + ": --runtime " + wanted + ": the file has no such runtime (it has: " +
                                      join(known) + ")");
    }
    file.targets = kept;
  }
}

json parameters(const scenario::Combination& c, size_t of) {
  json p = {{"index", c.index}, {"of", of}, {"runtime", c.target.runtime}, {"function", c.target.function}};
  p["memory_mb"] = c.memory_mb ? json(*c.memory_mb) : json(nullptr);
  p["keep_alive"] = c.keep_alive.empty() ? json(nullptr) : json(c.keep_alive);
  p["scale_out"] = c.scale_out.empty() ? json(nullptr) : json(c.scale_out);
  return p;
}

// With --endpoint: the combination's memory size, and a configuration change so that no
// environment of an earlier combination is reused (Lambda retires them on any update); then
// wait until the update is done (Lambda applies it asynchronously: LastUpdateStatus).
void prepare_remote_function(const std::string& endpoint, const std::optional<Signer>& signer,
                             const scenario::Combination& c) {
  if (c.target.function.empty()) return;
  httplib::Client client(endpoint);
  client.set_connection_timeout(10);
  const std::string path = function_path(c.target.function, "/configuration", signer.has_value());
  json update = {{"Description", "coldlab run: " + c.label}};
  if (c.memory_mb) update["MemorySize"] = *c.memory_mb;
  const std::string body = update.dump();
  auto res = client.Put(path.c_str(), signer ? signer->headers("PUT", path, body) : httplib::Headers{}, body,
                        "application/json");
  if (!res) throw EmulatorError("cannot reach " + endpoint + ": " + httplib::to_string(res.error()), 1);
  if (res->status != 200)
    throw EmulatorError("UpdateFunctionConfiguration of " + c.target.function + " answered " +
                            std::to_string(res->status) + ": " + res->body, 1);
  for (int i = 0; i < 120; ++i) {
    const json config = json::parse(res->body, nullptr, false);
    if (!config.is_object() || config.value("LastUpdateStatus", "Successful") != "InProgress") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    res = client.Get(path.c_str(), signer ? signer->headers("GET", path, "") : httplib::Headers{});
    if (!res || res->status != 200) return;
  }
}

struct Outcome {
  int64_t run_id = 0;
  bool completed = false;
  std::string warnings;
};

// One line per combination: what ran, how long it really took, how far the driver lagged.
void print_summary(const std::string& label, int64_t run_id, const LoadDriver& driver, double wall_s) {
  const Progress p = driver.progress();
  const Lag lag = driver.lag();
  std::fprintf(stderr,
               "coldlab run: %s: %lld requests, %lld errors, %.1f s of wall time (run %lld); driver lag %.1f %% "
               "(closed loop) / %.1f %% (open loop), largest %.1f ms\n",
               label.c_str(), static_cast<long long>(p.answered), static_cast<long long>(p.errors), wall_s,
               static_cast<long long>(run_id), lag.closed_fraction * 100, lag.open_fraction * 100,
               static_cast<double>(lag.max_lag_us) / 1000);
}

Outcome run_combination(const RunCommandOptions& o, const scenario::ScenarioFile& file, const scenario::Combination& c,
                        size_t of, int64_t experiment_id, const std::string& command_line, InterruptWatch& watch) {
  Outcome outcome;
  NetworkDelay network(file.network, file.seed + static_cast<uint64_t>(c.index));
  LoadDriver::Config config;
  config.file = &file;
  config.function = c.target.function;
  const std::string title = "[" + std::to_string(c.index) + "/" + std::to_string(of) + " " + c.label + "]";
  const auto wall_start = SteadyClock::now();

  log::RunInfo info;
  info.kind = "experiment";
  info.experiment_id = experiment_id;
  info.scenario = std::filesystem::weakly_canonical(file.path).string();
  info.label = c.label;
  info.parameters_json = parameters(c, of).dump();

  if (o.endpoint.empty()) {
    EmulatorOptions e = o.emulator;
    e.port = 0;
    e.quiet = true;
    if (c.memory_mb && !c.target.function.empty()) e.memory_mb[c.target.function] = *c.memory_mb;
    if (!c.keep_alive.empty() && e.keep_alive.empty() && e.idle_timeout_s < 0) e.keep_alive = c.keep_alive;
    if (!c.scale_out.empty() && e.scale_out == "lambda") e.scale_out = c.scale_out;
    e.run = info;
    auto emulator = Emulator::start(e, command_line);
    std::fprintf(stderr, "coldlab run: %s %s\n", title.c_str(), emulator->describe().c_str());
    if (auto* vc = emulator->virtual_clock()) vc->allow_until(core::VirtualClock::kNoLimit);
    HttpSender sender(emulator->endpoint(), network);
    config.run_id = emulator->run_id();
    log::InvocationLog& log = emulator->log();
    LoadDriver driver(config, sender, emulator->clock(), emulator->timers(),
                      [&log](const log::RequestRecord& r) { log.record(r); });
    watch.watch(&driver);
    {
      ProgressPrinter progress(o.progress, driver, emulator->clock(), title);
      outcome.completed = driver.run();
    }
    watch.watch(nullptr);
    sender.close_all();
    const Lag lag = driver.lag();
    if (lag.behind()) {
      outcome.warnings = lag.describe();
      std::fprintf(stderr, "coldlab run: WARNING: %s: %s\n", c.label.c_str(), outcome.warnings.c_str());
    }
    log::RunEnd end;
    end.status = outcome.completed ? "completed" : "interrupted";
    end.warnings = outcome.warnings;
    outcome.run_id = emulator->run_id();
    emulator->stop(end);
    print_summary(c.label, outcome.run_id, driver, std::chrono::duration<double>(SteadyClock::now() - wall_start).count());
    return outcome;
  }

  // Another endpoint: real time, our own log.
  std::optional<Signer> signer;
  try {
    signer = Signer::for_endpoint(o.endpoint);
  } catch (const std::runtime_error& e) {
    throw EmulatorError(e.what(), 2);
  }
  prepare_remote_function(o.endpoint, signer, c);
  auto log = log::InvocationLog::open(o.emulator.db);
  core::RealClock clock;
  core::TimerQueue timers(clock);
  info.started_at_us = clock.now_us();
  info.coldlab_version = COLDLAB_VERSION;
  info.command_line = command_line;
  info.host_json = host_facts().dump();
  info.config_json = json{{"endpoint", o.endpoint}}.dump();
  info.clock = "real";
  outcome.run_id = log->begin_run(info);
  config.run_id = outcome.run_id;
  HttpSender sender(o.endpoint, network, signer);
  LoadDriver driver(config, sender, clock, timers, [&log](const log::RequestRecord& r) { log->record(r); });
  watch.watch(&driver);
  {
    ProgressPrinter progress(o.progress, driver, clock, title);
    outcome.completed = driver.run();
  }
  watch.watch(nullptr);
  sender.close_all();
  const Lag lag = driver.lag();
  if (lag.behind()) outcome.warnings = lag.describe();
  log::RunEnd end;
  end.ended_at_us = clock.now_us();
  end.wall_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - wall_start).count();
  end.status = outcome.completed ? "completed" : "interrupted";
  end.warnings = outcome.warnings;
  log->end_run(outcome.run_id, end);
  print_summary(c.label, outcome.run_id, driver, end.wall_ms / 1000);
  return outcome;
}

}  // namespace

void add_run_options(CLI::App& cmd, RunCommandOptions& o) {
  o.emulator.clock = "virtual";
  o.emulator.shutdown_grace_s = 10;
  cmd.add_option("scenario", o.scenario, "Scenario file (YAML; see docs/experiments.md)")->required();
  cmd.add_option("--db", o.emulator.db, "SQLite log the runs and requests go to")->capture_default_str();
  cmd.add_option("--endpoint", o.endpoint,
                 "Drive this Lambda-compatible endpoint (http://host:port) in real time instead of an emulator "
                 "in-process");
  cmd.add_option("--out", o.out, "Folder for the report (tables, CSV, plots)")->capture_default_str();
  cmd.add_option("--memory", o.memory, "Memory sizes to sweep instead of the file's (MB)")
      ->delimiter(',')->check(CLI::Range(128, 10240));
  cmd.add_option("--runtime", o.runtimes, "Only these runtimes (labels of the file's runtimes/functions)")
      ->delimiter(',');
  cmd.add_flag("!--no-report", o.report, "Do not write the report after the runs");
  cmd.add_flag("!--no-plots", o.plots, "Write tables and CSV but no plots");
  cmd.add_option("--network", o.network,
                 "Network delay per request instead of the file's, e.g. '{dist: lognormal, median: 180ms, p99: "
                 "400ms}' or '{dist: none}'");
  cmd.add_option("--progress", o.progress, "auto (a bar on a terminal, a line every 10 s otherwise), bar, lines, off")
      ->capture_default_str()->check(CLI::IsMember({"auto", "bar", "lines", "off"}));
  cmd.add_option("--log-dir", o.emulator.log_dir,
                 "Function output (platform lines and the functions' logs), one file per environment "
                 "(default: OUT/function-logs, capped at 16 MB each)");
  add_emulator_options(cmd, o.emulator);
}

int run_run_command(const RunCommandOptions& options, const std::string& command_line) {
  RunCommandOptions o = options;
  InterruptWatch watch;
  const auto exe_dir = executable_dir();

  std::function<bool(const std::string&)> exists;
  std::set<std::string> names;
  if (o.endpoint.empty()) {
    const std::filesystem::path template_file = o.emulator.template_file.empty()
                                                    ? exe_dir / ".." / "functions" / "template.yaml"
                                                    : std::filesystem::path(o.emulator.template_file);
    try {
      for (const auto& f : config::load_sam_template(template_file).functions) names.insert(f.name);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "coldlab run: %s\n", e.what());
      return 2;
    }
    exists = [&names](const std::string& name) { return names.count(name) > 0; };
  }
  scenario::ScenarioFile file;
  try {
    file = scenario::load(o.scenario, exists);
    apply_overrides(o, file);
  } catch (const scenario::ScenarioError& e) {
    std::fprintf(stderr, "coldlab run: %s\n", e.what());
    return 2;
  }
  for (const auto& w : file.warnings) std::fprintf(stderr, "coldlab run: warning: %s\n", w.c_str());
  if (o.emulator.log_dir.empty()) {
    o.emulator.log_dir = (std::filesystem::path(o.out) / "function-logs").string();
    o.emulator.log_cap_bytes = 16 << 20;
  }

  const auto combinations = scenario::combinations(file);
  std::fprintf(stderr, "coldlab run: %s: %zu combination%s, clock %s%s\n", o.scenario.c_str(), combinations.size(),
               combinations.size() == 1 ? "" : "s", o.endpoint.empty() ? o.emulator.clock.c_str() : "real",
               o.endpoint.empty() ? "" : (", endpoint " + o.endpoint).c_str());
  std::vector<int64_t> runs;
  int64_t experiment_id = 0;
  bool failed = false;
  for (const auto& c : combinations) {
    if (watch.interrupted()) break;
    try {
      const Outcome outcome = run_combination(o, file, c, combinations.size(), experiment_id, command_line, watch);
      runs.push_back(outcome.run_id);
      if (experiment_id == 0) experiment_id = outcome.run_id;
    } catch (const EmulatorError& e) {
      std::fprintf(stderr, "coldlab run: %s: %s\n", c.label.c_str(), e.what());
      failed = true;
      if (e.exit_status() == 2) return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "coldlab run: %s: %s\n", c.label.c_str(), e.what());
      failed = true;
    }
  }

  if (o.report && !runs.empty()) {
    report::Options r;
    r.db = o.emulator.db;
    r.runs = runs;
    r.out_dir = o.out;
    r.python = o.emulator.python;
    r.plot_script = exe_dir / ".." / "report" / "plot_report.py";
    r.plots = o.plots;
    std::cout << std::flush;
    if (report::run_report(r, std::cout, std::cerr) != 0) failed = true;
    std::cout << std::flush;
    std::fprintf(stderr, "coldlab run: report in %s/report.md (tables, CSV and plots); database %s, runs",
                 o.out.c_str(), o.emulator.db.c_str());
    for (auto id : runs) std::fprintf(stderr, " %lld", static_cast<long long>(id));
    std::fprintf(stderr, "\n");
  }
  if (watch.interrupted()) return 130;
  return failed ? 1 : 0;
}

}  // namespace coldlab::driver
