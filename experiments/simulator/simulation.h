// The offline simulator's event loop: a workload's requests through the policies library's
// Scheduler, in simulated time, with no processes and no threads.
//
// The Scheduler, its Pool, the keep-alive and scale-out policies are the live emulator's
// code: the loop tells the Scheduler what happens (a request arrives, a request ends) and
// carries out its Work (evict, pre-warm, ping, dispatch or expire queued requests), as the
// emulator's dispatcher does with processes.
//
// The model (docs/simulation.md): a request that the Scheduler places cold creates its
// environment and runs for a cold service time (the whole first invocation); a warm one
// runs for a warm service time; a pre-warmed environment is ready after an Init time
// (the workload's Init model, or a cold draw less a warm draw) and a request placed on it
// earlier waits for it. Nothing else costs time: no CPU contention, no network.
//
// Order of events at one instant: completions, then arrivals, then whatever the
// Scheduler has due (take_work). So an environment freed at t serves a request arriving
// at t, and one kept until t is still warm for it: a request in (e, e + ttl] is warm.
//
// Deterministic: the same workload, options and seed give the same events, summary and
// rows, on any machine.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "metrics.h"
#include "workload.h"

namespace coldlab::log {
class InvocationLog;
}

namespace coldlab::sim {

struct SimulationProgress {
  int64_t now_us = 0;
  int64_t duration_us = 0;
  int64_t invocations = 0;
};

struct SimulationOptions {
  std::string keep_alive = "fixed:ttl=10m";
  std::string scale_out = "lambda";
  int64_t memory_budget_mb = 0;
  uint64_t seed = 1;
  // When set, every environment and invocation is recorded there under run_id.
  log::InvocationLog* log = nullptr;
  int64_t run_id = 0;
  // Called about every million events and at the end.
  std::function<void(const SimulationProgress&)> progress;
};

// Runs `workload` (consuming its arrivals) and returns the summary, wall_s and the
// fixed-10-minute comparison left to the caller. Throws policies::SpecError for a bad
// policy spec.
Summary simulate(Workload& workload, const SimulationOptions& options);

}  // namespace coldlab::sim
