#include "api/function_ref.h"

#include <regex>

namespace coldlab::api {

namespace {

// Lambda's FunctionName pattern, with its groups made non-capturing except the four
// parts we return. The character classes are spelled out so that no '-' can be read as
// a range.
const std::regex& function_name_pattern() {
  static const std::regex pattern(R"((?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?)"
                                  R"((?:([a-z]{2}(?:-gov)?-[a-z]+-[0-9]):)?)"
                                  R"((?:([0-9]{12}):)?)"
                                  R"((?:function:)?)"
                                  R"(([a-zA-Z0-9_.-]+))"
                                  R"((?::(\$LATEST|[a-zA-Z0-9_-]+))?)");
  return pattern;
}

constexpr size_t kMaxLength = 170;
// Lambda states the 64 limit for a bare name; no function can have a longer name, so a
// longer name inside an ARN could never resolve either.
constexpr size_t kMaxNameLength = 64;

std::optional<std::string> group(const std::cmatch& match, int index) {
  if (!match[index].matched) return std::nullopt;
  return match[index].str();
}

}  // namespace

std::optional<FunctionRef> parse_function_ref(std::string_view text) {
  if (text.empty() || text.size() > kMaxLength) return std::nullopt;
  std::cmatch match;
  if (!std::regex_match(text.data(), text.data() + text.size(), match, function_name_pattern())) {
    return std::nullopt;
  }
  FunctionRef ref;
  ref.region = group(match, 1);
  ref.account = group(match, 2);
  ref.name = match[3].str();
  ref.qualifier = group(match, 4);
  if (ref.name.size() > kMaxNameLength) return std::nullopt;
  return ref;
}

std::string function_arn(const std::string& region, const std::string& account,
                         const std::string& name, const std::string& qualifier) {
  std::string arn = "arn:aws:lambda:" + region + ":" + account + ":function:" + name;
  if (!qualifier.empty()) arn += ":" + qualifier;
  return arn;
}

}  // namespace coldlab::api
