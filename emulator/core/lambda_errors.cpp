#include "core/lambda_errors.h"

#include "core/clock.h"
#include "core/json_text.h"

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

namespace coldlab::core {

using nlohmann::json;

std::string timeout_error(const std::string& request_id, int timeout_s, bool legacy, int64_t now_us) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", static_cast<double>(timeout_s));
  if (legacy) {
    return json_text(json{{"errorMessage", iso8601_ms(now_us, "Z") + " " + request_id + " Task timed out after " + secs + " seconds"}});
  }
  return json_text(json{{"errorType", "Sandbox.Timedout"},
              {"errorMessage", "RequestId: " + request_id + " Error: Task timed out after " + secs + " seconds"}});
}

std::string exit_error(const std::string& request_id, const std::string& detail) {
  std::string what = detail.empty() ? "Runtime exited without providing a reason"
                                    : "Runtime exited with error: " + detail;
  return json_text(json{{"errorType", "Runtime.ExitError"},
              {"errorMessage", "RequestId: " + request_id + " Error: " + what}});
}

std::string response_too_large_error() {
  return json_text(json{{"errorMessage", "Response payload size exceeded maximum allowed payload size (" +
                                   std::to_string(kMaxResponseBytes) + " bytes)."},
              {"errorType", "Function.ResponseSizeTooLarge"}});
}

std::string function_error(const std::string& type, const std::string& message) {
  return json_text(json{{"errorType", type}, {"errorMessage", message}});
}

namespace {
// (Runtime|Function)\.[A-Z][a-zA-Z]+ : the RIE keeps a header only in this Category.Reason
// form; so do we.
bool has_lambda_error_shape(const std::string& t) {
  size_t dot;
  if (t.rfind("Runtime.", 0) == 0) dot = 7;
  else if (t.rfind("Function.", 0) == 0) dot = 8;
  else return false;
  if (t.size() < dot + 3 || !std::isupper(static_cast<unsigned char>(t[dot + 1]))) return false;
  for (size_t i = dot + 2; i < t.size(); ++i)
    if (!std::isalpha(static_cast<unsigned char>(t[i]))) return false;
  return true;
}
}  // namespace

std::string error_type_of(const std::string& header, const std::string& body, const std::string& fallback) {
  if (has_lambda_error_shape(header)) return header;
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("errorType") && doc["errorType"].is_string()) {
    auto t = doc["errorType"].get<std::string>();
    if (!t.empty()) return t;
  }
  if (!header.empty()) return header;
  return fallback;
}

std::string runtime_error_body(const std::string& type, const std::string& message) {
  return json_text(json{{"errorType", type}, {"errorMessage", message}});
}

std::string ServiceError::body() const {
  json doc{{"Type", "User"}};
  doc[lowercase_message ? "message" : "Message"] = message;
  if (reason) doc["Reason"] = *reason;
  return json_text(doc);
}

ServiceError function_not_found(const std::string& arn) {
  return {404, "ResourceNotFoundException", "Function not found: " + arn, false, std::nullopt};
}

ServiceError request_too_large(int64_t size, bool async) {
  if (async)
    return {413, "RequestEntityTooLargeException",
            std::to_string(size) + " byte payload is too large for the Event invocation type (limit " +
                std::to_string(kMaxAsyncRequestBytes) + " bytes)",
            false, std::nullopt};
  return {413, "RequestEntityTooLargeException",
          "Request must be smaller than " + std::to_string(kMaxSyncRequestBytes) +
              " bytes for the InvokeFunction operation",
          false, std::nullopt};
}

ServiceError invalid_request_content(const std::string& parse_error) {
  return {400, "InvalidRequestContentException",
          "Could not parse request body into json: Could not parse payload into json: " + parse_error,
          true, std::nullopt};
}

ServiceError too_many_requests(const std::string& reason) {
  return {429, "TooManyRequestsException", "Rate Exceeded.", true, reason};
}

ServiceError validation_error(const std::string& message) {
  return {400, "ValidationException", message, false, std::nullopt};
}

ServiceError invalid_parameter(const std::string& message) {
  return {400, "InvalidParameterValueException", message, false, std::nullopt};
}

ServiceError service_unavailable(const std::string& message) {
  return {503, "ServiceException", message, false, std::nullopt};
}

ServiceError unknown_operation(const std::string& method, const std::string& path) {
  return {404, "UnknownOperationException", "Unknown operation " + method + " " + path, false,
          std::nullopt};
}

}  // namespace coldlab::core
