// Distribution nodes of workload files, in seconds:
//
//   0.5                                            a number: constant
//   {dist: constant, value: 1.0}
//   {dist: exponential, mean: 0.5}
//   {dist: lognormal, mu: -0.38, sigma: 2.36}      or {dist: lognormal, mean: 1.2, sd: 0.4}
//   {dist: empirical, values: [0.1, 0.2, 0.25]}
//   {dist: percentiles, points: {0: 0.1, 50: 0.3, 100: 2}}   keys are percents 0..100
#pragma once

#include <filesystem>
#include <string>
#include <yaml-cpp/yaml.h>

#include "distribution.h"

namespace coldlab::sim {

// Reads the distribution at `node`, whose dotted key is `key` (for messages). Throws
// WorkloadError "FILE:LINE: KEY: reason" (yaml_errors.h).
Distribution parse_distribution(const YAML::Node& node, const std::filesystem::path& file, const std::string& key);

}  // namespace coldlab::sim
