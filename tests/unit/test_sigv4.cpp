// SigV4 against AWS's published test vectors (the "get-vanilla" cases of the Signature
// Version 4 test suite): the canonical request, key derivation and final HMAC all have to be
// right for the signature to match.
#include <catch2/catch.hpp>

#include "driver/sigv4.h"

using namespace coldlab::driver;

namespace {

const AwsCredentials kExample{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

SigningRequest vanilla() {
  SigningRequest r;
  r.method = "GET";
  r.host = "example.amazonaws.com";
  r.path = "/";
  r.region = "us-east-1";
  r.service = "service";
  r.amz_date = "20150830T123600Z";
  return r;
}

std::string header(const std::vector<std::pair<std::string, std::string>>& headers, const std::string& name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return "";
}

}  // namespace

TEST_CASE("sigv4: AWS's get-vanilla vector", "[sigv4]") {
  CHECK(signature_v4(vanilla(), kExample) == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  const auto headers = sign_v4(vanilla(), kExample);
  CHECK(header(headers, "X-Amz-Date") == "20150830T123600Z");
  CHECK(header(headers, "Authorization") ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  CHECK(header(headers, "X-Amz-Security-Token").empty());
}

TEST_CASE("sigv4: AWS's get-vanilla-query-order-key-case vector", "[sigv4]") {
  SigningRequest r = vanilla();
  r.query = "Param1=value1&Param2=value2";
  CHECK(signature_v4(r, kExample) == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST_CASE("sigv4: the payload, extra headers and a session token change the signature", "[sigv4]") {
  const std::string base = signature_v4(vanilla(), kExample);
  SigningRequest with_body = vanilla();
  with_body.payload = "{}";
  CHECK(signature_v4(with_body, kExample) != base);
  SigningRequest with_header = vanilla();
  with_header.headers = {{"X-Amz-Invocation-Type", " RequestResponse "}};
  const auto signed_headers = sign_v4(with_header, kExample);
  CHECK(header(signed_headers, "Authorization").find("SignedHeaders=host;x-amz-date;x-amz-invocation-type,") !=
        std::string::npos);
  AwsCredentials temporary = kExample;
  temporary.session_token = "token";
  const auto headers = sign_v4(vanilla(), temporary);
  CHECK(header(headers, "X-Amz-Security-Token") == "token");
  CHECK(header(headers, "Authorization").find("SignedHeaders=host;x-amz-date;x-amz-security-token,") !=
        std::string::npos);
}

TEST_CASE("sigv4: AWS Lambda endpoints are recognised by their host, emulators are not", "[sigv4]") {
  CHECK(lambda_endpoint_region("https://lambda.eu-west-1.amazonaws.com") == std::optional<std::string>("eu-west-1"));
  CHECK(lambda_endpoint_region("https://lambda.us-east-1.amazonaws.com/") == std::optional<std::string>("us-east-1"));
  CHECK(lambda_endpoint_region("https://lambda-fips.us-gov-west-1.amazonaws.com") ==
        std::optional<std::string>("us-gov-west-1"));
  CHECK_FALSE(lambda_endpoint_region("http://127.0.0.1:9001"));
  CHECK_FALSE(lambda_endpoint_region("http://localhost:4566"));
  CHECK_FALSE(lambda_endpoint_region("https://lambda.amazonaws.com.evil.example"));
  CHECK(uri_encode("arn:aws:lambda:us-east-1:123:function:f") == "arn%3Aaws%3Alambda%3Aus-east-1%3A123%3Afunction%3Af");
  CHECK(amz_date_now().size() == 16);
}
