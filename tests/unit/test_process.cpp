#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/process.h"
#include "process_observer.h"

using coldlab::core::ExitStatus;
using coldlab::core::Process;
using coldlab::core::ProcessSupervisor;
using coldlab::core::SpawnSpec;
using coldlab::test::Observed;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("coldlab-process-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

SpawnSpec shell(const std::string& script) {
  SpawnSpec spec;
  spec.executable = "/bin/sh";
  spec.args = {"-c", script};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.working_dir = "/";
  return spec;
}

// A child that ends on its own waits for the test to open its gate, which the test does
// only once spawn() has returned. Without the gate a child that exits within a few
// microseconds of exec trips the bug shown by the "exits before spawn returns" test below
// and takes the whole run down with it.
class Gate {
 public:
  std::string wrap(const std::string& script) const {
    return "while [ ! -e '" + go_.string() + "' ]; do sleep 0.01; done; " + script;
  }
  void open() const { std::ofstream(go_) << "go"; }

 private:
  TempDir dir_;
  fs::path go_ = dir_.path / "go";
};

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 15s) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// The process is gone or a zombie nobody has reaped yet (the container's PID 1 may not
// reap orphans); either way it no longer runs.
bool dead(int pid) {
  // POSIX read: libstdc++'s filebuf throws when read() fails with ESRCH, which it does if the
  // process goes away between open and read.
  int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return true;
  const std::string content(buf, static_cast<size_t>(n));
  const auto close_paren = content.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= content.size()) return true;
  const char state = content[close_paren + 2];
  return state == 'Z' || state == 'X';
}

}  // namespace

TEST_CASE("process: ExitStatus describe uses Go's wording", "[process]") {
  CHECK(ExitStatus{false, 0}.describe() == "exit status 0");
  CHECK(ExitStatus{false, 3}.describe() == "exit status 3");
  CHECK(ExitStatus{true, SIGKILL}.describe() == "signal: killed");
  CHECK(ExitStatus{true, SIGSEGV}.describe() == "signal: segmentation fault");
  CHECK(ExitStatus{true, SIGABRT}.describe() == "signal: aborted");
  CHECK(ExitStatus{true, SIGTERM}.describe() == "signal: terminated");
}

