// coldlab report on a hand-made experiment database whose every figure is known: an
// open-loop python run (the study's Scenario 1) and a closed-loop java run.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "log/invocation_log.h"
#include "report/report.h"
#include "temp_dir.h"

namespace {

using namespace coldlab::report;
namespace fs = std::filesystem;
using coldlab::testing::TempDir;

constexpr int64_t kT0 = 1'700'000'000'000'000;  // µs
constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kMs = 1'000;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

coldlab::log::RunInfo experiment(int64_t started, const std::string& label, const std::string& runtime,
                                 int memory_mb, int64_t experiment_id, const std::string& clock) {
  coldlab::log::RunInfo r;
  r.started_at_us = started;
  r.coldlab_version = "0.1.0";
  r.command_line = "coldlab run study.yaml";
  r.clock = clock;
  r.kind = "experiment";
  r.experiment_id = experiment_id;
  r.scenario = "study.yaml";
  r.label = label;
  r.parameters_json = R"({"runtime": ")" + runtime + R"(", "function": "kdd-)" + runtime +
                      R"(", "memory_mb": )" + std::to_string(memory_mb) + R"(, "index": 0, "of": 2})";
  return r;
}

// One request as the driver records it; the emulator's invocation row too when `emulator_cold`
// is given (then the request's own cold/Init are left NULL, as when the tail had no REPORT).
struct Sent {
  int64_t sent_ms;  // since the run's start
  std::optional<int64_t> latency_ms;
  std::optional<bool> cold;
  std::optional<double> init_ms;
  int users = 0;
  int status = 200;
  std::optional<bool> emulator_cold = std::nullopt;
  std::optional<double> emulator_init_ms = std::nullopt;
};

void send(coldlab::log::InvocationLog& log, int64_t run, int64_t start, bool open, int n, const Sent& s,
          int64_t scheduled_us) {
  coldlab::log::RequestRecord r;
  r.run_id = run;
  r.request_id = "req-" + std::to_string(run) + "-" + std::to_string(n);
  r.open_loop = open;
  r.user_id = open ? 0 : 1;
  r.iteration = n;
  r.function = "kdd";
  r.users = s.users;
  r.scheduled_at_us = scheduled_us;
  r.sent_at_us = start + s.sent_ms * kMs;
  if (s.latency_ms) {
    r.latency_us = *s.latency_ms * kMs;
    r.answered_at_us = r.sent_at_us + *r.latency_us;
    r.http_status = s.status;
  } else {
    r.error = "connection refused";
    r.request_id.clear();
  }
  r.cold = s.cold;
  r.init_ms = s.init_ms;
  log.record(r);
  if (s.emulator_cold) {
    coldlab::log::InvocationRecord i;
    i.request_id = r.request_id;
    i.run_id = run;
    i.function = "kdd";
    i.memory_mb = 512;
    i.cold = *s.emulator_cold;
    i.invocation_type = "RequestResponse";
    i.started_at_us = r.sent_at_us;
    i.init_ms = s.emulator_init_ms;
    i.status = "ok";
    log.record(i);
  }
}

struct Fixture {
  TempDir dir;
  fs::path db = dir.path("experiment.db");
  int64_t old_run = 0, serve_run = 0, python_run = 0, java_run = 0;

