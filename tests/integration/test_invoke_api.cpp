// The Invoke API against the real binary: status codes, headers and bodies as Lambda has them.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <latch>
#include <map>
#include <thread>
#include <nlohmann/json.hpp>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using coldlab::testing::query;
using coldlab::testing::wait_rows;
using nlohmann::json;

namespace {

httplib::Result invoke(httplib::Client& c, const std::string& function, const std::string& body,
                       httplib::Headers headers = {}) {
  return c.Post(("/2015-03-31/functions/" + function + "/invocations").c_str(), headers, body, "");
}

std::string b64decode(const std::string& in) {
  // Minimal decoder for the test's own check (the emulator's is tested in unit tests).
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char ch : in) {
    auto pos = chars.find(ch);
    if (pos == std::string::npos) break;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(char((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("invoke returns the payload with Lambda's headers, cold then warm on one environment") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto first = invoke(c, "echo-native", R"({"n":1})");
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->body == R"({"n":1})");
  CHECK(first->get_header_value("X-Amz-Executed-Version") == "$LATEST");
  CHECK(first->get_header_value("x-amzn-RequestId").size() == 36);
  CHECK_FALSE(first->has_header("X-Amz-Function-Error"));
  auto second = invoke(c, "echo-native", R"({"n":2})");
  REQUIRE(second);
  CHECK(second->body == R"({"n":2})");

  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 2);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["cold"] == "1");
  CHECK(std::stod(rows[0]["init_ms"]) > 0);
  CHECK(rows[1]["cold"] == "0");
  CHECK(rows[1]["init_ms"] == "NULL");
  CHECK(rows[0]["environment_id"] == rows[1]["environment_id"]);
  CHECK(rows[0]["request_id"] == first->get_header_value("x-amzn-RequestId"));
  CHECK(rows[1]["status"] == "ok");
}

TEST_CASE("an empty payload reaches the function as an empty JSON object") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "echo-native", "");
  REQUIRE(r);
  CHECK(r->body == "{}");
}

TEST_CASE("valid JSON with a number beyond a double's range reaches the function unchanged") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "echo-native", R"({"features": [1e400, 0, 0]})");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == R"({"features": [1e400, 0, 0]})");
}

TEST_CASE("function names may be partial or full ARNs, with $LATEST") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  for (std::string name : {"123456789012:function:echo-native",
                           "arn:aws:lambda:us-east-1:123456789012:function:echo-native",
                           "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aecho-native%3A%24LATEST",
                           "echo-native:$LATEST"}) {
    auto r = invoke(c, name, "{}");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
}

TEST_CASE("unknown functions and qualifiers are 404 ResourceNotFoundException") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "nope", "{}");
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(r->get_header_value("x-amzn-ErrorType") == "ResourceNotFoundException");
  auto body = json::parse(r->body);
  CHECK(body["Type"] == "User");
  CHECK(body["Message"] == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope:$LATEST");

  auto q = c.Post("/2015-03-31/functions/echo-native/invocations?Qualifier=prod", "{}", "");
  REQUIRE(q);
  CHECK(q->status == 404);
  CHECK(json::parse(q->body)["Message"] ==
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:echo-native:prod");
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 2);
  CHECK(rows.size() == 2);
  CHECK(rows[0]["status"] == "rejected");
  CHECK(rows[0]["error_type"] == "ResourceNotFoundException");
}

TEST_CASE("a body that is not JSON is 400 InvalidRequestContentException with lowercase message") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "echo-native", "this is not json");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(r->get_header_value("x-amzn-ErrorType") == "InvalidRequestContentException");
  auto body = json::parse(r->body);
  CHECK(body.contains("message"));
  CHECK(body["message"].get<std::string>().rfind("Could not parse request body into json", 0) == 0);
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 1);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "rejected");
}

