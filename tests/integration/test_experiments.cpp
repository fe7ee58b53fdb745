// Experiments end to end: `coldlab run` on the study's scenario files with the real
// functions under cgroup limits in virtual time, the same schedule under both clocks,
// the clock-control endpoint of `coldlab serve --clock virtual`, and the freezer.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "coldlab_server.h"

using coldlab::testing::binary_dir;
using coldlab::testing::ColdlabServer;
using coldlab::testing::invoke;
using coldlab::testing::query;
using coldlab::testing::Rows;
using coldlab::testing::run;
using coldlab::testing::Scratch;
using coldlab::testing::source_dir;
using coldlab::testing::wait_rows;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string coldlab_binary() { return (binary_dir() / "bin" / "coldlab").string(); }

// Every request of the run answered 200 without a function error, and logged by the
// emulator exactly once, under the same request id.
void check_answered_and_logged_once(const fs::path& db, const std::string& run_id) {
  auto counts = query(db, "SELECT COUNT(*) AS n, "
                          "SUM(http_status IS NOT 200 OR function_error IS NOT NULL OR error IS NOT NULL) AS bad "
                          "FROM requests WHERE run_id = " + run_id);
  const std::string n = counts[0]["n"];
  REQUIRE(n != "0");
  CHECK(counts[0]["bad"] == "0");
  auto logged = query(db, "SELECT COUNT(*) AS n, COUNT(DISTINCT i.request_id) AS d FROM requests q "
                          "JOIN invocations i ON i.request_id = q.request_id AND i.run_id = q.run_id "
                          "WHERE q.run_id = " + run_id);
  CHECK(logged[0]["n"] == n);
  CHECK(logged[0]["d"] == n);
  auto all = query(db, "SELECT COUNT(*) AS n FROM invocations WHERE run_id = " + run_id);
  CHECK(all[0]["n"] == n);
}

bool is_png(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  return in.gcount() == 8 && std::string(magic + 1, 3) == "PNG";
}

}  // namespace

TEST_CASE("run: Scenario 1 for Python and Java at two memory sizes: cold, warm, warm, warm, cold, in seconds") {
  Scratch s;
  auto r = run(coldlab_binary() + " run " + (source_dir() / "experiments" / "scenario1-idle-gaps.yaml").string() +
               " --memory 256,512 --progress lines --db " + s.db().string() + " --out " + (s.dir / "report").string() +
               " 2>&1");
  INFO(r.out);
  REQUIRE(r.status == 0);

  auto runs = query(s.db(), "SELECT id, label, clock, kind, status, experiment_id, wall_ms, "
                            "ended_at_us - started_at_us AS span_us FROM runs ORDER BY id");
  REQUIRE(runs.size() == 4);
  std::set<std::string> labels;
  for (auto& run_row : runs) {
    INFO("run " << run_row["id"] << " " << run_row["label"]);
    labels.insert(run_row["label"]);
    CHECK(run_row["clock"] == "virtual");
    CHECK(run_row["kind"] == "experiment");
    CHECK(run_row["status"] == "completed");
    CHECK(run_row["experiment_id"] == runs[0]["id"]);
    // Virtual: the run spans the scenario's hour; its wall time is seconds.
    CHECK(std::stoll(run_row["span_us"]) >= 61LL * 60 * 1000000);
    CHECK(std::stod(run_row["wall_ms"]) < 60000);
    auto reqs = query(s.db(), "SELECT cold, scheduled_at_us, sent_at_us FROM requests WHERE run_id = " +
                                  run_row["id"] + " ORDER BY iteration");
    REQUIRE(reqs.size() == 5);
    const char* pattern[] = {"1", "0", "0", "0", "1"};
    const int minutes[] = {0, 6, 16, 31, 61};
    for (int i = 0; i < 5; ++i) {
      CHECK(reqs[i]["cold"] == pattern[i]);
      CHECK(std::stoll(reqs[i]["scheduled_at_us"]) - std::stoll(reqs[0]["scheduled_at_us"]) ==
            minutes[i] * 60LL * 1000000);
    }
    check_answered_and_logged_once(s.db(), run_row["id"]);
    // The environment of the first request was evicted by the keep-alive policy (22 min)
    // before the request at minute 61, not by the end of the run.
    auto evicted = query(s.db(), "SELECT COUNT(*) AS n FROM environments WHERE end_reason = 'idle' AND run_id = " +
                                     run_row["id"]);
    CHECK(evicted[0]["n"] == "1");
  }
  CHECK(labels == std::set<std::string>{"python 256 MB", "python 512 MB", "java 256 MB", "java 512 MB"});
  // The request table on stdout and the report with its images.
  CHECK(r.out.find("cold") != std::string::npos);
  CHECK(fs::exists(s.dir / "report" / "report.md"));
  CHECK(fs::exists(s.dir / "report" / "summary.csv"));
  CHECK(fs::exists(s.dir / "report" / "scenario1.csv"));
  if (run("/usr/bin/python3 -c 'import matplotlib'").status == 0) {
    int pngs = 0;
    for (auto& e : fs::directory_iterator(s.dir / "report"))
      if (e.path().extension() == ".png") {
        CHECK(is_png(e.path()));
        ++pngs;
      }
    CHECK(pngs >= 2);
  }
}

