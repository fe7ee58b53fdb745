// Spare sandboxes (core/sandbox_pool.h) in the real emulator: a cold start execs its
// runtime in a process that was waiting before the request came (in its cgroup, under
// isolation), spares are replaced after use and after being killed, and none is left
// behind. Before sandboxes, every cold start forked the emulator and moved the new process
// into its cgroup on the request's path (docs/benchmarks.md: 15 ms of 24 under isolation).
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using coldlab::testing::process_alive;
using coldlab::testing::wait_rows;
using namespace std::chrono_literals;

namespace {

// The children of `pid` that are standing by (running coldlab-exec-stub).
std::set<pid_t> standbys_of(pid_t pid) {
  std::set<pid_t> out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    pid_t child;
    while (in >> child) {
      std::error_code ec2;
      auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(child) + "/exe", ec2);
      if (!ec2 && exe.filename() == "coldlab-exec-stub") out.insert(child);
    }
  }
  return out;
}

std::set<pid_t> wait_standbys(pid_t server, size_t n) {
  for (int i = 0; i < 500; ++i) {
    auto s = standbys_of(server);
    if (s.size() == n) return s;
    std::this_thread::sleep_for(10ms);
  }
  return standbys_of(server);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool isolated(const ColdlabServer& s) { return s.stderr_text().find("isolation: cgroup") != std::string::npos; }

}  // namespace

TEST_CASE("a cold start execs its runtime in a process that stood by before the request, in its own cgroup") {
  ColdlabServer server;
  const auto spares = wait_standbys(server.pid(), 2);
  REQUIRE(spares.size() == 2);
  httplib::Client c("127.0.0.1", server.port());
  auto set = c.Put("/2015-03-31/functions/echo-native/configuration", R"({"MemorySize":256})", "application/json");
  REQUIRE(set);
  REQUIRE(set->status == 200);
  auto r = c.Post("/2015-03-31/functions/echo-native/invocations", R"({"k":1})", "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->body == R"({"k":1})");
  auto env = wait_rows(server.db(), "SELECT pid FROM environments WHERE id = 1", 1);
  REQUIRE(env.size() == 1);
  const pid_t pid = std::stoi(env[0]["pid"]);
  CHECK(spares.count(pid) == 1);
  CHECK(std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe").filename() == "bootstrap");
  if (isolated(server)) {
    const std::string group = "/coldlab/run-" + std::to_string(server.pid()) + "/env-1";
    const std::string cgroups = slurp("/proc/" + std::to_string(pid) + "/cgroup");
    CHECK(cgroups.find("memory:" + group + "\n") != std::string::npos);
    CHECK(cgroups.find("cpu:" + group + "\n") != std::string::npos);
    CHECK(slurp("/sys/fs/cgroup/memory" + group + "/memory.limit_in_bytes") == std::to_string(256LL << 20) + "\n");
  }
  auto inv = wait_rows(server.db(), "SELECT cold, init_ms FROM invocations", 1);
  REQUIRE(inv.size() == 1);
  CHECK(inv[0]["cold"] == "1");
  CHECK(std::stod(inv[0]["init_ms"]) > 0);

  // The one taken is replaced; at shutdown every process and group goes.
  const auto refilled = wait_standbys(server.pid(), 2);
  CHECK(refilled.size() == 2);
  CHECK(refilled.count(pid) == 0);
  const std::string run = "run-" + std::to_string(server.pid());
  REQUIRE(server.stop() == 0);
  for (pid_t p : refilled) CHECK_FALSE(process_alive(p));
  CHECK_FALSE(process_alive(pid));
  CHECK_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory/coldlab/" + run));
  CHECK_FALSE(std::filesystem::exists("/sys/fs/cgroup/cpu/coldlab/" + run));
}

TEST_CASE("a spare killed while it waits is not used, and is replaced") {
  ColdlabServer server;
  auto spares = wait_standbys(server.pid(), 2);
  REQUIRE(spares.size() == 2);
  for (pid_t p : spares) ::kill(p, SIGKILL);
  httplib::Client c("127.0.0.1", server.port());
  auto r = c.Post("/2015-03-31/functions/echo-native/invocations", "{}", "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK_FALSE(r->has_header("X-Amz-Function-Error"));
  auto env = wait_rows(server.db(), "SELECT pid FROM environments WHERE id = 1", 1);
  REQUIRE(env.size() == 1);
  CHECK(spares.count(std::stoi(env[0]["pid"])) == 0);
  CHECK(wait_standbys(server.pid(), 2).size() == 2);
}

TEST_CASE("with --spare-sandboxes 0 nothing stands by, and cold starts make their sandbox when they need it") {
  ColdlabServer server({"--spare-sandboxes", "0"});
  std::this_thread::sleep_for(300ms);
  CHECK(standbys_of(server.pid()).empty());
  httplib::Client c("127.0.0.1", server.port());
  for (int i = 0; i < 2; ++i) {
    c.Put("/2015-03-31/functions/echo-native/configuration", R"({"Description":")" + std::to_string(i) + R"("})",
          "application/json");  // retires the environment: the next invoke is cold
    auto r = c.Post("/2015-03-31/functions/echo-native/invocations", "{}", "application/json");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  auto rows = wait_rows(server.db(), "SELECT cold, init_ms FROM invocations ORDER BY id", 2);
  REQUIRE(rows.size() == 2);
  for (auto& row : rows) {
    CHECK(row["cold"] == "1");
    CHECK(std::stod(row["init_ms"]) > 0);
  }
  CHECK(standbys_of(server.pid()).empty());
}
