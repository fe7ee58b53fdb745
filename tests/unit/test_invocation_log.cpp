// The invocation log as analysis tools see it: through a second, plain sqlite3 connection.
#include "log/invocation_log.h"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace coldlab::log;
namespace fs = std::filesystem;
using Row = std::vector<std::optional<std::string>>;  // column texts; nullopt is NULL

int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

// A database path under the temp directory; removes the file and its WAL companions.
class TempDb {
 public:
  TempDb() {
    static std::atomic<int> counter{0};
    std::random_device random;
    path_ = fs::temp_directory_path() /
            ("coldlab_test_log_" + std::to_string(getpid()) + "_" + std::to_string(counter++) +
             "_" + std::to_string(random()) + ".db");
  }
  ~TempDb() {
    std::error_code ignored;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      fs::remove(path_.string() + suffix, ignored);
    }
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

RunInfo run_info(int64_t started_at_us, const std::string& command_line) {
  RunInfo info;
  info.started_at_us = started_at_us;
  info.coldlab_version = "0.1.0";
  info.command_line = command_line;
  if (!command_line.empty()) info.host_json = info.config_json = "{}";
  return info;
}

// An independent connection, as a report script would open.
class Reader {
 public:
  explicit Reader(const fs::path& path, int flags = SQLITE_OPEN_READWRITE) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Reader() { sqlite3_close(db_); }

  std::vector<Row> rows(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    std::vector<Row> result;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Row row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* text = sqlite3_column_text(stmt, i);
        row.push_back(text ? std::optional<std::string>(reinterpret_cast<const char*>(text))
                           : std::nullopt);
      }
      result.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    REQUIRE(rc == SQLITE_DONE);
    return result;
  }

  Row row(const std::string& sql) {
    auto all = rows(sql);
    REQUIRE(all.size() == 1);
    return all[0];
  }

  int64_t integer(const std::string& sql) { return std::stoll(row(sql).at(0).value()); }

  std::vector<std::string> columns(const std::string& table) {
    std::vector<std::string> names;
    for (const Row& r : rows("SELECT name FROM pragma_table_info('" + table + "') ORDER BY cid")) {
      names.push_back(*r[0]);
    }
    return names;
  }

