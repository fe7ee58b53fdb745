#include "core/cpu_model.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "isolation/cgroups.h"
#include "policy_spec.h"

namespace coldlab::core {

double parse_init_cpu(const std::string& spec) {
  policies::PolicySpec s = policies::PolicySpec::parse(spec);
  double cpus = 0;
  if (s.name() == "burst") {
    cpus = s.number("vcpus", 2, 0.01, 1024);
  } else if (s.name() == "unthrottled") {
    cpus = -1;
  } else if (s.name() != "throttled") {
    throw policies::SpecError("\"" + spec + "\": expected burst, burst:vcpus=N, throttled or unthrottled");
  }
  s.reject_unknown();
  return cpus;
}

int64_t parse_cpu_period_us(const std::string& text) {
  const auto bad = [&] {
    return policies::SpecError("\"" + text + "\": expected a duration from 1ms to 1s, e.g. 20ms, " +
                               "0.1s or 20000us");
  };
  size_t unit_at = text.size();
  while (unit_at > 0 && std::isalpha(static_cast<unsigned char>(text[unit_at - 1]))) --unit_at;
  const std::string unit = text.substr(unit_at), number = text.substr(0, unit_at);
  double scale = 0;
  if (unit == "us") scale = 1;
  else if (unit == "ms") scale = 1e3;
  else if (unit == "s") scale = 1e6;
  else throw bad();
  char* end = nullptr;
  const double value = number.empty() ? NAN : std::strtod(number.c_str(), &end);
  if (!std::isfinite(value) || end != number.c_str() + number.size()) throw bad();
  const double us = std::round(value * scale);
  if (us < isolation::kMinCpuPeriodUs || us > isolation::kMaxCpuPeriodUs) throw bad();
  return static_cast<int64_t>(us);
}

}  // namespace coldlab::core
