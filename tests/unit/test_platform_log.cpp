#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "core/platform_log.h"

namespace core = coldlab::core;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("coldlab-platform-log-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

// --- Platform lines ---------------------------------------------------------------------

TEST_CASE("platform_log: REPORT line of a warm invocation", "[platform_log]") {
  core::ReportFields f;
  f.request_id = "8f5a2c1e-3b4d-4e6f-9a0b-1c2d3e4f5a6b";
  f.duration_ms = 38.6621;
  f.billed_ms = 39;
  f.memory_size_mb = 128;
  f.max_memory_used_mb = 54;
  CHECK(core::report_line(f) ==
        "REPORT RequestId: 8f5a2c1e-3b4d-4e6f-9a0b-1c2d3e4f5a6b\tDuration: 38.66 ms\t"
        "Billed Duration: 39 ms\tMemory Size: 128 MB\tMax Memory Used: 54 MB\t");
}

TEST_CASE("platform_log: REPORT line of a cold invocation has Init Duration", "[platform_log]") {
  core::ReportFields f;
  f.request_id = "req-1";
  f.duration_ms = 2;
  f.billed_ms = 2;
  f.memory_size_mb = 1024;
  f.max_memory_used_mb = 77;
  f.init_ms = 203.6899;
  CHECK(core::report_line(f) ==
        "REPORT RequestId: req-1\tDuration: 2.00 ms\tBilled Duration: 2 ms\t"
        "Memory Size: 1024 MB\tMax Memory Used: 77 MB\tInit Duration: 203.69 ms\t");
}

TEST_CASE("platform_log: REPORT line of a failed invocation has Status and Error Type",
          "[platform_log]") {
  core::ReportFields f;
  f.request_id = "req-2";
  f.duration_ms = 1000.006;
  f.billed_ms = 1001;
  f.memory_size_mb = 128;
  f.max_memory_used_mb = 20;
  f.init_ms = 0.5;
  f.status = "error";
  f.error_type = "Runtime.ExitError";
  CHECK(core::report_line(f) ==
        "REPORT RequestId: req-2\tDuration: 1000.01 ms\tBilled Duration: 1001 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 0.50 ms\t"
        "Status: error\tError Type: Runtime.ExitError\t");
}

TEST_CASE("platform_log: REPORT line of a timeout has Status without Error Type",
          "[platform_log]") {
  core::ReportFields f;
  f.request_id = "req-3";
  f.duration_ms = 3000;
  f.billed_ms = 3000;
  f.memory_size_mb = 128;
  f.max_memory_used_mb = 30;
  f.status = "timeout";
  CHECK(core::report_line(f) ==
        "REPORT RequestId: req-3\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 30 MB\tStatus: timeout\t");
}

TEST_CASE("platform_log: START and END lines", "[platform_log]") {
  CHECK(core::start_line("req-1", "$LATEST") == "START RequestId: req-1 Version: $LATEST");
  CHECK(core::end_line("req-1") == "END RequestId: req-1");
}

TEST_CASE("platform_log: INIT_START line names the runtime", "[platform_log]") {
  const std::string line = core::init_start_line("python3.11");
  CHECK(line.rfind("INIT_START Runtime Version: python3.11\t", 0) == 0);
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("platform_log: billed_ms rounds up to whole milliseconds", "[platform_log]") {
  CHECK(core::billed_ms(0.01) == 1);
  CHECK(core::billed_ms(1.0) == 1);
  CHECK(core::billed_ms(1.001) == 2);
  CHECK(core::billed_ms(38.66) == 39);
  CHECK(core::billed_ms(100.0) == 100);
  CHECK(core::billed_ms(2999.5) == 3000);
}

// --- FunctionLogSink --------------------------------------------------------------------

TEST_CASE("platform_log: FunctionLogSink writes each environment to <dir>/<function>/<env>.log",
          "[platform_log]") {
  TempDir tmp;
  const fs::path dir = tmp.path / "logs" / "nested";  // created on demand
  core::FunctionLogSink sink(dir);
  CHECK(fs::is_directory(dir));

  // A view that is not NUL-terminated: only its own characters may be written.
  const std::string backing = "second line, and more that must not appear";
  sink.write("fn", 7, "first line");
  sink.write("fn", 8, "other env");
  sink.write("fn", 7, std::string_view(backing).substr(0, 11));
  sink.write("another", 9, "\tindented with a tab");
  sink.write("fn", 7, "");

  // Each line is on disk as soon as write() returns, in order.
  CHECK(slurp(dir / "fn" / "7.log") == "first line\nsecond line\n\n");
  CHECK(slurp(dir / "fn" / "8.log") == "other env\n");
  CHECK(slurp(dir / "another" / "9.log") == "\tindented with a tab\n");
}

TEST_CASE("platform_log: after close() a write reopens the file in append mode",
          "[platform_log]") {
  TempDir tmp;
  {
    core::FunctionLogSink sink(tmp.path);
    sink.write("fn", 1, "one");
    sink.write("fn", 1, "two");
    sink.close(1);
    CHECK(slurp(tmp.path / "fn" / "1.log") == "one\ntwo\n");
    sink.write("fn", 1, "three");
    CHECK(slurp(tmp.path / "fn" / "1.log") == "one\ntwo\nthree\n");
    sink.close(1);
    sink.close(1);   // closing twice is harmless
    sink.close(42);  // and so is closing an environment that never wrote
  }
  // A new sink over the same folder appends too.
  core::FunctionLogSink again(tmp.path);
  again.write("fn", 1, "four");
  CHECK(slurp(tmp.path / "fn" / "1.log") == "one\ntwo\nthree\nfour\n");
}

TEST_CASE("platform_log: without a folder lines go to stderr prefixed with function and env",
          "[platform_log]") {
  TempDir tmp;
  const fs::path captured = tmp.path / "stderr.txt";
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  std::FILE* f = std::fopen(captured.c_str(), "w");
  REQUIRE(f);
  ::dup2(::fileno(f), 2);
  {
    core::FunctionLogSink sink("");
    sink.write("my-fn", 12, "hello");
    sink.write("my-fn", 12, std::string_view("world!!", 5));
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(f);
  CHECK(slurp(captured) == "[my-fn 12] hello\n[my-fn 12] world\n");
}
