// `coldlab calibrate` end to end: forced cold starts and warm invocations through a live
// emulator, the table beside a reference, the run in the database, and refused input.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "coldlab_server.h"

using coldlab::testing::binary_dir;
using coldlab::testing::query;
using coldlab::testing::run;
using coldlab::testing::Scratch;
using coldlab::testing::source_dir;
using nlohmann::json;

namespace {

std::string coldlab_binary() { return (binary_dir() / "bin" / "coldlab").string(); }
std::string lambda_perf() {
  return (source_dir() / "experiments" / "calibration" / "lambda-perf-2026-08-22.csv").string();
}

}  // namespace

TEST_CASE("calibrate: cold starts and warm invocations per memory size, beside lambda-perf, logged as a run") {
  Scratch s;
  auto r = run("/bin/sh -c \"" + coldlab_binary() + " calibrate --functions kdd-native --memory 256,512 --cold 2 " +
               "--warm 3 --isolation none --db " + s.db().string() + " --reference " + lambda_perf() +
               " 2>" + (s.dir / "err.txt").string() + "\"");
  INFO(r.out);
  REQUIRE(r.status == 0);
  // One row per memory size, the reference's figure and a ratio beside ours.
  CHECK(r.out.find("| kdd-native (provided.al2023) | 256 MB |") != std::string::npos);
  CHECK(r.out.find("| kdd-native (provided.al2023) | 512 MB |") != std::string::npos);
  CHECK(r.out.find("16.0 provided.al2023") != std::string::npos);  // lambda-perf's Init at 256 MB
  CHECK(r.out.find("18.0 provided.al2023") != std::string::npos);  // and at 512 MB
  CHECK(r.out.find("source: maxday/lambda-perf") != std::string::npos);

  const auto runs = query(s.db(), "SELECT id, kind, status, summary_json FROM runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("kind") == "calibration");
  CHECK(runs[0].at("status") == "completed");
  const json summary = json::parse(runs[0].at("summary_json"));
  REQUIRE(summary["cells"].size() == 2);
  for (const auto& cell : summary["cells"]) {
    CHECK(cell["function"] == "kdd-native");
    CHECK(cell["init_ms"]["n"] == 2);
    CHECK(cell["init_ms"]["median"].get<double>() > 0);
    CHECK(cell["warm_ms"]["n"] == 3);
    CHECK(cell["reference"]["runtime"] == "provided.al2023");
  }
  // Every cold start was a cold start in the log, each after the previous environment ended.
  const auto cold = query(s.db(), "SELECT memory_mb, COUNT(*) AS n, COUNT(DISTINCT environment_id) AS envs FROM "
                                  "invocations WHERE cold = 1 GROUP BY memory_mb ORDER BY memory_mb");
  REQUIRE(cold.size() == 2);
  for (const auto& row : cold) {
    CHECK(row.at("n") == "2");
    CHECK(row.at("envs") == "2");
  }
  CHECK(query(s.db(), "SELECT id FROM invocations WHERE cold = 0").size() == 6);

  // The run replays in the simulator like any recorded run.
  std::ofstream(s.dir / "replay.yaml") << "kind: replay\ndb: " << s.db().string() << "\nrun: 1\n";
  auto sim = run(coldlab_binary() + " simulate --workload " + (s.dir / "replay.yaml").string() +
                 " --summary json --no-baseline 2>/dev/null");
  INFO(sim.out);
  REQUIRE(sim.status == 0);
  CHECK(json::parse(sim.out)["invocations"] == 10);
}

TEST_CASE("calibrate: a bad reference file or function is refused before or as it is measured") {
  Scratch s;
  std::ofstream(s.dir / "bad.csv") << "runtime,memory_mb,init_ms,first_invoke_ms,warm_ms\njava17,64,1,1,\n";
  auto bad = run(coldlab_binary() + " calibrate --functions kdd-native --reference " + (s.dir / "bad.csv").string() +
                 " --db " + s.db().string());
  CHECK(bad.status == 2);
  CHECK(bad.out.find("bad.csv:2: memory_mb must be") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(s.db()));  // refused before anything ran

  auto missing = run(coldlab_binary() + " calibrate --functions no-such-function --memory 256 --cold 1 --warm 0 " +
                     "--isolation none --db " + s.db().string());
  CHECK(missing.status == 1);
  CHECK(missing.out.find("no-such-function") != std::string::npos);
  const auto runs = query(s.db(), "SELECT status FROM runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("status") == "failed");
}
