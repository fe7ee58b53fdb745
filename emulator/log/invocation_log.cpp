#include "log/invocation_log.h"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace coldlab::log {
namespace {

// 2: runs.keep_alive, scale_out, memory_budget_mb.
// 3: runs.clock, wall_ms, kind, experiment_id, scenario, label, parameters_json, status,
//    warnings; the requests table.
// 4: runs.summary_json (simulations).
constexpr int kSchemaVersion = 4;

// Every statement is idempotent so that opening an existing database of this version is a no-op.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  started_at_us INTEGER NOT NULL,
  ended_at_us INTEGER,
  coldlab_version TEXT,
  command_line TEXT,
  host_json TEXT,
  config_json TEXT,
  keep_alive TEXT,
  scale_out TEXT,
  memory_budget_mb INTEGER,
  clock TEXT,
  wall_ms REAL,
  kind TEXT,
  experiment_id INTEGER,
  scenario TEXT,
  label TEXT,
  parameters_json TEXT,
  status TEXT,
  warnings TEXT,
  summary_json TEXT
);
CREATE TABLE IF NOT EXISTS environments (
  id INTEGER PRIMARY KEY,
  run_id INTEGER REFERENCES runs(id),
  function TEXT NOT NULL,
  memory_mb INTEGER,
  runtime TEXT,
  pid INTEGER,
  spawned_at_us INTEGER,
  ready_at_us INTEGER,
  init_ms REAL,
  ended_at_us INTEGER,
  end_reason TEXT,
  end_detail TEXT
);
CREATE TABLE IF NOT EXISTS invocations (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 1,
  run_id INTEGER REFERENCES runs(id),
  function TEXT NOT NULL,
  version TEXT,
  memory_mb INTEGER,
  environment_id INTEGER,
  cold INTEGER NOT NULL CHECK (cold IN (0,1)),
  invocation_type TEXT,
  started_at_us INTEGER NOT NULL,
  init_ms REAL,
  duration_ms REAL,
  billed_ms INTEGER,
  max_memory_mb INTEGER,
  status TEXT NOT NULL
    CHECK (status IN ('ok','error','timeout','crash','throttled','rejected','oom')),
  error_type TEXT,
  request_bytes INTEGER,
  response_bytes INTEGER,
  latency_us INTEGER
);
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  request_id TEXT,
  stage INTEGER NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('open','closed')),
  user_id INTEGER,
  iteration INTEGER,
  label TEXT,
  function TEXT NOT NULL,
  users INTEGER,
  scheduled_at_us INTEGER NOT NULL,
  sent_at_us INTEGER NOT NULL,
  answered_at_us INTEGER,
  latency_us INTEGER,
  network_delay_us INTEGER,
  http_status INTEGER,
  function_error TEXT,
  error TEXT,
  cold INTEGER CHECK (cold IN (0,1)),
  init_ms REAL,
  response_bytes INTEGER
);
CREATE INDEX IF NOT EXISTS requests_run_id ON requests(run_id);
CREATE INDEX IF NOT EXISTS invocations_run_id ON invocations(run_id);
CREATE INDEX IF NOT EXISTS invocations_request_id ON invocations(request_id);
CREATE INDEX IF NOT EXISTS invocations_function_memory ON invocations(function, memory_mb);
CREATE INDEX IF NOT EXISTS environments_run_id ON environments(run_id);
-- What users asked for: every row but the ping policy's keep-warm requests.
CREATE VIEW IF NOT EXISTS user_invocations AS
  SELECT * FROM invocations WHERE invocation_type IS NOT 'Ping';
)sql";

constexpr const char* kInsertRun =
    "INSERT INTO runs (started_at_us, coldlab_version, command_line, host_json, config_json, "
    "keep_alive, scale_out, memory_budget_mb, clock, kind, experiment_id, scenario, label, "
    "parameters_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
// An experiment's (or a simulation sweep's) first run is its own experiment.
constexpr const char* kRunStartsExperiment =
    "UPDATE runs SET experiment_id = id WHERE id = ? AND kind IN ('experiment', 'simulation') "
    "AND experiment_id IS NULL";
constexpr const char* kEndRun =
    "UPDATE runs SET ended_at_us = ?, wall_ms = ?, status = ?, warnings = ?, summary_json = ? WHERE id = ?";
