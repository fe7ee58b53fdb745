// Keep-alive and scale-out policies in the live emulator: what a user selects with
// --keep-alive, --scale-out and --memory-budget is what happens to real environments, and
// every run names its policies.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using coldlab::testing::invoke;
using coldlab::testing::invoke_parallel;
using coldlab::testing::query;
using coldlab::testing::wait_rows;
using nlohmann::json;

namespace {

void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

}  // namespace

TEST_CASE("keep-alive fixed TTL: warm after a shorter idle time and cold after a longer one") {
  // The issue's fixed:ttl=60 with 30 s and 90 s idle, scaled down 30 times.
  ColdlabServer server({"--keep-alive", "fixed:ttl=2s"});
  httplib::Client c("127.0.0.1", server.port());
  REQUIRE(invoke(c, "echo-native", "{}"));
  sleep_s(1.0);
  REQUIRE(invoke(c, "echo-native", "{}"));
  sleep_s(3.0);
  REQUIRE(invoke(c, "echo-native", "{}"));
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 3);
  CHECK(rows[0]["cold"] == "1");
  CHECK(rows[1]["cold"] == "0");
  CHECK(rows[1]["environment_id"] == rows[0]["environment_id"]);
  CHECK(rows[2]["cold"] == "1");
  auto runs = query(server.db(), "SELECT keep_alive, scale_out, memory_budget_mb FROM runs");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0]["keep_alive"] == "fixed:ttl=2s");
  CHECK(runs[0]["scale_out"].rfind("lambda:", 0) == 0);
  CHECK(runs[0]["memory_budget_mb"] == "NULL");
  auto ended = wait_rows(server.db(), "SELECT * FROM environments WHERE end_reason = 'idle'", 1);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0]["id"] == rows[0]["environment_id"]);
}

TEST_CASE("keep-alive none: every invocation is a cold start") {
  ColdlabServer server({"--keep-alive", "none"});
  httplib::Client c("127.0.0.1", server.port());
  for (int i = 0; i < 3; ++i) REQUIRE(invoke(c, "echo-native", "{}"));
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 3);
  for (auto& r : rows) CHECK(r["cold"] == "1");
  CHECK(query(server.db(), "SELECT keep_alive FROM runs")[0]["keep_alive"] == "none");
}

TEST_CASE("a memory budget evicts the least recently used idle environment for a new one") {
  // Every test function has 1024 MB: with a 2048 MB budget the third function's start
  // evicts the environment used longest ago.
  ColdlabServer server({"--keep-alive", "lru", "--memory-budget", "2048"});
  httplib::Client c("127.0.0.1", server.port());
  REQUIRE(invoke(c, "echo-native", "{}"));
  REQUIRE(invoke(c, "env-dump", "{}"));
  REQUIRE(invoke(c, "echo-native", "{}"));  // warm: echo-native is now the most recent
  REQUIRE(invoke(c, "logger", "{}"));
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 4);
  CHECK(rows[2]["cold"] == "0");
  CHECK(rows[3]["cold"] == "1");
  auto evicted = wait_rows(server.db(), "SELECT * FROM environments WHERE end_reason = 'memory'", 1);
  REQUIRE(evicted.size() == 1);
  CHECK(evicted[0]["function"] == "env-dump");
  CHECK(query(server.db(), "SELECT memory_budget_mb FROM runs")[0]["memory_budget_mb"] == "2048");
}

TEST_CASE("policy mistakes are refused at start with a message that says what to do") {
  const std::string coldlab = (coldlab::testing::binary_dir() / "bin" / "coldlab").string() +
                              " serve --port 0 --db /tmp/coldlab-policy-refused.db ";
  auto no_budget = coldlab::testing::run(coldlab + "--keep-alive greedy-dual");
  CHECK(no_budget.status == 2);
  CHECK_THAT(no_budget.out, Catch::Contains("--memory-budget"));
  auto unknown = coldlab::testing::run(coldlab + "--keep-alive fixd:ttl=1m");
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.out, Catch::Contains("unknown keep-alive policy \"fixd\"") && Catch::Contains("fixed"));
  auto bad_key = coldlab::testing::run(coldlab + "--keep-alive fixed:tll=1m");
  CHECK(bad_key.status == 2);
  CHECK_THAT(bad_key.out, Catch::Contains("tll"));
  auto both = coldlab::testing::run(coldlab + "--keep-alive none --idle-timeout 5");
  CHECK(both.status == 2);
  auto bad_scale = coldlab::testing::run(coldlab + "--scale-out lambda:rate=2022");
  CHECK(bad_scale.status == 2);
  CHECK_THAT(bad_scale.out, Catch::Contains("rate"));
  std::filesystem::remove("/tmp/coldlab-policy-refused.db");
}

