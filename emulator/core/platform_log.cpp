#include "core/platform_log.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace coldlab::core {

FunctionLogSink::FunctionLogSink(std::filesystem::path dir, int64_t cap_bytes)
    : dir_(std::move(dir)), cap_bytes_(cap_bytes) {
  if (!dir_.empty()) std::filesystem::create_directories(dir_);
}

FunctionLogSink::~FunctionLogSink() {
  for (auto& [id, file] : files_) std::fclose(file.f);
}

void FunctionLogSink::write(const std::string& function, int64_t environment_id,
                            std::string_view line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dir_.empty()) {
    std::fprintf(stderr, "[%s %lld] %.*s\n", function.c_str(),
                 static_cast<long long>(environment_id), static_cast<int>(line.size()), line.data());
    return;
  }
  auto it = files_.find(environment_id);
  if (it == files_.end()) {
    auto folder = dir_ / function;
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    auto path = folder / (std::to_string(environment_id) + ".log");
    std::FILE* f = std::fopen(path.c_str(), "ae");
    if (!f) return;  // logging must never fail an invocation
    it = files_.emplace(environment_id, File{f, 0}).first;
  }
  File& file = it->second;
  if (cap_bytes_ > 0 && file.bytes >= cap_bytes_) return;
  std::fwrite(line.data(), 1, line.size(), file.f);
  std::fputc('\n', file.f);
  file.bytes += static_cast<int64_t>(line.size()) + 1;
  if (cap_bytes_ > 0 && file.bytes >= cap_bytes_)
    std::fprintf(file.f, "coldlab: this log reached its cap of %lld bytes; the rest is not written\n",
                 static_cast<long long>(cap_bytes_));
  std::fflush(file.f);
}

void FunctionLogSink::close(int64_t environment_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(environment_id);
  if (it == files_.end()) return;
  std::fclose(it->second.f);
  files_.erase(it);
}

std::string init_start_line(const std::string& runtime) {
  return "INIT_START Runtime Version: " + runtime + "\tRuntime Version ARN: coldlab::runtime:" + runtime;
}

std::string start_line(const std::string& request_id, const std::string& version) {
  return "START RequestId: " + request_id + " Version: " + version;
}

std::string end_line(const std::string& request_id) { return "END RequestId: " + request_id; }

std::string report_line(const ReportFields& f) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf,
                        "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\t"
                        "Memory Size: %d MB\tMax Memory Used: %d MB\t",
                        f.request_id.c_str(), f.duration_ms, static_cast<long long>(f.billed_ms),
                        f.memory_size_mb, f.max_memory_used_mb);
  std::string line(buf, static_cast<size_t>(std::clamp(n, 0, static_cast<int>(sizeof buf) - 1)));
  if (f.init_ms) {
    std::snprintf(buf, sizeof buf, "Init Duration: %.2f ms\t", *f.init_ms);
    line += buf;
  }
  if (!f.status.empty()) {
    line += "Status: " + f.status + "\t";
    if (!f.error_type.empty()) line += "Error Type: " + f.error_type + "\t";
  }
  return line;
}

int64_t billed_ms(double duration_ms) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(duration_ms)));
}

}  // namespace coldlab::core
