// Test helper: what a child's output and exit callbacks saw (ProcessSupervisor::spawn,
// StandbyProcess::become), with waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/process.h"

namespace coldlab::test {

using namespace std::chrono_literals;
using coldlab::core::ExitStatus;
using coldlab::core::ProcessSupervisor;

// Everything the callbacks of one child saw. Must outlive the supervisor.
class Observed {
 public:
  ProcessSupervisor::LineFn on_line() {
    return [this](std::string_view line, bool from_stderr) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(std::string(line), from_stderr);
      cv_.notify_all();
    };
  }
  ProcessSupervisor::ExitFn on_exit() {
    return [this](ExitStatus status) {
      std::lock_guard<std::mutex> lock(mu_);
      exits_.push_back(status);
      exit_thread_ = std::this_thread::get_id();
      lines_at_exit_ = lines_.size();
      cv_.notify_all();
    };
  }
  bool wait_exit(std::chrono::milliseconds timeout = 15s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return !exits_.empty(); });
  }
  bool wait_lines(size_t n, std::chrono::milliseconds timeout = 15s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return lines_.size() >= n; });
  }
  std::vector<std::pair<std::string, bool>> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  std::vector<std::string> texts(bool from_stderr) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [text, err] : lines_)
      if (err == from_stderr) out.push_back(text);
    return out;
  }
  std::vector<ExitStatus> exits() {
    std::lock_guard<std::mutex> lock(mu_);
    return exits_;
  }
  std::thread::id exit_thread() {
    std::lock_guard<std::mutex> lock(mu_);
    return exit_thread_;
  }
  size_t lines_at_exit() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_at_exit_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, bool>> lines_;
  std::vector<ExitStatus> exits_;
  std::thread::id exit_thread_;
  size_t lines_at_exit_ = 0;
};

}  // namespace coldlab::test
