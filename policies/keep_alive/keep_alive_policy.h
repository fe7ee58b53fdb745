// The keep-alive seam: how long an execution environment stays loaded once it is idle,
// which idle environments go when memory runs short, and what to load ahead of demand.
//
// A policy is pure: no I/O, no threads, no clock of its own. The Scheduler calls it with
// the time and a read-only view of the pool, and carries out what it answers, in the live
// emulator and in the offline simulator alike, so a policy decides the same in both.
//
// Call order, for each environment: on_request (for the request that causes or uses it)
// -> on_start -> on_idle -> (on_request -> on_start -> on_idle)* -> on_evicted. The pool
// passed in is already updated: in on_start the environment counts as busy, in on_idle
// as idle, in on_evicted it is gone. Environments a policy asked to pre-warm reach
// on_idle only after their first request; until then they keep the Prewarm's window.
//
// Thread-safety: none; the caller serialises calls to one policy object.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pool.h"

namespace coldlab::policies {

// Load `count` new environments of `function` at `at_us`, Init only, and keep them until
// `keep_until_us` unless a request uses them first.
struct Prewarm {
  std::string function;
  TimeUs at_us = 0;
  TimeUs keep_until_us = kForever;
  int count = 1;
  bool provisioned = false;  // marks them EnvInfo::provisioned (provisioned concurrency)
};

struct IdleDecision {
  // Evict at this time unless a request reuses the environment first. At or before now:
  // evict at once. kForever: keep it until memory is needed or the host stops.
  TimeUs keep_until_us = 0;
  std::optional<Prewarm> prewarm;  // also load one later (Hybrid Histogram's pre-warm window)

  static IdleDecision evict_now() { return {0, std::nullopt}; }
  static IdleDecision keep_until(TimeUs t) { return {t, std::nullopt}; }
  static IdleDecision keep_forever() { return {kForever, std::nullopt}; }
};

// Work a policy asks for at a tick.
struct TickActions {
  std::vector<int64_t> evict;        // idle environments to evict now (busy ones are ignored)
  std::vector<Prewarm> prewarm;      // environments to load
  std::vector<std::string> ping;     // functions to send a keep-warm request to now
};

class KeepAlivePolicy {
 public:
  virtual ~KeepAlivePolicy() = default;

  // Names the policy with its parameters, e.g. "fixed:ttl=600s", so every logged result
  // says which policy produced it.
  virtual std::string name() const = 0;

  // True when the policy only evicts under memory pressure (lru, greedy-dual, ...) and so
  // needs a memory budget to mean anything.
  virtual bool needs_memory_budget() const { return false; }

  // A request for `function` arrived, before it is routed.
  virtual void on_request(const std::string& /*function*/, const Pool& /*pool*/, TimeUs /*now*/) {}

  // `env` starts a request; `cold` when the environment was created for it.
  virtual void on_start(const EnvInfo& /*env*/, bool /*cold*/, const Pool& /*pool*/, TimeUs /*now*/) {}

  // `env` has just finished a request and is idle: how long may it stay?
  virtual IdleDecision on_idle(const EnvInfo& env, const Pool& pool, TimeUs now) = 0;

  // `env` left the pool, for any reason (this policy's decision, memory, a crash, shutdown).
  virtual void on_evicted(const EnvInfo& /*env*/, const Pool& /*pool*/, TimeUs /*now*/) {}

  // A new environment needs `need_mb` more than the budget has free. Returns idle
  // environments to evict, first victim first; the Scheduler evicts from the front until
  // enough is free (if all of them do not free enough, the request is not placed and
  // nothing is evicted). The default is least-recently-used first.
  virtual std::vector<int64_t> victims(const Pool& pool, int64_t need_mb, TimeUs now);

  // When the policy next wants on_tick (kForever: never). Asked again after every call.
  virtual TimeUs next_tick() const { return kForever; }
  virtual TickActions on_tick(const Pool& /*pool*/, TimeUs /*now*/) { return {}; }
};

// Least recently used idle environments first (ties: lower id first).
std::vector<int64_t> lru_victims(const Pool& pool);

}  // namespace coldlab::policies
