// Execution environments against the real binary: scale-out, failures, limits, eviction,
// configuration updates, the Runtime API's guards and what a process is given.
#include <httplib.h>

#include <catch2/catch.hpp>
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

TEST_CASE("parallel invokes scale out to one environment each, then reuse them warm") {
  ColdlabServer server;
  auto first = invoke_parallel(server.port(), 4, "sleeper", R"({"seconds": 0.4})");
  for (auto& r : first) {
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 4);
  std::set<std::string> envs;
  for (auto& row : rows) {
    envs.insert(row["environment_id"]);
    CHECK(row["cold"] == "1");
  }
  CHECK(envs.size() == 4);

  auto second = invoke_parallel(server.port(), 4, "sleeper", R"({"seconds": 0.4})");
  auto all = wait_rows(server.db(), "SELECT * FROM invocations WHERE id > 4", 4);
  REQUIRE(all.size() == 4);
  for (auto& row : all) {
    CHECK(row["cold"] == "0");
    CHECK(envs.count(row["environment_id"]) == 1);
  }
}

TEST_CASE("a function that runs past its timeout is killed and answered Sandbox.Timedout") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "sleeper", R"({"seconds": 5})");  // Timeout: 1
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("X-Amz-Function-Error") == "Unhandled");
  auto body = json::parse(r->body);
  CHECK(body["errorType"] == "Sandbox.Timedout");
  CHECK(body["errorMessage"] == "RequestId: " + r->get_header_value("x-amzn-RequestId") +
                                    " Error: Task timed out after 1.00 seconds");
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 1);
  CHECK(rows[0]["status"] == "timeout");
  CHECK(std::stod(rows[0]["duration_ms"]) >= 1000);
  CHECK(std::stod(rows[0]["duration_ms"]) < 1500);
  auto env = wait_rows(server.db(), "SELECT * FROM environments WHERE end_reason IS NOT NULL", 1);
  REQUIRE(env.size() == 1);
  CHECK(env[0]["end_reason"] == "timeout");
  CHECK_FALSE(coldlab::testing::process_alive(std::stoi(env[0]["pid"])));

  // The next invoke re-initialises: cold again.
  auto next = invoke(c, "sleeper", R"({"seconds": 0})");
  REQUIRE(next);
  CHECK(next->status == 200);
  auto again = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 2);
  CHECK(again[1]["cold"] == "1");
  CHECK(again[1]["environment_id"] != again[0]["environment_id"]);
}

TEST_CASE("the legacy timeout message is available as an option") {
  ColdlabServer server({"--legacy-timeout-message"});
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "sleeper", R"({"seconds": 5})");
  REQUIRE(r);
  auto body = json::parse(r->body);
  CHECK_FALSE(body.contains("errorType"));
  auto msg = body["errorMessage"].get<std::string>();
  CHECK(msg.find(r->get_header_value("x-amzn-RequestId") + " Task timed out after 1.00 seconds") != std::string::npos);
}

TEST_CASE("a process that exits or crashes is answered Runtime.ExitError with its status") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto exit3 = invoke(c, "crasher", R"({"how": "exit", "code": 3})");
  REQUIRE(exit3);
  CHECK(exit3->status == 200);
  CHECK(exit3->get_header_value("X-Amz-Function-Error") == "Unhandled");
  auto body = json::parse(exit3->body);
  CHECK(body["errorType"] == "Runtime.ExitError");
  CHECK(body["errorMessage"] == "RequestId: " + exit3->get_header_value("x-amzn-RequestId") +
                                    " Error: Runtime exited with error: exit status 3");
  auto segv = invoke(c, "crasher", R"({"how": "signal"})");
  REQUIRE(segv);
  CHECK(json::parse(segv->body)["errorMessage"].get<std::string>().find("signal: segmentation fault") != std::string::npos);
  auto quiet = invoke(c, "crasher", R"({"how": "exit0"})");
  REQUIRE(quiet);
  CHECK(json::parse(quiet->body)["errorMessage"].get<std::string>().find("Runtime exited without providing a reason") != std::string::npos);

  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 3);
  std::set<std::string> envs;
  for (auto& row : rows) {
    CHECK(row["status"] == "crash");
    CHECK(row["error_type"] == "Runtime.ExitError");
    CHECK(row["cold"] == "1");  // each crash forces a new Init
    envs.insert(row["environment_id"]);
  }
  CHECK(envs.size() == 3);
}

