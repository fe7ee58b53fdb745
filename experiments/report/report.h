// `coldlab report`: the study's tables, CSV files and plots from an experiment's database
// (docs/schema.md, version 3 or later). The figures are computed here, in C++, from the
// `runs`, `requests` and `invocations` tables; the plots are drawn by plot_report.py
// (matplotlib) from the CSV files this writes, so a machine without matplotlib still gets
// every number.
//
// Definitions (the report states them too):
//   - answered: a request that got an answer (answered_at_us not NULL), whatever its status;
//     the study's "hits" (JMeter samples) count errors too.
//   - error: http_status != 200, a function error (X-Amz-Function-Error) or a transport error.
//   - hits/s mean: answered requests / (last answer - first send), in seconds.
//   - hits/s peak, time series: requests bucketed by their answer time into 1-second buckets
//     counted from the run's first send.
//   - latency: client-side latency_us of answered requests; percentiles by nearest rank
//     (the smallest value with at least p % of the values at or below it).
//   - cold: requests.cold; when NULL, the emulator's invocations.cold for the same run_id and
//     request_id (first attempt). Init likewise (requests.init_ms, else invocations.init_ms).
//
// Thread-safety: plain functions and values, no shared state.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace coldlab::report {

struct Options {
  std::filesystem::path db;
  std::vector<int64_t> runs;      // empty: every run of the latest experiment (largest experiment_id)
  std::filesystem::path out_dir;  // empty: no files (Markdown on the stream only)
  std::string python = "/usr/bin/python3";
  std::filesystem::path plot_script;  // plot_report.py; empty or missing: plots skipped
  bool plots = true;
};

// Writes the Markdown report to `markdown`; with out_dir, also summary.csv, requests.csv,
// timeseries.csv, scenario1.csv (open-loop runs only), report.md and the plots (PNG and SVG).
// Returns 0, or prints one clear line to `errors` and returns 1: no such database, schema
// version < 3, unknown run id, no experiment runs. When plots cannot be drawn (python or
// matplotlib missing, the script failed) it prints exactly one line saying so and why to
// `errors`, still writes the tables and CSV files, and report.md says the plots were not drawn.
int run_report(const Options& options, std::ostream& markdown, std::ostream& errors);

// Runs `python script out_dir` (one of the plot scripts beside the binary, which read the
// CSV files in out_dir and write PNG and SVG there). Returns why nothing was drawn (python
// or matplotlib missing, the script missing or failing), or nothing when it worked.
std::optional<std::string> run_plot_script(const std::string& python, const std::filesystem::path& script,
                                           const std::filesystem::path& out_dir);

// A refusal of run_report's: what() is the message for the user.
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- The computations, testable without files ----

// One `runs` row as the report needs it.
struct Run {
  int64_t id = 0;
  std::string label;     // runs.label, else "run <id>"
  std::string runtime;   // parameters_json.runtime, else the label
  std::string function;  // parameters_json.function; may be empty
  int memory_mb = 0;     // parameters_json.memory_mb; 0: not known
  std::string clock;     // "real" or "virtual"; empty if NULL
  std::string status;    // empty if NULL
  std::string scenario;
  std::string warnings;  // empty: none
  std::optional<int64_t> experiment_id;
  int64_t started_at_us = 0;
  std::optional<int64_t> ended_at_us;
  std::optional<double> wall_ms;
};

// One row of `requests`, with cold/Init completed from `invocations`.
struct Request {
  int64_t id = 0;
  std::string request_id;
  int stage = 0;
  bool open_loop = false;
  std::optional<int64_t> user_id;
  std::optional<int64_t> iteration;
  int64_t users = 0;  // NULL is 0
  int64_t scheduled_at_us = 0;
  int64_t sent_at_us = 0;
  std::optional<int64_t> answered_at_us;
  std::optional<int64_t> latency_us;
  std::optional<int64_t> http_status;
  std::string function_error;
  std::string error;
  std::optional<bool> cold;
  std::optional<double> init_ms;

  bool answered() const { return answered_at_us.has_value(); }
  bool failed() const;  // see "error" above
};

struct RunData {
  Run run;
  std::vector<Request> requests;  // in sending order (sent_at_us, then id)
};

// The runs to report: `ids` if given (ReportError naming the first unknown one), else every
// run of the experiment with the largest experiment_id (ReportError if there is none).
std::vector<int64_t> select_runs(sqlite3* db, const std::vector<int64_t>& ids);
// Reads the runs and their requests, in the order of `ids`. ReportError on an unknown id.
std::vector<RunData> load_runs(sqlite3* db, const std::vector<int64_t>& ids);

struct Latency {  // ms
  double avg = 0, min = 0, max = 0, p50 = 0, p90 = 0, p99 = 0;
};

// The study's table, one per run.
struct RunSummary {
  Run run;
  int64_t requests = 0;
  int64_t answered = 0;
  int64_t errors = 0;
  std::optional<double> hits_mean;  // none: fewer than one answer or a zero-length window
  int64_t hits_peak = 0;
  std::optional<Latency> latency;  // none: nothing answered
  int64_t cold_starts = 0;
  std::optional<double> init_mean_ms;  // over cold starts with a known Init
  std::optional<double> init_max_ms;
  int64_t max_users = 0;
  bool open_loop = false;                  // has open-loop requests (Scenario 1)
  std::optional<double> duration_s;        // ended_at_us - started_at_us, on the run's clock
  std::optional<double> wall_s;            // runs.wall_ms
  std::optional<double> speed_up() const;  // duration / wall time
};

RunSummary summarise(const RunData& data);
std::vector<RunSummary> summarise(sqlite3* db, const std::vector<int64_t>& runs);

// The value of nearest rank: sorted[ceil(p / 100 * n) - 1]; `sorted` ascending, non-empty.
double nearest_rank(const std::vector<double>& sorted, double p);

// One second of a run (bucket `second` covers [first send + second s, + 1 s)).
struct Bucket {
  int64_t second = 0;
  int64_t hits = 0;                      // requests answered in the bucket
  std::optional<double> max_latency_ms;  // of those; none if there were none
  std::optional<double> avg_latency_ms;
  int64_t users = 0;  // most users any request sent in the bucket saw;
                      // carried over from the last bucket with a send
};
// Every second from the first send to the last answer (or send), gaps included.
std::vector<Bucket> timeseries(const RunData& data);

// Scenario 1: the run's open-loop requests by scheduled time.
struct OpenLoopRow {
  int index = 0;                       // 1-based
  double minute = 0;                   // scheduled - first scheduled, minutes
  std::optional<double> idle_gap_min;  // sent - previous answer; none for the first (or no answer)
  std::optional<bool> cold;
  std::optional<double> latency_ms;  // none: no answer
  std::optional<double> init_ms;
  bool failed = false;
};
std::vector<OpenLoopRow> open_loop_rows(const RunData& data);

}  // namespace coldlab::report
