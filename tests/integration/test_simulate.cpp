// `coldlab simulate` end to end: the summary's contract, the database in the log's schema,
// determinism whatever the cores, and refused input.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "coldlab_server.h"

using coldlab::testing::binary_dir;
using coldlab::testing::query;
using coldlab::testing::run;
using coldlab::testing::Scratch;
using coldlab::testing::source_dir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string coldlab_binary() { return (binary_dir() / "bin" / "coldlab").string(); }
std::string workload(const std::string& name) { return (source_dir() / "tests" / "workloads" / name).string(); }

// Every row of the database as text, the wall time aside.
std::string dump(const fs::path& db) {
  std::string out;
  for (const char* sql :
       {"SELECT id, started_at_us, ended_at_us, coldlab_version, command_line, keep_alive, scale_out, "
        "memory_budget_mb, clock, kind, scenario, label, parameters_json, status FROM runs ORDER BY id",
        "SELECT * FROM environments ORDER BY id", "SELECT * FROM invocations ORDER BY id"}) {
    for (const auto& row : query(db, sql)) {
      for (const auto& [k, v] : row) out += k + "=" + v + " ";
      out += "\n";
    }
  }
  return out;
}

}  // namespace

TEST_CASE("simulate --summary json prints one object with the documented keys") {
  auto r = run(coldlab_binary() + " simulate --workload " + workload("two-functions.yaml") +
               " --keep-alive fixed:ttl=600 --seed 7 --summary json 2>/dev/null");
  INFO(r.out);
  REQUIRE(r.status == 0);
  const json s = json::parse(r.out);
  for (const char* key : {"invocations", "cold_starts", "cold_fraction", "p75_app_cold_pct", "wasted_memory_gb_s",
                          "avg_envs", "avg_busy", "avg_idle", "rejected_fraction", "mean_lifespan_s", "wall_s"})
    CHECK(s.contains(key));
  CHECK(s["invocations"].get<int64_t>() > 3000);
  CHECK(s["cold_starts"].get<int64_t>() >= 2);  // each function's first request at least
  CHECK(s["cold_fraction"].get<double>() > 0);
  CHECK(s["cold_fraction"].get<double>() < 0.1);
  CHECK(s["wasted_memory_pct_of_fixed_10m"].get<double>() == 100);  // it is the baseline
}

