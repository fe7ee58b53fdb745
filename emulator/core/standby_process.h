// A function process started before its function is known: it runs coldlab-exec-stub and
// waits, already in its cgroup, until become() tells it what to exec.
//
// Why: starting a process costs the emulator a fork of itself, and joining a cgroup costs
// the kernel an RCU grace period (moving a task between cgroups takes a global lock whose
// writer waits one out: 5-25 ms on the development VM). Done ahead of time (SandboxPool),
// neither is on a cold start's path; what is left is one exec, as on Lambda, where the
// sandbox exists before the runtime is started in it. become() then costs what posix_spawn
// of the same executable costs.
//
// The process stays the same: one pid, one process group, the stdout and stderr pipes that
// ProcessSupervisor reads. Output and the exit are held back until become() has bound them
// to its callbacks, so nothing the function prints or does right after exec is lost.
//
// Thread-safety: become() once, from one thread; alive() from any thread.
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/process.h"

namespace coldlab::core {

// become() on a standby whose stub has already died (killed, say): nothing was started,
// and the caller may start another.
class StandbyGone : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StandbyProcess {
 public:
  // Starts `stub` (the coldlab-exec-stub executable) under `supervisor`, joined to the
  // cgroups of `join_cgroup_fds` before its exec. Throws std::runtime_error.
  static std::unique_ptr<StandbyProcess> start(ProcessSupervisor& supervisor, const std::filesystem::path& stub,
                                               const std::vector<int>& join_cgroup_fds);
  // A standby never used is told to exit, and killed.
  ~StandbyProcess();
  StandbyProcess(const StandbyProcess&) = delete;
  StandbyProcess& operator=(const StandbyProcess&) = delete;

  // Whether it is still waiting (not used, not dead).
  bool alive() const;
  int pid() const;

  // Execs `spec.executable` with its args, environment and working directory (its cgroup
  // descriptors are ignored: the process already is where it will run). Returns once the
  // exec has happened; from then on the process's output goes to `on_line` and its end to
  // `on_exit`, as with ProcessSupervisor::spawn (output it wrote before the call returned
  // included). Throws StandbyGone if the stub had died, and std::runtime_error("cannot start
  // <exe>: <reason>") if the exec failed; in both cases neither callback is ever called.
  std::shared_ptr<Process> become(const SpawnSpec& spec, ProcessSupervisor::LineFn on_line,
                                  ProcessSupervisor::ExitFn on_exit);

 private:
  struct Relay;
  StandbyProcess(std::shared_ptr<Process> process, std::shared_ptr<Relay> relay, int spec_fd, int status_fd);

  std::shared_ptr<Process> process_;
  std::shared_ptr<Relay> relay_;
  int spec_fd_;    // our end of the socket the spec goes through; -1 once sent
  int status_fd_;  // read end of the pipe that exec closes; -1 once read
  bool used_ = false;  // guarded by the relay's mutex
};

}  // namespace coldlab::core
