// The scale-out seam: where a new request runs.
//
// For each request the Scheduler asks route(): reuse an environment (idle, or busy below
// the per-environment concurrency), start a new one (a cold start), queue the request
// until an environment of its function frees up, or throttle it with the Reason Lambda
// would give (HTTP 429 TooManyRequestsException). The Scheduler then applies the memory
// budget to a start (keep_alive_policy.h's victims) and serves queues first-in first-out.
//
// Pure like every policy: no I/O, no threads, no clock; time is passed in.
// Thread-safety: none; the caller serialises calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pool.h"

namespace coldlab::policies {

// Lambda's TooManyRequestsException Reasons.
inline constexpr const char* kConcurrentInvocationLimitExceeded = "ConcurrentInvocationLimitExceeded";
inline constexpr const char* kReservedFunctionConcurrentInvocationLimitExceeded =
    "ReservedFunctionConcurrentInvocationLimitExceeded";
inline constexpr const char* kFunctionInvocationRateLimitExceeded = "FunctionInvocationRateLimitExceeded";

struct Route {
  enum class Kind { kReuse, kStart, kQueue, kThrottle };
  Kind kind = Kind::kStart;
  int64_t environment_id = 0;       // kReuse
  TimeUs queue_deadline_us = 0;     // kQueue: throttled if still waiting then
  std::string reason;               // kThrottle: a Lambda Reason (above)
  std::string message;              // kThrottle: says which limit, for the log and the caller

  static Route reuse(int64_t id) { return {Kind::kReuse, id, 0, "", ""}; }
  static Route start() { return {Kind::kStart, 0, 0, "", ""}; }
  static Route queue(TimeUs deadline) { return {Kind::kQueue, 0, deadline, "", ""}; }
  static Route throttle(std::string reason, std::string message) {
    return {Kind::kThrottle, 0, 0, std::move(reason), std::move(message)};
  }
};

class ScaleOutPolicy {
 public:
  virtual ~ScaleOutPolicy() = default;

  // Names the policy with its parameters, e.g. "lambda:rate=2023,routing=mru".
  virtual std::string name() const = 0;

  // How many requests one environment serves at once (Lambda: 1).
  virtual int per_environment_concurrency() const { return 1; }

  // Where a request for `function` goes. The pool holds every environment with its
  // active count; `queued` is how many requests of this function already wait.
  virtual Route route(const std::string& function, int queued, const Pool& pool, TimeUs now) = 0;

  // The Scheduler started a new environment for a request routed kStart (rate limits
  // count environments created, not requests).
  virtual void on_environment_started(const EnvInfo& /*env*/, TimeUs /*now*/) {}
};

}  // namespace coldlab::policies
