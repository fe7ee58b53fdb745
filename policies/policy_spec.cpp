#include "policy_spec.h"

#include <cerrno>
#include <cmath>
#include <cctype>
#include <cstdlib>

namespace coldlab::policies {
namespace {

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// A whole-string strtod: "1.5" yes, "1.5x" or "" no.
bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return errno == 0 && end == text.c_str() + text.size() && std::isfinite(out);
}

}  // namespace

PolicySpec PolicySpec::parse(const std::string& text) {
  PolicySpec spec;
  const size_t colon = text.find(':');
  spec.name_ = trim(text.substr(0, colon));
  if (spec.name_.empty()) throw SpecError("policy spec \"" + text + "\" has no name (NAME[:key=value,...])");
  if (colon == std::string::npos) return spec;
  const std::string rest = text.substr(colon + 1);
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    if (comma == std::string::npos) comma = rest.size();
    const std::string item = trim(rest.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) {
      if (comma == rest.size() && !spec.values_.empty()) break;  // a trailing comma
      throw SpecError("policy spec \"" + text + "\": empty parameter (NAME[:key=value,...])");
    }
    const size_t eq = item.find('=');
    if (eq == std::string::npos)
      throw SpecError("policy spec \"" + text + "\": parameter \"" + item + "\" is not key=value");
    const std::string key = trim(item.substr(0, eq));
    const std::string value = trim(item.substr(eq + 1));
    if (key.empty()) throw SpecError("policy spec \"" + text + "\": parameter \"" + item + "\" has no key");
    if (!spec.values_.emplace(key, value).second)
      throw SpecError("policy spec \"" + text + "\": parameter \"" + key + "\" is given twice");
  }
  return spec;
}

const std::string* PolicySpec::find(const std::string& key) {
  used_.insert(key);
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

void PolicySpec::fail(const std::string& key, const std::string& expected) const {
  auto it = values_.find(key);
  throw SpecError("policy " + name_ + ": " + key + "=" + (it == values_.end() ? "" : it->second) +
                  " is not valid; expected " + expected);
}

TimeUs PolicySpec::duration(const std::string& key, TimeUs fallback, TimeUs min) {
  const std::string* v = find(key);
  if (!v) return fallback;
  const std::string expected = "a duration like 600, 600s, 10m, 1.5h, 250ms or 100us, at least " +
                               format_duration(min);
  // The unit is the trailing letters; a bare number is seconds.
  size_t unit_at = v->size();
  while (unit_at > 0 && std::isalpha(static_cast<unsigned char>((*v)[unit_at - 1]))) --unit_at;
  const std::string unit = v->substr(unit_at);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1e6;
  else if (unit == "us") scale = 1;
  else if (unit == "ms") scale = 1e3;
  else if (unit == "m" || unit == "min") scale = 60e6;
  else if (unit == "h") scale = 3600e6;
  else fail(key, expected);
  double number = 0;
  if (!parse_double(v->substr(0, unit_at), number) || number < 0) fail(key, expected);
  const double us = number * scale;
  if (us > 9.2e18) fail(key, expected);
  const auto result = static_cast<TimeUs>(std::llround(us));
  if (result < min) fail(key, expected);
  return result;
}

int64_t PolicySpec::integer(const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  const std::string* v = find(key);
  if (!v) return fallback;
  const std::string expected =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (v->empty()) fail(key, expected);
  errno = 0;
  char* end = nullptr;
  const long long n = std::strtoll(v->c_str(), &end, 10);
  if (errno != 0 || end != v->c_str() + v->size() || n < min || n > max) fail(key, expected);
  return n;
}

double PolicySpec::number(const std::string& key, double fallback, double min, double max) {
  const std::string* v = find(key);
  if (!v) return fallback;
  double n = 0;
  if (!parse_double(*v, n) || n < min || n > max)
    fail(key, "a number from " + std::to_string(min) + " to " + std::to_string(max));
  return n;
}

std::string PolicySpec::choice(const std::string& key, const std::string& fallback,
                               const std::set<std::string>& allowed) {
  const std::string* v = find(key);
  if (!v) return fallback;
  if (allowed.count(*v) == 0) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(key, "one of " + list);
  }
  return *v;
}

std::string PolicySpec::text(const std::string& key, const std::string& fallback) {
  const std::string* v = find(key);
  return v ? *v : fallback;
}

void PolicySpec::reject_unknown() const {
  std::string unknown;
  for (const auto& [key, value] : values_)
    if (used_.count(key) == 0) unknown += (unknown.empty() ? "" : ", ") + key;
  if (unknown.empty()) return;
  std::string known;
  for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
  throw SpecError("policy " + name_ + " has no parameter " + unknown +
                  (known.empty() ? " (it takes none)" : " (it takes: " + known + ")"));
}

std::string format_duration(TimeUs us) {
  if (us == kForever) return "forever";
  if (us != 0 && us % (3600 * kSecondUs) == 0) return std::to_string(us / (3600 * kSecondUs)) + "h";
  if (us != 0 && us % kMinuteUs == 0) return std::to_string(us / kMinuteUs) + "m";
  if (us % kSecondUs == 0) return std::to_string(us / kSecondUs) + "s";
  if (us % 1000 == 0) return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

}  // namespace coldlab::policies
