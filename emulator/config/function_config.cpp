#include "config/function_config.h"

#include <charconv>
#include <set>
#include <string_view>

namespace coldlab::config {

namespace {

// Oldest and newest python3.N that coldlab's runtime client is written for.
constexpr int kOldestPythonMinor = 8;
constexpr int kNewestPythonMinor = 14;

bool is_supported_python(const std::string& runtime) {
  constexpr std::string_view kPrefix = "python3.";
  if (runtime.size() <= kPrefix.size() || runtime.compare(0, kPrefix.size(), kPrefix) != 0) {
    return false;
  }
  const char* first = runtime.data() + kPrefix.size();
  const char* last = runtime.data() + runtime.size();
  if (*first == '0') return false;  // "python3.08" is not a Lambda identifier
  int minor = 0;
  auto [end, ec] = std::from_chars(first, last, minor);
  return ec == std::errc() && end == last && minor >= kOldestPythonMinor &&
         minor <= kNewestPythonMinor;
}

}  // namespace

std::optional<RuntimeKind> runtime_kind(const std::string& runtime) {
  if (runtime == "provided" || runtime == "provided.al2" || runtime == "provided.al2023") {
    return RuntimeKind::kProvided;
  }
  if (is_supported_python(runtime)) return RuntimeKind::kPython;
  // Every Java runtime runs on the one JDK installed (17 on Debian 12); java8.al2 is
  // left out because its handlers may use APIs removed since.
  if (runtime == "java11" || runtime == "java17" || runtime == "java21") return RuntimeKind::kJava;
  return std::nullopt;
}

std::optional<std::string> validate_memory_size(long long mb) {
  if (mb >= 128 && mb <= 10240) return std::nullopt;
  return "MemorySize must be between 128 and 10240 MB, got " + std::to_string(mb);
}

std::optional<std::string> validate_timeout(long long seconds) {
  if (seconds >= 1 && seconds <= 900) return std::nullopt;
  return "Timeout must be between 1 and 900 seconds, got " + std::to_string(seconds);
}

bool is_reserved_variable(const std::string& name) {
  static const std::set<std::string, std::less<>> kReserved = {
      "AWS_REGION",
      "AWS_DEFAULT_REGION",
      "AWS_LAMBDA_FUNCTION_NAME",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
      "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE",
      "AWS_LAMBDA_LOG_GROUP_NAME",
      "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_RUNTIME_API",
      "LAMBDA_TASK_ROOT",
      "LAMBDA_RUNTIME_DIR",
      "_HANDLER",
      "_X_AMZN_TRACE_ID",
  };
  return kReserved.count(name) != 0;
}

}  // namespace coldlab::config
