// Policy specs as written on the command line: NAME[:key=value,key=value...].
//
//   fixed:ttl=10m    halving:period=380s    lambda:rate=legacy,burst=3000
//
// Durations take a unit (us, ms, s, m, h; a bare number means seconds). Unknown keys and
// malformed values are errors that name the policy, the key and what was expected, so a
// typo never silently runs a different experiment.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "pool.h"

namespace coldlab::policies {

class SpecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PolicySpec {
 public:
  // Throws SpecError for an empty name, an empty key, a key without '=' or a repeated key.
  static PolicySpec parse(const std::string& text);

  const std::string& name() const { return name_; }

  // Each getter marks the key as known and returns the fallback when it is absent;
  // throws SpecError when the value does not parse or is out of range.
  TimeUs duration(const std::string& key, TimeUs fallback, TimeUs min = 0);
  int64_t integer(const std::string& key, int64_t fallback, int64_t min, int64_t max);
  double number(const std::string& key, double fallback, double min, double max);
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::set<std::string>& allowed);
  std::string text(const std::string& key, const std::string& fallback);

  // Throws SpecError naming every key no getter asked for. Call after reading parameters.
  void reject_unknown() const;

 private:
  const std::string* find(const std::string& key);
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

  std::string name_;
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

// Prints a duration the way specs write it: "600s", "10m" only when exact, else "1500ms".
std::string format_duration(TimeUs us);

}  // namespace coldlab::policies
