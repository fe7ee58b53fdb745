#include "report/report.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>
#include <utility>

extern char** environ;

namespace coldlab::report {

namespace fs = std::filesystem;

namespace {

constexpr int kMinSchemaVersion = 3;
constexpr double kUsPerSecond = 1e6;
constexpr double kUsPerMinute = 60e6;
constexpr const char* kNone = "—";  // an empty Markdown cell

// ---- SQLite, read-only ----

class Database {
 public:
  explicit Database(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw ReportError("no such database: " + path.string());
    // Read-only: the report must never change (or create, or upgrade) an experiment's log.
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw ReportError("cannot open " + path.string() + ": " + message);
    }
    sqlite3_busy_timeout(db_, 5000);  // coldlab may be committing a batch right now
  }
  ~Database() { sqlite3_close(db_); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      std::string message = sqlite3_errmsg(db);
      sqlite3_finalize(stmt_);
      throw ReportError("cannot read the database: " + message);
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // True while there is a row; throws on errors (a corrupt file, a busy timeout).
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw ReportError(std::string("cannot read the database: ") + sqlite3_errmsg(sqlite3_db_handle(stmt_)));
  }
  bool null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  int64_t int64(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::string text(int i) const {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  std::optional<int64_t> opt_int(int i) const {
    return null(i) ? std::nullopt : std::optional<int64_t>(int64(i));
  }
  std::optional<double> opt_double(int i) const {
    return null(i) ? std::nullopt : std::optional<double>(sqlite3_column_double(stmt_, i));
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

int64_t schema_version(sqlite3* db) {
  Statement s(db, "PRAGMA user_version");
  return s.step() ? s.int64(0) : 0;
}

// ---- Formatting ----

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
std::string fixed(const std::optional<double>& v, int digits) { return v ? fixed(*v, digits) : kNone; }

// A duration that reads well from milliseconds (a virtual-time run's wall time) to hours.
std::string duration(const std::optional<double>& seconds) {
  if (!seconds) return kNone;
  if (*seconds < 10) return fixed(*seconds, 2) + " s";
  if (*seconds < 120) return fixed(*seconds, 1) + " s";
  return fixed(*seconds / 60, 1) + " min";
}

// Hits/s: 0.00136 for an hour-long open-loop run, 4.55 or 33.4 for a loaded one.
std::string rate(const std::optional<double>& v) {
  if (!v) return kNone;
  if (*v >= 10) return fixed(*v, 1);
  if (*v >= 0.1) return fixed(*v, 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", *v);
  return buf;
}

std::string start_text(const std::optional<bool>& cold) {
  if (!cold) return "?";
  return *cold ? "cold" : "warm";
}

std::string memory_text(int memory_mb) { return memory_mb > 0 ? std::to_string(memory_mb) : kNone; }

// Markdown pipe table. Cells are escaped; numeric columns are right-aligned.
struct Table {
  std::vector<std::string> header;
  std::vector<bool> numeric;
  std::vector<std::vector<std::string>> rows;
};

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

void write_table(std::ostream& out, const Table& t) {
  out << '|';
  for (const auto& h : t.header) out << ' ' << md_cell(h) << " |";
  out << "\n|";
  for (std::size_t i = 0; i < t.header.size(); ++i) out << (t.numeric[i] ? "---:|" : "---|");
  out << '\n';
  for (const auto& row : t.rows) {
    out << '|';
    for (const auto& cell : row) out << ' ' << md_cell(cell) << " |";
    out << '\n';
  }
  out << '\n';
}

// CSV as RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

void csv_row(std::ostream& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << csv_field(fields[i]);
  out << "\r\n";
}

// Full precision without float noise; empty for "not known".
std::string csv_num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
std::string csv_num(const std::optional<double>& v) { return v ? csv_num(*v) : ""; }
std::string csv_int(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : ""; }
std::string csv_bool(const std::optional<bool>& v) { return v ? (*v ? "1" : "0") : ""; }

std::string run_name(const Run& r) { return r.label + " (run " + std::to_string(r.id) + ")"; }

// ---- The report's parts ----

std::string describe_runs(const std::vector<RunSummary>& s, const fs::path& db) {
  std::ostringstream out;
  // Plain values, not optionals compared: GCC 12 -O2 warns (falsely) about the latter.
  const int64_t experiment = s.front().run.experiment_id.value_or(0);
  bool one_experiment = experiment > 0;
  for (const auto& r : s) one_experiment = one_experiment && r.run.experiment_id.value_or(0) == experiment;
  if (one_experiment) {
    out << "Experiment " << experiment;
    if (!s.front().run.scenario.empty()) out << " (`" << s.front().run.scenario << "`)";
    out << ", ";
  }
  out << "database `" << db.string() << "`, run" << (s.size() > 1 ? "s " : " ");
  for (std::size_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i].run.id;
  out << ".";
  return out.str();
}

void write_runs(std::ostream& out, const std::vector<RunSummary>& summaries) {
  out << "## Runs\n\n";
  Table t{{"Run", "Combination", "Clock", "Status", "Run duration", "Wall time", "Speed-up"},
          {true, false, false, false, true, true, true},
          {}};
  for (const auto& s : summaries) {
    const auto speed = s.speed_up();
    t.rows.push_back({std::to_string(s.run.id), s.run.label, s.run.clock.empty() ? kNone : s.run.clock,
                      s.run.status.empty() ? "unfinished" : s.run.status, duration(s.duration_s),
                      duration(s.wall_s), speed ? "×" + fixed(*speed, 1) : kNone});
  }
  write_table(out, t);
  out << "Run duration is on the run's clock (virtual time skips idle gaps); wall time is how long "
         "it really took.\n\n";
  bool any = false;
  for (const auto& s : summaries) {
    if (s.run.warnings.empty()) continue;
    if (!any) out << "Warnings:\n\n";
    any = true;
    out << "- " << md_cell(run_name(s.run)) << ": " << md_cell(s.run.warnings) << '\n';
  }
  if (any) out << '\n';
}

void write_results(std::ostream& out, const std::vector<RunSummary>& summaries) {
  out << "## Results\n\n";
  Table t{
      {"Combination", "Requests", "Errors", "Hits/s mean", "Hits/s peak", "Avg (ms)", "Min (ms)", "p50 (ms)",
       "p90 (ms)", "p99 (ms)", "Max (ms)", "Cold starts", "Init mean (ms)", "Init max (ms)", "Max users"},
      {false, true, true, true, true, true, true, true, true, true, true, true, true, true, true},
      {}};
  for (const auto& s : summaries) {
    std::vector<std::string> row{s.run.label, std::to_string(s.requests), std::to_string(s.errors),
                                 rate(s.hits_mean), std::to_string(s.hits_peak)};
    if (s.latency) {
      for (double v :
           {s.latency->avg, s.latency->min, s.latency->p50, s.latency->p90, s.latency->p99, s.latency->max}) {
        row.push_back(fixed(v, 1));
      }
    } else {
      row.insert(row.end(), 6, kNone);
    }
    row.push_back(std::to_string(s.cold_starts));
    row.push_back(fixed(s.init_mean_ms, 1));
    row.push_back(fixed(s.init_max_ms, 1));
    row.push_back(std::to_string(s.max_users));
    t.rows.push_back(std::move(row));
  }
  write_table(out, t);
  out << "Latency is client-side (network delay included), over answered requests; percentiles by "
         "nearest rank. Hits/s mean = answered requests / (last answer − first send); peak = most "
         "answers in one second. Errors: HTTP status other than 200, function errors and transport "
         "errors (errors still count as hits).\n\n";
}

// One row per run, sorted by runtime then memory, so the memory sizes of one runtime read
// down the table.
void write_comparison(std::ostream& out, std::vector<RunSummary> summaries) {
  std::stable_sort(summaries.begin(), summaries.end(), [](const RunSummary& a, const RunSummary& b) {
    return std::tie(a.run.runtime, a.run.memory_mb, a.run.id) <
           std::tie(b.run.runtime, b.run.memory_mb, b.run.id);
  });
  out << "## Comparison across runtimes and memory sizes\n\n";
  Table t{{"Runtime", "Memory (MB)", "Hits/s mean", "Hits/s peak", "Avg latency (ms)", "Max latency (ms)",
           "Cold starts", "Mean Init (ms)"},
          {false, true, true, true, true, true, true, true},
          {}};
  for (const auto& s : summaries) {
    t.rows.push_back({s.run.runtime, memory_text(s.run.memory_mb), rate(s.hits_mean),
                      std::to_string(s.hits_peak), s.latency ? fixed(s.latency->avg, 1) : kNone,
                      s.latency ? fixed(s.latency->max, 1) : kNone, std::to_string(s.cold_starts),
                      fixed(s.init_mean_ms, 1)});
  }
  write_table(out, t);
}

using OpenLoop = std::vector<std::pair<Run, std::vector<OpenLoopRow>>>;

void write_scenario1(std::ostream& out, const OpenLoop& runs) {
  if (runs.empty()) return;
  out << "## Scenario 1: request by request (open loop)\n\n";
  for (const auto& [run, rows] : runs) {
    out << "### " << md_cell(run_name(run)) << "\n\n";
    Table t{{"#", "Minute", "Idle before (min)", "Start", "Latency (ms)", "Init (ms)", "Result"},
            {true, true, true, false, true, true, false},
            {}};
    for (const auto& r : rows) {
      t.rows.push_back({std::to_string(r.index), fixed(r.minute, 1), fixed(r.idle_gap_min, 1),
                        start_text(r.cold), fixed(r.latency_ms, 1), fixed(r.init_ms, 1),
                        !r.latency_ms ? "no answer"
                        : r.failed    ? "error"
                                      : "ok"});
    }
    write_table(out, t);
  }
  out << "Minute: scheduled time since the first request. Idle before: time from the previous "
         "request's answer to this one's sending.\n\n";
}

void write_markdown(std::ostream& out, const std::vector<RunSummary>& summaries, const OpenLoop& open,
                    const fs::path& db) {
  out << "# coldlab report\n\n" << describe_runs(summaries, db) << "\n\n";
  write_runs(out, summaries);
  write_results(out, summaries);
  write_comparison(out, summaries);
  write_scenario1(out, open);
}

// ---- CSV files ----

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream f(path, std::ios::binary);
  f << content;
  f.close();
  if (!f) throw ReportError("cannot write " + path.string());
}

void append(std::vector<std::string>& row, std::vector<std::string> more) {
  for (auto& v : more) row.push_back(std::move(v));
}

std::vector<std::string> run_columns(const Run& r) {
  return {std::to_string(r.id), r.label, r.runtime, r.memory_mb > 0 ? std::to_string(r.memory_mb) : ""};
}

void write_csvs(const fs::path& dir, const std::vector<RunData>& data,
                const std::vector<RunSummary>& summaries, const OpenLoop& open) {
  std::ostringstream summary;
  csv_row(summary,
          {"run_id",         "label",          "runtime",         "memory_mb",       "function",
           "clock",          "status",         "duration_s",      "wall_s",          "requests",
           "answered",       "errors",         "hits_per_s_mean", "hits_per_s_peak", "latency_avg_ms",
           "latency_min_ms", "latency_p50_ms", "latency_p90_ms",  "latency_p99_ms",  "latency_max_ms",
           "cold_starts",    "init_mean_ms",   "init_max_ms",     "max_users",       "open_loop",
           "warnings"});
  for (const auto& s : summaries) {
    auto row = run_columns(s.run);
    const auto lat = [&](double Latency::*field) { return s.latency ? csv_num((*s.latency).*field) : ""; };
    append(row, {s.run.function,
                 s.run.clock,
                 s.run.status,
                 csv_num(s.duration_s),
                 csv_num(s.wall_s),
                 std::to_string(s.requests),
                 std::to_string(s.answered),
                 std::to_string(s.errors),
                 csv_num(s.hits_mean),
                 std::to_string(s.hits_peak),
                 lat(&Latency::avg),
                 lat(&Latency::min),
                 lat(&Latency::p50),
                 lat(&Latency::p90),
                 lat(&Latency::p99),
                 lat(&Latency::max),
                 std::to_string(s.cold_starts),
                 csv_num(s.init_mean_ms),
                 csv_num(s.init_max_ms),
                 std::to_string(s.max_users),
                 s.open_loop ? "1" : "0",
                 s.run.warnings});
    csv_row(summary, row);
  }
  write_file(dir / "summary.csv", summary.str());

  std::ostringstream requests;
  csv_row(requests,
          {"run_id",      "label",          "runtime", "memory_mb",   "index",  "stage",      "mode",
           "user_id",     "iteration",      "users",   "scheduled_s", "sent_s", "answered_s", "latency_ms",
           "http_status", "function_error", "error",   "failed",      "cold",   "init_ms"});
  for (const auto& d : data) {
    if (d.requests.empty()) continue;
    const int64_t t0 = d.requests.front().sent_at_us;
    const auto rel = [t0](int64_t us) { return csv_num(static_cast<double>(us - t0) / kUsPerSecond); };
    int64_t index = 0;
    for (const auto& q : d.requests) {
      auto row = run_columns(d.run);
      append(row,
             {std::to_string(++index), std::to_string(q.stage), std::string(q.open_loop ? "open" : "closed"),
              csv_int(q.user_id), csv_int(q.iteration), std::to_string(q.users), rel(q.scheduled_at_us),
              rel(q.sent_at_us), q.answered_at_us ? rel(*q.answered_at_us) : "",
              q.latency_us ? csv_num(static_cast<double>(*q.latency_us) / 1000) : "", csv_int(q.http_status),
              q.function_error, q.error, std::string(q.failed() ? "1" : "0"), csv_bool(q.cold),
              csv_num(q.init_ms)});
      csv_row(requests, row);
    }
  }
  write_file(dir / "requests.csv", requests.str());

  std::ostringstream series;
  csv_row(series, {"run_id", "label", "runtime", "memory_mb", "second", "hits", "max_latency_ms",
                   "avg_latency_ms", "users"});
  for (const auto& d : data) {
    for (const auto& b : timeseries(d)) {
      auto row = run_columns(d.run);
      append(row, {std::to_string(b.second), std::to_string(b.hits), csv_num(b.max_latency_ms),
                   csv_num(b.avg_latency_ms), std::to_string(b.users)});
      csv_row(series, row);
    }
  }
  write_file(dir / "timeseries.csv", series.str());

  const fs::path scenario1 = dir / "scenario1.csv";
  std::error_code ignored;
  fs::remove(scenario1, ignored);  // a stale one from an earlier report would be plotted
  if (open.empty()) return;
  std::ostringstream s1;
  csv_row(s1, {"run_id", "label", "runtime", "memory_mb", "index", "minute", "idle_gap_min", "start",
               "latency_ms", "init_ms", "failed"});
  for (const auto& [run, rows] : open) {
    for (const auto& r : rows) {
      auto row = run_columns(run);
      append(row, {std::to_string(r.index), csv_num(r.minute), csv_num(r.idle_gap_min),
                   r.cold ? start_text(r.cold) : "", csv_num(r.latency_ms), csv_num(r.init_ms),
                   std::string(r.failed ? "1" : "0")});
      csv_row(s1, row);
    }
  }
  write_file(scenario1, s1.str());
}

// ---- Plots ----

// Runs argv[0] (searched in PATH if it has no slash) without a shell and waits. Its stdout
// goes to our stderr, so it can never mix into the Markdown on stdout; `quiet` silences both.
// Returns the exit status, or -1 with `why` set if it could not be started.
int spawn_and_wait(const std::vector<std::string>& args, bool quiet, std::string& why) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  }
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    why = std::strerror(rc);
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      why = std::strerror(errno);
      return -1;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  why = "killed by signal " + std::to_string(WTERMSIG(status));
  return 128 + WTERMSIG(status);
}

// Draws the plots; returns why they were not drawn, or nothing.
std::optional<std::string> draw_plots(const Options& o) {
  return run_plot_script(o.python, o.plot_script, o.out_dir);
}

// The images plot_report.py draws, in the order report.md shows them.
std::vector<std::pair<std::string, std::string>> images(const std::vector<RunSummary>& summaries,
                                                        bool open_loop) {
  std::vector<std::pair<std::string, std::string>> out;  // (file stem, caption)
  out.emplace_back("comparison", "Throughput and maximum latency across memory sizes");
  if (open_loop) out.emplace_back("scenario1", "Scenario 1: latency per request, cold and warm");
  for (const auto& s : summaries) {
    out.emplace_back("timeseries-" + std::to_string(s.run.id), "Over time: " + run_name(s.run));
  }
  return out;
}

void write_plots_section(std::ostream& out, const fs::path& dir, const std::vector<RunSummary>& summaries,
                         bool open_loop, const std::optional<std::string>& not_drawn) {
  out << "## Plots\n\n";
  if (not_drawn) {
    out << "The plots were not drawn: " << *not_drawn << ".\n";
    return;
  }
  for (const auto& [stem, caption] : images(summaries, open_loop)) {
    std::error_code ec;
    if (!fs::is_regular_file(dir / (stem + ".png"), ec)) continue;  // e.g. no memory sizes to compare
    out << "### " << md_cell(caption) << "\n\n![" << md_cell(caption) << "](" << stem << ".png)\n\n"
        << "[SVG](" << stem << ".svg)\n\n";
  }
}

}  // namespace

// ---- The computations ----

bool Request::failed() const {
  return !http_status || *http_status != 200 || !function_error.empty() || !error.empty();
}

std::optional<double> RunSummary::speed_up() const {
  if (!duration_s || !wall_s || *wall_s <= 0) return std::nullopt;
  return *duration_s / *wall_s;
}

std::vector<int64_t> select_runs(sqlite3* db, const std::vector<int64_t>& ids) {
  if (!ids.empty()) {
    for (int64_t id : ids) {
      Statement find(db, "SELECT 1 FROM runs WHERE id = ?");
      find.bind(1, id);
      if (!find.step()) throw ReportError("no run with id " + std::to_string(id) + " in the database");
    }
    return ids;
  }
  Statement s(db,
              "SELECT id FROM runs WHERE kind = 'experiment' AND experiment_id = "
              "(SELECT MAX(experiment_id) FROM runs WHERE kind = 'experiment') ORDER BY id");
  std::vector<int64_t> out;
  while (s.step()) out.push_back(s.int64(0));
  if (out.empty())
    throw ReportError("no experiment runs in the database (run `coldlab run SCENARIO.yaml` first)");
  return out;
}

std::vector<RunData> load_runs(sqlite3* db, const std::vector<int64_t>& ids) {
  std::vector<RunData> out;
  for (int64_t id : ids) {
    Statement s(db,
                "SELECT label, parameters_json, clock, status, scenario, warnings, experiment_id, "
                "started_at_us, ended_at_us, wall_ms FROM runs WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) throw ReportError("no run with id " + std::to_string(id) + " in the database");
    RunData d;
    Run& r = d.run;
    r.id = id;
    r.label = s.null(0) ? "run " + std::to_string(id) : s.text(0);
    const auto params = nlohmann::json::parse(s.text(1), nullptr, false);
    if (params.is_object()) {
      if (params.contains("runtime") && params["runtime"].is_string()) r.runtime = params["runtime"];
      if (params.contains("function") && params["function"].is_string()) r.function = params["function"];
      if (params.contains("memory_mb") && params["memory_mb"].is_number()) r.memory_mb = params["memory_mb"];
    }
    if (r.runtime.empty()) r.runtime = r.label;
    r.clock = s.text(2);
    r.status = s.text(3);
    r.scenario = s.text(4);
    r.warnings = s.text(5);
    r.experiment_id = s.opt_int(6);
    r.started_at_us = s.int64(7);
    r.ended_at_us = s.opt_int(8);
    r.wall_ms = s.opt_double(9);

    // cold/Init: the client's view (the REPORT line), else the emulator's for that request.
    Statement q(db,
                "SELECT r.id, r.request_id, r.stage, r.mode, r.user_id, r.iteration, r.users, "
                "r.scheduled_at_us, r.sent_at_us, r.answered_at_us, r.latency_us, r.http_status, "
                "r.function_error, r.error, "
                "COALESCE(r.cold, (SELECT i.cold FROM invocations i WHERE i.run_id = r.run_id AND "
                "  i.request_id = r.request_id ORDER BY i.attempt LIMIT 1)), "
                "COALESCE(r.init_ms, (SELECT i.init_ms FROM invocations i WHERE i.run_id = r.run_id AND "
                "  i.request_id = r.request_id ORDER BY i.attempt LIMIT 1)) "
                "FROM requests r WHERE r.run_id = ? ORDER BY r.sent_at_us, r.id");
    q.bind(1, id);
    while (q.step()) {
      Request x;
      x.id = q.int64(0);
      x.request_id = q.text(1);
      x.stage = static_cast<int>(q.int64(2));
      x.open_loop = q.text(3) == "open";
      x.user_id = q.opt_int(4);
      x.iteration = q.opt_int(5);
      x.users = q.int64(6);
      x.scheduled_at_us = q.int64(7);
      x.sent_at_us = q.int64(8);
      x.answered_at_us = q.opt_int(9);
      x.latency_us = q.opt_int(10);
      x.http_status = q.opt_int(11);
      x.function_error = q.text(12);
      x.error = q.text(13);
      if (!q.null(14)) x.cold = q.int64(14) != 0;
      x.init_ms = q.opt_double(15);
      d.requests.push_back(std::move(x));
    }
    out.push_back(std::move(d));
  }
  return out;
}

double nearest_rank(const std::vector<double>& sorted, double p) {
  const auto n = static_cast<double>(sorted.size());
  // Rounded first so that e.g. 0.9 * 10 is rank 9, not 10 through floating-point error.
  const double rank = std::ceil(std::round(p / 100 * n * 1e9) / 1e9);
  const auto i = static_cast<std::size_t>(std::clamp(rank, 1.0, n)) - 1;
  return sorted[i];
}

std::vector<Bucket> timeseries(const RunData& data) {
  const auto& rs = data.requests;
  if (rs.empty()) return {};
  const int64_t t0 = rs.front().sent_at_us;  // sorted by sending time
  const auto bucket_of = [t0](int64_t us) { return std::max<int64_t>(0, (us - t0) / 1'000'000); };
  int64_t last = 0;
  for (const auto& q : rs) {
    last = std::max(last, bucket_of(q.sent_at_us));
    if (q.answered_at_us) last = std::max(last, bucket_of(*q.answered_at_us));
  }
  std::vector<Bucket> out(static_cast<std::size_t>(last + 1));
  std::vector<double> latency_sum(out.size(), 0);
  std::vector<int64_t> latency_n(out.size(), 0);
  std::vector<std::optional<int64_t>> users(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i].second = static_cast<int64_t>(i);
  for (const auto& q : rs) {
    auto& u = users[static_cast<std::size_t>(bucket_of(q.sent_at_us))];
    u = std::max(u.value_or(0), q.users);
    if (!q.answered_at_us) continue;
    const auto b = static_cast<std::size_t>(bucket_of(*q.answered_at_us));
    ++out[b].hits;
    if (q.latency_us) {
      const double ms = static_cast<double>(*q.latency_us) / 1000;
      out[b].max_latency_ms = std::max(out[b].max_latency_ms.value_or(ms), ms);
      latency_sum[b] += ms;
      ++latency_n[b];
    }
  }
  int64_t current_users = 0;  // users stay active between their requests
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (latency_n[i]) out[i].avg_latency_ms = latency_sum[i] / static_cast<double>(latency_n[i]);
    if (users[i]) current_users = *users[i];
    out[i].users = current_users;
  }
  return out;
}

RunSummary summarise(const RunData& data) {
  RunSummary s;
  s.run = data.run;
  if (data.run.ended_at_us) {
    s.duration_s = static_cast<double>(*data.run.ended_at_us - data.run.started_at_us) / kUsPerSecond;
  }
  if (data.run.wall_ms) s.wall_s = *data.run.wall_ms / 1000;

  std::vector<double> latencies;
  std::vector<double> inits;
  std::optional<int64_t> last_answer;
  for (const auto& q : data.requests) {
    ++s.requests;
    if (q.failed()) ++s.errors;
    if (q.open_loop) s.open_loop = true;
    s.max_users = std::max(s.max_users, q.users);
    if (q.cold.value_or(false)) {
      ++s.cold_starts;
      if (q.init_ms) inits.push_back(*q.init_ms);
    }
    if (!q.answered_at_us) continue;
    ++s.answered;
    last_answer = std::max(last_answer.value_or(*q.answered_at_us), *q.answered_at_us);
    if (q.latency_us) latencies.push_back(static_cast<double>(*q.latency_us) / 1000);
  }
  if (last_answer) {
    const double window = static_cast<double>(*last_answer - data.requests.front().sent_at_us) / kUsPerSecond;
    if (window > 0) s.hits_mean = static_cast<double>(s.answered) / window;
  }
  for (const auto& b : timeseries(data)) s.hits_peak = std::max(s.hits_peak, b.hits);
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    Latency l;
    double sum = 0;
    for (double v : latencies) sum += v;
    l.avg = sum / static_cast<double>(latencies.size());
    l.min = latencies.front();
    l.max = latencies.back();
    l.p50 = nearest_rank(latencies, 50);
    l.p90 = nearest_rank(latencies, 90);
    l.p99 = nearest_rank(latencies, 99);
    s.latency = l;
  }
  if (!inits.empty()) {
    double sum = 0;
    for (double v : inits) sum += v;
    s.init_mean_ms = sum / static_cast<double>(inits.size());
    s.init_max_ms = *std::max_element(inits.begin(), inits.end());
  }
  return s;
}

std::vector<RunSummary> summarise(sqlite3* db, const std::vector<int64_t>& runs) {
  std::vector<RunSummary> out;
  for (const auto& d : load_runs(db, runs)) out.push_back(summarise(d));
  return out;
}

std::vector<OpenLoopRow> open_loop_rows(const RunData& data) {
  std::vector<const Request*> open;
  for (const auto& q : data.requests) {
    if (q.open_loop) open.push_back(&q);
  }
  std::stable_sort(open.begin(), open.end(), [](const Request* a, const Request* b) {
    return a->scheduled_at_us < b->scheduled_at_us;
  });
  std::vector<OpenLoopRow> out;
  for (std::size_t i = 0; i < open.size(); ++i) {
    const Request& q = *open[i];
    OpenLoopRow r;
    r.index = static_cast<int>(i + 1);
    r.minute = static_cast<double>(q.scheduled_at_us - open.front()->scheduled_at_us) / kUsPerMinute;
    // The idle time the environment saw; none when the previous request was unanswered or
    // still in flight (then there was no idle gap).
    if (i > 0 && open[i - 1]->answered_at_us && q.sent_at_us >= *open[i - 1]->answered_at_us) {
      r.idle_gap_min = static_cast<double>(q.sent_at_us - *open[i - 1]->answered_at_us) / kUsPerMinute;
    }
    r.cold = q.cold;
    if (q.answered_at_us && q.latency_us) r.latency_ms = static_cast<double>(*q.latency_us) / 1000;
    r.init_ms = q.init_ms;
    r.failed = q.failed();
    out.push_back(r);
  }
  return out;
}

int run_report(const Options& options, std::ostream& markdown, std::ostream& errors) {
  try {
    Database db(options.db);
    const int64_t version = schema_version(db.get());
    if (version < kMinSchemaVersion) {
      throw ReportError(options.db.string() + " has schema version " + std::to_string(version) +
                        "; the report needs version " + std::to_string(kMinSchemaVersion) +
                        " or later (an experiment recorded by `coldlab run`)");
    }
    const auto data = load_runs(db.get(), select_runs(db.get(), options.runs));
    std::vector<RunSummary> summaries;
    OpenLoop open;
    for (const auto& d : data) {
      summaries.push_back(summarise(d));
      if (summaries.back().open_loop) open.emplace_back(d.run, open_loop_rows(d));
    }

    std::ostringstream body;
    write_markdown(body, summaries, open, options.db);
    markdown << body.str();
    if (options.out_dir.empty()) return 0;

    std::error_code ec;
    fs::create_directories(options.out_dir, ec);
    if (ec) throw ReportError("cannot create " + options.out_dir.string() + ": " + ec.message());
    write_csvs(options.out_dir, data, summaries, open);
    std::optional<std::string> not_drawn;
    for (const auto& [stem, caption] : images(summaries, !open.empty())) {
      // An earlier report's image must not pass for this one's if it is not drawn again.
      for (const char* ext : {".png", ".svg"}) fs::remove(options.out_dir / (stem + ext), ec);
    }
    if (!options.plots) {
      not_drawn = "--no-plots was given";
    } else if ((not_drawn = draw_plots(options))) {
      errors << "coldlab report: plots skipped: " << *not_drawn << '\n';
    }
    std::ostringstream report;
    report << body.str();
    write_plots_section(report, options.out_dir, summaries, !open.empty(), not_drawn);
    write_file(options.out_dir / "report.md", report.str());
    return 0;
  } catch (const std::exception& e) {  // ReportError, and bad_alloc or a filesystem error
    errors << "coldlab report: " << e.what() << '\n';
    return 1;
  }
}

std::optional<std::string> run_plot_script(const std::string& python, const fs::path& script, const fs::path& out_dir) {
  std::error_code ec;
  if (script.empty() || !fs::is_regular_file(script, ec)) {
    return "the plot script was not found (" + (script.empty() ? std::string("none given") : script.string()) + ")";
  }
  std::string why;
  int rc = spawn_and_wait({python, "-c", "import matplotlib"}, true, why);
  if (rc < 0) return "cannot run " + python + " (" + why + ")";
  if (rc == 127) return "cannot run " + python;
  if (rc != 0) return "matplotlib is not importable by " + python + " (install python3-matplotlib)";
  rc = spawn_and_wait({python, script.string(), out_dir.string()}, false, why);
  if (rc < 0) return "cannot run " + python + " (" + why + ")";
  if (rc != 0) return script.filename().string() + " failed with exit status " + std::to_string(rc);
  return std::nullopt;
}

}  // namespace coldlab::report