constexpr const char* kInsertEnvironment =
    "INSERT INTO environments (id, run_id, function, memory_mb, runtime, pid, spawned_at_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kEnvironmentReady =
    "UPDATE environments SET ready_at_us = ?, init_ms = ? WHERE id = ?";
constexpr const char* kEnvironmentEnded =
    "UPDATE environments SET ended_at_us = ?, end_reason = ?, end_detail = ? WHERE id = ?";
constexpr const char* kInsertInvocation =
    "INSERT INTO invocations (request_id, attempt, run_id, function, version, memory_mb, "
    "environment_id, cold, invocation_type, started_at_us, init_ms, duration_ms, billed_ms, "
    "max_memory_mb, status, error_type, request_bytes, response_bytes, latency_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertRequest =
    "INSERT INTO requests (run_id, request_id, stage, mode, user_id, iteration, label, function, "
    "users, scheduled_at_us, sent_at_us, answered_at_us, latency_us, network_delay_us, http_status, "
    "function_error, error, cold, init_ms, response_bytes) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

int64_t now_epoch_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// Owns a prepared statement. Reset on every use so one preparation serves the whole run.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      std::string message = sqlite3_errmsg(db);
      sqlite3_finalize(stmt_);
      throw std::runtime_error(message);
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&& other) noexcept {
    std::swap(stmt_, other.stmt_);
    return *this;
  }

  // Parameters are 1-based, as in SQLite.
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, int v) { bind(i, static_cast<int64_t>(v)); }
  void bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  void bind_null(int i) { sqlite3_bind_null(stmt_, i); }
  // SQLITE_STATIC, no copy: callers keep `v` alive until run(), which clears the bindings.
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  // Nullable text columns never hold '' so that analysis needs only IS NULL.
  void bind_text_or_null(int i, const std::string& v) {
    if (v.empty()) bind_null(i); else bind(i, v);
  }
  template <typename T>
  void bind_optional(int i, const std::optional<T>& v) {
    if (v) bind(i, *v); else bind_null(i);
  }
  // A run_id of 0 means "recorded outside a run": SQLite never assigns rowid 0.
  void bind_id_or_null(int i, int64_t id) {
    if (id <= 0) bind_null(i); else bind(i, id);
  }

  // Runs the statement to completion and leaves it ready for the next use.
  // Returns SQLite's message on failure (taken before the reset, which may change it).
  std::optional<std::string> run() {
    std::optional<std::string> error;
    if (sqlite3_step(stmt_) != SQLITE_DONE) error = sqlite3_errmsg(sqlite3_db_handle(stmt_));
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return error;
  }

  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

using Row = std::variant<EnvironmentStarted, EnvironmentReady, EnvironmentEnded, InvocationRecord,
                         RequestRecord>;

class SqliteInvocationLog final : public InvocationLog {
 public:
  SqliteInvocationLog(std::filesystem::path path, Options options);
  ~SqliteInvocationLog() override;

  int64_t begin_run(const RunInfo& run) override;
  void end_run(int64_t run_id, int64_t ended_at_us) override {
    RunEnd end;
    end.ended_at_us = ended_at_us;
    end_run(run_id, end);
  }
  void end_run(int64_t run_id, const RunEnd& end) override;
  int64_t allocate_environment_id() override { return next_environment_id_.fetch_add(1); }

  void record(const EnvironmentStarted& e) override { enqueue(Row(e)); }
  void record(const EnvironmentReady& e) override { enqueue(Row(e)); }
  void record(const EnvironmentEnded& e) override { enqueue(Row(e)); }
  void record(const InvocationRecord& r) override { enqueue(Row(r)); }
  void record(const RequestRecord& r) override { enqueue(Row(r)); }

  void flush() override;

 private:
  // Setup, in order; any of them throws std::runtime_error naming the path.
  void open_connection();
  void apply_schema();
  void prepare_statements();

  [[noreturn]] void fail(const std::string& what) const;
  std::string error_message() const;  // sqlite3_errmsg of the connection
  void exec(const char* sql);         // throws on failure
  Statement query_row(const char* sql);  // positioned on the first row; throws if there is none
  int64_t query_int(const char* sql);

  void enqueue(Row row);
  void writer_loop();
  void commit(std::vector<Row>& rows);
  void write(const EnvironmentStarted& e);
  void write(const EnvironmentReady& e);
  void write(const EnvironmentEnded& e);
  void write(const InvocationRecord& r);
  void write(const RequestRecord& r);
  // True when the update found no row (the caller keeps the fact for when it comes).
  bool check_update(const std::optional<std::string>& error, const char* what, int64_t id);
  void write_early(int64_t id);  // the facts that waited for environment `id`'s row
  void report_orphans();         // at close: facts whose row never came
  void report(const std::string& what) const;  // stderr: background errors must not crash serve

