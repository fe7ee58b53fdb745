// `kind: synthetic` workloads: functions with an arrival process and service-time
// distributions (the keys below are a contract; docs/simulation.md shows an example).
//
//   kind: synthetic
//   duration: 86400                 # simulated seconds (or "1d", "90m", "30s")
//   functions:
//     - name: f1
//       app: a1                     # optional; per-app metrics group by it (default: name)
//       memory_mb: 256
//       arrivals: {process: poisson, rate: 2.0}        # per second
//                 {process: fixed, interval: 30, offset: 0}   # seconds
//                 {process: list, times: [0, 360, 960]}       # seconds
//       warm: {dist: exponential, mean: 0.5}          # seconds
//       cold: {dist: exponential, mean: 1.5}          # seconds: the whole first invocation
//       init: {dist: constant, value: 1.0}            # optional: cold = init + a warm draw
//
// Either `cold` or `init` is required. Arrivals at or after `duration` are dropped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <yaml-cpp/yaml.h>

#include "workload.h"

namespace coldlab::sim {

Workload load_synthetic_workload(const YAML::Node& root, const std::filesystem::path& file, uint64_t seed);

}  // namespace coldlab::sim