TEST_CASE("an event cut short by a client that stops sending is refused, not run") {
  ColdlabServer server;
  // Valid JSON, but only the first 8 of the 100 bytes announced: the client then stops
  // sending, as one killed mid-request does. (httplib 0.11.4 sends no answer to a client
  // whose side is closed, so only the log tells what was done.)
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string request =
      "POST /2015-03-31/functions/echo-native/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"k\": 1}";
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  shutdown(fd, SHUT_WR);
  char buf[4096];
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
  REQUIRE(server.stop() == 0);
  auto rows = query(server.db(), "SELECT * FROM invocations");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["status"] == "rejected");
  CHECK(rows[0]["error_type"] == "InvalidRequestContentException");
  CHECK(query(server.db(), "SELECT * FROM environments").empty());
}

TEST_CASE("invalid UTF-8 in a body or a function name is a 4xx with a JSON body, never a 500") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  // A body of raw bytes, and JSON whose string holds bytes that are not UTF-8.
  for (const std::string& bad : {std::string("\x87\x00\xff\xfe", 4), std::string("{\"k\":\"\xff\xfe\"}")}) {
    auto r = invoke(c, "echo-native", bad);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->get_header_value("x-amzn-ErrorType") == "InvalidRequestContentException");
    const auto body = json::parse(r->body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["message"].get<std::string>().rfind("Could not parse request body into json", 0) == 0);
  }
  // A name percent-decoding to bytes that are not UTF-8.
  auto r = c.Post("/2015-03-31/functions/%ff%fe/invocations", "{}", "application/json");
  REQUIRE(r);
  CHECK(r->status >= 400);
  CHECK(r->status < 500);
  CHECK(json::parse(r->body, nullptr, false).is_object());
  // Every one of them logged, none lost.
  CHECK(wait_rows(server.db(), "SELECT * FROM invocations WHERE status = 'rejected'", 2).size() >= 2);
}

TEST_CASE("payloads over 6 MiB are 413 RequestEntityTooLargeException, 6 MiB exactly passes") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  std::string exact = "\"" + std::string(6291456 - 2, 'a') + "\"";
  auto ok = invoke(c, "echo-native", exact);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->body.size() == exact.size());
  auto r = invoke(c, "echo-native", exact + " ");
  REQUIRE(r);
  CHECK(r->status == 413);
  CHECK(r->get_header_value("x-amzn-ErrorType") == "RequestEntityTooLargeException");
  CHECK(json::parse(r->body)["Message"] ==
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations WHERE status = 'rejected'", 1);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["request_bytes"] == "6291457");
}

TEST_CASE("a response over 6 MiB + 100 B becomes Function.ResponseSizeTooLarge") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "big-response", R"({"bytes": 7000000})");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("X-Amz-Function-Error") == "Unhandled");
  CHECK(json::parse(r->body)["errorType"] == "Function.ResponseSizeTooLarge");
  // The environment survives it, as on Lambda.
  auto again = invoke(c, "big-response", R"({"bytes": 10})");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK_FALSE(again->has_header("X-Amz-Function-Error"));
}

TEST_CASE("DryRun is 204 and runs nothing, Event is 202 and runs in the background") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto dry = invoke(c, "echo-native", "{}", {{"X-Amz-Invocation-Type", "DryRun"}});
  REQUIRE(dry);
  CHECK(dry->status == 204);
  auto ev = invoke(c, "logger", R"({"lines": 1})", {{"X-Amz-Invocation-Type", "Event"}});
  REQUIRE(ev);
  CHECK(ev->status == 202);
  CHECK(ev->body.empty());
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations", 1);
  REQUIRE(rows.size() == 1);  // the DryRun left no row
  CHECK(rows[0]["invocation_type"] == "Event");
  CHECK(rows[0]["function"] == "logger");
  CHECK(rows[0]["status"] == "ok");
  CHECK(rows[0]["request_id"] == ev->get_header_value("x-amzn-RequestId"));
}