TEST_CASE("process: the child's environment is exactly the given map", "[process]") {
  ::setenv("COLDLAB_UNIT_TEST_MUST_NOT_LEAK", "1", 1);
  Gate gate;
  Observed seen;
  ProcessSupervisor sup;
  auto spec = shell(gate.wrap("env"));
  spec.env["FOO"] = "bar";
  spec.env["WITH_SPACES"] = "a b = c";
  spec.env["EMPTY"] = "";
  auto p = sup.spawn(spec, seen.on_line(), seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  ::unsetenv("COLDLAB_UNIT_TEST_MUST_NOT_LEAK");
  std::set<std::string> got;
  for (const auto& line : seen.texts(false))
    if (line.rfind("PWD=", 0) != 0) got.insert(line);  // the shell adds PWD itself
  CHECK(got == std::set<std::string>{"PATH=/usr/bin:/bin", "FOO=bar", "WITH_SPACES=a b = c",
                                     "EMPTY="});
  CHECK(seen.texts(true).empty());
  CHECK(seen.exits().at(0).describe() == "exit status 0");
}

TEST_CASE("process: the working directory is set", "[process]") {
  TempDir tmp;
  Gate gate;
  Observed seen;
  ProcessSupervisor sup;
  auto spec = shell(gate.wrap("pwd -P"));
  spec.working_dir = tmp.path;
  auto p = sup.spawn(spec, seen.on_line(), seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  CHECK(seen.texts(false) == std::vector<std::string>{fs::canonical(tmp.path).string()});
}

TEST_CASE("process: arguments are passed as given", "[process]") {
  Gate gate;
  Observed seen;
  ProcessSupervisor sup;
  auto spec = shell(gate.wrap("for a in \"$@\"; do echo \"[$a]\"; done"));
  spec.args.push_back("argv0");
  spec.args.push_back("one two");
  spec.args.push_back("");
  spec.args.push_back("$HOME;*");
  auto p = sup.spawn(spec, seen.on_line(), seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  CHECK(seen.texts(false) == std::vector<std::string>{"[one two]", "[]", "[$HOME;*]"});
}

TEST_CASE("process: stdout and stderr lines reach the callback with the right flag",
          "[process]") {
  Gate gate;
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell(gate.wrap("echo out1; echo err1 >&2; echo out2; echo; "
                                     "echo err2 >&2; printf 'no newline'")),
                     seen.on_line(), seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  CHECK(seen.texts(false) == std::vector<std::string>{"out1", "out2", "", "no newline"});
  CHECK(seen.texts(true) == std::vector<std::string>{"err1", "err2"});
}

TEST_CASE("process: stdin is /dev/null", "[process]") {
  Gate gate;
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell(gate.wrap("if read line; then echo got; else echo eof; fi")),
                     seen.on_line(), seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  CHECK(seen.texts(false) == std::vector<std::string>{"eof"});
}

TEST_CASE("process: on_exit comes after all output and on the supervisor's thread",
          "[process]") {
  Gate gate;
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell(gate.wrap("i=0; while [ $i -lt 3000 ]; do echo line-$i; "
                                     "i=$((i+1)); done; printf last")),
                     seen.on_line(), seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  CHECK(seen.lines_at_exit() == 3001);
  const auto out = seen.texts(false);
  REQUIRE(out.size() == 3001);
  CHECK(out.front() == "line-0");
  CHECK(out[2999] == "line-2999");
  CHECK(out.back() == "last");
  CHECK(seen.exit_thread() != std::this_thread::get_id());
}

TEST_CASE("process: every on_exit runs on the same supervisor thread", "[process]") {
  Gate gate;
  Observed a, b, c;
  ProcessSupervisor sup;
  auto pa = sup.spawn(shell(gate.wrap("exit 0")), a.on_line(), a.on_exit());
  auto pb = sup.spawn(shell(gate.wrap("exit 1")), b.on_line(), b.on_exit());
  auto pc = sup.spawn(shell(gate.wrap("exit 2")), c.on_line(), c.on_exit());
  gate.open();
  REQUIRE(a.wait_exit());
  REQUIRE(b.wait_exit());
  REQUIRE(c.wait_exit());
  CHECK(a.exit_thread() == b.exit_thread());
  CHECK(b.exit_thread() == c.exit_thread());
  CHECK(a.exit_thread() != std::this_thread::get_id());
  CHECK(a.exits().at(0).code == 0);
  CHECK(b.exits().at(0).code == 1);
  CHECK(c.exits().at(0).code == 2);
}

TEST_CASE("process: drain_output delivers everything written so far", "[process]") {
  TempDir tmp;
  const fs::path marker = tmp.path / "written";
  Observed seen;
  ProcessSupervisor sup;
  // Far more than a pipe buffer, then an unterminated line, then the child stays alive.
  auto p = sup.spawn(shell("i=0; while [ $i -lt 2000 ]; do "
                           "echo 0123456789012345678901234567890123456789-$i; i=$((i+1)); done; "
                           "echo to-stderr >&2; printf partial; touch '" +
                           marker.string() + "'; exec sleep 5"),
                     seen.on_line(), seen.on_exit());
  REQUIRE(eventually([&] { return fs::exists(marker); }));
  p->drain_output();
  // No waiting: drain_output returned, so the lines are there, even the partial one.
  const auto out = seen.texts(false);
  REQUIRE(out.size() == 2001);
  CHECK(out[1999] == "0123456789012345678901234567890123456789-1999");
  CHECK(out.back() == "partial");
  CHECK(seen.texts(true) == std::vector<std::string>{"to-stderr"});
  CHECK_FALSE(p->exited());
  p->kill();
  REQUIRE(seen.wait_exit());
  // Nothing is delivered twice.
  CHECK(seen.texts(false).size() == 2001);
  CHECK(seen.texts(true).size() == 1);
}

TEST_CASE("process: exit 3 is described as exit status 3", "[process]") {
  Gate gate;
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell(gate.wrap("exit 3")), seen.on_line(), seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  const auto status = seen.exits().at(0);
  CHECK_FALSE(status.signaled);
  CHECK(status.code == 3);
  CHECK(status.describe() == "exit status 3");
  CHECK(p->exited());
}

TEST_CASE("process: kill ends the child with signal killed", "[process]") {
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell("echo $$; exec sleep 30"), seen.on_line(), seen.on_exit());
  REQUIRE(seen.wait_lines(1));
  CHECK(seen.texts(false).at(0) == std::to_string(p->pid()));
  CHECK_FALSE(p->exited());
  CHECK(sup.running() == 1);
  CHECK(p->peak_rss_kib() > 0);
  p->kill();
  p->kill();  // idempotent
  REQUIRE(seen.wait_exit());
  const auto status = seen.exits().at(0);
  CHECK(status.signaled);
  CHECK(status.code == SIGKILL);
  CHECK(status.describe() == "signal: killed");
  CHECK(p->exited());
  CHECK(dead(p->pid()));
  p->kill();  // after the end, still harmless
  CHECK(eventually([&] { return sup.running() == 0; }));
}

TEST_CASE("process: a signal sent by someone else is reported", "[process]") {
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell("echo ready; exec sleep 30"), seen.on_line(), seen.on_exit());
  REQUIRE(seen.wait_lines(1));
  ::kill(p->pid(), SIGTERM);
  REQUIRE(seen.wait_exit());
  CHECK(seen.exits().at(0).describe() == "signal: terminated");
}

TEST_CASE("process: kill also kills what the child started", "[process]") {
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell("sleep 30 & echo $!; wait"), seen.on_line(), seen.on_exit());
  REQUIRE(seen.wait_lines(1));
  const int grandchild = std::stoi(seen.texts(false).at(0));
  CHECK_FALSE(dead(grandchild));
  p->kill();
  REQUIRE(seen.wait_exit());
  CHECK(eventually([&] { return dead(grandchild); }));
}

