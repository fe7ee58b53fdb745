// `coldlab simulate` end to end: the summary's contract, the database in the log's schema,
// determinism whatever the cores, and refused input.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "coldlab_server.h"

using coldlab::testing::binary_dir;
using coldlab::testing::query;
using coldlab::testing::run;
using coldlab::testing::source_dir;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Scratch {
  fs::path dir;
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "coldlab-sim-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
  }
  ~Scratch() { fs::remove_all(dir); }
};

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
