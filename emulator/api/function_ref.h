// Parsing of the FunctionName path element of Lambda's APIs: a name, a name with a
// qualifier, a partial ARN or a full ARN, exactly as Lambda's pattern allows.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace coldlab::api {

struct FunctionRef {
  std::string name;                      // bare function name
  std::optional<std::string> qualifier;  // version or alias appended with ':', e.g. "$LATEST"
  std::optional<std::string> region;     // from a full ARN
  std::optional<std::string> account;    // from a full or partial ARN
};

// Returns nullopt when `text` does not match Lambda's FunctionName pattern
//   (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?
//   ([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?
// or breaks its length limits (1-170 characters; a bare name at most 64).
std::optional<FunctionRef> parse_function_ref(std::string_view text);

// arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
std::string function_arn(const std::string& region, const std::string& account,
                         const std::string& name, const std::string& qualifier = "");

}  // namespace coldlab::api