TEST_CASE("process: what the child started dies when the child exits by itself",
          "[process]") {
  Gate gate;
  Observed seen;
  ProcessSupervisor sup;
  // The background sleep keeps the output pipe open too.
  auto p = sup.spawn(shell(gate.wrap("sleep 30 & echo $!; exit 0")), seen.on_line(),
                     seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  CHECK(seen.exits().at(0).describe() == "exit status 0");
  const int grandchild = std::stoi(seen.texts(false).at(0));
  CHECK(eventually([&] { return dead(grandchild); }));
}

TEST_CASE("process: spawning a missing executable throws runtime_error", "[process]") {
  Observed seen;
  ProcessSupervisor sup;
  SpawnSpec spec;
  spec.executable = "/nonexistent/coldlab/bootstrap";
  spec.working_dir = "/";
  try {
    sup.spawn(spec, seen.on_line(), seen.on_exit());
    FAIL("spawn did not throw");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("/nonexistent/coldlab/bootstrap") != std::string::npos);
  }
  CHECK(sup.running() == 0);
  // The supervisor still works afterwards.
  Gate gate;
  auto p = sup.spawn(shell(gate.wrap("exit 4")), seen.on_line(), seen.on_exit());
  gate.open();
  REQUIRE(seen.wait_exit());
  CHECK(seen.exits().size() == 1);
  CHECK(seen.exits().at(0).code == 4);
}

TEST_CASE("process: spawning a file that is not executable throws runtime_error",
          "[process]") {
  TempDir tmp;
  const fs::path file = tmp.path / "bootstrap";
  std::ofstream(file) << "#!/bin/sh\necho hi\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  Observed seen;
  ProcessSupervisor sup;
  SpawnSpec spec;
  spec.executable = file;
  spec.working_dir = tmp.path;
  CHECK_THROWS_AS(sup.spawn(spec, seen.on_line(), seen.on_exit()), std::runtime_error);
}

TEST_CASE("process: on_exit runs exactly once", "[process]") {
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell("echo ready; exec sleep 30"), seen.on_line(), seen.on_exit());
  REQUIRE(seen.wait_lines(1));
  p->kill();
  REQUIRE(seen.wait_exit());
  p->kill();
  CHECK(eventually([&] { return sup.running() == 0; }));
  std::this_thread::sleep_for(50ms);  // room for a second, wrong call
  CHECK(seen.exits().size() == 1);
}