  void exec(const std::string& sql) {
    REQUIRE(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  }

 private:
  sqlite3* db_ = nullptr;
};

// Polls until `sql` yields `expected`; commits driven by the writer's own timer have no
// completion signal to wait on.
bool eventually_equals(const fs::path& path, const std::string& sql, int64_t expected) {
  Reader reader(path);
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < give_up) {
    if (reader.integer(sql) == expected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Captures what is written to file descriptor 2 while alive (the log reports there).
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    saved_ = dup(2);
    std::FILE* f = std::fopen(file_.path().c_str(), "w");
    REQUIRE(f != nullptr);
    dup2(fileno(f), 2);
    std::fclose(f);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::ifstream in(file_.path());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  TempDb file_;  // only for its unique, self-removing path
  int saved_ = -1;
};

InvocationRecord invocation(const std::string& request_id) {
  InvocationRecord r;
  r.request_id = request_id;
  r.function = "hello";
  r.memory_mb = 128;
  r.invocation_type = "RequestResponse";
  r.started_at_us = now_us();
  r.duration_ms = 1.5;
  r.billed_ms = 2;
  r.status = "ok";
  return r;
}

int64_t count(const fs::path& path, const std::string& table) {
  return Reader(path).integer("SELECT COUNT(*) FROM " + table);
}

}  // namespace

TEST_CASE("open creates the documented schema", "[log]") {
  TempDb db;
  auto log = InvocationLog::open(db.path());
  Reader reader(db.path());

  CHECK(reader.columns("runs") ==
        std::vector<std::string>{"id", "started_at_us", "ended_at_us", "coldlab_version",
                                 "command_line", "host_json", "config_json", "keep_alive", "scale_out",
                                 "memory_budget_mb", "clock", "wall_ms", "kind", "experiment_id",
                                 "scenario", "label", "parameters_json", "status", "warnings", "summary_json"});
  CHECK(reader.columns("environments") ==
        std::vector<std::string>{"id", "run_id", "function", "memory_mb", "runtime", "pid",
                                 "spawned_at_us", "ready_at_us", "init_ms", "ended_at_us",
                                 "end_reason", "end_detail"});
  CHECK(reader.columns("invocations") ==
        std::vector<std::string>{"id", "request_id", "attempt", "run_id", "function", "version",
                                 "memory_mb", "environment_id", "cold", "invocation_type",
                                 "started_at_us", "init_ms", "duration_ms", "billed_ms",
                                 "max_memory_mb", "status", "error_type", "request_bytes",
                                 "response_bytes", "latency_us"});
  CHECK(reader.columns("requests") ==
        std::vector<std::string>{"id", "run_id", "request_id", "stage", "mode", "user_id", "iteration",
                                 "label", "function", "users", "scheduled_at_us", "sent_at_us",
                                 "answered_at_us", "latency_us", "network_delay_us", "http_status",
                                 "function_error", "error", "cold", "init_ms", "response_bytes"});
  CHECK(reader.integer("PRAGMA user_version") == 4);
  CHECK(reader.row("PRAGMA journal_mode")[0] == "wal");

  std::set<std::string> indexed;  // "table(col,col)" for every explicit index
  for (const Row& index : reader.rows("SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' "
                                      "AND name NOT LIKE 'sqlite_autoindex%'")) {
    std::string columns;
    for (const Row& c : reader.rows("SELECT name FROM pragma_index_info('" + *index[1] + "')")) {
      columns += (columns.empty() ? "" : ",") + *c[0];
    }
    indexed.insert(*index[0] + "(" + columns + ")");
  }
  CHECK(indexed == std::set<std::string>{"invocations(run_id)", "invocations(request_id)",
                                         "invocations(function,memory_mb)", "environments(run_id)",
                                         "requests(run_id)"});
}

TEST_CASE("reopening an existing database appends to it", "[log]") {
  TempDb db;
  InvocationLog::open(db.path())->record(invocation("first"));
  InvocationLog::open(db.path())->record(invocation("second"));
  CHECK(count(db.path(), "invocations") == 2);
}

TEST_CASE("begin_run and end_run write the runs row", "[log]") {
  TempDb db;
  auto log = InvocationLog::open(db.path());
  RunInfo info;
  info.started_at_us = 1'700'000'000'000'000;
  info.coldlab_version = "0.1.0";
  info.command_line = "coldlab serve --port 9001";
  info.host_json = R"({"cpus":2})";
  info.config_json = R"({"idle_timeout_s":600})";
  int64_t run = log->begin_run(info);

  Reader reader(db.path());
  const std::string select =
      "SELECT started_at_us, ended_at_us, coldlab_version, command_line, host_json, config_json "
      "FROM runs WHERE id = " + std::to_string(run);
  CHECK(reader.row(select) == Row{"1700000000000000", std::nullopt, "0.1.0",
                                  "coldlab serve --port 9001", R"({"cpus":2})",
                                  R"({"idle_timeout_s":600})"});

  log->end_run(run, 1'700'000'000'500'000);
  CHECK(reader.row(select)[1] == "1700000000500000");
  CHECK_THROWS_AS(log->end_run(run + 1, 1), std::runtime_error);
}

TEST_CASE("the runs row names the policies that produced the run", "[log]") {
  TempDb db;
  auto log = InvocationLog::open(db.path());
  RunInfo info;
  info.started_at_us = 1'700'000'000'000'000;
  info.keep_alive = "greedy-dual";
  info.scale_out = "lambda:concurrency=1000,rate=2023,routing=mru";
  info.memory_budget_mb = 4096;
  const int64_t with_budget = log->begin_run(info);
  info.memory_budget_mb = 0;
  const int64_t without = log->begin_run(info);
  Reader reader(db.path());
  CHECK(reader.row("SELECT keep_alive, scale_out, memory_budget_mb FROM runs WHERE id = " +
                   std::to_string(with_budget)) ==
        Row{"greedy-dual", "lambda:concurrency=1000,rate=2023,routing=mru", "4096"});
  CHECK(reader.row("SELECT memory_budget_mb FROM runs WHERE id = " + std::to_string(without)) ==
        Row{std::nullopt});
}

TEST_CASE("a version 1 database gains the policy columns and keeps its rows", "[log]") {
  TempDb db;
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
    const char* v1 =
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at_us INTEGER NOT NULL, ended_at_us INTEGER, "
        "coldlab_version TEXT, command_line TEXT, host_json TEXT, config_json TEXT);"
        "INSERT INTO runs (started_at_us, command_line) VALUES (1, 'old run');"
        "PRAGMA user_version = 1;";
    REQUIRE(sqlite3_exec(raw, v1, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  auto log = InvocationLog::open(db.path());
  RunInfo info;
  info.started_at_us = 2;
  info.keep_alive = "none";
  const int64_t run = log->begin_run(info);
  Reader reader(db.path());
  CHECK(reader.row("SELECT command_line, keep_alive FROM runs WHERE id = 1") == Row{"old run", std::nullopt});
  CHECK(reader.row("SELECT keep_alive FROM runs WHERE id = " + std::to_string(run)) == Row{"none"});
  CHECK(reader.row("PRAGMA user_version") == Row{"4"});
}

TEST_CASE("a version 2 database gains the experiment columns and the requests table", "[log]") {
  TempDb db;
  {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(db.path().c_str(), &raw) == SQLITE_OK);
    const char* v2 =
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at_us INTEGER NOT NULL, ended_at_us INTEGER, "
        "coldlab_version TEXT, command_line TEXT, host_json TEXT, config_json TEXT, keep_alive TEXT, "
        "scale_out TEXT, memory_budget_mb INTEGER);"
        "INSERT INTO runs (started_at_us, command_line, keep_alive) VALUES (1, 'v2 run', 'fixed:ttl=10m');"
        "PRAGMA user_version = 2;";
    REQUIRE(sqlite3_exec(raw, v2, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  }
  auto log = InvocationLog::open(db.path());
  RunInfo info;
  info.started_at_us = 2;
  info.clock = "virtual";
  info.kind = "experiment";
  info.label = "python 512 MB";
  const int64_t run = log->begin_run(info);
  Reader reader(db.path());
  CHECK(reader.row("SELECT command_line, keep_alive, clock, kind FROM runs WHERE id = 1") ==
        Row{"v2 run", "fixed:ttl=10m", std::nullopt, std::nullopt});
  CHECK(reader.row("SELECT clock, kind, label, experiment_id FROM runs WHERE id = " + std::to_string(run)) ==
        Row{"virtual", "experiment", "python 512 MB", std::to_string(run)});
  CHECK(reader.integer("SELECT COUNT(*) FROM requests") == 0);
  CHECK(reader.row("PRAGMA user_version") == Row{"4"});
}

TEST_CASE("a version 3 database gains the summary column, its rows kept", "[log]") {
  TempDb db;
  {
    auto log = InvocationLog::open(db.path());
    RunInfo info;
    info.started_at_us = 1;
    info.label = "v3 run";
    log->begin_run(info);
  }
  {
    Reader downgrade(db.path(), SQLITE_OPEN_READWRITE);
    downgrade.exec("ALTER TABLE runs DROP COLUMN summary_json");
    downgrade.exec("PRAGMA user_version = 3");
  }
  auto log = InvocationLog::open(db.path());
  RunInfo info;
  info.started_at_us = 2;
  info.kind = "simulation";
  info.clock = "simulated";
  const int64_t run = log->begin_run(info);
  RunEnd end;
  end.ended_at_us = 10;
  end.summary_json = R"({"invocations":3})";
  log->end_run(run, end);
  Reader reader(db.path());
  CHECK(reader.row("SELECT label, summary_json FROM runs WHERE id = 1") == Row{"v3 run", std::nullopt});
  CHECK(reader.row("SELECT summary_json, experiment_id FROM runs WHERE id = " + std::to_string(run)) ==
        Row{R"({"invocations":3})", std::to_string(run)});
  CHECK(reader.row("PRAGMA user_version") == Row{"4"});
}

TEST_CASE("an experiment's runs share the id of its first run, serve runs have none", "[log]") {
  TempDb db;
  auto log = InvocationLog::open(db.path());
  RunInfo serve;
  serve.started_at_us = 1;
  const int64_t serve_run = log->begin_run(serve);
  RunInfo first;
  first.started_at_us = 2;
  first.kind = "experiment";
  const int64_t first_run = log->begin_run(first);
  RunInfo second = first;
  second.experiment_id = first_run;
  const int64_t second_run = log->begin_run(second);
  RunEnd end;
  end.ended_at_us = 9;
  end.wall_ms = 12.5;
  end.status = "interrupted";
  end.warnings = "fell behind";
  log->end_run(second_run, end);
  log->end_run(serve_run, 3);
  Reader reader(db.path());
  CHECK(reader.row("SELECT kind, experiment_id, clock, status FROM runs WHERE id = " + std::to_string(serve_run)) ==
        Row{"serve", std::nullopt, "real", "completed"});
  CHECK(reader.row("SELECT experiment_id FROM runs WHERE id = " + std::to_string(first_run)) ==
        Row{std::to_string(first_run)});
  CHECK(reader.row("SELECT experiment_id, ended_at_us, wall_ms, status, warnings FROM runs WHERE id = " +
                   std::to_string(second_run)) ==
        Row{std::to_string(first_run), "9", "12.5", "interrupted", "fell behind"});
}

TEST_CASE("a driver's requests are stored with NULL for what is not known", "[log]") {
  TempDb db;
  auto log = InvocationLog::open(db.path());
  RunInfo info;
  info.kind = "experiment";
  const int64_t run = log->begin_run(info);
  RequestRecord answered;
  answered.run_id = run;
  answered.request_id = "r-1";
  answered.stage = 1;
  answered.user_id = 3;
  answered.iteration = 7;
  answered.label = "predict";
  answered.function = "kdd-python";
  answered.users = 6;
  answered.scheduled_at_us = 100;
  answered.sent_at_us = 101;
  answered.answered_at_us = 250;
  answered.latency_us = 149;
  answered.http_status = 200;
  answered.cold = true;
  answered.init_ms = 12.5;
  answered.response_bytes = 40;
  RequestRecord lost;
  lost.run_id = run;
  lost.open_loop = true;
  lost.iteration = 4;
  lost.function = "kdd-java";
  lost.scheduled_at_us = 200;
  lost.sent_at_us = 200;
  lost.error = "Connection refused";
  log->record(answered);
  log->record(lost);
  log->flush();
  Reader reader(db.path());
  CHECK(reader.rows("SELECT request_id, stage, mode, user_id, iteration, users, answered_at_us, latency_us, "
                    "http_status, function_error, error, cold, init_ms FROM requests ORDER BY id") ==
        std::vector<Row>{{"r-1", "1", "closed", "3", "7", "6", "250", "149", "200", std::nullopt, std::nullopt,
                          "1", "12.5"},
                         {std::nullopt, "0", "open", std::nullopt, "4", "0", std::nullopt, std::nullopt,
                          std::nullopt, std::nullopt, "Connection refused", std::nullopt, std::nullopt}});
}

TEST_CASE("the destructor ends a run that was begun and not ended", "[log]") {
  TempDb db;
  const int64_t before = now_us();
  int64_t run = 0;
  {
    auto log = InvocationLog::open(db.path());
    run = log->begin_run(run_info(before, ""));
  }
  const int64_t after = now_us();
  Reader reader(db.path());
  int64_t ended = reader.integer("SELECT ended_at_us FROM runs WHERE id = " + std::to_string(run));
  CHECK(ended >= before);
  CHECK(ended <= after);
  CHECK_FALSE(reader.row("SELECT command_line FROM runs")[0].has_value());  // '' stored as NULL
}

TEST_CASE("environment rows go from started to ready to ended", "[log]") {
  TempDb db;
  auto log = InvocationLog::open(db.path());
  int64_t run = log->begin_run(run_info(now_us(), "coldlab serve"));
  int64_t env = log->allocate_environment_id();
  Reader reader(db.path());
  const std::string select =
      "SELECT run_id, function, memory_mb, runtime, pid, spawned_at_us, ready_at_us, init_ms, "
      "ended_at_us, end_reason, end_detail FROM environments WHERE id = " + std::to_string(env);
  const std::string run_text = std::to_string(run);

  log->record(EnvironmentStarted{env, run, "hello", 256, "python3.11", 4242, 1000});
  log->flush();
  CHECK(reader.row(select) == Row{run_text, "hello", "256", "python3.11", "4242", "1000",
                                  std::nullopt, std::nullopt, std::nullopt, std::nullopt,
                                  std::nullopt});

  log->record(EnvironmentReady{env, 1250, 250.5});
  log->flush();
  CHECK(reader.row(select) == Row{run_text, "hello", "256", "python3.11", "4242", "1000", "1250",
                                  "250.5", std::nullopt, std::nullopt, std::nullopt});

  log->record(EnvironmentEnded{env, 9000, "crash", "exit status 3"});
  log->flush();
  CHECK(reader.row(select) == Row{run_text, "hello", "256", "python3.11", "4242", "1000", "1250",
                                  "250.5", "9000", "crash", "exit status 3"});

  // Started, ready and ended queued together still apply in order, in one batch.
  int64_t env2 = log->allocate_environment_id();
  CHECK(env2 == env + 1);
  log->record(EnvironmentStarted{env2, run, "hello", 256, "python3.11", 4243, 2000});
  log->record(EnvironmentReady{env2, 2100, 100});
  log->record(EnvironmentEnded{env2, 3000, "idle", ""});
  log->flush();
  CHECK(reader.row("SELECT ready_at_us, end_reason, end_detail FROM environments WHERE id = " +
                   std::to_string(env2)) == Row{"2100", "idle", std::nullopt});
}

TEST_CASE("an environment's ready and ended facts queued before its spawn still land", "[log]") {
  // Threads queue what they learn when they learn it: a runtime can reach /next (ready)
  // before the spawning thread queues the spawn, and under load it did, losing the fact.
  for (const int batch : {1, 256}) {  // the facts and the row in other batches, or in one
    TempDb db;
    InvocationLog::Options options;
    options.batch_max_rows = batch;
    auto log = InvocationLog::open(db.path(), options);
    const int64_t run = log->begin_run(run_info(now_us(), "coldlab serve"));
    const int64_t env = log->allocate_environment_id();
    log->record(EnvironmentReady{env, 1250, 250.5});
    log->record(EnvironmentEnded{env, 9000, "idle", ""});
    log->flush();
    log->record(EnvironmentStarted{env, run, "hello", 256, "python3.11", 4242, 1000});
    log->flush();
    Reader reader(db.path());
    INFO("batch " << batch);
    CHECK(reader.row("SELECT spawned_at_us, ready_at_us, init_ms, ended_at_us, end_reason FROM environments "
                     "WHERE id = " + std::to_string(env)) == Row{"1000", "1250", "250.5", "9000", "idle"});
  }
}

TEST_CASE("each record() is one invocation row, with NULL for empty optionals", "[log]") {
  TempDb db;
  auto log = InvocationLog::open(db.path());
  int64_t run = log->begin_run(run_info(now_us(), ""));

  InvocationRecord cold = invocation("req-cold");
  cold.attempt = 2;
  cold.run_id = run;
  cold.environment_id = 7;
  cold.cold = true;
  cold.invocation_type = "Event";
  cold.started_at_us = 123456789;
  cold.init_ms = 180.25;
  cold.duration_ms = 3.5;
  cold.billed_ms = 4;
  cold.max_memory_mb = 41;
  cold.status = "error";
  cold.error_type = "Runtime.ExitError";
  cold.request_bytes = 17;
  cold.response_bytes = 99;
  cold.latency_us = 190000;

  InvocationRecord throttled = invocation("req-throttled");
  throttled.run_id = run;
  throttled.status = "throttled";

  log->record(cold);
  log->record(throttled);
  log->flush();

  Reader reader(db.path());
  CHECK(count(db.path(), "invocations") == 2);
  const std::string columns =
      "SELECT request_id, attempt, run_id, function, version, memory_mb, environment_id, cold, "
      "invocation_type, started_at_us, init_ms, duration_ms, billed_ms, max_memory_mb, status, "
      "error_type, request_bytes, response_bytes, latency_us FROM invocations ";
  const std::string run_text = std::to_string(run);
  CHECK(reader.row(columns + "WHERE request_id = 'req-cold'") ==
        Row{"req-cold", "2", run_text, "hello", "$LATEST", "128", "7", "1", "Event", "123456789",
            "180.25", "3.5", "4", "41", "error", "Runtime.ExitError", "17", "99", "190000"});
  Row t = reader.row(columns + "WHERE request_id = 'req-throttled'");
  CHECK(t[6] == std::nullopt);   // environment_id
  CHECK(t[7] == "0");            // cold
  CHECK(t[10] == std::nullopt);  // init_ms
  CHECK(t[13] == std::nullopt);  // max_memory_mb
  CHECK(t[14] == "throttled");
  CHECK(t[15] == std::nullopt);  // error_type
}

TEST_CASE("a run_id of 0 is stored as NULL", "[log]") {
  TempDb db;
  InvocationLog::open(db.path())->record(invocation("outside-a-run"));
  CHECK(Reader(db.path()).row("SELECT run_id FROM invocations")[0] == std::nullopt);
}

TEST_CASE("flush makes rows visible to another connection", "[log]") {
  TempDb db;
  // Timer and batch size far away: only flush() can have committed these rows.
  auto log = InvocationLog::open(db.path(), {100000, std::chrono::hours(1)});
  for (int i = 0; i < 10; ++i) log->record(invocation("r" + std::to_string(i)));
  log->flush();
  CHECK(count(db.path(), "invocations") == 10);
  log->flush();  // nothing queued: returns at once
}

TEST_CASE("rows are committed without flush, by time or by batch size", "[log]") {
  TempDb db;
  SECTION("flush_interval after the first row") {
    auto log = InvocationLog::open(db.path(), {100000, std::chrono::milliseconds(20)});
    log->record(invocation("timed"));
    CHECK(eventually_equals(db.path(), "SELECT COUNT(*) FROM invocations", 1));
  }
  SECTION("batch_max_rows rows") {
    auto log = InvocationLog::open(db.path(), {10, std::chrono::hours(1)});
    for (int i = 0; i < 10; ++i) log->record(invocation("b" + std::to_string(i)));
    CHECK(eventually_equals(db.path(), "SELECT COUNT(*) FROM invocations", 10));
  }
}

TEST_CASE("the destructor flushes every queued row", "[log]") {
  TempDb db;
  {
    auto log = InvocationLog::open(db.path(), {256, std::chrono::hours(1)});
    for (int i = 0; i < 1000; ++i) log->record(invocation("d" + std::to_string(i)));
  }
  CHECK(count(db.path(), "invocations") == 1000);
}

TEST_CASE("environment ids keep increasing across opens of one file", "[log]") {
  TempDb db;
  int64_t first = 0;
  {
    auto log = InvocationLog::open(db.path());
    first = log->allocate_environment_id();
    log->record(EnvironmentStarted{first, 0, "hello", 128, "provided.al2023", 1, now_us()});
    int64_t second = log->allocate_environment_id();
    CHECK(second > first);
    log->record(EnvironmentStarted{second, 0, "hello", 128, "provided.al2023", 2, now_us()});
  }
  auto log = InvocationLog::open(db.path());
  int64_t third = log->allocate_environment_id();
  CHECK(third > first + 1);
  log->record(EnvironmentStarted{third, 0, "hello", 128, "provided.al2023", 3, now_us()});
  log->flush();
  CHECK(count(db.path(), "environments") == 3);
}

TEST_CASE("open fails with the path in the message", "[log]") {
  TempDb db;
  SECTION("directory does not exist") {
    const fs::path path = db.path() / "missing" / "log.db";
    try {
      InvocationLog::open(path);
      FAIL("open succeeded");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(path.string()));
    }
  }
  SECTION("file is not a database") {
    std::ofstream(db.path()) << "this is not an SQLite database, just some text long enough\n";
    try {
      InvocationLog::open(db.path());
      FAIL("open succeeded");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(db.path().string()));
    }
  }
  SECTION("schema version newer than this build") {
    {
      Reader creator(db.path(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
      creator.exec("PRAGMA user_version = 5");
    }
    try {
      InvocationLog::open(db.path());
      FAIL("open succeeded");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::Contains(db.path().string()) && Catch::Contains("version 5"));
    }
    Reader reader(db.path());
    CHECK(reader.integer("PRAGMA user_version") == 5);  // left untouched
    CHECK(reader.integer("SELECT COUNT(*) FROM sqlite_master") == 0);
  }
}

TEST_CASE("rows recorded from 4 threads concurrently all arrive", "[log]") {
  TempDb db;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<int64_t> env_ids[kThreads];
  {
    auto log = InvocationLog::open(db.path(), {64, std::chrono::milliseconds(1)});
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          log->record(invocation("t" + std::to_string(t) + "-" + std::to_string(i)));
          if (i % 100 == 0) {
            int64_t env = log->allocate_environment_id();
            env_ids[t].push_back(env);
            log->record(EnvironmentStarted{env, 0, "hello", 128, "provided", t, now_us()});
          }
          if (i % 500 == 0) log->flush();
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  Reader reader(db.path());
  CHECK(reader.integer("SELECT COUNT(*) FROM invocations") == kThreads * kPerThread);
  CHECK(reader.integer("SELECT COUNT(DISTINCT request_id) FROM invocations") ==
        kThreads * kPerThread);
  CHECK(reader.integer("SELECT COUNT(*) FROM environments") == kThreads * (kPerThread / 100));
}

TEST_CASE("a row the database rejects is reported and the rest of its batch is kept", "[log]") {
  TempDb db;
  std::string errors;
  {
    StderrCapture capture;
    {
      auto log = InvocationLog::open(db.path(), {256, std::chrono::hours(1)});
      InvocationRecord bad = invocation("bad");
      bad.status = "exploded";
      log->record(invocation("good-1"));
      log->record(bad);
      log->record(invocation("good-2"));
      log->record(EnvironmentReady{424242, 1, 1});  // no Started row: it may yet come
      log->flush();
    }  // ... and when the log closes without it, that is reported
    errors = capture.text();
  }
  CHECK(count(db.path(), "invocations") == 2);
  CHECK_THAT(errors, Catch::Contains(db.path().string()) && Catch::Contains("bad") &&
                         Catch::Contains("424242"));
}
