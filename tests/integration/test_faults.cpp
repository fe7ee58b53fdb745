// Faults: runtimes that die halfway through an answer. Whatever dies, the caller gets one
// of Lambda's answers and the log records it as what the caller saw.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using coldlab::testing::invoke;
using coldlab::testing::query;
using nlohmann::json;

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
