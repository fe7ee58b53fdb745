// Faults: function processes killed under load, and runtimes that die halfway through an
// answer. Whatever dies, the caller gets one of Lambda's answers, the log records it as
// what the caller saw, and nothing of the emulator is left once it stops.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using coldlab::testing::invoke;
using coldlab::testing::process_alive;
using coldlab::testing::query;
using nlohmann::json;

namespace {

// The runtime processes `pid` started that are still its children: all of them but its
// thaw guard (`coldlab __thaw-on-exit`), which is not a function's.
std::vector<pid_t> runtimes_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    pid_t child;
    while (in >> child) {
      std::ifstream cmdline("/proc/" + std::to_string(child) + "/cmdline");
      std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
      if (args.find("__thaw-on-exit") == std::string::npos) out.push_back(child);
    }
  }
  return out;
}

// What an answer says happened, as the invocations table spells it; empty and a reason in
// `why` if it is not an answer Lambda could give.
std::string classify(const httplib::Result& r, const std::string& payload, std::string& why) {
  if (!r) {
    why = "no answer: " + httplib::to_string(r.error());
    return "";
  }
  if (r->get_header_value("x-amzn-RequestId").empty()) {
    why = "no x-amzn-RequestId";
    return "";
  }
  const bool function_error = r->has_header("X-Amz-Function-Error");
  if (r->status == 200 && !function_error) {
    if (r->body == payload) return "ok";
    why = "200 without a function error but a body of " + std::to_string(r->body.size()) +
          " bytes that is not the event (" + std::to_string(payload.size()) + "): " + r->body.substr(0, 80);
    return "";
  }
  json body = json::parse(r->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    why = "status " + std::to_string(r->status) + " with a body that is not a JSON object: " + r->body.substr(0, 80);
    return "";
  }
  if (r->status == 200) {
    const std::string type = body.value("errorType", "");
    if (r->get_header_value("X-Amz-Function-Error") == "Unhandled") {
      if (type == "Runtime.ExitError") return "crash";
      // A slow host (a sanitizer build, a busy CI machine) may push a cold start past
      // the 3 s timeout: still one of Lambda's answers.
      if (type == "Sandbox.Timedout") return "timeout";
    }
    why = "function error " + r->get_header_value("X-Amz-Function-Error") + " " + r->body.substr(0, 120);
    return "";
  }
  if (r->get_header_value("x-amzn-ErrorType").empty()) {
    why = "status " + std::to_string(r->status) + " without x-amzn-ErrorType";
    return "";
  }
  if (r->status == 429) return "throttled";
  why = "status " + std::to_string(r->status) + ": " + r->body.substr(0, 120);
  return "";
}

}  // namespace

