// Java handlers written for Lambda (tests/functions/aws-java-handler, compiled against
// aws-lambda-java-core's interfaces only) through the real emulator: the event reaches them
// as the type they declare, their answers come back as the JSON Lambda returns, bad events get
// Lambda's error shape, and the Context tells them the truth.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "coldlab_server.h"

using coldlab::testing::ColdlabServer;
using nlohmann::json;

namespace {

httplib::Result invoke(httplib::Client& c, const std::string& function, const std::string& body,
                       httplib::Headers headers = {}) {
  return c.Post(("/2015-03-31/functions/" + function + "/invocations").c_str(), headers, body, "application/json");
}

const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// For X-Amz-Client-Context and X-Amz-Log-Result; the emulator's own codec has unit tests.
std::string b64encode(const std::string& in) {
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char ch : in) {
    val = (val << 8) + ch;
    bits += 8;
    while (bits >= 0) {
      out.push_back(kAlphabet[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(kAlphabet[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

std::string b64decode(const std::string& in) {
  std::string out;
  int val = 0, bits = -8;
  for (char ch : in) {
    const auto pos = kAlphabet.find(ch);
    if (pos == std::string::npos) break;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

// What Lambda's Java runtime answers when the event cannot be read as the handler's type.
void check_parse_error(const httplib::Result& r) {
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("X-Amz-Function-Error") == "Unhandled");
  const json error = json::parse(r->body);
  CHECK(error["errorType"] == "java.lang.RuntimeException");
  CHECK(error["errorMessage"] == "An error occurred during JSON parsing");
  CHECK(error["stackTrace"].is_array());
}

}  // namespace

TEST_CASE("Java RequestHandler of beans: the event's members arrive, the answer is the bean's JSON") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(60);

  // "extra" is no member of Order: ignored, as Lambda's reader ignores unknown members.
  auto r = invoke(c, "aws-java-pojo",
                  R"({"id": "o-1", "quantity": 3, "unitPrice": 2.5, "extra": true,
                      "customer": {"name": "Ada", "email": "ada@example.com"}, "tags": ["a", "b"]})");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  CHECK_FALSE(r->has_header("X-Amz-Function-Error"));
  // Receipt's null `note` is left out, as Lambda's writer leaves out null members.
  CHECK(json::parse(r->body) == json::parse(R"({"orderId": "o-1", "customer": "Ada", "total": 7.5, "tagCount": 2})"));

  // Jackson's leniencies, which handlers on Lambda come to rely on: a fraction into an int is
  // cut off, and a single value where a list is wanted is a list of one.
  auto lenient = invoke(c, "aws-java-pojo", R"({"id": "o-5", "quantity": 2.9, "unitPrice": 1.5, "tags": "solo"})");
  REQUIRE(lenient);
  INFO(lenient->body);
  CHECK(json::parse(lenient->body) == json::parse(R"({"orderId": "o-5", "total": 3.0, "tagCount": 1})"));

  // Members that do not fit the bean, or no object at all: the runtime's error, not the handler's.
  check_parse_error(invoke(c, "aws-java-pojo", R"({"id": "o-2", "quantity": "many"})"));
  check_parse_error(invoke(c, "aws-java-pojo", "[1, 2]"));

  // The handler's own exception: its class and message, as on Lambda.
  auto thrown = invoke(c, "aws-java-pojo", R"({"id": "o-3", "quantity": -1})");
  REQUIRE(thrown);
  CHECK(thrown->get_header_value("X-Amz-Function-Error") == "Unhandled");
  const json error = json::parse(thrown->body);
  CHECK(error["errorType"] == "java.lang.IllegalArgumentException");
  CHECK(error["errorMessage"] == "quantity must be >= 0");

  // None of that cost the environment: still the same, warm one.
  auto again = invoke(c, "aws-java-pojo", R"({"id": "o-4", "quantity": 1, "unitPrice": 4})");
  REQUIRE(again);
  CHECK(json::parse(again->body) == json::parse(R"({"orderId": "o-4", "total": 4.0, "tagCount": 0})"));
  auto rows = coldlab::testing::wait_rows(server.db(), "SELECT cold FROM invocations ORDER BY id", 6);
  CHECK(rows.front()["cold"] == "1");
  CHECK(rows.back()["cold"] == "0");
}

TEST_CASE("Java handler method taking a Map: members typed as Lambda types them, and the Context's getters") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(60);

  const std::string client_context =
      R"({"custom": {"k": "v"}, "env": {"platform": "Linux"}, "client": {"app_title": "t"}})";
  auto r = invoke(c, "aws-java-map",
                  R"({"count": 3, "big": 10000000000, "ratio": 0.5, "name": "x", "flag": true,
                      "list": [1], "obj": {"a": 1}, "nothing": null})",
                  {{"X-Amz-Client-Context", b64encode(client_context)}, {"X-Amz-Log-Type", "Tail"}});
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  CHECK_FALSE(r->has_header("X-Amz-Function-Error"));
  const json answer = json::parse(r->body);
  // Whole numbers as Integer while they fit, then Long: a handler may cast to either.
  CHECK(answer["types"] == json::parse(R"({"count": "Integer", "big": "Long", "ratio": "Double", "name": "String",
                                            "flag": "Boolean", "list": "List", "obj": "Map", "nothing": "null"})"));

  const json& ctx = answer["context"];
  CHECK(ctx["awsRequestId"] == r->get_header_value("x-amzn-RequestId"));
  CHECK_FALSE(r->get_header_value("x-amzn-RequestId").empty());
  CHECK(ctx["functionName"] == "aws-java-map");
  CHECK(ctx["functionVersion"] == "$LATEST");
  CHECK(ctx["memoryLimitInMB"] == 1024);
  const std::string arn = ctx["invokedFunctionArn"];
  CHECK(arn.rfind("arn:aws:lambda:", 0) == 0);
  CHECK(arn.ends_with(":function:aws-java-map"));
  CHECK(ctx["remainingTimeInMillis"].get<int>() > 0);
  CHECK(ctx["remainingTimeInMillis"].get<int>() <= 6000);  // Timeout: 6
  CHECK(ctx["logGroupName"] == "/aws/lambda/aws-java-map");
  CHECK_FALSE(ctx["logStreamName"].get<std::string>().empty());
  CHECK(ctx["hasIdentity"] == false);
  CHECK(ctx["clientCustom"] == json::parse(R"({"k": "v"})"));
  CHECK(ctx["clientEnvironment"] == json::parse(R"({"platform": "Linux"})"));
  CHECK(ctx["clientAppTitle"] == "t");
  // context.getLogger() writes to this invocation's log.
  CHECK(b64decode(r->get_header_value("X-Amz-Log-Result")).find("describe: 8 members\n") != std::string::npos);

  // The next invocation has its own id, and no client context.
  auto next = invoke(c, "aws-java-map", "{}");
  REQUIRE(next);
  const json second = json::parse(next->body);
  CHECK(second["context"]["awsRequestId"] == next->get_header_value("x-amzn-RequestId"));
  CHECK(second["context"]["awsRequestId"] != ctx["awsRequestId"]);
  CHECK_FALSE(second["context"].contains("clientCustom"));

  check_parse_error(invoke(c, "aws-java-map", R"("not an object")"));
}

TEST_CASE("Java RequestHandler of String, on a generic base, and RequestStreamHandler: JSON strings, null, raw bytes") {
  ColdlabServer server;
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(60);

  // A String handler is given the JSON string's value, and its answer is written as a JSON string.
  auto hello = invoke(c, "aws-java-string", R"("wörld \"quoted\"")");
  REQUIRE(hello);
  INFO(hello->body);
  CHECK_FALSE(hello->has_header("X-Amz-Function-Error"));
  CHECK(json::parse(hello->body) == "Hello, wörld \"quoted\"");
  auto null_answer = invoke(c, "aws-java-string", "null");
  REQUIRE(null_answer);
  CHECK(null_answer->body == "null");
  check_parse_error(invoke(c, "aws-java-string", R"({"name": "x"})"));

  // The event type of a handler on a generic base comes from its subclass: Order here.
  auto typed = invoke(c, "aws-java-typed", R"({"id": "o-9", "quantity": 4})");
  REQUIRE(typed);
  INFO(typed->body);
  CHECK_FALSE(typed->has_header("X-Amz-Function-Error"));
  CHECK(json::parse(typed->body) == "o-9 x4");

  // A stream handler sees the event's bytes as sent: no JSON reader in between.
  const std::string event = "{ \"a\" :  [1, 2.50, \"<&>\"] }";
  auto echo = invoke(c, "aws-java-stream", event);
  REQUIRE(echo);
  CHECK_FALSE(echo->has_header("X-Amz-Function-Error"));
  CHECK(echo->body == event);
}
