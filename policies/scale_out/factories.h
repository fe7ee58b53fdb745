// The scale-out policies: their factories (one per policy file, listed in
// registry_scale_out.cpp) and the two rules more than one of them applies, so that those
// are written once: which environment `routing` prefers, and Lambda's concurrency limits.
//
// A factory reads its parameters from the spec and throws SpecError for a bad value; the
// registry then rejects keys no factory asked for.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy_spec.h"
#include "pool.h"
#include "scale_out/scale_out_policy.h"

namespace coldlab::policies {

std::unique_ptr<ScaleOutPolicy> make_lambda(PolicySpec& spec);               // lambda.cpp
std::unique_ptr<ScaleOutPolicy> make_per_env_concurrency(PolicySpec& spec);  // per_env_concurrency.cpp
std::unique_ptr<ScaleOutPolicy> make_max_instances(PolicySpec& spec);        // max_instances.cpp

namespace scale_out {

// routing=mru (default): the most recently used environment first, so the others stay
// idle and age out under the keep-alive policy (SimFaaS routes to the newest idle
// instance too). routing=lru: the least recently used first, which spreads requests and
// keeps every environment warm.
enum class Routing { kMru, kLru };
Routing routing_param(PolicySpec& spec);
const char* routing_name(Routing routing);

// Whether `a` goes before `b`: provisioned environments first (Lambda serves provisioned
// concurrency before it spills over to on-demand), then by last_used_us, newest first for
// mru with ties to the higher id, oldest first for lru with ties to the lower id.
bool preferred(const EnvInfo& a, const EnvInfo& b, Routing routing);

// The environment routing prefers among `candidates`; nullptr when there are none.
const EnvInfo* pick(const std::vector<const EnvInfo*>& candidates, Routing routing);
// The idle environment of `function` routing prefers (O(log n)); nullptr when none is idle.
const EnvInfo* pick_idle(const Pool& pool, const std::string& function, Routing routing);

// Lambda's concurrency limits for one more request of `function` (lambda-api.md §4):
//   - a function with reserved concurrency R runs at most R requests at once (R = 0
//     throttles it entirely): ReservedFunctionConcurrentInvocationLimitExceeded;
//   - every other function shares the unreserved pool, the account limit minus the sum
//     of all reservations (at least 0): ConcurrentInvocationLimitExceeded once the
//     requests running in unreserved functions fill it.
// A reserved function is not also checked against the account: its reservation is
// carved out of the account limit. Functions the pool does not know are unreserved.
// Lambda keeps the unreserved pool at >= 100 by refusing reservations; that is the
// management API's job, not this check's.
std::optional<Route> concurrency_throttle(const std::string& function, const Pool& pool,
                                          int64_t account_limit);

}  // namespace scale_out
}  // namespace coldlab::policies