TEST_CASE("function processes killed at random under load: Lambda-shaped answers logged once and nothing left behind") {
  ColdlabServer server;
  const bool isolated = server.stderr_text().find("isolation: cgroup") != std::string::npos;
  constexpr int kClients = 16;
  // Bounded in count and in time: on a loaded or sanitizer-built host every invoke and
  // every cold start after a kill costs several times more, and the test must still end.
  constexpr int kInvokesPerClient = 200;
  constexpr int kMaxKills = 60;
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(10);

  std::mutex mu;
  std::vector<std::string> problems;
  std::map<std::string, std::string> answered;  // request id -> status the answer implies
  std::set<pid_t> seen;
  std::atomic<int> clients_left{kClients};
  int kills = 0;

  // A fixed seed: the same choices every run, though which process is busy when a kill
  // lands is up to the scheduler. Every outcome below is valid for any such timing.
  std::thread killer([&] {
    std::mt19937 rng(20261201);
    std::uniform_int_distribution<int> pause_ms(50, 150);
    while (clients_left.load() > 0 && kills < kMaxKills) {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
      auto pids = runtimes_of(server.pid());
      if (pids.empty()) continue;
      pid_t victim = pids[std::uniform_int_distribution<size_t>(0, pids.size() - 1)(rng)];
      std::lock_guard<std::mutex> lock(mu);
      seen.insert(pids.begin(), pids.end());
      if (::kill(victim, SIGKILL) == 0) ++kills;
    }
  });

  std::vector<std::thread> clients;
  for (int k = 0; k < kClients; ++k) {
    clients.emplace_back([&, k] {
      httplib::Client c("127.0.0.1", server.port());
      c.set_read_timeout(30);
      std::mt19937 rng(k);
      for (int i = 0; i < kInvokesPerClient && std::chrono::steady_clock::now() < stop_at; ++i) {
        const char* function = (k + i) % 2 ? "echo-native" : "echo-python";
        // Sizes across the socket buffer, so that a kill can cut an answer in its middle.
        const size_t pad = std::vector<size_t>{1, 1000, 200000}[rng() % 3];
        // Spelt as Python's json.dumps writes it, since echo-python answers with that.
        const std::string payload = "{\"client\": " + std::to_string(k) + ", \"i\": " + std::to_string(i) +
                                    ", \"pad\": \"" + std::string(pad, 'x') + "\"}";
        auto r = invoke(c, function, payload);
        std::string why;
        const std::string status = classify(r, payload, why);
        std::lock_guard<std::mutex> lock(mu);
        if (status.empty()) {
          problems.push_back(std::string(function) + ": " + why);
        } else if (!answered.emplace(r->get_header_value("x-amzn-RequestId"), status).second) {
          problems.push_back("request id given twice: " + r->get_header_value("x-amzn-RequestId"));
        }
      }
      --clients_left;
    });
  }
  for (auto& t : clients) t.join();
  killer.join();
  REQUIRE(server.stop() == 0);

  for (size_t i = 0; i < problems.size() && i < 10; ++i) UNSCOPED_INFO(problems[i]);
  CHECK(problems.empty());
  int crashes = 0, oks = 0;
  for (const auto& [id, status] : answered) {
    crashes += status == "crash";
    oks += status == "ok";
  }
  INFO(kills << " kills, " << answered.size() << " answers: " << oks << " ok, " << crashes << " Runtime.ExitError");
  CHECK(kills >= 20);
  // Both sides of the test must have happened, or it proved nothing.
  CHECK(answered.size() >= 200);
  CHECK(crashes > 0);
  CHECK(oks > static_cast<int>(answered.size()) / 2);

  std::map<std::string, std::vector<std::string>> logged;
  for (auto& row : query(server.db(), "SELECT request_id, status FROM invocations")) logged[row["request_id"]].push_back(row["status"]);
  int mismatches = 0;
  for (const auto& [id, status] : answered) {
    const auto& rows = logged[id];
    if (rows.size() == 1 && rows[0] == status) continue;
    if (++mismatches <= 10) {
      std::ostringstream s;
      s << id << " answered " << status << ", logged:";
      for (auto& r : rows) s << ' ' << r;
      UNSCOPED_INFO(s.str());
    }
  }
  CHECK(mismatches == 0);

  for (auto& row : query(server.db(), "SELECT pid FROM environments")) seen.insert(std::stoi(row["pid"]));
  std::vector<pid_t> alive;
  for (pid_t pid : seen)
    if (process_alive(pid)) alive.push_back(pid);
  CHECK(alive.empty());
  if (isolated) {
    const std::string run = "coldlab/run-" + std::to_string(server.pid());
    CHECK_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory/" + run));
    CHECK_FALSE(std::filesystem::exists("/sys/fs/cgroup/cpu/" + run));
  }
}

TEST_CASE("a runtime that dies while posting its answer fails the invocation with Runtime.ExitError") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(30);
  // The answer's headers only, then half its body: neither may pass for the answer.
  for (int sent : {0, 20}) {
    const std::string event = R"({"send": )" + std::to_string(sent) + R"(, "pad": "0123456789012345678901234567890123456789"})";
    auto r = invoke(c, "truncated-answer", event);
    REQUIRE(r);
    INFO("sent " << sent << " bytes, got " << r->status << " " << r->body);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("X-Amz-Function-Error") == "Unhandled");
    auto body = json::parse(r->body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["errorType"] == "Runtime.ExitError");
  }
  REQUIRE(server.stop() == 0);
  auto rows = query(server.db(), "SELECT status, error_type FROM invocations ORDER BY id");
  REQUIRE(rows.size() == 2);
  for (auto& row : rows) {
    CHECK(row["status"] == "crash");
    CHECK(row["error_type"] == "Runtime.ExitError");
  }
}
