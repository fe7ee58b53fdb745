// The cgroup v1 freezer for real: a process in an environment's group stops while the
// group is frozen, runs again when it is thawed, and a frozen group is killed and removed.
// Needs root, cgroup v1 memory and cpu, and the v1 freezer (this machine and CI); skipped
// with a warning elsewhere (the v2 freezer is tested against a fake tree in test_cgroups.cpp).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "isolation/cgroups.h"

namespace fs = std::filesystem;
using coldlab::isolation::Cgroups;
using coldlab::isolation::lambda_limits;
using namespace std::chrono_literals;

namespace {

const fs::path kRoot = "/sys/fs/cgroup";
const char* const kHierarchies[] = {"freezer", "memory", "cpu"};  // freezer first: thaw before removal

// Every group of this test process lives under <hierarchy>/coldlab-test-<pid>.
std::string test_parent() { return "coldlab-test-" + std::to_string(::getpid()); }

// Why this machine cannot run these tests, or "" when it can.
std::string cannot_run() {
  if (::geteuid() != 0) return "not root (cgroup v1 groups need root)";
  if (!fs::exists(kRoot / "memory" / "memory.limit_in_bytes") || !fs::exists(kRoot / "cpu" / "cpu.cfs_quota_us"))
    return "no cgroup v1 memory and cpu controllers under " + kRoot.string();
  if (!fs::exists(kRoot / "freezer" / "cgroup.procs")) return "no cgroup v1 freezer at " + (kRoot / "freezer").string();
  return "";
}

#define SKIP_UNLESS_V1_FREEZER()                                                  \
  do {                                                                            \
    const std::string why_skip = cannot_run();                                    \
    if (!why_skip.empty()) {                                                      \
      WARN("skipped: the real cgroup v1 freezer cannot be tested here: " << why_skip); \
      return;                                                                     \
    }                                                                             \
  } while (0)

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string freezer_state(const fs::path& dir) {
  std::string s = slurp(dir / "freezer.state");
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

// Polls `done` every millisecond for up to `limit`.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Last resort, whatever failed: kills and thaws everything under the test's parent in
// every hierarchy and removes the groups, deepest first. Declared first in a test, so it
// runs last.
struct Cleanup {
  ~Cleanup() {
    for (const char* h : kHierarchies) {
      const fs::path top = kRoot / h / test_parent();
      std::error_code ec;
      if (!fs::exists(top, ec)) continue;
      std::vector<fs::path> dirs{top};
      for (auto it = fs::recursive_directory_iterator(top, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec))
        if (it->is_directory(ec)) dirs.push_back(it->path());
      std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
        return a.string().size() > b.string().size();
      });
      for (const auto& d : dirs) {
        std::istringstream pids(slurp(d / "cgroup.procs"));
        for (pid_t p; pids >> p;) ::kill(p, SIGKILL);  // killed first, thawed second
        if (fs::exists(d / "freezer.state")) write(d / "freezer.state", "THAWED");
      }
      for (const auto& d : dirs) eventually([&] { return ::rmdir(d.c_str()) == 0 || errno == ENOENT; }, 2000ms);
    }
  }
};

// A child process that joins a group through its cgroup.procs descriptors, as the
// emulator's children do between fork and exec, and then spins, counting in a page
// shared with the test.
class Spinner {
 public:
  Spinner() {
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(page != MAP_FAILED);
    counter_ = static_cast<volatile uint64_t*>(page);
    *counter_ = 0;
  }
  ~Spinner() {
    if (pid_ > 0 && !reaped_) {
      // The group (destroyed before this) has thawed and killed it; a last SIGKILL in case.
      ::kill(pid_, SIGKILL);
      eventually([&] { return ::waitpid(pid_, nullptr, WNOHANG) != 0; }, 2000ms);
    }
    ::munmap(const_cast<uint64_t*>(counter_), 4096);
  }
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

  void start(const std::vector<int>& join_fds) {
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      for (int fd : join_fds)
        if (::write(fd, "0\n", 2) != 2) ::_exit(125);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      volatile uint64_t* c = counter_;
      for (;;) *c = *c + 1;
    }
  }
  pid_t pid() const { return pid_; }
  uint64_t count() const { return *counter_; }

  // The signal that ended the child, 0 if it exited, -1 if it is still running after 5 s.
  int exit_signal() {
    int status = 0;
    if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; })) return -1;
    reaped_ = true;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }

 private:
  volatile uint64_t* counter_ = nullptr;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

}  // namespace

