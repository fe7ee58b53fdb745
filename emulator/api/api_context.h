// What the client-side HTTP APIs (Invoke and management) share: the objects they talk to,
// how a FunctionName + Qualifier is resolved, and how a function is described.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/dispatcher.h"
#include "core/function_registry.h"
#include "core/lambda_errors.h"

namespace coldlab::api {

class AsyncInvoker;

struct ApiContext {
  core::FunctionRegistry* registry = nullptr;
  core::Dispatcher* dispatcher = nullptr;
  AsyncInvoker* async = nullptr;
  core::Clock* clock = nullptr;
  std::string region = "us-east-1";
  std::string account = "123456789012";
  int max_concurrency = 1000;
};

struct ResolvedFunction {
  std::string name;                          // as far as it could be parsed
  std::optional<core::FunctionState> state;  // set on success
  std::optional<core::ServiceError> error;   // set on failure
};

// Resolves a FunctionName path element (name, partial or full ARN, optionally qualified)
// and the Qualifier query parameter. Only $LATEST exists until versions do: any other
// qualifier is ResourceNotFoundException, as Lambda answers for an unknown version.
ResolvedFunction resolve_function(const ApiContext& ctx, const std::string& function_name,
                                  const std::string& qualifier_param);

// Lambda's FunctionConfiguration document for a function.
nlohmann::json function_configuration(const core::FunctionState& function, const ApiContext& ctx);

// An X-Ray trace header value of the shape Lambda passes to functions.
std::string new_trace_id(int64_t now_us);

// ISO 8601 with milliseconds and +0000, as Lambda writes LastModified.
std::string lambda_timestamp(int64_t epoch_us);

}  // namespace coldlab::api