TEST_CASE("an init error is served to the invoke that triggered the Init") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "init-error", "{}");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("X-Amz-Function-Error") == "Unhandled");
  auto body = json::parse(r->body);
  CHECK(body["errorMessage"] == "init failed on purpose");
  CHECK(body["errorType"] == "RuntimeError");
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 1);
  CHECK(rows[0]["status"] == "error");
  CHECK(rows[0]["error_type"] == "RuntimeError");
  auto env = wait_rows(server.db(), "SELECT * FROM environments WHERE end_reason IS NOT NULL", 1);
  REQUIRE(env.size() == 1);
  CHECK(env[0]["end_reason"] == "init_error");
}

TEST_CASE("a handler exception is a function error, and the environment stays warm") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "raiser", "{}");
  REQUIRE(r);
  CHECK(r->get_header_value("X-Amz-Function-Error") == "Unhandled");
  auto body = json::parse(r->body);
  CHECK(body["errorType"] == "ValueError");
  CHECK(body["errorMessage"] == "bad input on purpose");
  auto again = invoke(c, "raiser", "{}");
  REQUIRE(again);
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 2);
  CHECK(rows[1]["cold"] == "0");
  CHECK(rows[1]["environment_id"] == rows[0]["environment_id"]);
}

TEST_CASE("an Init longer than the Init limit is retried inside the invocation") {
  // slow-init sleeps INIT_SLEEP seconds at import; make it 1.5 s against a 1 s limit.
  ColdlabServer server({"--init-timeout", "1"});
  httplib::Client c("127.0.0.1", server.port());
  auto upd = c.Put("/2015-03-31/functions/slow-init/configuration",
                   R"({"Environment": {"Variables": {"INIT_SLEEP": "1.5"}}})", "application/json");
  REQUIRE(upd);
  REQUIRE(upd->status == 200);
  c.set_read_timeout(30);
  auto r = invoke(c, "slow-init", "{}");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == R"({"ok": true})");
  CHECK(server.stderr_text().find("Phase: init\tStatus: timeout") != std::string::npos);
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 1);
  CHECK(rows[0]["cold"] == "1");
  CHECK(std::stod(rows[0]["init_ms"]) >= 1500);
}

TEST_CASE("a first /next that reaches the Runtime API after the Init limit fired does not take the event") {
  // init-race's first process never asks for an event, but a helper it forked sends that
  // process's first /next 0.3 s after the 1 s limit; the retry asks only 0.8 s after its
  // start. The event must wait for the retry.
  ColdlabServer server({"--init-timeout", "1"});
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(30);
  auto r = invoke(c, "init-race", R"({"k": "v"})");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 200);
  CHECK_FALSE(r->has_header("X-Amz-Function-Error"));
  CHECK(r->body == R"({"k": "v"})");
  CHECK(server.stderr_text().find("Phase: init\tStatus: timeout") != std::string::npos);
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 1);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "ok");
  CHECK(rows[0]["cold"] == "1");
}

TEST_CASE("beyond the concurrency limit invokes get 429 TooManyRequestsException with a Reason") {
  ColdlabServer server({"--max-concurrency", "2"});
  auto results = invoke_parallel(server.port(), 3, "sleeper", R"({"seconds": 0.8})");
  int ok = 0, throttled = 0;
  for (auto& r : results) {
    REQUIRE(r);
    if (r->status == 200) ++ok;
    if (r->status == 429) {
      ++throttled;
      CHECK(r->get_header_value("x-amzn-ErrorType") == "TooManyRequestsException");
      auto body = json::parse(r->body);
      CHECK(body["Reason"] == "ConcurrentInvocationLimitExceeded");
      CHECK(body["message"] == "Rate Exceeded.");
    }
  }
  CHECK(ok == 2);
  CHECK(throttled == 1);
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations WHERE status = 'throttled'", 1);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["environment_id"] == "NULL");
}