  const std::filesystem::path path_;
  const Options options_;

  // db_mu_ serialises transactions on the single connection: the writer's batches and the
  // synchronous run statements must not interleave inside one BEGIN/COMMIT.
  std::mutex db_mu_;
  sqlite3* db_ = nullptr;
  Statement insert_run_, run_starts_experiment_, end_run_, insert_environment_, environment_ready_,
      environment_ended_, insert_invocation_, insert_request_;

  std::atomic<int64_t> next_environment_id_{1};

  // mu_ guards the queue and its bookkeeping. Sequence numbers count rows ever queued and
  // rows ever handed to SQLite, so flush() can wait for "everything before me".
  std::mutex mu_;
  std::condition_variable work_cv_;     // writer waits: rows, a full batch, a flush, or stop
  std::condition_variable committed_cv_;  // flush() waits: committed_seq_ advanced
  std::vector<Row> queue_;
  std::chrono::steady_clock::time_point first_pending_at_;
  uint64_t enqueued_seq_ = 0;
  uint64_t committed_seq_ = 0;
  int flush_waiters_ = 0;
  bool stop_ = false;
  std::optional<int64_t> open_run_;  // begun, not yet ended: the destructor ends it

  std::vector<Row> batch_;  // writer thread only; swapped with queue_ to keep both allocations
  // Writer thread only. Threads queue an environment's facts in the order they learn them,
  // so its Ready or Ended can come before its Started (its runtime reached /next before the
  // spawning thread queued the spawn): such an update waits here for its row.
  std::map<int64_t, std::vector<std::variant<EnvironmentReady, EnvironmentEnded>>> early_;
  std::thread writer_;
};

InvocationLog::Options sanitized(InvocationLog::Options options) {
  if (options.batch_max_rows < 1) options.batch_max_rows = 1;
  return options;
}

SqliteInvocationLog::SqliteInvocationLog(std::filesystem::path path, Options options)
    : path_(std::move(path)), options_(sanitized(options)) {
  try {
    open_connection();
    apply_schema();
    // Started rows are written later by the writer thread, so ids cannot come from SQLite.
    next_environment_id_ = query_int("SELECT COALESCE(MAX(id), 0) + 1 FROM environments");
    prepare_statements();
    queue_.reserve(options_.batch_max_rows);
    batch_.reserve(options_.batch_max_rows);
    writer_ = std::thread([this] { writer_loop(); });
  } catch (...) {
    // close_v2: statements already prepared are finalized afterwards, by member destructors.
    sqlite3_close_v2(db_);
    throw;
  }
}

SqliteInvocationLog::~SqliteInvocationLog() {
  std::optional<int64_t> run;
  {
    std::lock_guard lock(mu_);
    run = open_run_;
  }
  try {
    if (run) {
      end_run(*run, now_epoch_us());  // flushes first
    } else {
      flush();
    }
  } catch (const std::exception& e) {
    report(e.what());
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_one();
  writer_.join();
  report_orphans();
  insert_run_ = Statement();
  run_starts_experiment_ = Statement();
  end_run_ = Statement();
  insert_environment_ = Statement();
  environment_ready_ = Statement();
  environment_ended_ = Statement();
  insert_invocation_ = Statement();
  insert_request_ = Statement();
  sqlite3_close(db_);
}

// ---- setup ------------------------------------------------------------------------------

void SqliteInvocationLog::fail(const std::string& what) const {
  throw std::runtime_error("invocation log " + path_.string() + ": " + what);
}

std::string SqliteInvocationLog::error_message() const {
  return db_ ? sqlite3_errmsg(db_) : "out of memory";
}

void SqliteInvocationLog::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : error_message();
    sqlite3_free(err);
    fail(message);
  }
}