TEST_CASE("v1 freezer: a frozen environment makes no progress, a thawed one does, a frozen one is killed and removed",
          "[cgroups][freezer][root]") {
  SKIP_UNLESS_V1_FREEZER();
  Cleanup cleanup;
  std::string why;
  auto cg = Cgroups::open(kRoot, test_parent(), &why);
  REQUIRE(cg);
  REQUIRE(cg->version() == "v1");
  CHECK(cg->describe().find("freezer: " + (kRoot / "freezer" / test_parent()).string()) != std::string::npos);

  Spinner spinner;  // before the group: the group is destroyed (kills, thaws) before it reaps
  auto group = cg->create(1, lambda_limits(1769, 2));
  const fs::path rel = fs::path(test_parent()) / ("run-" + std::to_string(::getpid())) / "env-1";
  const fs::path freezer = kRoot / "freezer" / rel;
  REQUIRE(group->can_freeze());
  REQUIRE(group->join_fds().size() == 3);  // memory, cpu, freezer
  spinner.start(group->join_fds());
  REQUIRE(eventually([&] { return spinner.count() > 0; }));
  CHECK(slurp("/proc/" + std::to_string(spinner.pid()) + "/cgroup").find(":freezer:/" + rel.string()) != std::string::npos);

  group->thaw();  // not frozen: nothing to do
  CHECK(freezer_state(freezer) == "THAWED");

  group->freeze();
  REQUIRE(freezer_state(freezer) == "FROZEN");
  const uint64_t frozen_at = spinner.count();
  std::this_thread::sleep_for(200ms);
  CHECK(spinner.count() == frozen_at);  // a frozen function makes no progress

  group->thaw();
  CHECK(freezer_state(freezer) == "THAWED");
  CHECK(eventually([&] { return spinner.count() > frozen_at; }));  // it runs again

  group->freeze();
  REQUIRE(freezer_state(freezer) == "FROZEN");
  const uint64_t killed_at = spinner.count();
  group->kill_all();
  CHECK(spinner.exit_signal() == SIGKILL);
  CHECK(spinner.count() == killed_at);  // killed before thawed: not one more step of its own
  CHECK(freezer_state(freezer) == "THAWED");  // left usable for the next process

  group.reset();
  for (const char* h : kHierarchies) CHECK_FALSE(fs::exists(kRoot / h / rel));
  cg.reset();
  for (const char* h : kHierarchies) CHECK_FALSE(fs::exists(kRoot / h / test_parent()));
}

TEST_CASE("v1 freezer: destroying a frozen group kills its processes and removes it", "[cgroups][freezer][root]") {
  SKIP_UNLESS_V1_FREEZER();
  Cleanup cleanup;
  std::string why;
  auto cg = Cgroups::open(kRoot, test_parent(), &why);
  REQUIRE(cg);
  Spinner spinner;
  auto group = cg->create(2, lambda_limits(512, 2));
  const fs::path rel = fs::path(test_parent()) / ("run-" + std::to_string(::getpid())) / "env-2";
  spinner.start(group->join_fds());
  REQUIRE(eventually([&] { return spinner.count() > 0; }));
  group->freeze();
  REQUIRE(freezer_state(kRoot / "freezer" / rel) == "FROZEN");
  group.reset();
  CHECK(spinner.exit_signal() == SIGKILL);
  for (const char* h : kHierarchies) CHECK_FALSE(fs::exists(kRoot / h / rel));
}

TEST_CASE("v1 freezer: frozen groups of an emulator that is gone are killed and removed at start", "[cgroups][freezer][root]") {
  SKIP_UNLESS_V1_FREEZER();
  Cleanup cleanup;
  std::string why;
  auto cg = Cgroups::open(kRoot, test_parent(), &why);
  REQUIRE(cg);
  // What a killed emulator leaves: pid 999999 does not exist (pid_max is lower).
  const fs::path run = fs::path(test_parent()) / "run-999999";
  std::vector<int> fds;
  for (const char* h : kHierarchies) {
    fs::create_directories(kRoot / h / run / "env-3");
    const int fd = ::open((kRoot / h / run / "env-3" / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    fds.push_back(fd);
  }
  Spinner spinner;
  spinner.start(fds);
  for (int fd : fds) ::close(fd);
  REQUIRE(eventually([&] { return spinner.count() > 0; }));
  const fs::path freezer = kRoot / "freezer" / run / "env-3";
  write(freezer / "freezer.state", "FROZEN");
  REQUIRE(eventually([&] { return freezer_state(freezer) == "FROZEN"; }));

  CHECK(cg->remove_stale() == 1);
  CHECK(spinner.exit_signal() == SIGKILL);
  for (const char* h : kHierarchies) CHECK_FALSE(fs::exists(kRoot / h / run));
  CHECK(fs::exists(kRoot / "freezer" / test_parent() / ("run-" + std::to_string(::getpid()))));  // ours stays
}

TEST_CASE("v1: a spare group is claimed with its process in it: renamed in every hierarchy, given its limits",
          "[cgroups][freezer][root]") {
  SKIP_UNLESS_V1_FREEZER();
  Cleanup cleanup;
  std::string why;
  auto cg = Cgroups::open(kRoot, test_parent(), &why);
  REQUIRE(cg);
  Spinner spinner;
  auto group = cg->create_spare(4);
  const fs::path run = fs::path(test_parent()) / ("run-" + std::to_string(::getpid()));
  CHECK(slurp(kRoot / "cpu" / run / "spare-4" / "cpu.cfs_quota_us") == "-1\n");
  spinner.start(group->join_fds());
  REQUIRE(eventually([&] { return spinner.count() > 0; }));

  group->claim(5, lambda_limits(512, 2));
  const fs::path rel = run / "env-5";
  for (const char* h : kHierarchies) {
    CHECK_FALSE(fs::exists(kRoot / h / run / "spare-4"));
    CHECK(fs::exists(kRoot / h / rel));
    CHECK(slurp("/proc/" + std::to_string(spinner.pid()) + "/cgroup").find(std::string(h) + ":/" + rel.string()) !=
          std::string::npos);
  }
  CHECK(slurp(kRoot / "memory" / rel / "memory.limit_in_bytes") == std::to_string(512LL << 20) + "\n");
  CHECK(slurp(kRoot / "cpu" / rel / "cpu.cfs_period_us") == "20000\n");
  CHECK(slurp(kRoot / "cpu" / rel / "cpu.cfs_quota_us") == "5788\n");
  group->freeze();  // the claimed group's freezer, under its new name
  CHECK(freezer_state(kRoot / "freezer" / rel) == "FROZEN");
  group.reset();
  CHECK(spinner.exit_signal() == SIGKILL);
  for (const char* h : kHierarchies) CHECK_FALSE(fs::exists(kRoot / h / rel));
}
