#include "isolation/cgroups.h"

#include <fcntl.h>
#include <libcgroup.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace coldlab::isolation {

namespace fs = std::filesystem;

Limits lambda_limits(int memory_mb, unsigned host_cpus) {
  Limits l;
  l.memory_bytes = int64_t{memory_mb} * 1024 * 1024;
  double cpus = std::min({memory_mb / 1769.0, 6.0, static_cast<double>(std::max(1u, host_cpus))});
  l.cpu_quota_us = std::max<int64_t>(1000, static_cast<int64_t>(cpus * static_cast<double>(l.cpu_period_us)));
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
  while (in >> p) pids.push_back(p);
  return pids;
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

// v2: cgroup.kill (kernel >= 5.14) kills the whole group at once; then make sure.
void kill_v2_group(const fs::path& dir) {
  if (fs::exists(dir / "cgroup.kill")) {
    try {
      write_file(dir / "cgroup.kill", "1");
    } catch (...) {
    }
  }
  kill_members({dir});
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

class GroupV2 : public Group {
 public:
  GroupV2(fs::path dir) : dir_(std::move(dir)), fds_(open_join_fds({dir_})) {}
  ~GroupV2() override {
    for (int f : fds_) ::close(f);
    kill_all();
    remove_group_dir(dir_);
  }
  const std::vector<int>& join_fds() const override { return fds_; }
  int64_t peak_memory_bytes() const override { return read_int(dir_ / "memory.peak"); }
  int64_t oom_kills() const override { return read_keyed(dir_ / "memory.events", "oom_kill"); }
  void kill_all() override { kill_v2_group(dir_); }
  void set_cpu_quota(int64_t quota_us) override {
    write_file(dir_ / "cpu.max", (quota_us < 0 ? std::string("max") : std::to_string(quota_us)) + " 100000");
  }

 private:
  fs::path dir_;
  std::vector<int> fds_;
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
  std::string describe() const override { return "cgroup v2 (" + (root_ / parent_).string() + ")"; }
  std::string version() const override { return "v2"; }

  std::unique_ptr<Group> create(int64_t id, const Limits& limits) override {
    fs::path dir = run_dir_ / ("env-" + std::to_string(id));
    fs::create_directories(dir);
    write_file(dir / "memory.max", std::to_string(limits.memory_bytes));
    if (fs::exists(dir / "memory.swap.max")) write_file(dir / "memory.swap.max", "0");
    write_file(dir / "cpu.max", (limits.cpu_quota_us < 0 ? std::string("max") : std::to_string(limits.cpu_quota_us)) +
                                    " " + std::to_string(limits.cpu_period_us));
    return std::make_unique<GroupV2>(dir);
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
  GroupV1(std::string name, fs::path memory_dir, fs::path cpu_dir)
      : name_(std::move(name)), memory_(std::move(memory_dir)), cpu_(std::move(cpu_dir)),
        fds_(open_join_fds({memory_, cpu_})) {}
  ~GroupV1() override {
    for (int f : fds_) ::close(f);
    kill_all();
    std::lock_guard<std::mutex> lock(libcgroup_mutex());
    struct cgroup* cg = cgroup_new_cgroup(name_.c_str());
    if (cg) {
      cgroup_add_controller(cg, "memory");
      cgroup_add_controller(cg, "cpu");
      cgroup_delete_cgroup_ext(cg, CGFLAG_DELETE_EMPTY_ONLY);
      cgroup_free(&cg);
    }
    // EMPTY_ONLY returns 0 even when it left a directory; make sure.
    for (const auto& d : {memory_, cpu_})
      if (::access(d.c_str(), F_OK) == 0) ::rmdir(d.c_str());
  }
  const std::vector<int>& join_fds() const override { return fds_; }
  int64_t peak_memory_bytes() const override { return read_int(memory_ / "memory.max_usage_in_bytes"); }
  int64_t oom_kills() const override { return read_keyed(memory_ / "memory.oom_control", "oom_kill"); }
  void kill_all() override { kill_members({memory_, cpu_}); }
  void set_cpu_quota(int64_t quota_us) override { write_file(cpu_ / "cpu.cfs_quota_us", std::to_string(quota_us)); }

 private:
  std::string name_;
  fs::path memory_, cpu_;
  std::vector<int> fds_;
};

class CgroupsV1 : public Cgroups {
 public:
  CgroupsV1(fs::path root, fs::path parent) : root_(std::move(root)), parent_(std::move(parent)) {
    run_ = parent_ / ("run-" + std::to_string(::getpid()));
  }
  ~CgroupsV1() override {
    for (const char* c : {"memory", "cpu"}) {
      ::rmdir((root_ / c / run_).c_str());
      ::rmdir((root_ / c / parent_).c_str());  // fails, as it should, while another emulator uses it
    }
  }
  std::string describe() const override {
    return "cgroup v1 (memory: " + (root_ / "memory" / parent_).string() + ", cpu: " + (root_ / "cpu" / parent_).string() + ")";
  }
  std::string version() const override { return "v1"; }

  std::unique_ptr<Group> create(int64_t id, const Limits& limits) override {
    const std::string name = (run_ / ("env-" + std::to_string(id))).string();
    const fs::path memory_dir = root_ / "memory" / name, cpu_dir = root_ / "cpu" / name;
    {
      std::lock_guard<std::mutex> lock(libcgroup_mutex());
      struct cgroup* cg = cgroup_new_cgroup(name.c_str());
      if (!cg) throw std::runtime_error("libcgroup: cannot describe group " + name);
      auto* mem = cgroup_add_controller(cg, "memory");
      auto* cpu = cgroup_add_controller(cg, "cpu");
      int rc = (!mem || !cpu) ? ECGFAIL : 0;
      // Order matters: memsw may not be set below limit_in_bytes.
      if (!rc) rc = cgroup_add_value_int64(mem, "memory.limit_in_bytes", limits.memory_bytes);
      if (!rc && fs::exists(root_ / "memory" / "memory.memsw.limit_in_bytes"))
        rc = cgroup_add_value_int64(mem, "memory.memsw.limit_in_bytes", limits.memory_bytes);
      if (!rc) rc = cgroup_add_value_int64(cpu, "cpu.cfs_period_us", limits.cpu_period_us);
      if (!rc) rc = cgroup_add_value_int64(cpu, "cpu.cfs_quota_us", limits.cpu_quota_us);
      if (!rc) rc = cgroup_create_cgroup(cg, 0);
      cgroup_free(&cg);
      if (rc) {
        ::rmdir(memory_dir.c_str());
        ::rmdir(cpu_dir.c_str());
        throw std::runtime_error("libcgroup: cannot create " + name + " (error " + std::to_string(rc) + ")");
      }
    }
    return std::make_unique<GroupV1>(name, memory_dir, cpu_dir);
  }

  int remove_stale() override {
    int removed = 0;
    for (const auto& run : stale_runs(root_ / "memory" / parent_)) {
      const auto name = run.filename();
      for (const auto& env : subgroups(run)) {
        const auto rel = parent_ / name / env.filename();
        kill_members({root_ / "memory" / rel, root_ / "cpu" / rel});
        ::rmdir((root_ / "memory" / rel).c_str());
        ::rmdir((root_ / "cpu" / rel).c_str());
        ++removed;
      }
      ::rmdir((root_ / "memory" / parent_ / name).c_str());
      ::rmdir((root_ / "cpu" / parent_ / name).c_str());
    }
    return removed;
  }

 private:
  fs::path root_, parent_, run_;
};

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
      for (const char* c : {"memory", "cpu"}) fs::create_directories(root / c / parent / ("run-" + std::to_string(::getpid())));
      return std::make_unique<CgroupsV1>(root, parent);
    }
    *why_not = "no cgroup memory and cpu controllers under " + root.string();
  } catch (const std::exception& e) {
    *why_not = e.what();
  }
  return nullptr;
}

}  // namespace coldlab::isolation
