// A function's configuration, as read from an AWS SAM template and changed later by
// UpdateFunctionConfiguration. Plain data; validation rules live beside it so the
// template loader and the management API apply exactly the same ones.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace coldlab::config {

enum class RuntimeKind {
  kProvided,  // provided, provided.al2, provided.al2023: an executable `bootstrap` in the code folder
  kPython,    // python3.N: coldlab's own stdlib-only runtime client runs the handler
  kJava,      // java11, java17, java21: coldlab's JDK-only runtime client runs the handler
};

struct FunctionConfig {
  std::string name;                          // FunctionName (or the resource's logical id)
  std::filesystem::path code_dir;            // absolute; CodeUri resolved against the template's folder
  std::string handler;                       // Handler, passed as _HANDLER
  std::string runtime;                       // as written, e.g. "python3.11"
  RuntimeKind kind = RuntimeKind::kProvided;
  int memory_mb = 128;                       // Lambda's default
  int timeout_s = 3;                         // Lambda's default
  std::map<std::string, std::string> environment;  // Environment.Variables
  std::string description;
};

// Returns the kind for a runtime identifier Lambda knows and coldlab can run, or nullopt.
std::optional<RuntimeKind> runtime_kind(const std::string& runtime);

// Each returns an error message in Lambda's words if the value is out of range, else nullopt.
// MemorySize: 128..10240. Timeout: 1..900.
std::optional<std::string> validate_memory_size(long long mb);
std::optional<std::string> validate_timeout(long long seconds);

// True for the environment variables Lambda sets itself and refuses in
// Environment.Variables (AWS_REGION, _HANDLER, AWS_LAMBDA_RUNTIME_API, ...).
bool is_reserved_variable(const std::string& name);

}  // namespace coldlab::config
