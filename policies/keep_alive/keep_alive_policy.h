// The keep-alive seam: what happens to an execution environment that has just become idle.
//
// Policies are pure: no I/O, no threads, no clock of their own. Time is passed in, so the
// live emulator and the offline simulator drive the same code and get the same decisions.
// The emulator calls on_idle() each time an environment finishes an invocation and acts on
// the answer through its timers. Issue #5 widens this seam (pre-warming, memory budgets,
// learning from finished invocations); the emulator only depends on this header.
//
// Thread-safety: none; the caller serialises calls to one policy object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace coldlab::policies {

// What the policy may know about an idle environment.
struct IdleEnvironment {
  int64_t environment_id = 0;
  std::string function;
  int memory_mb = 0;
  int64_t idle_since_us = 0;  // when its last invocation finished
};

struct IdleDecision {
  enum class Kind { kKeepUntil, kEvictNow };
  Kind kind = Kind::kEvictNow;
  int64_t until_us = 0;  // for kKeepUntil: evict at this time unless reused before

  static IdleDecision keep_until(int64_t t) { return {Kind::kKeepUntil, t}; }
  static IdleDecision evict_now() { return {Kind::kEvictNow, 0}; }
};

class KeepAlivePolicy {
 public:
  virtual ~KeepAlivePolicy() = default;
  // A name that prints the parameters, so every logged result names the policy that made it.
  virtual std::string name() const = 0;
  virtual IdleDecision on_idle(const IdleEnvironment& env, int64_t now_us) = 0;
};

// Keeps every idle environment for a fixed time (a TTL), then evicts it.
// ttl_us == 0 evicts at once: every invocation is then a cold start.
std::unique_ptr<KeepAlivePolicy> make_fixed_ttl(int64_t ttl_us);

}  // namespace coldlab::policies
