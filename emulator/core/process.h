// Function processes: spawning them with Boost.Process, capturing their output line by
// line, learning how they ended, and killing them with everything they started.
//
// Each child runs in its own process group (so a kill reaches its descendants too), with a
// clean environment, stdin on /dev/null, and PR_SET_PDEATHSIG so it dies with the
// emulator even when the emulator is killed with SIGKILL. Its stdout and stderr are read
// by one collector thread (epoll) and can also be drained synchronously, so that
// everything a function printed before answering is in that invocation's log.
//
// Boost.Process traps avoided here (shared/reference/dependencies.md §1): children are
// never terminate()d or destroyed while running (that leaves zombies and races on_exit);
// ::kill plus on_exit on one io_context thread reaps them; wait_for is never used.
//
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace coldlab::core {

struct SpawnSpec {
  std::filesystem::path executable;  // absolute
  std::vector<std::string> args;     // not including argv[0]
  std::map<std::string, std::string> env;  // the child's whole environment
  std::filesystem::path working_dir;
  // cgroup.procs descriptors the child writes "0" to before exec, so it never runs
  // outside its limits; if a write fails the child exits with status 125 instead.
  std::vector<int> join_cgroup_fds;
  // Descriptors the child keeps across exec, at the same numbers; every other one but
  // stdin, stdout and stderr is closed. (A standby process's control channels.)
  std::vector<int> inherit_fds;
};

// How a process ended, in the words Lambda uses in Runtime.ExitError messages.
struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit status, or the signal number when signaled
  // "exit status 3", "signal: killed", "signal: segmentation fault", ...
  std::string describe() const;
};

class Process {
 public:
  virtual ~Process() = default;
  virtual int pid() const = 0;
  // SIGKILL to the process and its whole process group. Idempotent. The end is still
  // reported through the exit callback given to spawn().
  virtual void kill() = 0;
  virtual bool exited() const = 0;
  // Peak resident set size of the process so far (VmHWM), in KiB; 0 if unknown.
  virtual int64_t peak_rss_kib() const = 0;
  // Delivers everything the process has written so far, including an unterminated last
  // line, to the line callback before returning.
  virtual void drain_output() = 0;
};

class ProcessSupervisor {
 public:
  using LineFn = std::function<void(std::string_view line, bool from_stderr)>;
  using ExitFn = std::function<void(ExitStatus)>;

  ProcessSupervisor();
  // Kills every child still running and waits (bounded) until each is reaped.
  ~ProcessSupervisor();
  ProcessSupervisor(const ProcessSupervisor&) = delete;
  ProcessSupervisor& operator=(const ProcessSupervisor&) = delete;

  // Starts a child. `on_line` receives each output line (from the collector thread, or
  // from the thread calling drain_output), serialised per process. `on_exit` runs once, on
  // the supervisor's thread, after the child is reaped and its output is fully delivered.
  // Throws std::runtime_error if the executable cannot be started (the message says why).
  // Must not be called from an exit callback (it waits for the supervisor's own thread).
  std::shared_ptr<Process> spawn(const SpawnSpec& spec, LineFn on_line, ExitFn on_exit);

  // Number of children started and not yet reaped.
  size_t running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coldlab::core