TEST_CASE("idle environments are evicted after --idle-timeout") {
  ColdlabServer server({"--idle-timeout", "0.5"});
  httplib::Client c("127.0.0.1", server.port());
  REQUIRE(invoke(c, "echo-native", "{}"));
  REQUIRE(invoke(c, "echo-native", "{}"));  // well within 0.5 s: warm
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  REQUIRE(invoke(c, "echo-native", "{}"));
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 3);
  CHECK(rows[0]["cold"] == "1");
  CHECK(rows[1]["cold"] == "0");
  CHECK(rows[2]["cold"] == "1");
  auto env = wait_rows(server.db(), "SELECT * FROM environments WHERE end_reason = 'idle'", 1);
  REQUIRE(env.size() == 1);
  CHECK(env[0]["id"] == rows[0]["environment_id"]);
  CHECK_FALSE(coldlab::testing::process_alive(std::stoi(env[0]["pid"])));
}

TEST_CASE("UpdateFunctionConfiguration retires environments of the old configuration") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  REQUIRE(invoke(c, "env-dump", "{}"));
  auto upd = c.Put("/2015-03-31/functions/env-dump/configuration",
                   R"({"MemorySize": 512, "Environment": {"Variables": {"COLOR": "blue"}}})", "application/json");
  REQUIRE(upd);
  REQUIRE(upd->status == 200);
  auto conf = json::parse(upd->body);
  CHECK(conf["MemorySize"] == 512);
  CHECK(conf["Environment"]["Variables"]["COLOR"] == "blue");
  auto r = invoke(c, "env-dump", "{}");
  REQUIRE(r);
  auto env = json::parse(r->body)["env"];
  CHECK(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512");
  CHECK(env["COLOR"] == "blue");
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 2);
  CHECK(rows[1]["cold"] == "1");
  CHECK(rows[1]["memory_mb"] == "512");
  auto ended = wait_rows(server.db(), "SELECT * FROM environments WHERE end_reason = 'config_update'", 1);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0]["id"] == rows[0]["environment_id"]);

  auto bad = c.Put("/2015-03-31/functions/env-dump/configuration", R"({"MemorySize": 64})", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  auto reserved = c.Put("/2015-03-31/functions/env-dump/configuration",
                        R"({"Environment": {"Variables": {"AWS_REGION": "x"}}})", "application/json");
  REQUIRE(reserved);
  CHECK(reserved->status == 400);
  CHECK(reserved->get_header_value("x-amzn-ErrorType") == "InvalidParameterValueException");
}

TEST_CASE("a process gets Lambda's environment, its code folder, and its own Runtime API") {
  ColdlabServer server;
  auto results = invoke_parallel(server.port(), 2, "env-dump", "{}");
  std::set<std::string> apis;
  for (auto& r : results) {
    REQUIRE(r);
    auto body = json::parse(r->body);
    auto env = body["env"];
    CHECK(body["cwd"] == (coldlab::testing::source_dir() / "tests" / "functions" / "env-dump").string());
    CHECK(env["_HANDLER"] == "app.handler");
    CHECK(env["LAMBDA_TASK_ROOT"] == body["cwd"]);
    CHECK(env["AWS_LAMBDA_FUNCTION_NAME"] == "env-dump");
    CHECK(env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST");
    CHECK(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024");
    CHECK(env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env-dump");
    CHECK(env["AWS_LAMBDA_LOG_STREAM_NAME"].get<std::string>().find("/[$LATEST]") != std::string::npos);
    CHECK(env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand");
    CHECK(env["AWS_REGION"] == "us-east-1");
    CHECK(env["TZ"] == ":UTC");
    CHECK_FALSE(env.contains("HOME"));  // a clean environment, not the emulator's
    apis.insert(env["AWS_LAMBDA_RUNTIME_API"].get<std::string>());
  }
  CHECK(apis.size() == 2);  // one Runtime API per environment

  // The Runtime API refuses answers for unknown or finished invocations.
  auto api = *apis.begin();
  httplib::Client rt("http://" + api);
  auto unknown = rt.Post("/2018-06-01/runtime/invocation/not-a-request/response", "{}", "application/json");
  REQUIRE(unknown);
  CHECK(unknown->status == 400);
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 2);
  bool late_refused = false;
  for (auto& row : rows) {
    auto late = rt.Post(("/2018-06-01/runtime/invocation/" + row["request_id"] + "/response").c_str(), "{}",
                        "application/json");
    REQUIRE(late);
    late_refused |= late->status == 403;  // the one this environment served
  }
  CHECK(late_refused);
  auto init_err = rt.Post("/2018-06-01/runtime/init/error", "{}", "application/json");
  REQUIRE(init_err);
  CHECK(init_err->status == 403);  // Init is long over
}
