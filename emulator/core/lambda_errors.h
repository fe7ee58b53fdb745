// Every error shape coldlab shows a caller or a runtime, in one place, worded as Lambda
// words them (shared/reference/lambda-api.md §1.3, §1.4, §3). Nothing else formats errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace coldlab::core {

// --- Function errors: HTTP 200 + X-Amz-Function-Error, the body is one of these. -------

// {"errorType":"Sandbox.Timedout","errorMessage":"RequestId: <id> Error: Task timed out after 1.00 seconds"}
// or, legacy (before 2025): {"errorMessage":"<ISO date> <id> Task timed out after 1.00 seconds"}
std::string timeout_error(const std::string& request_id, int timeout_s, bool legacy, int64_t now_us);
// {"errorType":"Runtime.ExitError","errorMessage":"RequestId: <id> Error: Runtime exited with error: <detail>"}
// With detail empty: "... Error: Runtime exited without providing a reason".
std::string exit_error(const std::string& request_id, const std::string& detail);
// {"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}
std::string response_too_large_error();
// {"errorType": type, "errorMessage": message}
std::string function_error(const std::string& type, const std::string& message);
// The error type of a runtime's /error or /init/error document: the header if it has
// Lambda's Category.Reason shape, else the body's errorType, else `fallback`.
std::string error_type_of(const std::string& header, const std::string& body, const std::string& fallback);

// --- Runtime API errors (to the function process). --------------------------------------

std::string runtime_error_body(const std::string& type, const std::string& message);

// --- Service errors: the request never ran the function. ---------------------------------

struct ServiceError {
  int status = 500;
  std::string code;     // x-amzn-ErrorType
  std::string message;
  bool lowercase_message = false;  // some Lambda errors say "message", others "Message"
  std::optional<std::string> reason;  // TooManyRequestsException's Reason
  // {"Type":"User","Message":...} (plus Reason), as the response body.
  std::string body() const;
};

constexpr int64_t kMaxSyncRequestBytes = 6'291'456;   // 6 MiB
constexpr int64_t kMaxAsyncRequestBytes = 1'048'576;  // 1 MiB (256 KiB before 2025)
constexpr int64_t kMaxResponseBytes = 6'291'556;      // 6 MiB + 100 B

ServiceError function_not_found(const std::string& arn);
ServiceError request_too_large(int64_t size, bool async);
ServiceError invalid_request_content(const std::string& parse_error);
ServiceError too_many_requests(const std::string& reason);
ServiceError validation_error(const std::string& message);
ServiceError invalid_parameter(const std::string& message);
ServiceError service_unavailable(const std::string& message);
ServiceError unknown_operation(const std::string& method, const std::string& path);

}  // namespace coldlab::core
