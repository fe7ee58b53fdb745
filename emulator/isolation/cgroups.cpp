#include "isolation/cgroups.h"

#include <fcntl.h>
#include <libcgroup.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace coldlab::isolation {

namespace fs = std::filesystem;

int64_t cpu_quota_for(double cpus, unsigned host_cpus, int64_t period_us) {
  cpus = std::min(cpus, static_cast<double>(std::max(1u, host_cpus)));
  return std::max<int64_t>(1000, static_cast<int64_t>(cpus * static_cast<double>(period_us)));
}

Limits lambda_limits(int memory_mb, unsigned host_cpus, int64_t cpu_period_us) {
  Limits l;
  l.memory_bytes = int64_t{memory_mb} * 1024 * 1024;
  l.cpu_period_us = cpu_period_us;
  l.cpu_quota_us = cpu_quota_for(std::min(memory_mb / 1769.0, 6.0), host_cpus, cpu_period_us);
  return l;
}

namespace {

void write_file(const fs::path& path, const std::string& text) {
  // O_TRUNC matters only for ordinary files (a fake tree in tests); cgroupfs ignores it.
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string() + ": " + strerror(errno));
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("cannot write '" + text + "' to " + path.string() + ": " + strerror(err));
}

// Never throws: /proc/<pid>/* and the files of a group being removed may vanish between
// open and read (libstdc++'s filebuf throws on such a read error).
std::string read_file(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

int64_t read_int(const fs::path& path) {
  try {
    return std::stoll(read_file(path));
  } catch (...) {
    return 0;
  }
}

// The value of `key` in a "key value" per line file (memory.events, memory.oom_control).
int64_t read_keyed(const fs::path& path, const std::string& key) {
  std::istringstream in(read_file(path));
  std::string k;
  int64_t v;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

std::vector<pid_t> read_pids(const fs::path& procs) {
  std::istringstream in(read_file(procs));
  std::vector<pid_t> pids;
  pid_t p;
  // The kernel lists real pids only; anything else (a fake tree, a "0" a standby wrote to
  // a plain file) must not become kill(0) or kill(-1): the emulator's group, or everyone.
  while (in >> p)
    if (p > 0) pids.push_back(p);
  return pids;
}

// Never throws, unlike fs::exists (which may, e.g. on EACCES): used in constructors that
// already hold descriptors.
bool file_exists(const fs::path& path) { return ::access(path.c_str(), F_OK) == 0; }

void kill_each(const std::vector<fs::path>& dirs) {
  for (const auto& d : dirs)
    for (pid_t p : read_pids(d / "cgroup.procs")) ::kill(p, SIGKILL);
}

// Polls `done` with short sleeps (100 us, doubling up to 10 ms) until it holds or
// kFreezeWait has passed; returns whether it held. Freezing takes the kernel from
// microseconds (a few idle tasks) to milliseconds (many, or busy ones).
template <class Done>
bool wait_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kFreezeWait;
  std::chrono::microseconds pause{100};
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
  }
}

// SIGKILL everything listed in each cgroup.procs until they are all empty (bounded: a
// process may fork while we kill). Returns true if the groups ended up empty.
bool kill_members(const std::vector<fs::path>& dirs) {
  for (int round = 0; round < 200; ++round) {
    bool any = false;
    for (const auto& d : dirs)
      for (pid_t p : read_pids(d / "cgroup.procs")) {
        ::kill(p, SIGKILL);
        any = true;
      }
    if (!any) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Is `pid` a running coldlab? A zombie is not: a killed emulator may wait a while for
// its parent to reap it.
bool emulator_alive(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos || stat.find("(coldlab)") == std::string::npos) return false;
  return stat.size() > close_paren + 2 && stat[close_paren + 2] != 'Z';
}

// The run-<pid> groups under `dir` whose emulator is gone.
std::vector<fs::path> stale_runs(const fs::path& dir) {
  std::vector<fs::path> runs;
  std::error_code ec;
  for (const auto& run : fs::directory_iterator(dir, ec)) {
    const auto name = run.path().filename().string();
    if (!run.is_directory() || name.rfind("run-", 0) != 0) continue;
    const pid_t owner = static_cast<pid_t>(std::atoi(name.c_str() + 4));
    if (owner != ::getpid() && !emulator_alive(owner)) runs.push_back(run.path());
  }
  return runs;
}

std::vector<fs::path> subgroups(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) out.push_back(e.path());
  return out;
}

