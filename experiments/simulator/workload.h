// Workloads of the offline simulator (`coldlab simulate --workload FILE`): which functions
// exist, what their invocations cost, and when requests arrive.
//
// A workload file is YAML with a `kind`:
//   synthetic  functions with an arrival process and warm/cold service-time distributions
//              (docs/simulation.md; the keys of the example are fixed);
//   azure2019  the Azure Functions 2019 trace's CSV files (azure_workload.h);
//   replay     the arrivals of a run recorded in a coldlab database (replay_workload.h).
//
// Arrivals are streamed in time order, never held whole: a day of a large trace is
// hundreds of millions of requests.
//
// Errors: load_workload() throws WorkloadError, whose message names the file, the line
// and the key, and says what is wrong ("w.yaml:7: functions[0].warm.mean: must be > 0").
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "distribution.h"

namespace coldlab::sim {

struct WorkloadError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SimFunction {
  std::string name;
  std::string app;              // the unit of per-app metrics; the name when there are no apps
  int memory_mb = 128;
  Distribution warm;            // seconds: a warm invocation
  Distribution cold;            // seconds: the whole first invocation (Init + work)
  // When set, a cold invocation costs a warm draw plus an Init draw instead of `cold`
  // (the Azure trace's durations exclude Init).
  std::optional<Distribution> init;
};

struct Arrival {
  int64_t at_us = 0;            // simulated microseconds from the start of the workload
  uint32_t function = 0;        // index into Workload::functions
};

class ArrivalSource {
 public:
  virtual ~ArrivalSource() = default;
  // The next arrival; arrivals come in non-decreasing time. False when there are no more.
  virtual bool next(Arrival& out) = 0;
};

struct Workload {
  std::string kind;
  std::filesystem::path file;
  int64_t duration_us = 0;      // the simulated span; no arrival at or after it
  std::vector<SimFunction> functions;
  std::unique_ptr<ArrivalSource> arrivals;
  // What the workload was built from, for the `runs` row (JSON object).
  std::string parameters_json;
};

// Reads and checks `file`; `seed` seeds every random choice (sampling, arrival times).
Workload load_workload(const std::filesystem::path& file, uint64_t seed);

}  // namespace coldlab::sim