Statement SqliteInvocationLog::query_row(const char* sql) {
  Statement stmt;
  try {
    stmt = Statement(db_, sql);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  if (sqlite3_step(stmt.get()) != SQLITE_ROW) fail(error_message());
  return stmt;
}

int64_t SqliteInvocationLog::query_int(const char* sql) {
  return sqlite3_column_int64(query_row(sql).get(), 0);
}

void SqliteInvocationLog::open_connection() {
  int rc = sqlite3_open_v2(path_.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) fail(error_message());
  // Reports or a second coldlab may hold the lock briefly; waiting beats losing rows.
  sqlite3_busy_timeout(db_, 5000);
}

void SqliteInvocationLog::apply_schema() {
  // Checked before anything is written, so a newer database is left untouched. It is also
  // the first read of the file, where "file is not a database" surfaces.
  auto refuse_newer = [this] {
    int64_t version = query_int("PRAGMA user_version");
    if (version > kSchemaVersion) {
      fail("schema version " + std::to_string(version) + " is newer than this coldlab supports (" +
           std::to_string(kSchemaVersion) + "); use a newer coldlab or another file");
    }
  };
  refuse_newer();

  // WAL: readers never block the writer, and a crash cannot corrupt the file. NORMAL: in WAL
  // mode a power loss may drop the last commits but never breaks consistency.
  std::string mode = reinterpret_cast<const char*>(
      sqlite3_column_text(query_row("PRAGMA journal_mode=WAL").get(), 0));
  if (mode != "wal") report("journal_mode is '" + mode + "', not 'wal'; readers will block the writer");
  exec("PRAGMA synchronous=NORMAL");

  // IMMEDIATE takes the write lock now, so two processes creating one file do not race.
  exec("BEGIN IMMEDIATE");
  try {
    refuse_newer();
    const int64_t old_version = query_int("PRAGMA user_version");
    exec(kSchema);
    // Version 1 files gain the columns version 2 added (CREATE IF NOT EXISTS left them out).
    if (old_version == 1) {
      exec("ALTER TABLE runs ADD COLUMN keep_alive TEXT");
      exec("ALTER TABLE runs ADD COLUMN scale_out TEXT");
      exec("ALTER TABLE runs ADD COLUMN memory_budget_mb INTEGER");
    }
    // Version 1 and 2 files gain the runs columns of version 3 (requests is created above).
    if (old_version == 1 || old_version == 2) {
      for (const char* column : {"clock TEXT", "wall_ms REAL", "kind TEXT", "experiment_id INTEGER",
                                 "scenario TEXT", "label TEXT", "parameters_json TEXT", "status TEXT",
                                 "warnings TEXT"})
        exec(("ALTER TABLE runs ADD COLUMN " + std::string(column)).c_str());
    }
    if (old_version >= 1 && old_version <= 3) exec("ALTER TABLE runs ADD COLUMN summary_json TEXT");
    exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void SqliteInvocationLog::prepare_statements() {
  try {
    insert_run_ = Statement(db_, kInsertRun);
    run_starts_experiment_ = Statement(db_, kRunStartsExperiment);
    end_run_ = Statement(db_, kEndRun);
    insert_environment_ = Statement(db_, kInsertEnvironment);
    environment_ready_ = Statement(db_, kEnvironmentReady);
    environment_ended_ = Statement(db_, kEnvironmentEnded);
    insert_invocation_ = Statement(db_, kInsertInvocation);
    insert_request_ = Statement(db_, kInsertRequest);
  } catch (const std::exception& e) {
    fail(e.what());
  }
}

// ---- runs (synchronous) -----------------------------------------------------------------

int64_t SqliteInvocationLog::begin_run(const RunInfo& run) {
  int64_t id = 0;
  {
    std::lock_guard db_lock(db_mu_);
    Statement& s = insert_run_;
    s.bind(1, run.started_at_us);
    s.bind_text_or_null(2, run.coldlab_version);
    s.bind_text_or_null(3, run.command_line);
    s.bind_text_or_null(4, run.host_json);
    s.bind_text_or_null(5, run.config_json);
    s.bind_text_or_null(6, run.keep_alive);
    s.bind_text_or_null(7, run.scale_out);
    if (run.memory_budget_mb > 0) s.bind(8, run.memory_budget_mb); else s.bind_null(8);
    s.bind_text_or_null(9, run.clock);
    s.bind_text_or_null(10, run.kind);
    if (run.kind == "experiment" || run.kind == "simulation") s.bind_id_or_null(11, run.experiment_id); else s.bind_null(11);
    s.bind_text_or_null(12, run.scenario);
    s.bind_text_or_null(13, run.label);
    s.bind_text_or_null(14, run.parameters_json);
    if (auto error = s.run()) fail("cannot insert the run: " + *error);
    id = sqlite3_last_insert_rowid(db_);
    run_starts_experiment_.bind(1, id);
    if (auto error = run_starts_experiment_.run()) fail("cannot insert the run: " + *error);
  }
  std::lock_guard lock(mu_);
  open_run_ = id;
  return id;
}

void SqliteInvocationLog::end_run(int64_t run_id, const RunEnd& end) {
  flush();  // so a reader that sees ended_at_us also sees every row of the run
  {
    std::lock_guard db_lock(db_mu_);
    Statement& s = end_run_;
    s.bind(1, end.ended_at_us);
    if (end.wall_ms >= 0) s.bind(2, end.wall_ms); else s.bind_null(2);
    s.bind_text_or_null(3, end.status);
    s.bind_text_or_null(4, end.warnings);
    s.bind_text_or_null(5, end.summary_json);
    s.bind(6, run_id);
    if (auto error = s.run()) fail("cannot end run " + std::to_string(run_id) + ": " + *error);
    if (sqlite3_changes(db_) == 0) fail("no run with id " + std::to_string(run_id));
  }
  std::lock_guard lock(mu_);
  if (open_run_ == run_id) open_run_.reset();
}

// ---- queue ------------------------------------------------------------------------------

void SqliteInvocationLog::enqueue(Row row) {
  const auto now = std::chrono::steady_clock::now();
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) first_pending_at_ = now;
    queue_.push_back(std::move(row));
    ++enqueued_seq_;
    // The writer waits for exactly these two events; other pushes need no wake-up.
    wake = queue_.size() == 1 || queue_.size() == static_cast<size_t>(options_.batch_max_rows);
  }
  if (wake) work_cv_.notify_one();
}

void SqliteInvocationLog::flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = enqueued_seq_;
  if (committed_seq_ >= target) return;
  ++flush_waiters_;
  work_cv_.notify_one();
  committed_cv_.wait(lock, [&] { return committed_seq_ >= target; });
  --flush_waiters_;
}

