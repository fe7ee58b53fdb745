// The keep-alive policies: their factories (one per policy file, listed in
// registry_keep_alive.cpp) and the few helpers more than one of them needs, so that
// those rules are written once.
//
// A factory reads its parameters from the spec and throws SpecError for a bad value; the
// registry then rejects keys no factory asked for.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "keep_alive/keep_alive_policy.h"
#include "policy_spec.h"
#include "pool.h"

namespace coldlab::policies {

std::unique_ptr<KeepAlivePolicy> make_none(PolicySpec& spec);   // fixed.cpp
std::unique_ptr<KeepAlivePolicy> make_fixed(PolicySpec& spec);  // fixed.cpp
// A named provider profile: fixed with `ttl`, printed as "label (fixed:ttl=...)".
std::unique_ptr<KeepAlivePolicy> make_fixed_preset(const std::string& label, TimeUs ttl);  // fixed.cpp
std::unique_ptr<KeepAlivePolicy> make_halving(PolicySpec& spec);                           // halving.cpp
std::unique_ptr<KeepAlivePolicy> make_lru(PolicySpec& spec);                               // lru.cpp
std::unique_ptr<KeepAlivePolicy> make_greedy_dual(PolicySpec& spec);                       // greedy_dual.cpp
std::unique_ptr<KeepAlivePolicy> make_freq(PolicySpec& spec);                              // greedy_dual.cpp
std::unique_ptr<KeepAlivePolicy> make_size(PolicySpec& spec);                              // greedy_dual.cpp
std::unique_ptr<KeepAlivePolicy> make_landlord(PolicySpec& spec);                          // landlord.cpp
std::unique_ptr<KeepAlivePolicy> make_rand(PolicySpec& spec);                              // rand.cpp
std::unique_ptr<KeepAlivePolicy> make_hybrid_histogram(PolicySpec& spec);  // hybrid_histogram.cpp
std::unique_ptr<KeepAlivePolicy> make_provisioned(PolicySpec& spec);       // provisioned.cpp
std::unique_ptr<KeepAlivePolicy> make_ping(PolicySpec& spec);              // ping.cpp

namespace keep_alive {

// The shortest prefix of `order` whose idle environments free at least `need_mb`; all of
// `order`'s idle environments when even they do not (the Scheduler then evicts none).
// Ids not in the pool, busy environments and repeats are skipped: victims() must name
// only idle environments, whatever order a policy computed. need_mb <= 0: none.
std::vector<int64_t> enough(const Pool& pool, const std::vector<int64_t>& order, int64_t need_mb);

// What a miss of `function` at `memory_mb` costs, in ms, from the pool's running means:
// cold - warm (the Init overhead, Greedy-Dual's Cost) once both are known; the mean cold
// request alone while no warm one has been seen (an over-estimate by one run, and every
// function's first request is cold, so this is what there is); 0 with no data at all
// (nothing shows the environment is worth keeping). Never negative.
double miss_cost_ms(const Pool& pool, const std::string& function, int memory_mb);

// What a hit of `function` at `memory_mb` costs, in ms (Landlord's credit): the mean warm
// request; the mean cold one while no warm one has been seen; 0 with no data.
double hit_cost_ms(const Pool& pool, const std::string& function, int memory_mb);

// A parameter as specs write it: the shortest text that reads back as the same double
// ("0.05", "2", "0.1"), whatever the locale.
std::string format_number(double value);

}  // namespace keep_alive
}  // namespace coldlab::policies