// Frozen groups, v1 and v2 alike, are killed first and thawed second. A frozen task keeps
// the pending SIGKILL and, once thawed, acts on it on its way back to user mode, before it
// executes one more instruction of its own; thawing first would let every process run (its
// own code, timers, writes) until the signal arrives. On v1 a SIGKILLed frozen task does not
// die until thawed; on v2 it does, but the group is thawed anyway, so removal does not wait
// and the group is left usable. The thaw is not waited for: kill_members() waits for the
// group to be empty, which is what matters (and catches a child forked while the group was
// only freezing).

// v2: cgroup.kill (kernel >= 5.14) kills the whole group at once; then make sure.
void kill_v2_group(const fs::path& dir) {
  const bool frozen = read_int(dir / "cgroup.freeze") != 0;
  if (fs::exists(dir / "cgroup.kill")) {
    try {
      write_file(dir / "cgroup.kill", "1");
    } catch (...) {
    }
  }
  if (frozen) {
    kill_each({dir});  // without cgroup.kill (5.2 <= kernel < 5.14)
    try {
      write_file(dir / "cgroup.freeze", "0");
    } catch (...) {
    }
  }
  kill_members({dir});
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// v1: "THAWED", "FREEZING" or "FROZEN"; "" when there is no such group.
std::string freezer_state(const fs::path& freezer_dir) { return trimmed(read_file(freezer_dir / "freezer.state")); }

// v1: the group's directories in each hierarchy (`freezer_dir` among them, or empty).
void kill_v1_group(const std::vector<fs::path>& dirs, const fs::path& freezer_dir) {
  if (!freezer_dir.empty()) {
    const std::string state = freezer_state(freezer_dir);
    if (state == "FROZEN" || state == "FREEZING") {
      kill_each(dirs);
      try {
        write_file(freezer_dir / "freezer.state", "THAWED");
      } catch (...) {
      }
    }
  }
  kill_members(dirs);
}

std::vector<int> open_join_fds(const std::vector<fs::path>& dirs) {
  std::vector<int> fds;
  for (const auto& d : dirs) {
    int fd = ::open((d / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      for (int f : fds) ::close(f);
      throw std::runtime_error("cannot open " + (d / "cgroup.procs").string() + ": " + strerror(errno));
    }
    fds.push_back(fd);
  }
  return fds;
}

// rmdir: on cgroupfs the interface files go with the directory. A directory that is
// "not empty" to the kernel is an ordinary one (a fake tree in tests): remove it whole.
void remove_group_dir(const fs::path& dir) {
  std::error_code ec;
  fs::remove(dir, ec);
  if (ec == std::errc::directory_not_empty) fs::remove_all(dir, ec);
}

// ---------------------------------------------------------------------------------------
// cgroup v2: plain file I/O. libcgroup 2.0.2 does not translate setting names to v2
// (memory.limit_in_bytes -> memory.max, cfs_quota_us -> cpu.max) and enables controllers
// all the way from the root, which fails in delegated subtrees; and the v2 path must be
// testable against a fake cgroupfs tree, which libcgroup (reading /proc/mounts) cannot use.

void apply_v2_limits(const fs::path& dir, const Limits& limits) {
  write_file(dir / "memory.max", std::to_string(limits.memory_bytes));
  if (fs::exists(dir / "memory.swap.max")) write_file(dir / "memory.swap.max", "0");
  write_file(dir / "cpu.max", (limits.cpu_quota_us < 0 ? std::string("max") : std::to_string(limits.cpu_quota_us)) +
                                  " " + std::to_string(limits.cpu_period_us));
}

class GroupV2 : public Group {
 public:
  GroupV2(fs::path dir, int64_t period_us)
      : dir_(std::move(dir)),
        period_us_(period_us),
        fds_(open_join_fds({dir_})),
        can_freeze_(file_exists(dir_ / "cgroup.freeze")) {}
  ~GroupV2() override {
    for (int f : fds_) ::close(f);
    kill_all();
    remove_group_dir(dir_);
  }
  const std::vector<int>& join_fds() const override { return fds_; }
  int64_t peak_memory_bytes() const override { return read_int(dir_ / "memory.peak"); }
  int64_t oom_kills() const override { return read_keyed(dir_ / "memory.events", "oom_kill"); }
  void kill_all() override {
    std::lock_guard<std::mutex> lock(freeze_mu_);
    kill_v2_group(dir_);
  }
  void set_cpu_quota(int64_t quota_us) override {
    write_file(dir_ / "cpu.max",
               (quota_us < 0 ? std::string("max") : std::to_string(quota_us)) + " " + std::to_string(period_us_));
  }
  void claim(int64_t id, const Limits& limits) override {
    const fs::path to = dir_.parent_path() / ("env-" + std::to_string(id));
    fs::rename(dir_, to);
    dir_ = to;
    period_us_ = limits.cpu_period_us;
    apply_v2_limits(dir_, limits);
  }
  bool can_freeze() const override { return can_freeze_; }
  void freeze() override {
    if (!can_freeze_) return;
    std::lock_guard<std::mutex> lock(freeze_mu_);
    write_file(dir_ / "cgroup.freeze", "1");
    wait_until([&] { return read_keyed(dir_ / "cgroup.events", "frozen") == 1; });
  }
  void thaw() override {
    if (!can_freeze_) return;
    std::lock_guard<std::mutex> lock(freeze_mu_);
    if (read_int(dir_ / "cgroup.freeze") == 0) return;
    write_file(dir_ / "cgroup.freeze", "0");
    wait_until([&] { return read_keyed(dir_ / "cgroup.events", "frozen") == 0; });
  }

 private:
  fs::path dir_;
  int64_t period_us_;  // cpu.max takes the period with every quota
  std::vector<int> fds_;
  bool can_freeze_;
  std::mutex freeze_mu_;  // freeze(), thaw() and kill_all() one at a time
};

class CgroupsV2 : public Cgroups {
 public:
  CgroupsV2(fs::path root, fs::path parent) : root_(std::move(root)), parent_(std::move(parent)) {
    run_dir_ = root_ / parent_ / ("run-" + std::to_string(::getpid()));
    // Controllers must be enabled in every ancestor's subtree_control ("no internal
    // processes": the emulator itself never sits in these groups).
    fs::path dir = root_;
    for (const auto& part : fs::path(parent_ / run_dir_.filename())) {
      enable_controllers(dir);
      dir /= part;
      fs::create_directories(dir);
    }
    enable_controllers(run_dir_);
  }
  std::string describe() const override {
    return "cgroup v2 (" + (root_ / parent_).string() +
           (can_freeze() ? ", freezer: cgroup.freeze)" : ", no freezer)");
  }
  // cgroup.freeze is in every non-root group since Linux 5.2, so the run's group tells.
  bool can_freeze() const override { return fs::exists(run_dir_ / "cgroup.freeze"); }
  std::string version() const override { return "v2"; }

  std::unique_ptr<Group> create(int64_t id, const Limits& limits) override {
    fs::path dir = run_dir_ / ("env-" + std::to_string(id));
    fs::create_directories(dir);
    apply_v2_limits(dir, limits);
    return std::make_unique<GroupV2>(dir, limits.cpu_period_us);
  }
  std::unique_ptr<Group> create_spare(int64_t seq) override {
    fs::path dir = run_dir_ / ("spare-" + std::to_string(seq));
    fs::create_directories(dir);
    return std::make_unique<GroupV2>(dir, kDefaultCpuPeriodUs);
  }

  int remove_stale() override {
    int removed = 0;
    for (const auto& run : stale_runs(root_ / parent_)) {
      for (const auto& env : subgroups(run)) {
        kill_v2_group(env);
        remove_group_dir(env);
        ++removed;
      }
      remove_group_dir(run);
    }
    return removed;
  }

  ~CgroupsV2() override {
    remove_group_dir(run_dir_);
    std::error_code ec;
    fs::remove(root_ / parent_, ec);  // only if no other emulator still uses it
  }

 private:
  static void enable_controllers(const fs::path& dir) {
    const auto control = dir / "cgroup.subtree_control";
    const std::string current = read_file(control);
    std::string add;
    for (const char* c : {"memory", "cpu"})
      if (current.find(c) == std::string::npos) add += std::string(add.empty() ? "+" : " +") + c;
    if (!add.empty()) write_file(control, add);
  }

  fs::path root_, parent_, run_dir_;
};

// ---------------------------------------------------------------------------------------
// cgroup v1 through libcgroup. Its traps (shared/reference/dependencies.md §3): deleting a
// group with live tasks silently moves them to the parent, so groups are emptied first and
// deleted with CGFLAG_DELETE_EMPTY_ONLY, then checked with access(); a failed create
// leaves partial directories, which are removed.

std::mutex& libcgroup_mutex() {
  static std::mutex mu;  // libcgroup keeps global state; calls are serialised
  return mu;
}

class GroupV1 : public Group {
 public:
  // `freezer_dir`: the group in the freezer hierarchy, or empty without a freezer.
  GroupV1(std::string name, fs::path memory_dir, fs::path cpu_dir, fs::path freezer_dir)
      : name_(std::move(name)), memory_(std::move(memory_dir)), cpu_(std::move(cpu_dir)),
        freezer_(std::move(freezer_dir)), dirs_(hierarchy_dirs()), fds_(open_join_fds(dirs_)),
        can_freeze_(!freezer_.empty() && file_exists(freezer_ / "freezer.state")) {}
  ~GroupV1() override {
    for (int f : fds_) ::close(f);
    kill_all();
    std::lock_guard<std::mutex> lock(libcgroup_mutex());
    struct cgroup* cg = cgroup_new_cgroup(name_.c_str());
    if (cg) {
      cgroup_add_controller(cg, "memory");
      cgroup_add_controller(cg, "cpu");
      if (!freezer_.empty()) cgroup_add_controller(cg, "freezer");
      cgroup_delete_cgroup_ext(cg, CGFLAG_DELETE_EMPTY_ONLY);
      cgroup_free(&cg);
    }
    // EMPTY_ONLY returns 0 even when it left a directory; make sure.
    for (const auto& d : dirs_)
      if (::access(d.c_str(), F_OK) == 0) ::rmdir(d.c_str());
  }
  const std::vector<int>& join_fds() const override { return fds_; }
  int64_t peak_memory_bytes() const override { return read_int(memory_ / "memory.max_usage_in_bytes"); }
  int64_t oom_kills() const override { return read_keyed(memory_ / "memory.oom_control", "oom_kill"); }
  void kill_all() override {
    std::lock_guard<std::mutex> lock(freeze_mu_);
    kill_v1_group(dirs_, freezer_);
  }
  void set_cpu_quota(int64_t quota_us) override { write_file(cpu_ / "cpu.cfs_quota_us", std::to_string(quota_us)); }
  // A spare has no limits: the new ones only lower them, so limit_in_bytes goes before
  // memsw (which may never be below it).
  void claim(int64_t id, const Limits& limits) override {
    const std::string leaf = "env-" + std::to_string(id);
    const fs::path memory = memory_.parent_path() / leaf, cpu = cpu_.parent_path() / leaf;
    const fs::path freezer = freezer_.empty() ? fs::path() : freezer_.parent_path() / leaf;
    fs::rename(memory_, memory);
    fs::rename(cpu_, cpu);
    if (!freezer_.empty()) fs::rename(freezer_, freezer);
    name_ = (fs::path(name_).parent_path() / leaf).string();
    memory_ = memory;
    cpu_ = cpu;
    freezer_ = freezer;
    dirs_ = hierarchy_dirs();
    write_file(memory_ / "memory.limit_in_bytes", std::to_string(limits.memory_bytes));
    if (file_exists(memory_ / "memory.memsw.limit_in_bytes"))
      write_file(memory_ / "memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes));
    write_file(memory_ / "memory.max_usage_in_bytes", "0");
    write_file(cpu_ / "cpu.cfs_period_us", std::to_string(limits.cpu_period_us));
    write_file(cpu_ / "cpu.cfs_quota_us", std::to_string(limits.cpu_quota_us));
  }
  bool can_freeze() const override { return can_freeze_; }
  // FROZEN passes through FREEZING: the kernel marks the tasks and they stop as they
  // notice; reading freezer.state is what makes the kernel check them all again.
  void freeze() override {
    if (!can_freeze_) return;
    std::lock_guard<std::mutex> lock(freeze_mu_);
    write_file(freezer_ / "freezer.state", "FROZEN");
    wait_until([&] { return freezer_state(freezer_) == "FROZEN"; });
  }
  void thaw() override {
    if (!can_freeze_) return;
    std::lock_guard<std::mutex> lock(freeze_mu_);
    if (freezer_state(freezer_) == "THAWED") return;
    write_file(freezer_ / "freezer.state", "THAWED");
    wait_until([&] { return freezer_state(freezer_) == "THAWED"; });
  }

 private:
  std::vector<fs::path> hierarchy_dirs() const {
    std::vector<fs::path> dirs{memory_, cpu_};
    if (!freezer_.empty()) dirs.push_back(freezer_);
    return dirs;
  }

  std::string name_;
  fs::path memory_, cpu_, freezer_;
  std::vector<fs::path> dirs_;
  std::vector<int> fds_;
  bool can_freeze_;
  std::mutex freeze_mu_;  // freeze(), thaw() and kill_all() one at a time
};

class CgroupsV1 : public Cgroups {
 public:
  // `freezer`: whether groups are also made in the freezer hierarchy, <root>/freezer.
  CgroupsV1(fs::path root, fs::path parent, bool freezer)
      : root_(std::move(root)), parent_(std::move(parent)), freezer_(freezer) {
    run_ = parent_ / ("run-" + std::to_string(::getpid()));
    hierarchies_ = {"memory", "cpu"};
    if (freezer_) hierarchies_.push_back("freezer");
  }
  ~CgroupsV1() override {
    for (const auto& c : hierarchies_) {
      ::rmdir((root_ / c / run_).c_str());
      ::rmdir((root_ / c / parent_).c_str());  // fails, as it should, while another emulator uses it
    }
  }
  bool can_freeze() const override { return freezer_; }
  std::string describe() const override {
    return "cgroup v1 (memory: " + (root_ / "memory" / parent_).string() + ", cpu: " + (root_ / "cpu" / parent_).string() +
           (freezer_ ? ", freezer: " + (root_ / "freezer" / parent_).string() : std::string(", no freezer")) + ")";
  }
  std::string version() const override { return "v1"; }

  std::unique_ptr<Group> create(int64_t id, const Limits& limits) override {
    return make_group("env-" + std::to_string(id), &limits);
  }
  std::unique_ptr<Group> create_spare(int64_t seq) override { return make_group("spare-" + std::to_string(seq), nullptr); }

 private:
  // `limits` null: none (the kernel's defaults, unlimited).
  std::unique_ptr<Group> make_group(const std::string& leaf, const Limits* limits) {
    const std::string name = (run_ / leaf).string();
    const fs::path memory_dir = root_ / "memory" / name, cpu_dir = root_ / "cpu" / name;
    const fs::path freezer_dir = freezer_ ? root_ / "freezer" / name : fs::path();
    {
      std::lock_guard<std::mutex> lock(libcgroup_mutex());
      struct cgroup* cg = cgroup_new_cgroup(name.c_str());
      if (!cg) throw std::runtime_error("libcgroup: cannot describe group " + name);
      auto* mem = cgroup_add_controller(cg, "memory");
      auto* cpu = cgroup_add_controller(cg, "cpu");
      auto* freezer = freezer_ ? cgroup_add_controller(cg, "freezer") : nullptr;
      int rc = (!mem || !cpu || (freezer_ && !freezer)) ? ECGFAIL : 0;
      // Order matters: memsw may not be set below limit_in_bytes.
      if (!rc && limits) rc = cgroup_add_value_int64(mem, "memory.limit_in_bytes", limits->memory_bytes);
      if (!rc && limits && fs::exists(root_ / "memory" / "memory.memsw.limit_in_bytes"))
        rc = cgroup_add_value_int64(mem, "memory.memsw.limit_in_bytes", limits->memory_bytes);
      if (!rc && limits) rc = cgroup_add_value_int64(cpu, "cpu.cfs_period_us", limits->cpu_period_us);
      if (!rc && limits) rc = cgroup_add_value_int64(cpu, "cpu.cfs_quota_us", limits->cpu_quota_us);
      if (!rc) rc = cgroup_create_cgroup(cg, 0);
      cgroup_free(&cg);
      if (rc) {
        ::rmdir(memory_dir.c_str());
        ::rmdir(cpu_dir.c_str());
        if (freezer_) ::rmdir(freezer_dir.c_str());
        throw std::runtime_error("libcgroup: cannot create " + name + " (error " + std::to_string(rc) + ")");
      }
    }
    return std::make_unique<GroupV1>(name, memory_dir, cpu_dir, freezer_dir);
  }

 public:
  // A run's groups may be in some hierarchies only (a create that failed half-way, a
  // freezer mounted since): every hierarchy is looked at.
  int remove_stale() override {
    int removed = 0;
    std::set<fs::path> runs;
    for (const auto& c : hierarchies_)
      for (const auto& run : stale_runs(root_ / c / parent_)) runs.insert(run.filename());
    for (const auto& name : runs) {
      std::set<fs::path> envs;
      for (const auto& c : hierarchies_)
        for (const auto& env : subgroups(root_ / c / parent_ / name)) envs.insert(env.filename());
      for (const auto& env : envs) {
        const auto rel = parent_ / name / env;
        std::vector<fs::path> dirs;
        for (const auto& c : hierarchies_) dirs.push_back(root_ / c / rel);
        // Left frozen by the emulator that is gone: killed, then thawed (see kill_v1_group).
        kill_v1_group(dirs, freezer_ ? root_ / "freezer" / rel : fs::path());
        for (const auto& d : dirs) ::rmdir(d.c_str());
        ++removed;
      }
      for (const auto& c : hierarchies_) ::rmdir((root_ / c / parent_ / name).c_str());
    }
    return removed;
  }

 private:
  fs::path root_, parent_, run_;
  bool freezer_;
  std::vector<std::string> hierarchies_;
};

// Whether the v1 freezer hierarchy can be used: mounted at <root>/freezer (where libcgroup,
// which creates the groups, also finds it) and writable.
bool v1_freezer_usable(const fs::path& root) {
  const fs::path dir = root / "freezer";
  if (!fs::exists(dir / "cgroup.procs") || ::access(dir.c_str(), W_OK) != 0) return false;
  char* mount = nullptr;
  if (cgroup_get_subsys_mount_point("freezer", &mount) != 0 || !mount) return false;
  std::error_code ec;
  const bool same = fs::equivalent(mount, dir, ec);
  std::free(mount);
  return same && !ec;
}

}  // namespace

std::unique_ptr<Cgroups> Cgroups::open(const fs::path& root, const std::string& parent, std::string* why_not) {
  try {
    if (fs::exists(root / "cgroup.controllers")) {
      auto controllers = read_file(root / "cgroup.controllers");
      if (controllers.find("memory") == std::string::npos || controllers.find("cpu") == std::string::npos) {
        *why_not = "cgroup v2 at " + root.string() + " lacks the memory or cpu controller (has: " + controllers + ")";
        return nullptr;
      }
      if (::access(root.c_str(), W_OK) != 0 && ::access((root / parent).c_str(), W_OK) != 0) {
        *why_not = "no write access to " + (root / parent).string() +
                   " (run as root, or give coldlab a delegated subtree: see docs/resources.md)";
        return nullptr;
      }
      return std::make_unique<CgroupsV2>(root, parent);
    }
    if (fs::exists(root / "memory" / "memory.limit_in_bytes") && fs::exists(root / "cpu" / "cpu.cfs_quota_us")) {
      if (::access((root / "memory").c_str(), W_OK) != 0 || ::access((root / "cpu").c_str(), W_OK) != 0) {
        *why_not = "no write access to " + (root / "memory").string() + " and " + (root / "cpu").string() + " (run as root)";
        return nullptr;
      }
      if (int rc = cgroup_init(); rc != 0) {
        *why_not = "libcgroup cannot initialise (error " + std::to_string(rc) + ")";
        return nullptr;
      }
      const fs::path run = fs::path(parent) / ("run-" + std::to_string(::getpid()));
      for (const char* c : {"memory", "cpu"}) fs::create_directories(root / c / run);
      // Without a freezer everything else works; freeze() and thaw() then do nothing.
      bool freezer = v1_freezer_usable(root);
      if (freezer) {
        std::error_code ec;
        fs::create_directories(root / "freezer" / run, ec);
        freezer = fs::is_directory(root / "freezer" / run, ec);
      }
      return std::make_unique<CgroupsV1>(root, parent, freezer);
    }
    *why_not = "no cgroup memory and cpu controllers under " + root.string();
  } catch (const std::exception& e) {
    *why_not = e.what();
  }
  return nullptr;
}

}  // namespace coldlab::isolation
