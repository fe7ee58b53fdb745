// What a simulation measured (the summary `coldlab simulate` prints), and the bookkeeping
// that computes it as the simulation runs.
//
// Definitions (docs/simulation.md):
//   invocations        requests the workload sent (keep-warm pings are counted apart)
//   cold_starts        requests that created their environment
//   cold_fraction      cold_starts / requests that ran (rejected ones excluded, as FaasCache
//                      counts drops apart from misses)
//   p75_app_cold_pct   per app, 100 x cold / ran; the 75th percentile over apps that ran at
//                      least one request (linear interpolation between order statistics),
//                      Shahrad et al.'s "3rd-quartile app cold-start %"
//   wasted_memory_gb_s the integral over time of the memory of environments loaded but not
//                      running a request (pre-warms included), in GB x s (GB = 1024 MB)
//   avg_envs / avg_busy / avg_idle  exact time averages of the number of environments, of
//                      those running at least one request, and of the others, over the span
//   rejected_fraction  throttled (or expired in a queue) / invocations
//   mean_lifespan_s    mean over environments of end - start; those alive when the
//                      simulation ends count until then
// The span runs from 0 to the later of the workload's duration and the last completion.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace coldlab::sim {

struct Summary {
  int64_t invocations = 0;
  int64_t cold_starts = 0;
  int64_t rejected = 0;
  int64_t queued = 0;          // requests that waited for capacity before running
  int64_t pings = 0;
  int64_t environments = 0;
  double cold_fraction = 0;
  double p75_app_cold_pct = 0;
  double wasted_memory_gb_s = 0;
  double avg_envs = 0;
  double avg_busy = 0;
  double avg_idle = 0;
  double rejected_fraction = 0;
  double mean_lifespan_s = 0;
  double mean_latency_s = 0;   // arrival to completion of requests that ran
  double span_s = 0;
  int64_t apps = 0;
  // Filled by the caller when it ran the fixed 10-minute baseline (< 0: not computed):
  // wasted_memory_gb_s as a percentage of the baseline's.
  double wasted_memory_pct_of_fixed_10m = -1;
  double wall_s = 0;
  // The run's description, echoed in the JSON.
  std::string workload, keep_alive, scale_out;
  int64_t memory_budget_mb = 0;
  uint64_t seed = 0;
};

// The summary as one JSON object (the keys above; `wall_s` last), and as a two-column table.
std::string summary_json(const Summary& s);
std::string summary_table(const Summary& s);
// Reads what summary_json wrote (runs.summary_json); throws std::runtime_error if it is not
// such an object.
Summary summary_from_json(const std::string& json);

// Integrates the piecewise-constant counts and collects per-app counts. Times are
// simulated microseconds and never go backwards.
class MetricsRecorder {
 public:
  explicit MetricsRecorder(size_t apps) : app_ran_(apps, 0), app_cold_(apps, 0) {}

  void advance(int64_t now_us);
  void env_started(int memory_mb, int64_t now_us);   // loaded, idle until busy
  void env_busy(int memory_mb, int64_t now_us);      // idle -> running a request
  void env_idle(int memory_mb, int64_t now_us);      // running -> idle
  void env_ended(int memory_mb, bool busy, int64_t started_us, int64_t now_us);
  void request_ran(size_t app, bool cold, double latency_s);
  void request_rejected() { ++rejected_; }
  void request_queued() { ++queued_; }
  void ping() { ++pings_; }

  // Environments still loaded at `end_us` count until then.
  Summary finish(int64_t end_us, int64_t invocations,
                 const std::vector<std::pair<int, int64_t>>& alive /* (memory_mb, started_us) */);

 private:
  int64_t now_ = 0;
  int64_t envs_ = 0, busy_ = 0;
  int64_t idle_mb_ = 0;
  // Integrals in count x microseconds and MB x microseconds: exact in integers up to
  // ~9e18, a million environments for three simulated years.
  __int128 envs_us_ = 0, busy_us_ = 0, idle_mb_us_ = 0;
  int64_t environments_ = 0, ended_ = 0;
  __int128 lifespan_us_ = 0;
  int64_t ran_ = 0, cold_ = 0, rejected_ = 0, queued_ = 0, pings_ = 0;
  double latency_s_ = 0;
  std::vector<int64_t> app_ran_, app_cold_;
};

}  // namespace coldlab::sim
