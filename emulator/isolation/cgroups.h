// Execution-environment isolation with cgroups: one group per environment, with Lambda's
// resource model (memory = MemorySize, no swap; CPU = MemorySize / 1769 of one CPU as a CFS
// quota over 100 ms, at most 6 CPUs and at most the host's). Hides the cgroup version:
//
//   item          v1 (one directory per controller)      v2 (one directory)
//   memory limit  memory.limit_in_bytes (+ memsw)        memory.max, memory.swap.max = 0
//   CPU quota     cpu.cfs_quota_us / cpu.cfs_period_us   cpu.max = "QUOTA PERIOD"
//   peak memory   memory.max_usage_in_bytes              memory.peak
//   OOM kills     memory.oom_control: oom_kill           memory.events: oom_kill
//   kill all      SIGKILL each pid in cgroup.procs       cgroup.kill (else each pid)
//   freeze/thaw   freezer.state = FROZEN / THAWED        cgroup.freeze = 1 / 0, cgroup.events
//                 (freezer hierarchy, if mounted)        "frozen 1" / "frozen 0"
//
// Groups live at <root>/<parent>/run-<emulator pid>/env-<id> (on v1 in the memory, cpu and,
// when it is mounted, freezer hierarchies), so several emulators can share a machine, and
// groups left by an emulator that was killed are recognisable.
//
// Thread-safety: Cgroups::create() and the Group methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace coldlab::isolation {

// The CFS period coldlab enforces CPU shares over by default: 20 ms, the interval at which
// Lambda was observed to throttle (docs/resources.md). The kernel takes 1 ms to 1 s.
inline constexpr int64_t kDefaultCpuPeriodUs = 20000;
inline constexpr int64_t kMinCpuPeriodUs = 1000;
inline constexpr int64_t kMaxCpuPeriodUs = 1000000;

struct Limits {
  int64_t memory_bytes = 0;
  int64_t cpu_quota_us = -1;  // -1: no CPU limit
  int64_t cpu_period_us = kDefaultCpuPeriodUs;
};

// Lambda's model: 1,769 MB = one vCPU, at most 6 vCPUs, and never more than `host_cpus`,
// enforced as a quota per `cpu_period_us`.
Limits lambda_limits(int memory_mb, unsigned host_cpus, int64_t cpu_period_us = kDefaultCpuPeriodUs);

// The quota per `period_us` that gives `cpus` CPUs of time: at most `host_cpus`, and at
// least the kernel's 1 ms.
int64_t cpu_quota_for(double cpus, unsigned host_cpus, int64_t period_us);

// How long freeze() and thaw() wait for the kernel to report the new state.
inline constexpr std::chrono::milliseconds kFreezeWait{1000};

// One environment's group. Destroying it kills whatever is left in it (frozen or not) and
// removes it.
class Group {
 public:
  virtual ~Group() = default;
  // Descriptors of the group's cgroup.procs files (one per hierarchy), open for writing
  // and close-on-exec: a child writes "0" to each between fork and exec, so it never runs
  // outside its limits.
  virtual const std::vector<int>& join_fds() const = 0;
  virtual int64_t peak_memory_bytes() const = 0;
  // How many times the kernel's OOM killer struck in this group so far.
  virtual int64_t oom_kills() const = 0;
  // SIGKILL to every process in the group, not only the first. Works on a frozen group too,
  // without letting it run user code first; the group is left thawed (and empty), so a
  // new process may join it.
  virtual void kill_all() = 0;
  // Changes the CPU quota per the group's period (-1: unlimited), e.g. for Init.
  virtual void set_cpu_quota(int64_t quota_us) = 0;
  // A spare group (Cgroups::create_spare) becomes environment `id`'s: renamed to the name
  // create(id, limits) would have given it, given `limits`, and its memory peak so far (a
  // standby process's few hundred kB) forgotten where the kernel allows (v1; v2's
  // memory.peak is not reset). Descriptors from join_fds() stay valid. Call once, before
  // the group is shared. Throws std::runtime_error.
  virtual void claim(int64_t id, const Limits& limits) = 0;

  // Whether freeze() and thaw() do anything: v1 when the freezer hierarchy is mounted and
  // the group was created in it, v2 when the group has cgroup.freeze (Linux >= 5.2).
  virtual bool can_freeze() const = 0;
  // Stops every process of the group (they stay stopped, using no CPU, until thaw()) and
  // returns once the kernel reports the group frozen, or after kFreezeWait without
  // throwing: a group that cannot freeze in time (a task in uninterruptible sleep, say)
  // must not hang the emulator; it is then left freezing (the kernel keeps trying), and
  // thaw() or kill_all() still undo it. No-op when !can_freeze(). Throws
  // std::runtime_error only when the freezer's file cannot be written.
  virtual void freeze() = 0;
  // The reverse: returns once the kernel reports the group thawed, or after kFreezeWait.
  // No-op when !can_freeze() or the group is not frozen (nor freezing). Throws as freeze().
  // freeze(), thaw() and kill_all() of one group are serialised: kill_all() may wait for a
  // freeze() in progress, at most kFreezeWait.
  virtual void thaw() = 0;
};

class Cgroups {
 public:
  virtual ~Cgroups() = default;

  // Detects the cgroup layout under `root` (normally /sys/fs/cgroup) and prepares
  // <root>/<parent>/run-<pid>. Returns nullptr with `why_not` set when cgroups cannot be
  // used here (no memory or cpu controller, no permission, ...).
  static std::unique_ptr<Cgroups> open(const std::filesystem::path& root, const std::string& parent,
                                       std::string* why_not);

  // E.g. "cgroup v1 (memory: /sys/fs/cgroup/memory/coldlab, cpu: /sys/fs/cgroup/cpu/coldlab,
  // freezer: /sys/fs/cgroup/freezer/coldlab)"; "no freezer" when there is none.
  virtual std::string describe() const = 0;
  virtual std::string version() const = 0;  // "v1" or "v2"
  // Whether the groups create() makes can be frozen (Group::can_freeze).
  virtual bool can_freeze() const = 0;

  // Creates the group for environment `id` with `limits`. Throws std::runtime_error.
  virtual std::unique_ptr<Group> create(int64_t id, const Limits& limits) = 0;
  // Creates a group made before its environment exists ("spare-<seq>", no limits), for a
  // standby process to wait in until Group::claim. Throws std::runtime_error.
  virtual std::unique_ptr<Group> create_spare(int64_t seq) = 0;

  // Finds groups left by emulators that are no longer running, kills their processes (frozen
  // ones too) and removes them. Returns how many environment groups were removed.
  virtual int remove_stale() = 0;
};

}  // namespace coldlab::isolation