void SqliteInvocationLog::writer_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is written
    work_cv_.wait_until(lock, first_pending_at_ + options_.flush_interval, [this] {
      return stop_ || flush_waiters_ > 0 ||
             queue_.size() >= static_cast<size_t>(options_.batch_max_rows);
    });
    batch_.swap(queue_);
    const uint64_t seq = enqueued_seq_;
    lock.unlock();
    try {
      commit(batch_);
    } catch (const std::exception& e) {  // bad_alloc at worst; the thread must survive
      report(std::string("batch lost: ") + e.what());
    }
    batch_.clear();  // destroys the rows outside mu_
    lock.lock();
    // Advanced even if the batch failed: flush() promises "handled", and waiting forever
    // for rows that will never be written would hang serve's shutdown.
    committed_seq_ = seq;
    committed_cv_.notify_all();
  }
}

// ---- writer thread ----------------------------------------------------------------------

void SqliteInvocationLog::commit(std::vector<Row>& rows) {
  std::lock_guard db_lock(db_mu_);
  // IMMEDIATE: lock contention shows up here, under the busy timeout, not mid-batch.
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    report("cannot begin a transaction, " + std::to_string(rows.size()) +
           " rows lost: " + error_message());
    return;
  }
  // A failing row (a bad status, say) is reported and skipped; the rest of the batch stays.
  for (const Row& row : rows) std::visit([this](const auto& r) { write(r); }, row);
  if (sqlite3_get_autocommit(db_)) {
    // An I/O error or similar rolled the transaction back; rows after it autocommitted.
    report("a write error rolled back part of a batch of " + std::to_string(rows.size()) + " rows");
    return;
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    report("commit failed, " + std::to_string(rows.size()) + " rows lost: " + error_message());
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void SqliteInvocationLog::write(const EnvironmentStarted& e) {
  Statement& s = insert_environment_;
  s.bind(1, e.environment_id);
  s.bind_id_or_null(2, e.run_id);
  s.bind(3, e.function);
  s.bind(4, e.memory_mb);
  s.bind_text_or_null(5, e.runtime);
  s.bind_id_or_null(6, e.pid);  // 0: no process (a simulation)
  s.bind(7, e.spawned_at_us);
  if (auto error = s.run()) {
    report("cannot insert environment " + std::to_string(e.environment_id) + ": " + *error);
    return;
  }
  write_early(e.environment_id);
}

void SqliteInvocationLog::write(const EnvironmentReady& e) {
  Statement& s = environment_ready_;
  s.bind(1, e.ready_at_us);
  s.bind(2, e.init_ms);
  s.bind(3, e.environment_id);
  if (check_update(s.run(), "ready", e.environment_id)) early_[e.environment_id].emplace_back(e);
}

void SqliteInvocationLog::write(const EnvironmentEnded& e) {
  Statement& s = environment_ended_;
  s.bind(1, e.ended_at_us);
  s.bind_text_or_null(2, e.reason);
  s.bind_text_or_null(3, e.detail);
  s.bind(4, e.environment_id);
  if (check_update(s.run(), "ended", e.environment_id)) early_[e.environment_id].emplace_back(e);
}

bool SqliteInvocationLog::check_update(const std::optional<std::string>& error, const char* what,
                                       int64_t id) {
  if (error) {
    report(std::string("cannot mark environment ") + std::to_string(id) + " " + what + ": " + *error);
    return false;
  }
  return sqlite3_changes(db_) == 0;  // no row yet: the caller keeps the fact for it
}

void SqliteInvocationLog::write_early(int64_t id) {
  auto it = early_.find(id);
  if (it == early_.end()) return;
  auto facts = std::move(it->second);
  early_.erase(it);
  for (const auto& fact : facts) std::visit([this](const auto& f) { write(f); }, fact);
}

void SqliteInvocationLog::report_orphans() {
  // Facts whose Started row never came: a caller bug worth seeing.
  for (const auto& [id, facts] : early_)
    report("environment " + std::to_string(id) + ": " + std::to_string(facts.size()) +
           " update(s) recorded, but its spawn never was");
  early_.clear();
}

void SqliteInvocationLog::write(const InvocationRecord& r) {
  Statement& s = insert_invocation_;
  s.bind(1, r.request_id);
  s.bind(2, r.attempt);
  s.bind_id_or_null(3, r.run_id);
  s.bind(4, r.function);
  s.bind_text_or_null(5, r.version);
  s.bind(6, r.memory_mb);
  s.bind_optional(7, r.environment_id);
  s.bind(8, r.cold ? 1 : 0);
  s.bind_text_or_null(9, r.invocation_type);
  s.bind(10, r.started_at_us);
  s.bind_optional(11, r.init_ms);
  s.bind(12, r.duration_ms);
  s.bind(13, r.billed_ms);
  s.bind_optional(14, r.max_memory_mb);
  s.bind(15, r.status);
  s.bind_text_or_null(16, r.error_type);
  s.bind(17, r.request_bytes);
  s.bind(18, r.response_bytes);
  s.bind(19, r.latency_us);
  if (auto error = s.run()) {
    report("cannot insert invocation " + r.request_id + " (status '" + r.status + "'): " + *error);
  }
}

void SqliteInvocationLog::write(const RequestRecord& r) {
  Statement& s = insert_request_;
  s.bind_id_or_null(1, r.run_id);
  s.bind_text_or_null(2, r.request_id);
  s.bind(3, r.stage);
  const std::string mode = r.open_loop ? "open" : "closed";
  s.bind(4, mode);
  if (r.user_id > 0) s.bind(5, r.user_id); else s.bind_null(5);
  s.bind(6, r.iteration);
  s.bind_text_or_null(7, r.label);
  s.bind(8, r.function);
  s.bind(9, r.users);
  s.bind(10, r.scheduled_at_us);
  s.bind(11, r.sent_at_us);
  s.bind_optional(12, r.answered_at_us);
  s.bind_optional(13, r.latency_us);
  s.bind(14, r.network_delay_us);
  s.bind_optional(15, r.http_status);
  s.bind_text_or_null(16, r.function_error);
  s.bind_text_or_null(17, r.error);
  if (r.cold) s.bind(18, *r.cold ? 1 : 0); else s.bind_null(18);
  s.bind_optional(19, r.init_ms);
  s.bind(20, r.response_bytes);
  if (auto error = s.run()) report("cannot insert request " + r.request_id + ": " + *error);
}

void SqliteInvocationLog::report(const std::string& what) const {
  // One fprintf per message so that lines from concurrent threads do not interleave.
  std::fprintf(stderr, "coldlab: invocation log %s: %s\n", path_.c_str(), what.c_str());
}

}  // namespace

std::unique_ptr<InvocationLog> InvocationLog::open(const std::filesystem::path& path,
                                                   Options options) {
  return std::make_unique<SqliteInvocationLog>(path, options);
}

}  // namespace coldlab::log
