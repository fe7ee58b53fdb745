// The cgroup v2 backend against a fake cgroupfs tree (the real v2 memory and cpu
// controllers are not available on this machine), and the resource formula.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "isolation/cgroups.h"

namespace fs = std::filesystem;
using coldlab::isolation::Cgroups;
using coldlab::isolation::kFreezeWait;
using coldlab::isolation::lambda_limits;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// What a v2 kernel shows: the root with its controllers, and (since a plain folder does
// not grow interface files by itself) the files of the groups coldlab will make. Nothing
// updates cgroup.events here: a test writes "frozen 1" itself to play the kernel.
struct FakeV2 {
  fs::path root;
  fs::path run;
  FakeV2() {
    char tmpl[] = "/tmp/coldlab-fake-cgroup-XXXXXX";
    root = mkdtemp(tmpl);
    put(root / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put(root / "cgroup.subtree_control", "");
    put(root / "coldlab" / "cgroup.subtree_control", "");
    run = root / "coldlab" / ("run-" + std::to_string(getpid()));
    put(run / "cgroup.subtree_control", "");
    const auto env = run / "env-7";
    for (auto f : {"memory.max", "memory.swap.max", "cpu.max", "cgroup.procs", "cgroup.kill", "cgroup.freeze"})
      put(env / f, "");
    put(env / "memory.peak", "201326592\n");
    put(env / "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
    events(false);
  }
  ~FakeV2() { fs::remove_all(root); }
  fs::path env() const { return run / "env-7"; }
  // What the kernel would say after a freeze or a thaw.
  void events(bool frozen) const { put(env() / "cgroup.events", std::string("populated 1\nfrozen ") + (frozen ? "1" : "0") + "\n"); }
  // A kernel before 5.2: no freezer in v2.
  void without_freezer() const { fs::remove(env() / "cgroup.freeze"); }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("Lambda's resource formula: memory in MiB, CPU = MemorySize/1769, capped at 6 and the host", "[cgroups]") {
  auto l = lambda_limits(256, 2, 100000);
  CHECK(l.memory_bytes == 256LL * 1024 * 1024);
  CHECK(l.cpu_period_us == 100000);
  CHECK(l.cpu_quota_us == 14471);  // 256/1769 of 100 ms
  CHECK(lambda_limits(1769, 2, 100000).cpu_quota_us == 100000);
  CHECK(lambda_limits(3538, 2, 100000).cpu_quota_us == 200000);
  CHECK(lambda_limits(3538, 1, 100000).cpu_quota_us == 100000);   // never more than the host has
  // 10,240 MB: 5.79 CPUs of time (Lambda shows 6 cores there, but CPU time stays linear).
  CHECK(lambda_limits(10240, 64, 100000).cpu_quota_us == 578858);
}

TEST_CASE("the CPU share is enforced over a 20 ms period by default, or the one given", "[cgroups]") {
  const auto l = lambda_limits(256, 2);
  CHECK(l.cpu_period_us == 20000);
  CHECK(l.cpu_quota_us == 2894);  // 256/1769 of 20 ms
  CHECK(lambda_limits(128, 2).cpu_quota_us == 1447);
  CHECK(lambda_limits(1769, 2, 50000).cpu_quota_us == 50000);
  // The kernel takes no quota under 1 ms: a short period cannot give 128 MB its 7.2 %.
  CHECK(lambda_limits(128, 2, 10000).cpu_quota_us == 1000);
  CHECK(coldlab::isolation::cpu_quota_for(2, 2, 20000) == 40000);
  CHECK(coldlab::isolation::cpu_quota_for(2, 1, 20000) == 20000);  // never more than the host has
}

TEST_CASE("v2: the layout is detected and the controllers are enabled down to the run's group", "[cgroups]") {
  FakeV2 fake;
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  CHECK(cg->version() == "v2");
  CHECK(cg->describe().find((fake.root / "coldlab").string()) != std::string::npos);
  CHECK(slurp(fake.root / "cgroup.subtree_control") == "+memory +cpu");
  CHECK(slurp(fake.root / "coldlab" / "cgroup.subtree_control") == "+memory +cpu");
  CHECK(slurp(fake.run / "cgroup.subtree_control") == "+memory +cpu");
}

TEST_CASE("v2: an environment's group gets memory.max, no swap and cpu.max", "[cgroups]") {
  FakeV2 fake;
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  auto group = cg->create(7, lambda_limits(512, 2));
  const auto env = fake.run / "env-7";
  CHECK(slurp(env / "memory.max") == std::to_string(512LL * 1024 * 1024));
  CHECK(slurp(env / "memory.swap.max") == "0");
  CHECK(slurp(env / "cpu.max") == "5788 20000");
  CHECK(group->join_fds().size() == 1);
  CHECK(group->peak_memory_bytes() == 201326592);
  CHECK(group->oom_kills() == 1);
  group->set_cpu_quota(-1);  // the period stays the group's
  CHECK(slurp(env / "cpu.max") == "max 20000");
  group->set_cpu_quota(40000);
  CHECK(slurp(env / "cpu.max") == "40000 20000");
  group->kill_all();
  CHECK(slurp(env / "cgroup.kill") == "1");
  group.reset();
  CHECK_FALSE(fs::exists(env));
}

TEST_CASE("v2: a spare group has no limits until claimed, then has its environment's name and limits", "[cgroups]") {
  FakeV2 fake;
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  const auto spare = fake.run / "spare-3";
  for (auto f : {"memory.max", "memory.swap.max", "cpu.max", "cgroup.procs", "cgroup.kill"}) put(spare / f, "");
  auto group = cg->create_spare(3);
  CHECK(slurp(spare / "memory.max").empty());
  CHECK(slurp(spare / "cpu.max").empty());
  const int fd = group->join_fds().at(0);
  group->claim(9, lambda_limits(512, 2));
  const auto env = fake.run / "env-9";
  CHECK_FALSE(fs::exists(spare));
  CHECK(slurp(env / "memory.max") == std::to_string(512LL * 1024 * 1024));
  CHECK(slurp(env / "memory.swap.max") == "0");
  CHECK(slurp(env / "cpu.max") == "5788 20000");
  // The descriptor a standby joined through still names the same group.
  REQUIRE(::write(fd, "0", 1) == 1);
  CHECK(slurp(env / "cgroup.procs") == "0");
  group->set_cpu_quota(40000);  // the claimed period is the group's now
  CHECK(slurp(env / "cpu.max") == "40000 20000");
  group.reset();
  CHECK_FALSE(fs::exists(env));
}

TEST_CASE("v2: refused clearly without the memory or cpu controller", "[cgroups]") {
  FakeV2 fake;
  put(fake.root / "cgroup.controllers", "cpuset io pids\n");
  std::string why;
  CHECK_FALSE(Cgroups::open(fake.root, "coldlab", &why));
  CHECK(why.find("lacks the memory or cpu controller") != std::string::npos);
}

TEST_CASE("no cgroup layout at all is refused with the reason", "[cgroups]") {
  char tmpl[] = "/tmp/coldlab-no-cgroup-XXXXXX";
  fs::path empty = mkdtemp(tmpl);
  std::string why;
  CHECK_FALSE(Cgroups::open(empty, "coldlab", &why));
  CHECK(why.find("no cgroup memory and cpu controllers") != std::string::npos);
  fs::remove_all(empty);
}

TEST_CASE("v2: groups of an emulator that is gone are removed at start", "[cgroups]") {
  FakeV2 fake;
  // pid 999999 does not exist (pid_max is lower), so its groups are stale.
  const auto stale = fake.root / "coldlab" / "run-999999" / "env-3";
  for (auto f : {"cgroup.procs", "cgroup.kill", "memory.max"}) put(stale / f, "");
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  CHECK(cg->remove_stale() == 1);
  CHECK_FALSE(fs::exists(fake.root / "coldlab" / "run-999999"));
  CHECK(fs::exists(fake.run));  // our own run is left alone
}

TEST_CASE("v2: freeze writes 1 to cgroup.freeze and returns once cgroup.events says frozen, thaw writes 0", "[cgroups][freezer]") {
  FakeV2 fake;
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  auto group = cg->create(7, lambda_limits(512, 2));
  REQUIRE(group->can_freeze());

  group->thaw();  // not frozen: nothing to do, nothing written
  CHECK(slurp(fake.env() / "cgroup.freeze").empty());

  fake.events(true);  // the kernel, done freezing
  const auto start = std::chrono::steady_clock::now();
  group->freeze();
  // It found "frozen 1" at its first look; only a stall of a whole kFreezeWait could fail this.
  CHECK(seconds_since(start) < std::chrono::duration<double>(kFreezeWait).count());
  CHECK(slurp(fake.env() / "cgroup.freeze") == "1");

  fake.events(false);  // the kernel, done thawing
  group->thaw();
  CHECK(slurp(fake.env() / "cgroup.freeze") == "0");
}

TEST_CASE("v2: a group that does not freeze in time does not hang the emulator: freeze returns after the bound", "[cgroups][freezer]") {
  FakeV2 fake;  // cgroup.events keeps saying "frozen 0"
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  auto group = cg->create(7, lambda_limits(512, 2));
  const auto start = std::chrono::steady_clock::now();
  CHECK_NOTHROW(group->freeze());
  const double waited = seconds_since(start);
  CHECK(slurp(fake.env() / "cgroup.freeze") == "1");
  CHECK(waited >= std::chrono::duration<double>(kFreezeWait).count());  // it did wait for the kernel
  CHECK(waited < 30);  // and gave up (a generous bound: the point is that it returns at all)
}

TEST_CASE("v2: without cgroup.freeze there is no freezer, and freeze and thaw do nothing", "[cgroups][freezer]") {
  FakeV2 fake;
  fake.without_freezer();
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  auto group = cg->create(7, lambda_limits(512, 2));
  CHECK_FALSE(group->can_freeze());
  CHECK_NOTHROW(group->freeze());
  CHECK_NOTHROW(group->thaw());
  CHECK_FALSE(fs::exists(fake.env() / "cgroup.freeze"));
}

TEST_CASE("v2: a frozen group is killed, thawed and removed", "[cgroups][freezer]") {
  FakeV2 fake;
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  auto group = cg->create(7, lambda_limits(512, 2));
  fake.events(true);
  group->freeze();
  group->kill_all();
  CHECK(slurp(fake.env() / "cgroup.kill") == "1");
  CHECK(slurp(fake.env() / "cgroup.freeze") == "0");  // left usable for the next process
  put(fake.env() / "cgroup.freeze", "1");             // frozen again when it is destroyed
  group.reset();
  CHECK_FALSE(fs::exists(fake.env()));
}

TEST_CASE("v2: frozen groups of an emulator that is gone are removed at start", "[cgroups][freezer]") {
  FakeV2 fake;
  const auto stale = fake.root / "coldlab" / "run-999999" / "env-3";
  for (auto f : {"cgroup.procs", "cgroup.kill", "memory.max"}) put(stale / f, "");
  put(stale / "cgroup.freeze", "1\n");
  put(stale / "cgroup.events", "populated 1\nfrozen 1\n");
  std::string why;
  auto cg = Cgroups::open(fake.root, "coldlab", &why);
  REQUIRE(cg);
  CHECK(cg->remove_stale() == 1);
  CHECK_FALSE(fs::exists(fake.root / "coldlab" / "run-999999"));
}