TEST_CASE("run: shortened Scenario 2: cold starts at each user step, every request answered and logged once") {
  Scratch s;
  auto r = run(coldlab_binary() + " run " + (source_dir() / "tests" / "scenarios" / "scenario2-short.yaml").string() +
               " --template " + (binary_dir() / "tests" / "functions" / "template.yaml").string() +
               " --progress lines --no-plots --db " + s.db().string() + " --out " + (s.dir / "report").string() +
               " 2>&1");
  INFO(r.out);
  REQUIRE(r.status == 0);
  auto runs = query(s.db(), "SELECT id, label, started_at_us FROM runs ORDER BY id");
  REQUIRE(runs.size() == 2);
  for (auto& run_row : runs) {
    INFO("run " << run_row["label"]);
    check_answered_and_logged_once(s.db(), run_row["id"]);
    auto first = query(s.db(), "SELECT MIN(scheduled_at_us) AS t FROM requests WHERE run_id = " + run_row["id"]);
    const int64_t t0 = std::stoll(first[0]["t"]);
    // Users join at 0, 4 and 8 s (3 each), and 9 more at 16 s. Each new user needs an
    // environment of its own: a step's requests include at least as many cold starts as
    // the users it added (an existing user may be the one that meets it).
    const int64_t steps[] = {0, 4, 8, 16, 1000};
    const int added[] = {3, 3, 3, 9};
    for (int k = 0; k < 4; ++k) {
      auto colds = query(s.db(), "SELECT COUNT(*) AS n FROM requests WHERE cold = 1 AND run_id = " + run_row["id"] +
                                     " AND sent_at_us >= " + std::to_string(t0 + steps[k] * 1000000) +
                                     " AND sent_at_us < " + std::to_string(t0 + steps[k + 1] * 1000000));
      INFO("step " << k);
      CHECK(std::stoi(colds[0]["n"]) >= added[k]);
    }
    // Every environment started cold exactly once; at most one per concurrent request.
    auto envs = query(s.db(), "SELECT COUNT(*) AS n FROM environments WHERE run_id = " + run_row["id"]);
    auto colds = query(s.db(), "SELECT COUNT(*) AS n FROM requests WHERE cold = 1 AND run_id = " + run_row["id"]);
    CHECK(envs[0]["n"] == colds[0]["n"]);
    CHECK(std::stoi(envs[0]["n"]) >= 18);
    auto users = query(s.db(), "SELECT MAX(users) AS u, COUNT(DISTINCT user_id) AS n FROM requests WHERE run_id = " +
                                   run_row["id"]);
    CHECK(users[0]["u"] == "18");
    CHECK(users[0]["n"] == "18");
  }
  CHECK(fs::exists(s.dir / "report" / "report.md"));
}

TEST_CASE("run: the same schedule under the real and the virtual clock gives the same cold/warm pattern and "
          "eviction order") {
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> seen;
  for (const std::string clock : {"real", "virtual"}) {
    Scratch s;
    auto r = run(coldlab_binary() + " run " + (source_dir() / "tests" / "scenarios" / "equivalence.yaml").string() +
                 " --template " + (binary_dir() / "tests" / "functions" / "template.yaml").string() + " --clock " +
                 clock + " --no-report --progress off --db " + s.db().string() + " --out " +
                 (s.dir / "out").string() + " 2>&1");
    INFO(clock << ": " << r.out);
    REQUIRE(r.status == 0);
    std::vector<std::string> pattern, evictions;
    for (auto& row : query(s.db(), "SELECT function, cold FROM requests ORDER BY iteration, id"))
      pattern.push_back(row["function"] + ":" + row["cold"]);
    for (auto& row : query(s.db(), "SELECT function FROM environments WHERE end_reason = 'idle' "
                                   "ORDER BY ended_at_us"))
      evictions.push_back(row["function"]);
    CHECK(query(s.db(), "SELECT clock FROM runs")[0]["clock"] == clock);
    seen[clock] = {pattern, evictions};
  }
  const std::vector<std::string> expected = {"echo-native:1", "ticker:1", "echo-native:0",
                                             "ticker:0",      "echo-native:1", "ticker:1"};
  CHECK(seen["real"].first == expected);
  CHECK(seen["virtual"].first == expected);
  CHECK(seen["real"].second == std::vector<std::string>{"echo-native", "ticker"});
  CHECK(seen["virtual"].second == seen["real"].second);
}

