// max-instances: at most `m` environments per function (default 10), one request each,
// with a first-in first-out queue in front, as Cloud Run's and Knative's maximum
// instances do (their activator/front end holds a request until an instance frees up).
//
// A request reuses an idle environment of its function (`routing`, factories.h), else
// starts one if the function has fewer than m, else waits in the function's queue until
// `queue_timeout` (default 30 s) after it arrived; the Scheduler serves the queue first
// in, first out and throttles what is still waiting at the deadline. When `queue`
// requests (default 1000) already wait, a new one is throttled at once.
//
// Choices:
//   - A full queue is throttled with ReservedFunctionConcurrentInvocationLimitExceeded:
//     m caps one function's concurrency the way a reservation does, and it is that
//     function's cap, not the account's, that was reached.
//   - The number already waiting only matters for the cap. A request that finds an idle
//     environment takes it even if others wait; the Scheduler serves its queue as soon
//     as an environment frees up, so in a pool it keeps current that never happens.
//   - Reserved and account concurrency do not apply: m is this model's only limit.
//     Environments started by the keep-alive policy (pre-warm, provisioned) count
//     towards m; if they already exceed it, no more start.
#include "scale_out/factories.h"

namespace coldlab::policies {
namespace {

using scale_out::Routing;

class MaxInstances final : public ScaleOutPolicy {
 public:
  MaxInstances(int m, int queue, TimeUs queue_timeout, Routing routing)
      : m_(m), queue_(queue), queue_timeout_(queue_timeout), routing_(routing) {}

  std::string name() const override {
    return "max-instances:m=" + std::to_string(m_) + ",queue=" + std::to_string(queue_) +
           ",queue_timeout=" + format_duration(queue_timeout_) +
           ",routing=" + scale_out::routing_name(routing_);
  }

  Route route(const std::string& function, int queued, const Pool& pool, TimeUs now) override {
    if (const EnvInfo* env = scale_out::pick_idle(pool, function, routing_)) return Route::reuse(env->id);
    if (static_cast<int64_t>(pool.count(function)) < m_) return Route::start();
    if (queued >= queue_)
      return Route::throttle(kReservedFunctionConcurrentInvocationLimitExceeded,
                             "function " + function + " has its maximum of " + std::to_string(m_) +
                                 " environments busy and " + std::to_string(queued) + " requests queued");
    // Saturate: a huge queue_timeout means "wait for ever", not a deadline in the past.
    const TimeUs deadline = now > kForever - queue_timeout_ ? kForever : now + queue_timeout_;
    return Route::queue(deadline);
  }

 private:
  const int m_;
  const int queue_;
  const TimeUs queue_timeout_;
  const Routing routing_;
};

}  // namespace

std::unique_ptr<ScaleOutPolicy> make_max_instances(PolicySpec& spec) {
  const int m = static_cast<int>(spec.integer("m", 10, 1, 10'000'000));
  const int queue = static_cast<int>(spec.integer("queue", 1000, 0, 100'000'000));
  const TimeUs queue_timeout = spec.duration("queue_timeout", 30 * kSecondUs, 0);
  const Routing routing = scale_out::routing_param(spec);
  return std::make_unique<MaxInstances>(m, queue, queue_timeout, routing);
}

}  // namespace coldlab::policies
