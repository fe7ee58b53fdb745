// On cgroup v1 a task in a frozen group that receives SIGKILL does not die until the group
// is thawed. Function processes die with the emulator through PR_SET_PDEATHSIG, so an
// emulator killed (kill -9, a crash) while environments are frozen would leave them frozen
// and alive. A ThawGuard is a small process, `coldlab __thaw-on-exit DIR`, that waits for the
// emulator to go (its stdin is a pipe whose only writer is the emulator) and then thaws
// every group under DIR, so the pending SIGKILLs take effect. (On v2 a frozen task can be
// killed; no guard is needed.)
//
// Thread-safety: a ThawGuard is owned by one thread.
#pragma once

#include <sys/types.h>

#include <filesystem>

namespace coldlab::isolation {

class ThawGuard {
 public:
  // Starts `program __thaw-on-exit dir`. Throws std::runtime_error if it cannot.
  ThawGuard(const std::filesystem::path& program, const std::filesystem::path& dir);
  // Closes the pipe (the guard thaws what is left, usually nothing) and reaps it.
  ~ThawGuard();
  ThawGuard(const ThawGuard&) = delete;
  ThawGuard& operator=(const ThawGuard&) = delete;

 private:
  pid_t pid_ = -1;
  int write_fd_ = -1;
};

// The guard's side: blocks until stdin reaches end of file, then writes THAWED to every
// `freezer.state` below `dir`. Returns the process exit status.
int run_thaw_guard(const std::filesystem::path& dir);

}  // namespace coldlab::isolation
