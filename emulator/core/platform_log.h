// Where function output and Lambda's platform lines go, and how those lines are written.
//
// Lambda writes one log stream per execution environment: the function's own output
// interleaved with platform lines (INIT_START, START, END, REPORT). coldlab does the same,
// either to its own stderr (each line prefixed with "[function env-id] ") or, with a log
// directory, to one file per environment: <dir>/<function>/<env-id>.log.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace coldlab::core {

class FunctionLogSink {
 public:
  // Empty `dir`: write to stderr. Otherwise the folder is created if needed, and with
  // `cap_bytes` > 0 each environment's file stops growing at about that size (one line
  // says so), so a long closed-loop run cannot fill the disk.
  explicit FunctionLogSink(std::filesystem::path dir, int64_t cap_bytes = 0);
  ~FunctionLogSink();

  void write(const std::string& function, int64_t environment_id, std::string_view line);
  // The environment's stream is complete (closes its file).
  void close(int64_t environment_id);

 private:
  struct File {
    std::FILE* f = nullptr;
    int64_t bytes = 0;
  };
  std::filesystem::path dir_;
  int64_t cap_bytes_;
  std::mutex mu_;
  std::map<int64_t, File> files_;
};

// The fields of a REPORT line.
struct ReportFields {
  std::string request_id;
  double duration_ms = 0;
  int64_t billed_ms = 0;
  int memory_size_mb = 0;
  int max_memory_used_mb = 0;
  std::optional<double> init_ms;  // only on the invocation that followed a cold start
  std::string status;             // "" when the invocation succeeded, else "error" / "timeout"
  std::string error_type;         // with status "error"
};

std::string init_start_line(const std::string& runtime);
std::string start_line(const std::string& request_id, const std::string& version);
std::string end_line(const std::string& request_id);
// REPORT RequestId: <id>\tDuration: 38.66 ms\tBilled Duration: 39 ms\tMemory Size: 128 MB\t
// Max Memory Used: 54 MB\tInit Duration: 203.69 ms\t  (then Status/Error Type when it failed)
std::string report_line(const ReportFields& f);

// Lambda bills in whole milliseconds, rounding up (since December 2020).
int64_t billed_ms(double duration_ms);

}  // namespace coldlab::core