TEST_CASE("serve --clock virtual: POST /coldlab/clock/advance skips idle time, fires due evictions first") {
  ColdlabServer server({"--clock", "virtual", "--keep-alive", "fixed:ttl=10m"});
  httplib::Client c("127.0.0.1", server.port());
  auto clock = c.Get("/coldlab/clock");
  REQUIRE(clock);
  REQUIRE(clock->status == 200);
  const json before = json::parse(clock->body);
  CHECK(before["clock"] == "virtual");
  CHECK(before["skipped_us"] == 0);

  REQUIRE(invoke(c, "echo-native", "{}"));  // cold
  auto advanced = c.Post("/coldlab/clock/advance", R"({"seconds": 300})", "application/json");
  REQUIRE(advanced);
  REQUIRE(advanced->status == 200);
  const json after = json::parse(advanced->body);
  CHECK(after["now_us"].get<int64_t>() - before["now_us"].get<int64_t>() >= 300LL * 1000000);
  CHECK(after["now_us"].get<int64_t>() - before["now_us"].get<int64_t>() < 330LL * 1000000);
  REQUIRE(invoke(c, "echo-native", "{}"));  // warm: 5 min idle < 10 min
  // 20 minutes: the environment's TTL ends on the way, and it is gone when the call returns.
  REQUIRE(c.Post("/coldlab/clock/advance", R"({"seconds": 1200})", "application/json")->status == 200);
  // (The log is written in batches: poll for the row.)
  auto ended = wait_rows(server.db(), "SELECT end_reason, ended_at_us FROM environments WHERE ended_at_us IS NOT NULL", 1);
  REQUIRE(ended.size() == 1);
  CHECK(query(server.db(), "SELECT COUNT(*) AS n FROM environments")[0]["n"] == "1");  // not replaced yet
  CHECK(ended[0]["end_reason"] == "idle");
  REQUIRE(invoke(c, "echo-native", "{}"));  // cold again
  // A function's clock is real: the deadline it is given is too, whatever was skipped.
  auto dump = invoke(c, "env-dump", "{}");
  REQUIRE(dump);
  const int64_t remaining = json::parse(dump->body)["remaining_ms"].get<int64_t>();
  CHECK(remaining > 1000);
  CHECK(remaining <= 3000);
  auto rows = wait_rows(server.db(), "SELECT cold, started_at_us FROM invocations WHERE function = 'echo-native' "
                                     "ORDER BY id", 3);
  CHECK(rows[0]["cold"] == "1");
  CHECK(rows[1]["cold"] == "0");
  CHECK(rows[2]["cold"] == "1");
  // The log's times are virtual: the eviction happened 10 min after the second request.
  const int64_t second = std::stoll(rows[1]["started_at_us"]);
  const int64_t evicted = std::stoll(ended[0]["ended_at_us"]);
  CHECK(evicted - second >= 600LL * 1000000);
  CHECK(evicted - second < 610LL * 1000000);
  CHECK(std::stoll(rows[2]["started_at_us"]) - second >= 1200LL * 1000000);
  // Only the advances skipped time (invoking never does): 300 s + 1200 s, less the real time
  // that passed while something was active.
  const json last = json::parse(c.Get("/coldlab/clock")->body);
  CHECK(last["skipped_us"].get<int64_t>() > 1490LL * 1000000);
  CHECK(last["skipped_us"].get<int64_t>() <= 1500LL * 1000000);

  SECTION("bad requests are refused in Lambda's shape") {
    auto bad = c.Post("/coldlab/clock/advance", "not json", "application/json");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    const json error = json::parse(bad->body);
    CHECK(error["Type"] == "User");
    CHECK((error.contains("Message") || error.contains("message")));
    CHECK(bad->get_header_value("x-amzn-ErrorType") == "InvalidRequestContentException");
    auto negative = c.Post("/coldlab/clock/advance", R"({"seconds": -5})", "application/json");
    CHECK(negative->status == 400);
  }
}

TEST_CASE("serve --clock real: the clock cannot be advanced") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto res = c.Post("/coldlab/clock/advance", R"({"seconds": 60})", "application/json");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(json::parse(c.Get("/coldlab/clock")->body)["clock"] == "real");
}