  Fixture() {
    auto log = coldlab::log::InvocationLog::open(db);
    // An older experiment and a serve run: the report must pick the latest experiment.
    old_run = log->begin_run(experiment(kT0 - 100 * kMinute, "old 128 MB", "python", 128, 0, "real"));
    log->end_run(old_run, kT0 - 99 * kMinute);
    coldlab::log::RunInfo serve;
    serve.started_at_us = kT0 - 50 * kMinute;
    serve_run = log->begin_run(serve);
    log->end_run(serve_run, kT0 - 40 * kMinute);

    // Scenario 1: requests at minutes 0, 6, 16, 31, 61; cold, warm, warm, warm, cold. The 3rd
    // and the 5th have no REPORT line: their cold/Init come from the emulator's rows.
    python_run = log->begin_run(experiment(kT0, "python 512 MB", "python", 512, 0, "virtual"));
    const std::vector<std::pair<int64_t, Sent>> scenario1 = {
        {0, {0, 8000, true, 7000.0}},
        {6, {6 * 60'000, 1000, false, std::nullopt}},
        {16, {16 * 60'000, 1200, std::nullopt, std::nullopt, 0, 200, false}},
        {31, {31 * 60'000, 900, false, std::nullopt}},
        {61, {61 * 60'000, 6000, std::nullopt, std::nullopt, 0, 200, true, 5000.0}},
    };
    int n = 0;
    for (const auto& [minute, s] : scenario1)
      send(*log, python_run, kT0, true, n++, s, kT0 + minute * kMinute);
    coldlab::log::RunEnd end;
    end.ended_at_us = kT0 + 61 * kMinute + 10'000 * kMs;  // 3670 s on the virtual clock
    end.wall_ms = 2500;
    log->end_run(python_run, end);

    // Closed loop: 2, 5 and 3 answers in seconds 0, 1 and 2; one HTTP 500, one transport error.
    const int64_t t1 = kT0 + 100 * kMinute;
    java_run = log->begin_run(experiment(t1, "java 512 MB", "java", 512, python_run, "real"));
    const std::vector<Sent> closed = {
        {0, 400, true, 300.0, 1},
        {400, 100, false, std::nullopt, 1},
        {500, 600, true, 450.0, 2},
        {500, 550, false, std::nullopt, 2},
        {1050, 100, false, std::nullopt, 2},
        {1100, 100, false, std::nullopt, 2},
        {1150, 200, false, std::nullopt, 2},
        {1350, 700, false, std::nullopt, 2},
        {1200, 900, false, std::nullopt, 2},
        {2050, 150, false, std::nullopt, 2, 500},
        {2100, std::nullopt, std::nullopt, std::nullopt, 2},
    };
    n = 0;
    for (const auto& s : closed) send(*log, java_run, t1, false, n++, s, t1 + s.sent_ms * kMs);
    coldlab::log::RunEnd java_end;
    java_end.ended_at_us = t1 + 3'000 * kMs;
    java_end.wall_ms = 3000;
    java_end.warnings = "the driver fell behind its schedule by 12 %";
    log->end_run(java_run, java_end);
  }

  Options options(const std::string& out = "") const {
    Options o;
    o.db = db;
    if (!out.empty()) o.out_dir = dir.path(out);
    o.plot_script = fs::path(COLDLAB_SOURCE_DIR) / "experiments/report/plot_report.py";
    return o;
  }
};

// A read-only connection, as the report opens one.
struct Db {
  sqlite3* db = nullptr;
  explicit Db(const fs::path& p) {
    REQUIRE(sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  }
  ~Db() { sqlite3_close(db); }
};

bool matplotlib_importable() {
  return std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") == 0;
}

}  // namespace

TEST_CASE("report: nearest-rank percentiles", "[report]") {
  const std::vector<double> ten = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CHECK(nearest_rank(ten, 50) == 5);
  CHECK(nearest_rank(ten, 90) == 9);
  CHECK(nearest_rank(ten, 99) == 10);
  CHECK(nearest_rank(ten, 100) == 10);
  CHECK(nearest_rank({42}, 50) == 42);
  CHECK(nearest_rank({1, 2, 3, 4, 5}, 50) == 3);
}

TEST_CASE("report: the latest experiment's runs are selected", "[report]") {
  Fixture f;
  Db db(f.db);
  CHECK(select_runs(db.db, {}) == std::vector<int64_t>{f.python_run, f.java_run});
  CHECK(select_runs(db.db, {f.old_run}) == std::vector<int64_t>{f.old_run});
  CHECK_THROWS_WITH(select_runs(db.db, {f.java_run, 99}), Catch::Contains("no run with id 99"));
}

TEST_CASE("report: the study's figures per run", "[report]") {
  Fixture f;
  Db db(f.db);
  const auto s = summarise(db.db, {f.python_run, f.java_run});
  REQUIRE(s.size() == 2);

  const RunSummary& py = s[0];
  CHECK(py.run.label == "python 512 MB");
  CHECK(py.run.runtime == "python");
  CHECK(py.run.memory_mb == 512);
  CHECK(py.run.clock == "virtual");
  CHECK(py.open_loop);
  CHECK(py.requests == 5);
  CHECK(py.answered == 5);
  CHECK(py.errors == 0);
  // 5 answers between the first send and the last answer, 61 min 6 s later.
  REQUIRE(py.hits_mean);
  CHECK(*py.hits_mean == Approx(5.0 / 3666));
  CHECK(py.hits_peak == 1);
  REQUIRE(py.latency);
  CHECK(py.latency->avg == Approx(3420));  // (8000 + 1000 + 1200 + 900 + 6000) / 5
  CHECK(py.latency->min == 900);
  CHECK(py.latency->max == 8000);
  CHECK(py.latency->p50 == 1200);
  CHECK(py.latency->p90 == 8000);
  CHECK(py.latency->p99 == 8000);
  CHECK(py.cold_starts == 2);  // the second from the emulator's invocations row
  CHECK(py.init_mean_ms == Approx(6000));
  CHECK(py.init_max_ms == Approx(7000));
  CHECK(py.max_users == 0);
  CHECK(py.duration_s == Approx(3670));
  CHECK(py.wall_s == Approx(2.5));
  REQUIRE(py.speed_up());
  CHECK(*py.speed_up() == Approx(1468));

  const RunSummary& java = s[1];
  CHECK_FALSE(java.open_loop);
  CHECK(java.requests == 11);
  CHECK(java.answered == 10);
  CHECK(java.errors == 2);  // the HTTP 500 and the transport error
  REQUIRE(java.hits_mean);
  CHECK(*java.hits_mean == Approx(10 / 2.2));
  CHECK(java.hits_peak == 5);
  REQUIRE(java.latency);
  CHECK(java.latency->avg == Approx(380));
  CHECK(java.latency->min == 100);
  CHECK(java.latency->max == 900);
  CHECK(java.latency->p50 == 200);
  CHECK(java.latency->p90 == 700);
  CHECK(java.latency->p99 == 900);
  CHECK(java.cold_starts == 2);
  CHECK(java.init_mean_ms == Approx(375));
  CHECK(java.init_max_ms == Approx(450));
  CHECK(java.max_users == 2);
  CHECK(java.run.warnings == "the driver fell behind its schedule by 12 %");
}

TEST_CASE("report: per-second time series", "[report]") {
  Fixture f;
  Db db(f.db);
  const auto data = load_runs(db.db, {f.java_run, f.python_run});
  const auto java = timeseries(data[0]);
  REQUIRE(java.size() == 3);
  CHECK(java[0].hits == 2);
  CHECK(java[1].hits == 5);
  CHECK(java[2].hits == 3);
  CHECK(java[0].max_latency_ms == Approx(400));
  CHECK(java[0].avg_latency_ms == Approx(250));
  CHECK(java[1].max_latency_ms == Approx(600));
  CHECK(java[1].avg_latency_ms == Approx(310));
  CHECK(java[2].max_latency_ms == Approx(900));
  CHECK(java[2].avg_latency_ms == Approx(1750.0 / 3));
  CHECK(java[0].users == 2);
  CHECK(java[2].users == 2);

  // Scenario 1: one bucket per second up to the last answer; empty seconds have no latency.
  const auto py = timeseries(data[1]);
  CHECK(py.size() == 3667);
  CHECK(py[8].hits == 1);  // the first answer, 8 s after its sending
  CHECK(py[7].hits == 0);
  CHECK_FALSE(py[7].max_latency_ms);
}

TEST_CASE("report: Scenario 1 request by request", "[report]") {
  Fixture f;
  Db db(f.db);
  const auto data = load_runs(db.db, {f.python_run, f.java_run});
  const auto rows = open_loop_rows(data[0]);
  REQUIRE(rows.size() == 5);
  const std::vector<double> minutes = {0, 6, 16, 31, 61};
  const std::vector<std::optional<bool>> pattern = {true, false, false, false, true};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].index == static_cast<int>(i + 1));
    CHECK(rows[i].minute == Approx(minutes[i]));
    CHECK(rows[i].cold == pattern[i]);
  }
  CHECK_FALSE(rows[0].idle_gap_min);
  CHECK(*rows[1].idle_gap_min == Approx(6 - 8.0 / 60));  // since the first answer, 8 s in
  CHECK(*rows[2].idle_gap_min == Approx(10 - 1.0 / 60));
  CHECK(*rows[3].idle_gap_min == Approx(15 - 1.2 / 60));
  CHECK(*rows[4].idle_gap_min == Approx(30 - 0.9 / 60));
  CHECK(rows[0].latency_ms == Approx(8000));
  CHECK(rows[0].init_ms == Approx(7000));
  CHECK(rows[4].init_ms == Approx(5000));
  CHECK_FALSE(rows[1].init_ms);
  CHECK(open_loop_rows(data[1]).empty());  // closed loop only
}

TEST_CASE("report: Markdown tables", "[report]") {
  Fixture f;
  std::ostringstream md, err;
  REQUIRE(run_report(f.options(), md, err) == 0);
  CHECK(err.str().empty());
  const std::string out = md.str();
  CHECK_THAT(out, Catch::Contains("# coldlab report"));
  CHECK_THAT(out, Catch::Contains("Experiment " + std::to_string(f.python_run) + " (`study.yaml`)"));
  CHECK_THAT(out, !Catch::Contains("old 128 MB"));
  // Runs: clocks, durations and the virtual-time speed-up; the warning.
  CHECK_THAT(out, Catch::Contains("| " + std::to_string(f.python_run) +
                                  " | python 512 MB | virtual | completed | 61.2 min | 2.50 s | ×1468.0 |"));
  CHECK_THAT(out, Catch::Contains("java 512 MB (run " + std::to_string(f.java_run) +
                                  "): the driver fell behind its schedule by 12 %"));
  // Results.
  CHECK_THAT(out, Catch::Contains(
                      "| python 512 MB | 5 | 0 | 0.00136 | 1 | 3420.0 | 900.0 | 1200.0 | 8000.0 | 8000.0 | "
                      "8000.0 | 2 | 6000.0 | 7000.0 | 0 |"));
  CHECK_THAT(out, Catch::Contains(
                      "| java 512 MB | 11 | 2 | 4.55 | 5 | 380.0 | 100.0 | 200.0 | 700.0 | 900.0 | 900.0 | "
                      "2 | 375.0 | 450.0 | 2 |"));
  CHECK_THAT(out, Catch::Contains("nearest rank"));
  // Comparison: java sorts before python.
  const auto java_row = out.find("| java | 512 | 4.55 | 5 | 380.0 | 900.0 | 2 | 375.0 |");
  const auto python_row = out.find("| python | 512 | 0.00136 | 1 | 3420.0 | 8000.0 | 2 | 6000.0 |");
  REQUIRE(java_row != std::string::npos);
  REQUIRE(python_row != std::string::npos);
  CHECK(java_row < python_row);
  // Scenario 1.
  CHECK_THAT(out, Catch::Contains("## Scenario 1"));
  CHECK_THAT(out, Catch::Contains("| 1 | 0.0 | — | cold | 8000.0 | 7000.0 | ok |"));
  CHECK_THAT(out, Catch::Contains("| 2 | 6.0 | 5.9 | warm | 1000.0 | — | ok |"));
  CHECK_THAT(out, Catch::Contains("| 3 | 16.0 | 10.0 | warm | 1200.0 | — | ok |"));
  CHECK_THAT(out, Catch::Contains("| 4 | 31.0 | 15.0 | warm | 900.0 | — | ok |"));
  CHECK_THAT(out, Catch::Contains("| 5 | 61.0 | 30.0 | cold | 6000.0 | 5000.0 | ok |"));
  CHECK_THAT(out, !Catch::Contains("## Plots"));  // no files: no images
}

TEST_CASE("report: CSV files, and plots skipped without python", "[report]") {
  Fixture f;
  Options o = f.options("out");
  o.python = f.dir.path("no-such-python");
  std::ostringstream md, err;
  REQUIRE(run_report(o, md, err) == 0);
  // Exactly one line, saying why.
  CHECK(lines(err.str()).size() == 1);
  CHECK_THAT(err.str(), Catch::Contains("plots skipped") && Catch::Contains("no-such-python"));

  const fs::path out = o.out_dir;
  const auto summary = lines(slurp(out / "summary.csv"));
  REQUIRE(summary.size() == 3);
  CHECK(summary[0].rfind("run_id,label,runtime,memory_mb,function,clock,status,duration_s,wall_s,requests,",
                         0) == 0);
  CHECK(summary[1].rfind(std::to_string(f.python_run) + ",python 512 MB,python,512,kdd-python,virtual,", 0) ==
        0);
  CHECK_THAT(summary[2], Catch::Contains(",4.545454545,5,380,100,200,700,900,900,2,375,450,2,0,"));

  const auto requests = lines(slurp(out / "requests.csv"));
  REQUIRE(requests.size() == 1 + 5 + 11);
  CHECK(requests[0] ==
        "run_id,label,runtime,memory_mb,index,stage,mode,user_id,iteration,users,scheduled_s,sent_s,"
        "answered_s,latency_ms,http_status,function_error,error,failed,cold,init_ms");
  CHECK_THAT(requests[1], Catch::Contains(",1,0,open,,0,0,0,0,8,8000,200,,,0,1,7000"));

  const auto series = lines(slurp(out / "timeseries.csv"));
  REQUIRE(series.size() == 1 + 3667 + 3);
  CHECK(series[0] == "run_id,label,runtime,memory_mb,second,hits,max_latency_ms,avg_latency_ms,users");
  CHECK(series.back() == std::to_string(f.java_run) + ",java 512 MB,java,512,2,3,900,583.3333333,2");

  const auto scenario1 = lines(slurp(out / "scenario1.csv"));
  REQUIRE(scenario1.size() == 1 + 5);
  CHECK(scenario1[0] ==
        "run_id,label,runtime,memory_mb,index,minute,idle_gap_min,start,latency_ms,init_ms,failed");
  CHECK(scenario1[1] == std::to_string(f.python_run) + ",python 512 MB,python,512,1,0,,cold,8000,7000,0");

  // report.md: the tables, and no images but a note.
  const std::string report = slurp(out / "report.md");
  CHECK_THAT(report, Catch::Contains(md.str()));
  CHECK_THAT(report, Catch::Contains("The plots were not drawn") && Catch::Contains("no-such-python"));
  CHECK_THAT(report, !Catch::Contains("!["));
  CHECK_FALSE(fs::exists(out / "comparison.png"));
}

TEST_CASE("report: --no-plots and CSV quoting", "[report]") {
  Fixture f;
  // A label with a comma and a quote must survive as one CSV field.
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(f.db.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE runs SET label = 'java, \"big\" | 512 MB' WHERE label = 'java 512 MB'",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  Options o = f.options("out");
  o.plots = false;
  std::ostringstream md, err;
  REQUIRE(run_report(o, md, err) == 0);
  CHECK(err.str().empty());
  const auto summary = lines(slurp(o.out_dir / "summary.csv"));
  CHECK(summary[2].rfind(std::to_string(f.java_run) + ",\"java, \"\"big\"\" | 512 MB\",java,512,", 0) == 0);
  CHECK_THAT(md.str(), Catch::Contains("| java, \"big\" \\| 512 MB | 11 |"));  // Markdown escapes the pipe
  CHECK_THAT(slurp(o.out_dir / "report.md"), Catch::Contains("The plots were not drawn: --no-plots"));
}

TEST_CASE("report: matplotlib draws the plots", "[report]") {
  if (!matplotlib_importable()) {
    WARN("skipped: /usr/bin/python3 cannot import matplotlib (apt-get install python3-matplotlib)");
    return;
  }
  Fixture f;
  Options o = f.options("out");
  std::ostringstream md, err;
  REQUIRE(run_report(o, md, err) == 0);
  CHECK(err.str().empty());
  const std::vector<std::string> stems = {"comparison", "scenario1",
                                          "timeseries-" + std::to_string(f.python_run),
                                          "timeseries-" + std::to_string(f.java_run)};
  const std::string report = slurp(o.out_dir / "report.md");
  for (const auto& stem : stems) {
    INFO(stem);
    const std::string png = slurp(o.out_dir / (stem + ".png"));
    REQUIRE(png.size() > 1000);
    CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    const std::string svg = slurp(o.out_dir / (stem + ".svg"));
    CHECK_THAT(svg, Catch::Contains("<svg"));
    CHECK_THAT(report, Catch::Contains("](" + stem + ".png)"));
  }
  CHECK_THAT(report, !Catch::Contains("not drawn"));
}

TEST_CASE("report: refusals", "[report]") {
  TempDir dir;
  std::ostringstream md, err;
  Options o;

  SECTION("no such database, and none is created") {
    o.db = dir.path("missing.db");
    CHECK(run_report(o, md, err) == 1);
    CHECK_THAT(err.str(), Catch::Contains("no such database") && Catch::Contains("missing.db"));
    CHECK_FALSE(fs::exists(o.db));
  }
  SECTION("an old schema, left as it is") {
    o.db = dir.path("old.db");
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(o.db.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at_us INTEGER NOT NULL); "
                         "PRAGMA user_version = 2",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(run_report(o, md, err) == 1);
    CHECK_THAT(err.str(), Catch::Contains("schema version 2") && Catch::Contains("version 3"));
    Db check(o.db);
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(check.db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    CHECK(sqlite3_column_int(stmt, 0) == 2);
    sqlite3_finalize(stmt);
  }
  SECTION("not a database") {
    o.db = dir.file("text.db", "hello, this is not SQLite at all, not even close to it...........");
    CHECK(run_report(o, md, err) == 1);
    CHECK_THAT(err.str(), Catch::Contains("not a database"));
  }
  SECTION("an unknown run id") {
    Fixture f;
    o = f.options();
    o.runs = {f.python_run, 99};
    CHECK(run_report(o, md, err) == 1);
    CHECK_THAT(err.str(), Catch::Contains("no run with id 99"));
  }
  SECTION("no experiment runs") {
    o.db = dir.path("serve.db");
    {
      auto log = coldlab::log::InvocationLog::open(o.db);
      coldlab::log::RunInfo serve;
      serve.started_at_us = kT0;
      log->end_run(log->begin_run(serve), kT0 + kMinute);
    }
    CHECK(run_report(o, md, err) == 1);
    CHECK_THAT(err.str(), Catch::Contains("no experiment runs"));
  }
  CHECK(md.str().empty());
  CHECK(lines(err.str()).size() == 1);
}