TEST_CASE("simulate: the same workload, policies and seed give the same summary and database, on one core or all") {
  Scratch a, b;
  const std::string args = " simulate --workload " + workload("two-functions.yaml") +
                           " --keep-alive hybrid-histogram --seed 11 --summary json --db sim.db 2>&1";
  auto first = run("cd " + a.dir.string() + " && taskset -c 0 " + coldlab_binary() + args);
  auto second = run("cd " + b.dir.string() + " && " + coldlab_binary() + args);
  REQUIRE(first.status == 0);
  REQUIRE(second.status == 0);
  json s1 = json::parse(first.out), s2 = json::parse(second.out);
  s1.erase("wall_s");
  s2.erase("wall_s");
  CHECK(s1 == s2);
  const std::string rows = dump(a.dir / "sim.db");
  CHECK(rows == dump(b.dir / "sim.db"));
  // The rows are those of the summary.
  CHECK(query(a.dir / "sim.db", "SELECT COUNT(*) AS n FROM invocations WHERE invocation_type = 'RequestResponse'")[0]["n"] ==
        std::to_string(s1["invocations"].get<int64_t>()));
  CHECK(query(a.dir / "sim.db", "SELECT SUM(cold) AS n FROM invocations")[0]["n"] ==
        std::to_string(s1["cold_starts"].get<int64_t>()));
  auto runs = query(a.dir / "sim.db", "SELECT kind, clock, keep_alive, status, wall_ms FROM runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["kind"] == "simulation");
  CHECK(runs[0]["clock"] == "simulated");
  CHECK(runs[0]["keep_alive"].find("hybrid-histogram") == 0);
  CHECK(runs[0]["status"] == "completed");
  // Every environment ended, each for a reason.
  CHECK(query(a.dir / "sim.db", "SELECT COUNT(*) AS n FROM environments WHERE ended_at_us IS NULL OR end_reason IS NULL")[0]["n"] == "0");
  // Another seed, other draws.
  auto third = run("cd " + b.dir.string() + " && " + coldlab_binary() + " simulate --workload " +
                   workload("two-functions.yaml") + " --keep-alive hybrid-histogram --seed 12 --summary json 2>&1");
  REQUIRE(third.status == 0);
  json s3 = json::parse(third.out);
  s3.erase("wall_s");
  CHECK(s3 != s1);
}

TEST_CASE("simulate refuses a bad workload with the file, the line and the key") {
  Scratch s;
  const fs::path file = s.dir / "bad.yaml";
  std::ofstream(file) << "kind: synthetic\nduration: 60\nfunctions:\n  - name: f\n"
                         "    arrivals: {process: poisson, rate: 1}\n    warm: {dist: exponential, mean: -1}\n"
                         "    cold: 1\n";
  auto r = run(coldlab_binary() + " simulate --workload " + file.string() + " 2>&1");
  CHECK(r.status == 1);
  CHECK(r.out.find(file.string() + ":6: functions[0].warm: ") != std::string::npos);
  CHECK(r.out.find("mean must be > 0") != std::string::npos);
  std::ofstream(file) << "kind: synthetic\nduration: 60\nfunctions:\n  - name: f\n    arival: {}\n";
  r = run(coldlab_binary() + " simulate --workload " + file.string() + " 2>&1");
  CHECK(r.status == 1);
  CHECK(r.out.find(file.string() + ":5: functions[0].arival: unknown key") != std::string::npos);
  std::ofstream(file) << "kind: nope\n";
  r = run(coldlab_binary() + " simulate --workload " + file.string() + " 2>&1");
  CHECK(r.status == 1);
  CHECK(r.out.find(file.string() + ":1: kind: unknown kind 'nope'") != std::string::npos);
}

TEST_CASE("simulate kind replay: a recorded live run, replayed under the same policy, gives the same cold "
          "starts and latencies drawn from the live ones") {
  Scratch s;
  auto live = run(coldlab_binary() + " run " + (source_dir() / "tests" / "scenarios" / "calibration.yaml").string() +
                  " --template " + (binary_dir() / "tests" / "functions" / "template.yaml").string() +
                  " --no-report --progress off --db " + (s.dir / "live.db").string() + " --out " +
                  (s.dir / "out").string() + " 2>&1");
  INFO(live.out);
  REQUIRE(live.status == 0);
  std::ofstream(s.dir / "replay.yaml") << "kind: replay\ndb: live.db\nrun: 1\n";
  auto sim = run(coldlab_binary() + " simulate --workload " + (s.dir / "replay.yaml").string() +
                 " --keep-alive fixed:ttl=5s --summary json --db " + (s.dir / "sim.db").string() + " 2>&1");
  INFO(sim.out);
  REQUIRE(sim.status == 0);
  const json summary = json::parse(sim.out);
  // The same requests, cold at the same ones (the gaps are seconds clear of the TTL).
  const std::string pattern_sql = "SELECT started_at_us - (SELECT started_at_us FROM runs WHERE id = 1) AS t, cold "
                                  "FROM invocations WHERE run_id = 1 ORDER BY started_at_us";
  auto live_rows = query(s.dir / "live.db", pattern_sql);
  auto sim_rows = query(s.dir / "sim.db", pattern_sql);
  REQUIRE(live_rows.size() == 12);
  REQUIRE(sim_rows.size() == live_rows.size());
  int colds = 0;
  for (size_t i = 0; i < live_rows.size(); ++i) {
    INFO("request " << i);
    CHECK(sim_rows[i]["t"] == live_rows[i]["t"]);
    CHECK(sim_rows[i]["cold"] == live_rows[i]["cold"]);
    colds += live_rows[i]["cold"] == "1";
  }
  CHECK(colds == 4);
  CHECK(summary["cold_starts"].get<int>() == colds);
  // Latencies: every simulated one is one the live run measured for a request of the same
  // kind (the service times are the run's), and the means agree within a factor of four:
  // four cold samples that vary 5x between runs (the first cold start pays for page
  // faults the others do not) allow no tighter bound on draws from them.
  for (const char* cold : {"0", "1"}) {
    const std::string sql = std::string("SELECT latency_us FROM invocations WHERE cold = ") + cold;
    std::set<std::string> measured;
    double live_sum = 0, sim_sum = 0;
    for (auto& row : query(s.dir / "live.db", sql)) measured.insert(row["latency_us"]), live_sum += std::stod(row["latency_us"]);
    auto simulated = query(s.dir / "sim.db", sql);
    for (auto& row : simulated) {
      CHECK(measured.count(row["latency_us"]) == 1);
      sim_sum += std::stod(row["latency_us"]);
    }
    const double live_mean = live_sum / static_cast<double>(query(s.dir / "live.db", sql).size());
    const double sim_mean = sim_sum / static_cast<double>(simulated.size());
    INFO("cold " << cold << ": live mean " << live_mean << " us, simulated " << sim_mean);
    CHECK(sim_mean > live_mean / 4);
    CHECK(sim_mean < live_mean * 4);
  }
}

TEST_CASE("simulate --sweep: a table, its CSV and plots, the runs in --db with their summaries") {
  Scratch s;
  auto r = run(coldlab_binary() + " simulate --sweep --workload " + workload("two-functions.yaml") +
               " --keep-alive lru --keep-alive greedy-dual --memory-budget 512 --memory-budget 1024 --seed 3" +
               " --progress off --out " + (s.dir / "out").string() + " --db " + (s.dir / "sweep.db").string() + " 2>&1");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("| keep_alive | memory_budget_mb |") != std::string::npos);
  CHECK(fs::exists(s.dir / "out" / "sweep.csv"));
  CHECK(fs::exists(s.dir / "out" / "sweep.md"));
  if (run("/usr/bin/python3 -c 'import matplotlib'").status == 0) {
    CHECK(fs::exists(s.dir / "out" / "cold-vs-memory.png"));
    CHECK(fs::exists(s.dir / "out" / "pareto.png"));
  }
  auto runs = query(s.dir / "sweep.db", "SELECT id, experiment_id, keep_alive, memory_budget_mb, summary_json FROM runs ORDER BY id");
  REQUIRE(runs.size() == 6);  // 2 policies x 2 budgets, and fixed 10 min per budget
  for (auto& row : runs) {
    CHECK(row["experiment_id"] == runs[0]["id"]);
    CHECK(json::parse(row["summary_json"])["invocations"].get<int64_t>() > 3000);
  }
}

