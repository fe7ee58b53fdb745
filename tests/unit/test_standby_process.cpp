// Standby processes (coldlab-exec-stub) and the pool that keeps them ready: what a cold
// start relies on is that the process it takes becomes exactly the program it asks for,
// loses none of its output or its exit, and that a failed exec or a dead standby is told
// apart from a running function.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "core/process.h"
#include "core/sandbox_pool.h"
#include "core/standby_process.h"
#include "process_observer.h"

using coldlab::core::ProcessSupervisor;
using coldlab::core::SandboxPool;
using coldlab::core::SpawnSpec;
using coldlab::core::StandbyGone;
using coldlab::core::StandbyProcess;
using coldlab::test::Observed;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path kStub = COLDLAB_BINARY_DIR "/bin/coldlab-exec-stub";

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

// This process's children running the stub (ctest may run other test processes beside it).
std::vector<int> stub_children() {
  std::vector<int> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state;
    int ppid = 0;
    rest >> state >> ppid;
    std::error_code ec;
    if (ppid == ::getpid() && std::filesystem::read_symlink(entry.path() / "exe", ec) == std::filesystem::canonical(kStub))
      out.push_back(std::stoi(name));
  }
  return out;
}

SpawnSpec shell(const std::string& script) {
  SpawnSpec spec;
  spec.executable = "/bin/sh";
  spec.args = {"-c", script};
  spec.working_dir = "/";
  return spec;
}

}  // namespace

TEST_CASE("standby: becomes the program asked for, same pid, with its args, environment and directory", "[standby]") {
  Observed seen;
  ProcessSupervisor sup;
  auto standby = StandbyProcess::start(sup, kStub, {});
  REQUIRE(standby->alive());
  const int pid = standby->pid();
  SpawnSpec spec = shell("echo pid=$$ x=$X dir=$(pwd) args=$0,$1; echo err >&2; exit 4");
  spec.args.push_back("zero");
  spec.args.push_back("one two");
  spec.env = {{"X", "a b=c"}, {"PATH", "/usr/bin:/bin"}};
  spec.working_dir = "/tmp";
  auto process = standby->become(spec, seen.on_line(), seen.on_exit());
  CHECK(process->pid() == pid);
  REQUIRE(seen.wait_exit());
  CHECK(seen.exits()[0].code == 4);
  CHECK(seen.texts(false) == std::vector<std::string>{"pid=" + std::to_string(pid) + " x=a b=c dir=/tmp args=zero,one two"});
  CHECK(seen.texts(true) == std::vector<std::string>{"err"});
  CHECK_FALSE(standby->alive());
}

TEST_CASE("standby: output and an exit right after the exec are delivered, not lost", "[standby]") {
  ProcessSupervisor sup;
  for (int i = 0; i < 20; ++i) {
    Observed seen;
    auto standby = StandbyProcess::start(sup, kStub, {});
    auto process = standby->become(shell("echo hi; exit 3"), seen.on_line(), seen.on_exit());
    REQUIRE(seen.wait_exit());
    CHECK(seen.exits().size() == 1);
    CHECK(seen.exits()[0].code == 3);
    CHECK(seen.texts(false) == std::vector<std::string>{"hi"});
    CHECK(seen.lines_at_exit() == 1);
  }
}

TEST_CASE("standby: the program gets stdin, stdout and stderr and no other descriptor", "[standby]") {
  Observed seen;
  ProcessSupervisor sup;
  auto standby = StandbyProcess::start(sup, kStub, {});
  // Tested without opening anything (a glob or ls would list its own directory's).
  standby->become(shell("for fd in $(seq 0 64); do [ -e /proc/$$/fd/$fd ] && printf '%s ' $fd; done; echo"),
                  seen.on_line(), seen.on_exit());
  REQUIRE(seen.wait_exit());
  CHECK(seen.texts(false) == std::vector<std::string>{"0 1 2 "});
}

TEST_CASE("standby: an exec that fails throws with the reason and reports nothing", "[standby]") {
  Observed seen;
  ProcessSupervisor sup;
  auto standby = StandbyProcess::start(sup, kStub, {});
  SpawnSpec spec;
  spec.executable = "/nonexistent/bootstrap";
  spec.working_dir = "/";
  CHECK_THROWS_WITH(standby->become(spec, seen.on_line(), seen.on_exit()),
                    "cannot start /nonexistent/bootstrap: No such file or directory");
  CHECK(eventually([&] { return sup.running() == 0; }));
  std::this_thread::sleep_for(50ms);
  CHECK(seen.exits().empty());
  CHECK(seen.lines().empty());
}

TEST_CASE("standby: one killed while it waits is not alive, and become says it is gone", "[standby]") {
  Observed seen;
  ProcessSupervisor sup;
  auto standby = StandbyProcess::start(sup, kStub, {});
  ::kill(standby->pid(), SIGKILL);
  CHECK(eventually([&] { return !standby->alive(); }));
  CHECK_THROWS_AS(standby->become(shell("echo never"), seen.on_line(), seen.on_exit()), StandbyGone);
  std::this_thread::sleep_for(50ms);
  CHECK(seen.exits().empty());
}

TEST_CASE("standby: one never used is killed when dropped", "[standby]") {
  ProcessSupervisor sup;
  auto standby = StandbyProcess::start(sup, kStub, {});
  const int pid = standby->pid();
  CHECK(sup.running() == 1);
  standby.reset();
  CHECK(eventually([&] { return sup.running() == 0; }));
  CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("sandbox pool: keeps its spares ready, refills after a take, and makes one when none is ready", "[standby]") {
  ProcessSupervisor sup;
  {
    SandboxPool pool({2, kStub, &sup, nullptr, {}});
    REQUIRE(eventually([&] { return pool.ready() == 2; }));
    auto sandbox = pool.take();
    CHECK_FALSE(sandbox.group);
    REQUIRE(sandbox.process);
    CHECK(sandbox.process->alive());
    CHECK(pool.taken_ready() == 1);
    CHECK(eventually([&] { return pool.ready() == 2; }));
    CHECK(sup.running() == 3);
  }
  CHECK(eventually([&] { return sup.running() == 0; }));

  SandboxPool none({0, kStub, &sup, nullptr, {}});
  std::this_thread::sleep_for(20ms);
  CHECK(none.ready() == 0);
  auto made = none.take();
  CHECK(made.process->alive());
  CHECK(none.taken_made() == 1);
}

TEST_CASE("sandbox pool: a spare that died while it waited is not handed out", "[standby]") {
  ProcessSupervisor sup;
  SandboxPool pool({1, kStub, &sup, nullptr, {}});
  REQUIRE(eventually([&] { return pool.ready() == 1; }));
  // Kill the spare from outside, as anything on the machine might.
  const auto children = stub_children();
  REQUIRE(children.size() == 1);
  ::kill(children[0], SIGKILL);
  REQUIRE(eventually([&] { return sup.running() == 0; }));
  auto sandbox = pool.take();
  CHECK(sandbox.process->alive());
  CHECK(pool.taken_made() == 1);
}