TEST_CASE("process: running counts children until they are reaped", "[process]") {
  Observed a, b;
  ProcessSupervisor sup;
  CHECK(sup.running() == 0);
  auto pa = sup.spawn(shell("exec sleep 30"), a.on_line(), a.on_exit());
  auto pb = sup.spawn(shell("exec sleep 30"), b.on_line(), b.on_exit());
  CHECK(sup.running() == 2);
  pa->kill();
  REQUIRE(a.wait_exit());
  CHECK(eventually([&] { return sup.running() == 1; }));
  pb->kill();
  REQUIRE(b.wait_exit());
  CHECK(eventually([&] { return sup.running() == 0; }));
}

TEST_CASE("process: destroying the supervisor kills a still running child", "[process]") {
  Observed seen;
  std::shared_ptr<Process> p;
  int pid = -1;
  {
    ProcessSupervisor sup;
    // No grandchild here: one holding the pipes open past the supervisor's end would make
    // the handle's destructor below touch the supervisor's (destroyed) output collector.
    p = sup.spawn(shell("echo ready; exec sleep 30"), seen.on_line(), seen.on_exit());
    pid = p->pid();
    REQUIRE(seen.wait_lines(1));
    CHECK_FALSE(dead(pid));
  }
  // The destructor waited for the reap: the end has been reported already.
  CHECK(seen.exits().size() == 1);
  if (!seen.exits().empty()) CHECK(seen.exits().at(0).describe() == "signal: killed");
  CHECK(p->exited());
  CHECK(dead(pid));
  p.reset();
}

TEST_CASE("process: on_exit still runs when the caller drops its handle right after kill",
          "[process]") {
  // The environment does this when a process it is replacing finishes spawning: it calls
  // kill() and lets its only shared_ptr go.
  Observed seen;
  ProcessSupervisor sup;
  auto p = sup.spawn(shell("echo ready; exec sleep 30"), seen.on_line(), seen.on_exit());
  REQUIRE(seen.wait_lines(1));
  const int pid = p->pid();
  p->kill();
  p.reset();
  CHECK(eventually([&] { return dead(pid); }));
  // Reaped, so on_exit has run (or is about to) and running() no longer counts it.
  CHECK(seen.wait_exit(5s));
  CHECK(eventually([&] { return sup.running() == 0; }, 5s));
}

TEST_CASE("process: a child that exits before spawn returns is reported normally",
          "[process]") {
  // Bootstraps that fail at once are common (a syntax error, a missing interpreter). A
  // child may exit before Boost.Process has finished constructing its bp::child; then the
  // exit handler runs inline, inside that constructor, on the supervisor's thread. It has
  // to cope (on_exit once, with the right status; running() back to 0).
  //
  // Run in a forked copy of this process, so that a crash fails this test instead of
  // ending the whole run.
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Die of the signal itself, without Catch's report from this copy of the process.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE}) ::signal(sig, SIG_DFL);
    int code = 0;
    {
      // Busy threads make it likelier that the child runs to its end before the
      // supervisor's thread gets the CPU back after fork, as on a loaded machine.
      std::atomic<bool> spin{true};
      std::vector<std::thread> spinners;
      for (int i = 0; i < 2; ++i)
        spinners.emplace_back([&spin] {
          while (spin.load(std::memory_order_relaxed)) {
          }
        });
      std::vector<std::unique_ptr<Observed>> observed;
      ProcessSupervisor sup;
      for (int i = 0; i < 300 && code == 0; ++i) {
        observed.push_back(std::make_unique<Observed>());
        auto& seen = *observed.back();
        SpawnSpec spec;
        spec.executable = "/bin/true";
        spec.working_dir = "/";
        auto p = sup.spawn(spec, seen.on_line(), seen.on_exit());
        if (!seen.wait_exit(10s)) code = 2;                                   // on_exit never ran
        else if (seen.exits().at(0).describe() != "exit status 0") code = 3;  // wrong status
        else if (!eventually([&] { return sup.running() == 0; }, 10s)) code = 4;
      }
      spin = false;
      for (auto& t : spinners) t.join();
    }
    ::_exit(code);
  }
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + 120s;
  pid_t done = 0;
  while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(10ms);
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL("the forked test process hung");
  }
  INFO("2: on_exit never ran, 3: wrong exit status, 4: running() stuck above 0");
  if (WIFSIGNALED(status)) {
    FAIL("the supervisor crashed: signal " << WTERMSIG(status) << " ("
                                           << strsignal(WTERMSIG(status)) << ")");
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
