// per-env-concurrency: up to `n` requests share one environment (default 4), as in Lambda
// Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY), Cloud Run (--concurrency) and Knative
// (containerConcurrency).
//
// A request goes to the least loaded environment of its function that is below n: the
// fewest requests running, ties broken by `routing` (factories.h), which among idle
// environments is exactly mru or lru. A new environment starts only when every one is at
// n. The function's reserved concurrency and the account's `concurrency` (default 1000)
// limit requests as in `lambda` (factories.h, concurrency_throttle); there is no scaling
// rate.
//
// Source: Knative's activator (serving pkg/activator/net/throttler.go, lb_policy.go)
// sends a request only to a pod with free capacity; for containerConcurrency > 3 it goes
// round-robin over those, which spreads requests evenly, and it offers least-connections
// as an alternative. For <= 3 it takes the first pod with capacity in its list.
//
// Deviations: least-loaded rather than round-robin, because it spreads requests the same
// way but needs no cursor and gives the same answer for the same pool. No
// first-available for small n: with Knative's unordered pod list that is not a
// placement rule we could state, only an accident of ordering.
#include "scale_out/factories.h"

namespace coldlab::policies {
namespace {

using scale_out::Routing;

class PerEnvConcurrency final : public ScaleOutPolicy {
 public:
  PerEnvConcurrency(int n, int64_t concurrency, Routing routing)
      : n_(n), concurrency_(concurrency), routing_(routing) {}

  std::string name() const override {
    return "per-env-concurrency:n=" + std::to_string(n_) + ",concurrency=" + std::to_string(concurrency_) +
           ",routing=" + scale_out::routing_name(routing_);
  }

  int per_environment_concurrency() const override { return n_; }

  Route route(const std::string& function, int /*queued*/, const Pool& pool, TimeUs /*now*/) override {
    if (auto throttle = scale_out::concurrency_throttle(function, pool, concurrency_)) return *throttle;
    const EnvInfo* best = nullptr;
    for (const EnvInfo* env : pool.of(function)) {
      if (env->active >= n_) continue;
      if (!best || env->active < best->active ||
          (env->active == best->active && scale_out::preferred(*env, *best, routing_)))
        best = env;
    }
    return best ? Route::reuse(best->id) : Route::start();
  }

 private:
  const int n_;
  const int64_t concurrency_;
  const Routing routing_;
};

}  // namespace

std::unique_ptr<ScaleOutPolicy> make_per_env_concurrency(PolicySpec& spec) {
  const int n = static_cast<int>(spec.integer("n", 4, 1, 100'000));
  const int64_t concurrency = spec.integer("concurrency", 1000, 1, 100'000'000);
  const Routing routing = scale_out::routing_param(spec);
  return std::make_unique<PerEnvConcurrency>(n, concurrency, routing);
}

}  // namespace coldlab::policies
