// Shutdown: SIGTERM finishes or fails what is in flight, logs it, and leaves no process behind.
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using coldlab::testing::process_alive;
using coldlab::testing::query;
using coldlab::testing::wait_rows;

TEST_CASE("SIGTERM answers in-flight invocations, logs everything and leaves no orphan") {
  ColdlabServer server({"--shutdown-grace", "0.3"});
  httplib::Client c("127.0.0.1", server.port());
  for (auto fn : {"echo-native", "logger", "env-dump"})
    REQUIRE(c.Post((std::string("/2015-03-31/functions/") + fn + "/invocations").c_str(), "{}", ""));

  // One invocation still running when the signal comes (sleeper has Timeout 1 s; the
  // grace is shorter, so it is cut off by the shutdown).
  std::optional<httplib::Response> in_flight;
  std::thread t([&] {
    httplib::Client c2("127.0.0.1", server.port());
    auto r = c2.Post("/2015-03-31/functions/sleeper/invocations", R"({"seconds": 0.9})", "");
    if (r) in_flight = *r;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto pids = query(server.db(), "SELECT pid FROM environments");
  REQUIRE(server.stop() == 0);
  t.join();

  REQUIRE(in_flight);
  CHECK(in_flight->status == 200);
  CHECK(in_flight->get_header_value("X-Amz-Function-Error") == "Unhandled");

  auto envs = query(server.db(), "SELECT * FROM environments");
  REQUIRE(envs.size() == 4);
  for (auto& e : envs) {
    CHECK(e["end_reason"] != "NULL");
    CHECK(e["ended_at_us"] != "NULL");
    CHECK_FALSE(process_alive(std::stoi(e["pid"])));
  }
  auto rows = query(server.db(), "SELECT * FROM invocations ORDER BY id");
  REQUIRE(rows.size() == 4);
  CHECK(rows[3]["function"] == "sleeper");
  CHECK(rows[3]["status"] == "crash");
  auto runs = query(server.db(), "SELECT * FROM runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["ended_at_us"] != "NULL");
}

TEST_CASE("function processes die with the emulator even when it is killed with SIGKILL") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  REQUIRE(c.Post("/2015-03-31/functions/echo-native/invocations", "{}", ""));
  REQUIRE(c.Post("/2015-03-31/functions/logger/invocations", "{}", ""));
  auto envs = wait_rows(server.db(), "SELECT pid FROM environments", 2);
  REQUIRE(envs.size() == 2);
  kill(server.pid(), SIGKILL);
  server.stop();  // reaps it
  for (int i = 0; i < 100; ++i) {
    bool any = false;
    for (auto& e : envs) any |= process_alive(std::stoi(e["pid"]));
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& e : envs) CHECK_FALSE(process_alive(std::stoi(e["pid"])));
  // The next coldlab removes the killed one's cgroups (checked in test_isolation.cpp).
  ColdlabServer next;
}
