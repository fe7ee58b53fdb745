// One emulator: the functions of a template, isolation, the invocation log, the policies,
// the dispatcher and the HTTP APIs (Invoke, management, clock control), wired together and
// listening. `coldlab serve` runs one until a signal; `coldlab run` starts one per
// combination of a sweep, in-process, and drives it through its clock and its port.
//
// Contract: start() either returns a listening emulator whose `runs` row is begun, or
// throws EmulatorError with a message for the user and the exit status to use. stop()
// finishes in-flight invocations (up to the grace), stops every environment, ends the run
// and stops listening; the destructor calls it if it was not called.
//
// Thread-safety: all methods may be called from any thread; stop() once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/clock.h"
#include "core/timer_queue.h"
#include "log/invocation_log.h"

namespace coldlab {

struct EmulatorOptions {
  int port = 9001;
  std::string bind = "127.0.0.1";
  std::string db = "coldlab.db";
  std::string template_file;  // empty: the built-in functions
  double idle_timeout_s = -1;  // unset: --keep-alive decides (default fixed:ttl=10m)
  std::string keep_alive;      // a policy spec; empty: fixed:ttl=<idle timeout>
  std::string scale_out = "lambda";
  int64_t memory_budget_mb = 0;
  int max_concurrency = 1000;
  double init_timeout_s = 10;
  std::string python = "/usr/bin/python3";
  std::string java = "/usr/bin/java";
  bool legacy_timeout_message = false;
  std::string log_dir;  // empty: function logs to stderr
  int64_t log_cap_bytes = 0;  // per environment log file; 0: no cap
  std::string region = "us-east-1";
  double shutdown_grace_s = 2;
  double async_retry_delay_s = 60;
  std::string isolation = "cgroup";  // "cgroup" or "none"
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string cgroup_parent = "coldlab";
  std::string init_cpu = "burst";      // core::parse_init_cpu: burst[:vcpus=N], throttled, unthrottled
  std::string cpu_period = "20ms";     // the CFS period CPU shares are enforced over
  std::string clock = "real";          // or "virtual"
  std::string freeze = "auto";         // "on", "off", or "auto" (on where the freezer exists)
  int spare_sandboxes = 2;             // core::SandboxPool: kept ready for cold starts
  bool quiet = false;                  // no banner on stderr (in-process use)

  // In-process use (`coldlab run`): the MemorySize each named function runs with, and
  // what the `runs` row says about the experiment.
  std::map<std::string, int> memory_mb;
  log::RunInfo run;  // kind, experiment_id, scenario, label, parameters_json are taken
};

class EmulatorError : public std::runtime_error {
 public:
  EmulatorError(const std::string& message, int exit_status)
      : std::runtime_error(message), exit_status_(exit_status) {}
  int exit_status() const { return exit_status_; }

 private:
  int exit_status_;
};

class Emulator {
 public:
  static std::unique_ptr<Emulator> start(const EmulatorOptions& options, const std::string& command_line);
  virtual ~Emulator() = default;
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  virtual int port() const = 0;
  virtual std::string endpoint() const = 0;  // http://<bind>:<port>
  virtual int64_t run_id() const = 0;
  virtual core::Clock& clock() = 0;
  virtual core::TimerQueue& timers() = 0;
  // Null unless --clock virtual.
  virtual core::VirtualClock* virtual_clock() = 0;
  virtual log::InvocationLog& log() = 0;
  // One line: functions, isolation, policies, freezer, clock, log.
  virtual std::string describe() const = 0;

  // Virtual clock only: lets time skip to `target_us`, firing every timer due by then in
  // time order, and returns once the clock is there and nothing is active (so the
  // consequences of those timers, such as evictions, are complete). Returns the clock's
  // time. Advances are serialised. Throws std::logic_error on a real clock.
  virtual int64_t advance_to(int64_t target_us) = 0;

  // See the file comment. Returns false if idle client connections kept the listener
  // from finishing within a second (everything else is done by then).
  virtual bool stop(const log::RunEnd& end) = 0;

 protected:
  Emulator() = default;
};

}  // namespace coldlab
