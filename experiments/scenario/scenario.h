// Scenario files: the load a `coldlab run` experiment applies, in Taurus's vocabulary
// (execution / scenarios / requests) with coldlab's extensions under `coldlab:` keys.
// docs/experiments.md describes the format for users; this header is the model the
// driver reads.
//
//   execution:                 # stages, run one after another (see Stage)
//   - scenario: predict
//     concurrency: 9           # users once the stage is ramped up (a total: users carry over)
//     ramp-up: 3m
//     steps: 3
//     hold-for: 1m
//   - scenario: predict
//     concurrency: 18
//     hold-for: 1m
//   - scenario: predict        # an open-loop stage: one request at each time, answered or not
//     coldlab:
//       at: [0m, 6m, 16m, 31m, 61m]
//   scenarios:
//     predict:
//       think-time: 0s
//       requests:
//       - label: predict
//         body: {"features": [0, 215, 45076]}   # the event; or body-file: PATH
//   coldlab:
//     runtimes: {python: kdd-python, java: kdd-java}   # or functions: [echo, spin]
//     memory: [256, 512, 1024]
//     keep-alive: study          # or a list: swept
//     scale-out: lambda          # or a list: swept
//     network: {rtt: {dist: lognormal, median: 180ms, p99: 400ms}}
//     seed: 1
//
// Thread-safety: plain values; load() has no shared state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace coldlab::scenario {

// A refused file. what() is "FILE:LINE: KEY: reason", e.g.
// "s.yaml:7: execution[0].ramp-up: bad duration '3x' (use 90s, 3m, 1h, 1h30m, 500ms or seconds)".
class ScenarioError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Taurus's duration forms: "500ms", "90s", "3m", "1h", "1d", concatenations ("1h30m"),
// and a plain number (integer or decimal) of seconds. Returns microseconds. Throws
// std::invalid_argument (message: the reason) for anything else, and for negative values.
int64_t parse_duration_us(const std::string& text);

struct Request {
  std::string label;     // for reports; default: the function's name, or "request" if swept
  std::string function;  // empty: the function of the combination being run (the sweep's)
  std::string payload;   // the event, JSON text; `body:` as YAML (serialised) or a string, or
                         // the contents of `body-file:` (relative to the scenario file); "{}" if none
  std::optional<int64_t> think_time_us;  // think-time: overrides the stage's and scenario's
                                         // after this request
};

struct Scenario {
  std::string name;
  std::vector<Request> requests;  // a user sends them in order, then starts over
  int64_t think_time_us = 0;      // after each answer, before the user's next request
};

// One `execution:` entry. Stages run one after another; a stage starts when the previous
// one ends. Closed-loop stages (no `at`) work as Taurus/JMeter users do: each user sends
// its next request when the previous one has answered (plus think-time). Users carry over
// from stage to stage: `concurrency` is the total once the stage is ramped up; users that
// a stage adds join over `ramp-up` (evenly, one every ramp-up/added, the first at the
// stage's start; or in `steps` equal groups, the first at the start), users it removes
// (concurrency below the previous stage's) leave at its start. `hold-for` counts from the
// end of ramp-up. With `iterations`, each user of the stage sends at most that many
// scenario loops in it; the stage then ends when `hold-for` is over or every user has
// finished, whichever comes first (a stage with neither hold-for nor iterations is refused).
// Open-loop stages (`coldlab: {at: [...]}`) send one scenario loop at each time, counted
// from the stage's start, whether earlier requests have answered or not; they end when
// their last request has answered, and users of earlier stages leave at their start.
struct Stage {
  std::string scenario;                   // a key of `scenarios:`
  int concurrency = 1;                    // >= 1 (Taurus: concurrency)
  int64_t ramp_up_us = 0;                 // ramp-up
  int steps = 0;                          // 0: users join one by one; N >= 1: in N groups
  int64_t hold_for_us = 0;                // hold-for
  std::optional<int64_t> iterations;      // iterations, >= 1
  std::optional<int64_t> think_time_us;   // think-time: overrides the scenario's
  std::vector<int64_t> at_us;             // coldlab.at: non-empty for an open-loop stage, ascending
                                          // (equal times: loops sent together)
  int line = 0;                           // 1-based line of the entry, for messages
};

// A per-request delay added on the client side (half before sending, half after the
// answer), to stand for the internet and API Gateway between the study's users and Lambda.
struct NetworkModel {
  enum class Dist { kNone, kConstant, kLognormal, kUniform, kExponential };
  Dist dist = Dist::kNone;   // kNone: no delay (the default)
  int64_t median_us = 0;     // constant: the value; lognormal: the median; exponential: the mean
  int64_t p99_us = 0;        // lognormal: the 99th percentile (> median)
  int64_t min_us = 0, max_us = 0;  // uniform
};

// What one combination of the sweep runs.
struct Target {
  std::string runtime;   // the label in `runtimes:` ("python"), or the function's name for `functions:`
  std::string function;  // the function invoked by requests without their own `function`
};

struct ScenarioFile {
  std::filesystem::path path;
  std::vector<Stage> execution;                 // at least one
  std::map<std::string, Scenario> scenarios;    // at least the ones execution names
  // coldlab:
  std::vector<Target> targets;                  // runtimes (file order) or functions; may be empty
                                                // only if every request names its function
  std::vector<int> memory_mb;                   // each 128..10240; empty: the functions' own
  std::vector<std::string> keep_alive;          // policy specs; empty: the emulator's default
  std::vector<std::string> scale_out;           // policy specs; empty: the emulator's default
  NetworkModel network;
  uint64_t seed = 1;
  std::vector<std::string> warnings;            // keys accepted but ignored (Taurus's settings,
                                                // reporting, modules, ...), "FILE:LINE: KEY: why"
};

// One run of the sweep. Targets vary slowest, then memory, keep-alive, scale-out.
struct Combination {
  int index = 0;                      // 1-based
  Target target;
  std::optional<int> memory_mb;       // nullopt: the function's own
  std::string keep_alive;             // empty: the emulator's default
  std::string scale_out;              // empty: the emulator's default
  // "python 512 MB", plus the policies when the file sweeps over more than one
  std::string label;
};
std::vector<Combination> combinations(const ScenarioFile& file);

// Parses and checks a scenario file. `function_exists`, when given, is asked about every
// function the file names (runtimes/functions values and requests' `function`), and an
// unknown one is refused. Throws ScenarioError (unreadable file, YAML syntax, unknown key,
// wrong type, bad duration, memory outside 128-10240, unknown function or scenario, ...).
ScenarioFile load(const std::filesystem::path& path,
                  const std::function<bool(const std::string&)>& function_exists = {});
// The same for text already in memory; `path` names it in messages and anchors body-file.
ScenarioFile parse(const std::string& text, const std::filesystem::path& path,
                   const std::function<bool(const std::string&)>& function_exists = {});

// A network model given as the YAML of `coldlab.network.rtt`, e.g. "{dist: lognormal,
// median: 180ms, p99: 400ms}" or "{dist: none}" (the command line's --network). Throws
// ScenarioError naming `source` (e.g. "--network") as the file.
NetworkModel parse_network(const std::string& rtt, const std::string& source);

}  // namespace coldlab::scenario