TEST_CASE("simulate --sweep --plan run by GNU parallel, then --merge, gives the table the sweep gives") {
  Scratch s;
  const std::string grid = " --workload " + workload("two-functions.yaml") +
                           " --keep-alive lru --keep-alive fixed:ttl=2m --memory-budget 512 --memory-budget 768 --seed 4";
  auto direct = run("/bin/sh -c \"" + coldlab_binary() + " simulate --sweep --progress off" + grid + " 2>/dev/null\"");
  REQUIRE(direct.status == 0);
  // In a shell of its own: run() sends stderr (the line saying what to do next) to stdout.
  auto plan = run("/bin/sh -c \"" + coldlab_binary() + " simulate --sweep --plan" + grid + " --out " + (s.dir / "plan").string() +
                  " > " + (s.dir / "plan.txt").string() + " 2>/dev/null\"");
  REQUIRE(plan.status == 0);
  auto lines = run("wc -l < " + (s.dir / "plan.txt").string());
  CHECK(std::stoi(lines.out) == 6);
  auto ran = run("parallel --will-cite -j 2 < " + (s.dir / "plan.txt").string() + " 2>&1");
  INFO(ran.out);
  REQUIRE(ran.status == 0);
  auto merged = run("/bin/sh -c \"" + coldlab_binary() + " simulate --merge " + (s.dir / "plan" / "points").string() + "/point-*.db --db " +
                    (s.dir / "merged.db").string() + " 2>/dev/null\"");
  REQUIRE(merged.status == 0);
  CHECK(merged.out == direct.out);
  CHECK(query(s.dir / "merged.db", "SELECT COUNT(*) AS n FROM runs WHERE summary_json IS NOT NULL")[0]["n"] == "6");
  // Each point's own database holds its rows.
  CHECK(std::stoi(query(s.dir / "plan" / "points" / "point-0001.db", "SELECT COUNT(*) AS n FROM invocations")[0]["n"]) > 3000);
}
