// The invocation log: one SQLite database (WAL) that every coldlab job writes and every
// report reads. The schema is the contract with analysis tools; docs/schema.md describes it.
//
// Writes are queued and committed by one background thread in batches, so recording an
// invocation never waits for the disk. A crash of the emulator loses the rows not yet
// committed: those queued since the last commit started (a batch is committed once
// Options::batch_max_rows rows are queued or Options::flush_interval after its first row,
// whichever comes first) and those of a commit in progress. The database itself is never
// corrupted (SQLite's WAL guarantees that).
//
// Stored values: a run_id of 0 (recorded outside a run) and empty std::optionals are NULL;
// nullable text columns (error_type, version, runtime, end_detail, ...) are NULL, never ''.
// Rows the database rejects (e.g. an unknown status) are reported on stderr and skipped;
// the rest of their batch is kept.
//
// Thread-safety: every method may be called from any thread, concurrently, except that
// the destructor must not race with other calls.
// Copying is disabled: one object owns the database connection and the writer thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace coldlab::log {

// One row of `runs`: one `coldlab serve`, or one combination of a `coldlab run` experiment.
struct RunInfo {
  int64_t started_at_us = 0;      // epoch microseconds
  std::string coldlab_version;
  std::string command_line;       // argv joined with spaces, as typed
  std::string host_json;          // host facts (hostname, kernel, cpus, memory, cpu model) as JSON
  std::string config_json;        // effective options (idle timeout, max concurrency, ...) as JSON
  std::string keep_alive;         // the keep-alive policy's name with its parameters
  std::string scale_out;          // the scale-out policy's name with its parameters
  int64_t memory_budget_mb = 0;   // 0: none (stored as NULL)
  // Schema 3:
  std::string clock = "real";     // "real" or "virtual": what every _at_us of the run is
  std::string kind = "serve";     // "serve" or "experiment"
  // Experiments: the runs of one `coldlab run` (or one `coldlab simulate --sweep`) share
  // the id of its first run; 0 for the first one (it gets its own id). Ignored for other
  // kinds (stored as NULL).
  int64_t experiment_id = 0;
  std::string scenario;           // the scenario file
  std::string label;              // the combination, e.g. "python 512 MB"
  std::string parameters_json;    // the combination's parameters, JSON
};

// How a run ended (schema 3).
struct RunEnd {
  int64_t ended_at_us = 0;        // on the run's clock
  double wall_ms = -1;            // real time the run took; < 0: not known (NULL)
  std::string status = "completed";  // "completed", "interrupted" or "failed"
  std::string warnings;           // e.g. the driver fell behind its schedule; empty: none
  std::string summary_json;       // schema 4: a simulation's summary (JSON); empty: none
};

// One request a load driver sent (`coldlab run`), as its client saw it (schema 3).
struct RequestRecord {
  int64_t run_id = 0;
  std::string request_id;         // x-amzn-RequestId of the answer; empty if none came
  int stage = 0;                  // 0-based index of the execution entry
  bool open_loop = false;         // sent on a schedule (at:), not by a closed-loop user
  int user_id = 0;                // closed loop: 1-based user; open loop: 0 (NULL)
  int64_t iteration = 0;          // closed loop: the user's scenario loop; open: index in `at`
  std::string label;
  std::string function;
  int users = 0;                  // users active when it was sent
  int64_t scheduled_at_us = 0;    // when the schedule wanted it sent
  int64_t sent_at_us = 0;
  std::optional<int64_t> answered_at_us;  // empty: no answer (transport error)
  std::optional<int64_t> latency_us;      // client-side, network delay included
  int64_t network_delay_us = 0;   // the network model's share of latency_us
  std::optional<int> http_status;
  std::string function_error;     // X-Amz-Function-Error, e.g. "Unhandled"
  std::string error;              // transport error, or the error type of a refused request
  std::optional<bool> cold;       // from the REPORT line of the answer's log tail
  std::optional<double> init_ms;  // its Init Duration, on cold starts
  int64_t response_bytes = 0;
};

// An execution environment was spawned (its process started).
struct EnvironmentStarted {
  int64_t environment_id = 0;     // from InvocationLog::allocate_environment_id()
  int64_t run_id = 0;
  std::string function;
  int memory_mb = 0;
  std::string runtime;            // e.g. "provided.al2023", "python3.11"
  int pid = 0;                    // 0: no process (a simulated environment), stored as NULL
  int64_t spawned_at_us = 0;
};

