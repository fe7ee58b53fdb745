#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "core/lambda_errors.h"

using nlohmann::json;
namespace core = coldlab::core;

namespace {

const std::string kId = "8f5a2c1e-3b4d-4e6f-9a0b-1c2d3e4f5a6b";

json parse(const std::string& body) {
  auto doc = json::parse(body, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  REQUIRE(doc.is_object());
  return doc;
}

}  // namespace

// --- Function errors --------------------------------------------------------------------

TEST_CASE("lambda_errors: timeout_error in the current wording", "[lambda_errors]") {
  const auto doc = parse(core::timeout_error(kId, 3, false, 1'704'164'645'678'901));
  CHECK(doc.size() == 2);
  CHECK(doc.at("errorType") == "Sandbox.Timedout");
  CHECK(doc.at("errorMessage") == "RequestId: " + kId + " Error: Task timed out after 3.00 seconds");
}

TEST_CASE("lambda_errors: timeout_error prints the timeout with two decimals", "[lambda_errors]") {
  CHECK(parse(core::timeout_error("r", 900, false, 0)).at("errorMessage") ==
        "RequestId: r Error: Task timed out after 900.00 seconds");
  CHECK(parse(core::timeout_error("r", 1, true, 0)).at("errorMessage") ==
        "1970-01-01T00:00:00.000Z r Task timed out after 1.00 seconds");
}

TEST_CASE("lambda_errors: timeout_error in the legacy wording has a date and no errorType",
          "[lambda_errors]") {
  // 2024-01-02T03:04:05Z is 1704164645 s after the epoch; plus 678.901 ms.
  const auto doc = parse(core::timeout_error(kId, 3, true, 1'704'164'645'678'901));
  CHECK(doc.size() == 1);
  CHECK_FALSE(doc.contains("errorType"));
  CHECK(doc.at("errorMessage") ==
        "2024-01-02T03:04:05.678Z " + kId + " Task timed out after 3.00 seconds");
}

TEST_CASE("lambda_errors: exit_error with a detail", "[lambda_errors]") {
  const auto doc = parse(core::exit_error(kId, "signal: killed"));
  CHECK(doc.size() == 2);
  CHECK(doc.at("errorType") == "Runtime.ExitError");
  CHECK(doc.at("errorMessage") ==
        "RequestId: " + kId + " Error: Runtime exited with error: signal: killed");
}

TEST_CASE("lambda_errors: exit_error without a detail", "[lambda_errors]") {
  const auto doc = parse(core::exit_error(kId, ""));
  CHECK(doc.at("errorType") == "Runtime.ExitError");
  CHECK(doc.at("errorMessage") ==
        "RequestId: " + kId + " Error: Runtime exited without providing a reason");
}

TEST_CASE("lambda_errors: response_too_large_error names the 6291556 byte limit",
          "[lambda_errors]") {
  CHECK(core::kMaxResponseBytes == 6'291'556);
  const auto doc = parse(core::response_too_large_error());
  CHECK(doc.size() == 2);
  CHECK(doc.at("errorType") == "Function.ResponseSizeTooLarge");
  CHECK(doc.at("errorMessage") ==
        "Response payload size exceeded maximum allowed payload size (6291556 bytes).");
}

TEST_CASE("lambda_errors: function_error and runtime_error_body escape their text",
          "[lambda_errors]") {
  const std::string nasty = "quote \" backslash \\ newline \n tab \t unicode \xC3\xA9";
  for (const auto& body : {core::function_error("My.Type", nasty),
                           core::runtime_error_body("My.Type", nasty)}) {
    const auto doc = parse(body);
    CHECK(doc.size() == 2);
    CHECK(doc.at("errorType") == "My.Type");
    CHECK(doc.at("errorMessage") == nasty);
  }
}

// --- error_type_of ----------------------------------------------------------------------

TEST_CASE("lambda_errors: error_type_of prefers a header in Category.Reason shape",
          "[lambda_errors]") {
  const std::string body = R"({"errorType":"FromBody","errorMessage":"x"})";
  CHECK(core::error_type_of("Runtime.Foo", body, "Fallback") == "Runtime.Foo");
  CHECK(core::error_type_of("Function.BadThing", body, "Fallback") == "Function.BadThing");
  CHECK(core::error_type_of("Runtime.Foo", "not json", "Fallback") == "Runtime.Foo");
  // The shortest reason the shape allows: an upper-case letter and one more letter.
  CHECK(core::error_type_of("Function.Ab", body, "Fallback") == "Function.Ab");
  CHECK(core::error_type_of("Runtime.ABC", body, "Fallback") == "Runtime.ABC");
}

TEST_CASE("lambda_errors: error_type_of lets the body's errorType beat a malformed header",
          "[lambda_errors]") {
  const std::string body = R"({"errorType":"FromBody","errorMessage":"x"})";
  for (const char* header : {"bogus", "Runtime.foo", "Other.Foo", "Runtime.", "Runtime.F",
                             "Runtime.Foo.Bar", "Runtime.Foo ", "Runtime.Foo1", "Runtime.Fo_o",
                             "runtime.Foo", "Runtime", "Runtime.Foo\n", " Runtime.Foo",
                             "XRuntime.Foo", "Runtime..Foo"}) {
    CAPTURE(header);
    CHECK(core::error_type_of(header, body, "Fallback") == "FromBody");
  }
  CHECK(core::error_type_of("", body, "Fallback") == "FromBody");
}

TEST_CASE("lambda_errors: error_type_of falls back to the header then to the fallback",
          "[lambda_errors]") {
  const std::string no_type = R"({"errorMessage":"x"})";
  CHECK(core::error_type_of("bogus", no_type, "Fallback") == "bogus");
  CHECK(core::error_type_of("", no_type, "Fallback") == "Fallback");
  CHECK(core::error_type_of("", "", "Fallback") == "Fallback");
  CHECK(core::error_type_of("", "not json {", "Fallback") == "Fallback");
  CHECK(core::error_type_of("", "[1,2]", "Fallback") == "Fallback");
  // An errorType that is empty or not a string does not count.
  CHECK(core::error_type_of("", R"({"errorType":""})", "Fallback") == "Fallback");
  CHECK(core::error_type_of("", R"({"errorType":42})", "Fallback") == "Fallback");
  CHECK(core::error_type_of("bogus", R"({"errorType":null})", "Fallback") == "bogus");
}

// --- Service errors ---------------------------------------------------------------------

TEST_CASE("lambda_errors: TooManyRequests body says lowercase message and has a Reason",
          "[lambda_errors]") {
  const auto e = core::too_many_requests("ReservedFunctionConcurrentInvocationLimitExceeded");
  CHECK(e.status == 429);
  CHECK(e.code == "TooManyRequestsException");
  const auto doc = parse(e.body());
  CHECK(doc.size() == 3);
  CHECK(doc.at("Type") == "User");
  CHECK(doc.at("message") == "Rate Exceeded.");
  CHECK_FALSE(doc.contains("Message"));
  CHECK(doc.at("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded");
}

TEST_CASE("lambda_errors: ResourceNotFound body says capitalised Message and no Reason",
          "[lambda_errors]") {
  const std::string arn = "arn:aws:lambda:us-east-1:123456789012:function:nope";
  const auto e = core::function_not_found(arn);
  CHECK(e.status == 404);
  CHECK(e.code == "ResourceNotFoundException");
  const auto doc = parse(e.body());
  CHECK(doc.size() == 2);
  CHECK(doc.at("Type") == "User");
  CHECK(doc.at("Message") == "Function not found: " + arn);
  CHECK_FALSE(doc.contains("message"));
  CHECK_FALSE(doc.contains("Reason"));
}

TEST_CASE("lambda_errors: ServiceError body follows its casing flag and escapes",
          "[lambda_errors]") {
  core::ServiceError e;
  e.message = "say \"hi\"\n";
  CHECK(parse(e.body()).at("Message") == e.message);
  e.lowercase_message = true;
  e.reason = "Why";
  const auto doc = parse(e.body());
  CHECK(doc.at("message") == e.message);
  CHECK(doc.at("Reason") == "Why");
}

TEST_CASE("lambda_errors: request_too_large for a synchronous invoke names 6291456 bytes",
          "[lambda_errors]") {
  CHECK(core::kMaxSyncRequestBytes == 6'291'456);
  const auto e = core::request_too_large(7'000'000, false);
  CHECK(e.status == 413);
  CHECK(e.code == "RequestEntityTooLargeException");
  CHECK(e.message == "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
  CHECK(parse(e.body()).at("Message") == e.message);
}

TEST_CASE("lambda_errors: request_too_large for an Event invoke names the size and 1048576",
          "[lambda_errors]") {
  CHECK(core::kMaxAsyncRequestBytes == 1'048'576);
  const auto e = core::request_too_large(2'000'000, true);
  CHECK(e.status == 413);
  CHECK(e.code == "RequestEntityTooLargeException");
  CHECK(e.message ==
        "2000000 byte payload is too large for the Event invocation type (limit 1048576 bytes)");
}

TEST_CASE("lambda_errors: status code and error type of every other factory",
          "[lambda_errors]") {
  SECTION("invalid_request_content") {
    const auto e = core::invalid_request_content("unexpected end of input");
    CHECK(e.status == 400);
    CHECK(e.code == "InvalidRequestContentException");
    CHECK(e.message ==
          "Could not parse request body into json: Could not parse payload into json: "
          "unexpected end of input");
    CHECK(parse(e.body()).at("message") == e.message);
  }
  SECTION("validation_error") {
    const auto e = core::validation_error("bad value");
    CHECK(e.status == 400);
    CHECK(e.code == "ValidationException");
    CHECK(e.message == "bad value");
    CHECK(parse(e.body()).at("Message") == "bad value");
  }
  SECTION("invalid_parameter") {
    const auto e = core::invalid_parameter("bad parameter");
    CHECK(e.status == 400);
    CHECK(e.code == "InvalidParameterValueException");
    CHECK(e.message == "bad parameter");
  }
  SECTION("service_unavailable") {
    const auto e = core::service_unavailable("shutting down");
    CHECK(e.status == 503);
    CHECK(e.code == "ServiceException");
    CHECK(e.message == "shutting down");
  }
  SECTION("unknown_operation") {
    const auto e = core::unknown_operation("GET", "/2015-03-31/nothing");
    CHECK(e.status == 404);
    CHECK(e.code == "UnknownOperationException");
    CHECK(e.message == "Unknown operation GET /2015-03-31/nothing");
  }
  SECTION("none but too_many_requests carries a Reason") {
    for (const auto& e : {core::function_not_found("x"), core::request_too_large(1, false),
                          core::invalid_request_content("x"), core::validation_error("x"),
                          core::invalid_parameter("x"), core::service_unavailable("x"),
                          core::unknown_operation("GET", "/")}) {
      CAPTURE(e.code);
      CHECK_FALSE(e.reason);
      CHECK_FALSE(parse(e.body()).contains("Reason"));
    }
  }
}
