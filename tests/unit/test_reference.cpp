// Reference CSVs for `coldlab calibrate --reference`: reading, refusing, and matching a
// coldlab function's runtime to the published one.
#include <catch2/catch.hpp>
#include <fstream>

#include "calibrate/reference.h"
#include "temp_dir.h"

using coldlab::calibrate::load_reference;
using coldlab::calibrate::ReferenceError;

namespace {

std::filesystem::path write(const coldlab::testing::TempDir& dir, const std::string& text) {
  return dir.file("ref.csv", text);
}

}  // namespace

TEST_CASE("reference: notes, rows and empty figures", "[reference]") {
  coldlab::testing::TempDir dir;
  const auto ref = load_reference(write(dir,
                                        "# source: somewhere\n# date: 2026-08-22\n"
                                        "runtime,memory_mb,init_ms,first_invoke_ms,warm_ms\n"
                                        "python3.12,256,84,1.9,\n"
                                        "java17,512,202,2.4,1.5\n"));
  CHECK(ref.notes == std::vector<std::string>{"source: somewhere", "date: 2026-08-22"});
  REQUIRE(ref.rows.size() == 2);
  CHECK(ref.rows[0].runtime == "python3.12");
  CHECK(ref.rows[0].memory_mb == 256);
  CHECK(ref.rows[0].init_ms == 84);
  CHECK(ref.rows[0].first_invoke_ms == 1.9);
  CHECK_FALSE(ref.rows[0].warm_ms);
  CHECK(ref.rows[1].warm_ms == 1.5);
}

TEST_CASE("reference: the same runtime, else the nearest version of its family, at the same memory",
          "[reference]") {
  coldlab::testing::TempDir dir;
  const auto ref = load_reference(write(dir,
                                        "runtime,memory_mb,init_ms,first_invoke_ms,warm_ms\n"
                                        "python3.12,512,83,1.9,\n"
                                        "python3.13,512,86,2.1,\n"
                                        "java21,512,231,31.7,\n"
                                        "java17,512,202,2.4,\n"
                                        "provided.al2023,512,18,1.3,\n"));
  CHECK(ref.find("python3.13", 512)->runtime == "python3.13");
  CHECK(ref.find("python3.11", 512)->runtime == "python3.12");
  CHECK(ref.find("java17", 512)->runtime == "java17");
  CHECK(ref.find("java11", 512)->runtime == "java17");
  CHECK(ref.find("provided.al2", 512)->runtime == "provided.al2023");
  CHECK(ref.find("python3.12", 256) == nullptr);  // no figure at that size
  CHECK(ref.find("nodejs20.x", 512) == nullptr);
}

TEST_CASE("reference: a malformed file is refused with its line", "[reference]") {
  coldlab::testing::TempDir dir;
  const std::string header = "runtime,memory_mb,init_ms,first_invoke_ms,warm_ms\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no header"},
      {"runtime,memory,init\n", ":1: the header must be"},
      {header, "no figures"},
      {header + "python3.12,512,83\n", ":2: expected 5 fields"},
      {header + "python3.12,64,83,1,\n", ":2: memory_mb must be"},
      {header + "python3.12,512,fast,1,\n", ":2: init_ms must be a number"},
      {header + "python3.12,512,-1,1,\n", ":2: init_ms must be a number"},
      {header + ",512,1,1,\n", ":2: runtime is empty"},
      {header + "java17,512,1,1,\njava17,512,2,2,\n", ":3: java17 at 512 MB is given twice"},
  };
  for (const auto& [text, why] : cases) {
    CAPTURE(text);
    CHECK_THROWS_WITH(load_reference(write(dir, text)), Catch::Contains(why));
  }
  CHECK_THROWS_AS(load_reference(dir.path("missing.csv")), ReferenceError);
}

TEST_CASE("reference: the shipped lambda-perf file reads", "[reference]") {
  const auto ref = load_reference(std::filesystem::path(COLDLAB_SOURCE_DIR) / "experiments" / "calibration" /
                                  "lambda-perf-2026-08-22.csv");
  CHECK(ref.rows.size() == 28);
  CHECK(ref.find("java17", 256)->init_ms == 201);
  CHECK(ref.find("python3.11", 1024)->init_ms == 81);
  bool names_source = false;
  for (const auto& note : ref.notes) names_source = names_source || note.find("maxday/lambda-perf") != std::string::npos;
  CHECK(names_source);
}