TEST_CASE("freezer: an idle environment is frozen and makes no progress, it is thawed for its next event") {
  if (!fs::exists("/sys/fs/cgroup/freezer") || geteuid() != 0) {
    WARN("no v1 freezer here or not root: the freezer test needs them");
    return;
  }
  auto ticks_between_calls = [](const std::string& freeze) {
    ColdlabServer server({"--freeze", freeze});
    httplib::Client c("127.0.0.1", server.port());
    auto a = invoke(c, "ticker", "{}");
    REQUIRE(a);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (freeze == "on") {
      // The environment's group says so while it waits.
      auto env = wait_rows(server.db(), "SELECT id FROM environments", 1);
      const fs::path state = fs::path("/sys/fs/cgroup/freezer/coldlab") /
                             ("run-" + std::to_string(server.pid())) / ("env-" + env[0]["id"]) / "freezer.state";
      std::ifstream in(state);
      std::string text;
      in >> text;
      CHECK(text == "FROZEN");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    auto b = invoke(c, "ticker", "{}");
    REQUIRE(b);
    REQUIRE(b->status == 200);
    return json::parse(b->body)["ticks"].get<int64_t>() - json::parse(a->body)["ticks"].get<int64_t>();
  };
  const int64_t frozen = ticks_between_calls("on");
  const int64_t running = ticks_between_calls("off");
  // One tick per millisecond while it may run: a second apart, hundreds unfrozen; frozen,
  // only the moments between an answer and the next /next.
  CHECK(running > 400);
  CHECK(frozen < 100);
}

TEST_CASE("run --endpoint: drives another emulator over the public API and tells cold from warm by the answer") {
  ColdlabServer server({"--keep-alive", "fixed:ttl=3s"});
  Scratch s;
  auto r = run(coldlab_binary() + " run " + (source_dir() / "tests" / "scenarios" / "equivalence.yaml").string() +
               " --endpoint " + server.endpoint() + " --no-report --progress off --db " + s.db().string() +
               " --out " + (s.dir / "out").string() + " 2>&1");
  INFO(r.out);
  REQUIRE(r.status == 0);
  // Cold/warm here come from the REPORT lines of the answers' log tails, not from a log.
  std::vector<std::string> pattern;
  for (auto& row : query(s.db(), "SELECT function, cold, init_ms FROM requests ORDER BY iteration, id")) {
    pattern.push_back(row["function"] + ":" + row["cold"]);
    CHECK((row["cold"] == "1") == (row["init_ms"] != "NULL"));
  }
  CHECK(pattern == std::vector<std::string>{"echo-native:1", "ticker:1", "echo-native:0", "ticker:0",
                                            "echo-native:1", "ticker:1"});
  auto runs = query(s.db(), "SELECT clock, kind, status FROM runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["clock"] == "real");
  CHECK(runs[0]["status"] == "completed");
  CHECK(query(s.db(), "SELECT COUNT(*) AS n FROM invocations")[0]["n"] == "0");  // the server logged them
  CHECK(wait_rows(server.db(), "SELECT * FROM invocations", 6).size() == 6);
}

TEST_CASE("run: Ctrl-C stops cleanly: answered requests stay logged, the run is marked interrupted") {
  Scratch s;
  const std::string command = coldlab_binary() + " run " +
                              (source_dir() / "tests" / "scenarios" / "scenario2-short.yaml").string() +
                              " --template " + (binary_dir() / "tests" / "functions" / "template.yaml").string() +
                              " --runtime sleeper --memory 512 --no-plots --progress off --db " + s.db().string() + " --out " +
                              (s.dir / "out").string();
  // The shell runs coldlab in the background, interrupts it after 3 s and reports its status.
  auto r = run("/bin/sh -c '" + command + " >" + (s.dir / "out.txt").string() +
               " 2>&1 & pid=$!; sleep 3; kill -INT $pid; wait $pid; echo status=$?'");
  INFO(r.out);
  CHECK(r.out.find("status=130") != std::string::npos);
  auto runs = query(s.db(), "SELECT id, status, ended_at_us FROM runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["status"] == "interrupted");
  CHECK(runs[0]["ended_at_us"] != "NULL");
  auto counts = query(s.db(), "SELECT COUNT(*) AS n, SUM(http_status = 200) AS ok FROM requests");
  CHECK(std::stoi(counts[0]["n"]) > 0);
  CHECK(counts[0]["ok"] == counts[0]["n"]);
  auto logged = query(s.db(), "SELECT COUNT(*) AS n FROM requests q JOIN invocations i "
                              "ON i.request_id = q.request_id AND i.run_id = q.run_id");
  CHECK(logged[0]["n"] == counts[0]["n"]);
  // The report still covers what ran.
  CHECK(fs::exists(s.dir / "out" / "report.md"));
}
