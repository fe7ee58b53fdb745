// AWS Signature Version 4, for `coldlab run --endpoint` against real Lambda: the headers that
// sign one HTTP request with an access key, as every AWS SDK does. Emulators (coldlab too)
// accept unsigned requests; AWS refuses them.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace coldlab::driver {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; nullopt if the first two
// are not both set.
std::optional<AwsCredentials> credentials_from_environment();

struct SigningRequest {
  std::string method;        // "POST"
  std::string host;          // "lambda.us-east-1.amazonaws.com" (with ":port" if not the default)
  std::string path;          // as sent, percent-encoded: "/2015-03-31/functions/f/invocations"
  std::string query;         // canonical query string (sorted, encoded); empty if none
  std::vector<std::pair<std::string, std::string>> headers;  // other headers to sign (name, value)
  std::string payload;
  std::string region;        // "us-east-1"
  std::string service;       // "lambda"
  std::string amz_date;      // "20150830T123600Z" (UTC)
};

// The headers to add to the request: X-Amz-Date, X-Amz-Security-Token (with a session
// token), Authorization. Host and `headers` are signed; the payload's SHA-256 is part of the
// signature.
std::vector<std::pair<std::string, std::string>> sign_v4(const SigningRequest& request,
                                                         const AwsCredentials& credentials);

// The Authorization header's Signature= value alone (for tests against AWS's published vectors).
std::string signature_v4(const SigningRequest& request, const AwsCredentials& credentials);

// "YYYYMMDDTHHMMSSZ" for now (UTC).
std::string amz_date_now();

// The region of an AWS Lambda endpoint ("https://lambda.eu-west-1.amazonaws.com" ->
// "eu-west-1"); nullopt for anything else (an emulator).
std::optional<std::string> lambda_endpoint_region(const std::string& endpoint);

// RFC 3986 percent-encoding of a path segment (unreserved characters are kept).
std::string uri_encode(const std::string& text);

}  // namespace coldlab::driver