TEST_CASE("a failing Event invocation is retried twice, like Lambda") {
  ColdlabServer server({"--async-retry-delay", "0.2"});
  httplib::Client c("127.0.0.1", server.port());
  auto ev = invoke(c, "raiser", "{}", {{"X-Amz-Invocation-Type", "Event"}});
  REQUIRE(ev);
  CHECK(ev->status == 202);
  auto rows = wait_rows(server.db(), "SELECT * FROM invocations ORDER BY id", 3);
  REQUIRE(rows.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(rows[i]["attempt"] == std::to_string(i + 1));
    CHECK(rows[i]["status"] == "error");
    CHECK(rows[i]["request_id"] == ev->get_header_value("x-amzn-RequestId"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  CHECK(query(server.db(), "SELECT * FROM invocations").size() == 3);  // and no more
}

TEST_CASE("Tail returns the last 4 KB of this invocation's log, platform lines included") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto r = invoke(c, "logger", R"({"lines": 3})", {{"X-Amz-Log-Type", "Tail"}});
  REQUIRE(r);
  auto log = b64decode(r->get_header_value("X-Amz-Log-Result"));
  CHECK(log.rfind("START RequestId: " + r->get_header_value("x-amzn-RequestId"), 0) == 0);
  CHECK(log.find("line 0\nline 1\nline 2\n") != std::string::npos);
  CHECK(log.find("END RequestId: ") != std::string::npos);
  CHECK(log.find("REPORT RequestId: ") != std::string::npos);
  CHECK(log.find("Init Duration: ") != std::string::npos);  // first invoke: cold

  auto big = invoke(c, "logger", R"({"lines": 2000})", {{"X-Amz-Log-Type", "Tail"}});
  REQUIRE(big);
  auto tail = b64decode(big->get_header_value("X-Amz-Log-Result"));
  CHECK(tail.size() == 4096);
  CHECK(tail.find("line 1999\n") != std::string::npos);
  CHECK(tail.find("Init Duration") == std::string::npos);  // warm
  auto none = invoke(c, "logger", R"({"lines": 1})");
  REQUIRE(none);
  CHECK_FALSE(none->has_header("X-Amz-Log-Result"));
}

TEST_CASE("a client context that is not base64 JSON is refused") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  auto bad = invoke(c, "echo-native", "{}", {{"X-Amz-Client-Context", "not base64!"}});
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(bad->get_header_value("x-amzn-ErrorType") == "InvalidParameterValueException");
}

TEST_CASE("the client context and the deadline reach the function") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  // base64 of {"custom":{"k":"v"}}
  auto r = invoke(c, "env-dump", "{}", {{"X-Amz-Client-Context", "eyJjdXN0b20iOnsiayI6InYifX0="}});
  REQUIRE(r);
  auto body = json::parse(r->body);
  CHECK(body["client_context_custom"]["k"] == "v");
  CHECK(body["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:env-dump");
  CHECK(body["remaining_ms"].get<int>() > 2000);  // Timeout 3 s
  CHECK(body["remaining_ms"].get<int>() <= 3000);
}

TEST_CASE("a burst of 400 connections at once is answered, none reset") {
  // The listen backlog must hold a burst: with cpp-httplib's default of 5 the kernel
  // dropped or reset dozens of these connections.
  ColdlabServer server;
  constexpr int kClients = 400;
  std::latch start(kClients);
  std::atomic<int> answered{0};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i)
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", server.port());
      c.set_connection_timeout(30);
      c.set_read_timeout(30);
      start.arrive_and_wait();
      auto r = c.Post("/2015-03-31/functions/echo-native/invocations",
                      {{"X-Amz-Invocation-Type", "DryRun"}}, "{}", "application/json");
      if (r && r->status == 204) {
        ++answered;
      } else {
        failures[i] = r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error());
      }
    });
  for (auto& t : threads) t.join();
  std::map<std::string, int> why;
  for (const auto& f : failures)
    if (!f.empty()) ++why[f];
  for (const auto& [what, n] : why) UNSCOPED_INFO(n << " x " << what);
  CHECK(answered == kClients);
}

