#include <catch2/catch.hpp>
#include <string>

#include "api/function_ref.h"

using coldlab::api::function_arn;
using coldlab::api::parse_function_ref;

TEST_CASE("function_ref: every form Lambda accepts parses", "[function_ref]") {
  const char* accepted = GENERATE("my-fn", "my-fn:$LATEST", "my-fn:prod",
                                  "123456789012:function:my-fn", "123456789012:function:my-fn:1",
                                  "arn:aws:lambda:us-east-1:123456789012:function:my-fn",
                                  "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST");
  CAPTURE(accepted);
  const auto ref = parse_function_ref(accepted);
  REQUIRE(ref);
  CHECK(ref->name == "my-fn");
}

TEST_CASE("function_ref: text outside Lambda's pattern is refused", "[function_ref]") {
  const std::string refused = GENERATE(as<std::string>{}, "", "bad name", "my-fn:a:b",
                                       "arn:aws:s3:::bucket", "my-fn:", ":prod", "my-fn:$NEWEST",
                                       "my/fn", "arn:aws:lambda:us-east-1:123:function:my-fn");
  CAPTURE(refused);
  CHECK_FALSE(parse_function_ref(refused));
}

TEST_CASE("function_ref: a bare name may have 64 characters, not 65", "[function_ref]") {
  CHECK(parse_function_ref(std::string(64, 'a')));
  CHECK_FALSE(parse_function_ref(std::string(65, 'a')));
}

TEST_CASE("function_ref: the whole reference is limited to 170 characters", "[function_ref]") {
  const std::string prefix = "arn:aws:lambda:us-east-1:123456789012:function:";
  const std::string name(64, 'f');
  const std::string fits = prefix + name + ":" + std::string(170 - prefix.size() - 65, 'q');
  REQUIRE(fits.size() == 170);
  CHECK(parse_function_ref(fits));
  CHECK_FALSE(parse_function_ref(fits + "q"));
}

TEST_CASE("function_ref: a plain name has no qualifier, account or region", "[function_ref]") {
  const auto ref = parse_function_ref("my-fn");
  REQUIRE(ref);
  CHECK_FALSE(ref->qualifier);
  CHECK_FALSE(ref->account);
  CHECK_FALSE(ref->region);
}

TEST_CASE("function_ref: the qualifier is what follows the name", "[function_ref]") {
  CHECK(parse_function_ref("my-fn:$LATEST")->qualifier == "$LATEST");
  CHECK(parse_function_ref("my-fn:prod")->qualifier == "prod");
  CHECK(parse_function_ref("123456789012:function:my-fn:1")->qualifier == "1");
}

TEST_CASE("function_ref: a partial ARN gives the account but no region", "[function_ref]") {
  const auto ref = parse_function_ref("123456789012:function:my-fn:7");
  REQUIRE(ref);
  CHECK(ref->account == "123456789012");
  CHECK_FALSE(ref->region);
  CHECK(ref->name == "my-fn");
  CHECK(ref->qualifier == "7");
}

TEST_CASE("function_ref: a full ARN gives region, account, name and qualifier", "[function_ref]") {
  const auto ref =
      parse_function_ref("arn:aws:lambda:eu-west-2:210987654321:function:fn.v2:$LATEST");
  REQUIRE(ref);
  CHECK(ref->region == "eu-west-2");
  CHECK(ref->account == "210987654321");
  CHECK(ref->name == "fn.v2");
  CHECK(ref->qualifier == "$LATEST");
}

TEST_CASE("function_ref: GovCloud and other partitions are accepted", "[function_ref]") {
  const auto ref =
      parse_function_ref("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f");
  REQUIRE(ref);
  CHECK(ref->region == "us-gov-west-1");
  CHECK(ref->name == "f");
}

TEST_CASE("function_arn: builds Lambda's ARN, with the qualifier only when given",
          "[function_ref]") {
  CHECK(function_arn("us-east-1", "123456789012", "my-fn") ==
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn");
  CHECK(function_arn("us-east-1", "123456789012", "my-fn", "$LATEST") ==
        "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST");
}

TEST_CASE("function_arn: its output parses back to the same parts", "[function_ref]") {
  const auto ref = parse_function_ref(function_arn("ap-south-1", "000000000000", "echo", "live"));
  REQUIRE(ref);
  CHECK(ref->region == "ap-south-1");
  CHECK(ref->account == "000000000000");
  CHECK(ref->name == "echo");
  CHECK(ref->qualifier == "live");
}