// The environment's runtime made its first /next: Init is over.
struct EnvironmentReady {
  int64_t environment_id = 0;
  int64_t ready_at_us = 0;
  double init_ms = 0;
};

// The environment is gone. `reason` is one of: "idle" (evicted by the keep-alive policy),
// "timeout", "crash", "oom", "init_error", "init_timeout", "config_update", "shutdown", "exited"
// (process left while idle).
struct EnvironmentEnded {
  int64_t environment_id = 0;
  int64_t ended_at_us = 0;
  std::string reason;
  std::string detail;             // e.g. "exit status 3", "signal: killed"; may be empty
};

// Exactly one row per invocation attempt, whatever happened to it.
struct InvocationRecord {
  std::string request_id;
  int attempt = 1;                       // Event invocations are retried with the same request id
  int64_t run_id = 0;
  std::string function;
  std::string version = "$LATEST";
  int memory_mb = 0;
  std::optional<int64_t> environment_id; // empty when no environment was involved (throttled, rejected)
  bool cold = false;
  std::string invocation_type;           // "RequestResponse", "Event", "DryRun"
  int64_t started_at_us = 0;             // when the emulator received the request (epoch µs)
  std::optional<double> init_ms;         // only on cold starts
  double duration_ms = 0;                // event handed to the runtime -> response/error received
  int64_t billed_ms = 0;                 // ceil(duration_ms), as Lambda bills since Dec 2020
  std::optional<int> max_memory_mb;
  std::string status;                    // 'ok','error','timeout','crash','throttled','rejected','oom'
  std::string error_type;                // e.g. "Runtime.ExitError", "TooManyRequestsException"; empty if ok
  int64_t request_bytes = 0;
  int64_t response_bytes = 0;
  int64_t latency_us = 0;                // request received -> answer ready, as the client saw it (minus network)
};

class InvocationLog {
 public:
  struct Options {
    int batch_max_rows = 256;
    std::chrono::milliseconds flush_interval{100};
  };

  // Opens or creates the database at `path`, applies the schema (idempotent; existing
  // databases of the same schema version are appended to), sets WAL mode and starts the
  // writer thread. Throws std::runtime_error naming the path and SQLite's message on failure,
  // and when the file's schema version (PRAGMA user_version) is newer than this build's.
  // batch_max_rows below 1 is treated as 1.
  static std::unique_ptr<InvocationLog> open(const std::filesystem::path& path, Options options);
  static std::unique_ptr<InvocationLog> open(const std::filesystem::path& path) { return open(path, Options{}); }

  // Flushes everything queued, records the end of the current run (now, wall clock) if
  // begin_run was called and end_run was not, and closes the database. Never throws:
  // failures go to stderr.
  virtual ~InvocationLog() = default;

  InvocationLog(const InvocationLog&) = delete;
  InvocationLog& operator=(const InvocationLog&) = delete;

  // Inserts the `runs` row synchronously and returns its id. It becomes the current run,
  // which the destructor ends if end_run is not called. Throws std::runtime_error on failure.
  virtual int64_t begin_run(const RunInfo& run) = 0;
  // Records the run's end time (synchronous; flushes first, so a reader that sees
  // ended_at_us also sees every row of the run). Throws std::runtime_error on failure or
  // if no run has that id.
  virtual void end_run(int64_t run_id, int64_t ended_at_us) = 0;
  // The same, with how the run ended (status, wall time, warnings).
  virtual void end_run(int64_t run_id, const RunEnd& end) = 0;

  // Unique across the whole database (also across runs): ids continue after the largest one
  // stored when open() ran. Assumes one coldlab process writes the file at a time.
  virtual int64_t allocate_environment_id() = 0;

  // Queue a row; never blocks on disk I/O.
  virtual void record(const EnvironmentStarted& e) = 0;
  virtual void record(const EnvironmentReady& e) = 0;
  virtual void record(const EnvironmentEnded& e) = 0;
  virtual void record(const InvocationRecord& r) = 0;
  virtual void record(const RequestRecord& r) = 0;

  // Blocks until every row queued before the call is committed (or, if SQLite failed,
  // reported on stderr: flush never waits for rows that cannot be written).
  virtual void flush() = 0;

 protected:
  InvocationLog() = default;
};

}  // namespace coldlab::log