TEST_CASE("reserved concurrency through the AWS CLI throttles with Lambda's Reason") {
  ColdlabServer server;
  const std::string aws = "/usr/bin/aws --endpoint-url " + server.endpoint() + " lambda ";
  auto put = coldlab::testing::run(aws + "put-function-concurrency --function-name echo-native "
                                         "--reserved-concurrent-executions 0");
  REQUIRE(put.status == 0);
  CHECK(json::parse(put.out)["ReservedConcurrentExecutions"] == 0);
  auto get = coldlab::testing::run(aws + "get-function-concurrency --function-name echo-native");
  REQUIRE(get.status == 0);
  CHECK(json::parse(get.out)["ReservedConcurrentExecutions"] == 0);

  httplib::Client c("127.0.0.1", server.port());
  auto throttled = invoke(c, "echo-native", "{}");
  REQUIRE(throttled);
  CHECK(throttled->status == 429);
  CHECK(json::parse(throttled->body)["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded");

  auto settings = coldlab::testing::run(aws + "get-account-settings");
  REQUIRE(settings.status == 0);
  CHECK(json::parse(settings.out)["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000);

  auto too_much = coldlab::testing::run(aws + "put-function-concurrency --function-name sleeper "
                                              "--reserved-concurrent-executions 950");
  CHECK(too_much.status != 0);
  CHECK_THAT(too_much.out, Catch::Contains("below its minimum value of [100]"));

  auto del = coldlab::testing::run(aws + "delete-function-concurrency --function-name echo-native");
  REQUIRE(del.status == 0);
  auto ok = invoke(c, "echo-native", "{}");
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("max-instances queues requests for a busy environment instead of starting another") {
  ColdlabServer server({"--scale-out", "max-instances:m=1,queue_timeout=10s"});
  auto results = invoke_parallel(server.port(), 3, "sleeper", R"({"seconds": 0.3})");
  for (auto& r : results) {
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 3);
  std::set<std::string> envs;
  int cold = 0;
  for (auto& r : rows) {
    envs.insert(r["environment_id"]);
    cold += r["cold"] == "1";
  }
  CHECK(envs.size() == 1);
  CHECK(cold == 1);
}

TEST_CASE("max-instances throttles a request that waited past the queue timeout") {
  ColdlabServer server({"--scale-out", "max-instances:m=1,queue_timeout=200ms"});
  auto results = invoke_parallel(server.port(), 2, "sleeper", R"({"seconds": 0.8})");
  int ok = 0, throttled = 0;
  for (auto& r : results) {
    REQUIRE(r);
    ok += r->status == 200;
    throttled += r->status == 429;
  }
  CHECK(ok == 1);
  CHECK(throttled == 1);
}

TEST_CASE("per-env-concurrency puts several requests on one environment") {
  ColdlabServer server({"--scale-out", "per-env-concurrency:n=3"});
  httplib::Client c("127.0.0.1", server.port());
  REQUIRE(invoke(c, "sleeper", R"({"seconds": 0})"));  // one environment, now idle
  auto results = invoke_parallel(server.port(), 3, "sleeper", R"({"seconds": 0.2})");
  for (auto& r : results) {
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 4);
  for (auto& r : rows) CHECK(r["environment_id"] == rows[0]["environment_id"]);
}

TEST_CASE("provisioned environments are initialised before the first request, which is warm") {
  ColdlabServer server({"--keep-alive", "provisioned:n=1,function=env-dump"});
  auto started = wait_rows(server.db(), "SELECT * FROM environments WHERE ready_at_us IS NOT NULL", 1);
  REQUIRE(started.size() == 1);
  CHECK(started[0]["function"] == "env-dump");
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "env-dump", "{}");
  REQUIRE(r);
  CHECK(json::parse(r->body)["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency");
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 1);
  CHECK(rows[0]["cold"] == "0");
  CHECK(rows[0]["environment_id"] == started[0]["id"]);
}

TEST_CASE("ping sends keep-warm requests that are logged as pings") {
  ColdlabServer server({"--keep-alive", "ping:every=500ms,ttl=2s,function=echo-native"});
  auto pings = wait_rows(server.db(), "SELECT * FROM invocations WHERE invocation_type = 'Ping'", 3);
  REQUIRE(pings.size() >= 3);
  CHECK(pings[0]["function"] == "echo-native");
  CHECK(pings[0]["cold"] == "1");
  CHECK(pings[1]["cold"] == "0");
  // A user's request finds the environment the pings kept warm.
  httplib::Client c("127.0.0.1", server.port());
  REQUIRE(invoke(c, "echo-native", "{}"));
  auto user = wait_rows(server.db(), "SELECT * FROM invocations WHERE invocation_type = 'RequestResponse'", 1);
  CHECK(user[0]["cold"] == "0");
  // The view for users' statistics leaves the pings out.
  auto users = query(server.db(), "SELECT * FROM user_invocations");
  REQUIRE(users.size() == 1);
  CHECK(users[0]["id"] == user[0]["id"]);
}
