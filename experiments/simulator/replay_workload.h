// `kind: replay` workloads: the arrivals of a run recorded in a coldlab database (a
// `coldlab serve` session or one combination of a `coldlab run` experiment), with service
// times drawn from what that run measured. This is how a user calibrates the simulator
// against the live emulator: same arrivals, same policies, compare the cold starts and
// latencies (docs/simulation.md).
//
//   kind: replay
//   db: runs.db        # relative to the workload file
//   run: 3             # the run id; default: the latest run that is not a simulation
//
// Arrivals: every first attempt (attempt = 1) of the run's RequestResponse and Event
// invocations, throttled ones included, at started_at_us minus the run's start; keep-warm
// pings are left out (a ping policy sends its own). One simulated function per recorded
// function, at the memory size it ran with.
// Service times: per function, the run's client-side latencies (latency_us: what an
// environment was held for, dispatch overhead included) of ok cold requests and of ok warm
// ones, drawn uniformly (empirical); a function with no cold sample uses its warm ones and
// the other way round.
// Duration: the run's span (ended_at_us - started_at_us), or its last arrival + 1 s.
// Arrivals are read from the database as the simulation consumes them, in time order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <yaml-cpp/yaml.h>

#include "workload.h"

namespace coldlab::sim {

Workload load_replay_workload(const YAML::Node& root, const std::filesystem::path& file, uint64_t seed);

}  // namespace coldlab::sim
