// Provisioned concurrency: `n` environments per function kept initialised, re-created
// when they die; requests beyond them spill over to on-demand environments.
//
// Contract: at the first tick, at a tick right after a provisioned environment leaves the
// pool, and at the first request of a function not yet provisioned, every function (or only `function`, when
// given) with fewer than n provisioned environments in the pool, busy or idle, gets a Prewarm of the missing
// ones, provisioned and kept forever. The Scheduler adds a pre-warm to the pool when its Init starts, before
// the next tick, so counting the pool never asks twice for the same environment; what it
// could not place (memory) is asked again at the next tick (below). on_idle
// keeps provisioned environments forever and on-demand ones for `ttl` (default 10m, as
// fixed). Under a memory budget only on-demand idle environments are victims (least
// recently used first): provisioned memory is committed, and evicting it would only
// re-create it. Parameters: n (default 1), function (default: all), ttl (default 10m).
//
// Source: AWS Lambda provisioned concurrency, "pre-initialised environments ... invocations
// that exceed it spill over to on-demand" (Lambda developer guide, provisioned-concurrency.md;
// lambda-api.md §4). The scale-out router serves provisioned environments first, as Lambda
// does (scale_out::preferred).
//
// Deviations and limits:
//   - Functions registered after the first tick are noticed at their first request (the
//     seam has no "function added" call), so that request is cold; the tick right after
//     it provisions them.
//   - The Scheduler drops a pre-warm that does not fit the memory budget. While the last
//     tick asked for environments, every request that ends and every environment that
//     leaves makes the next tick due, since either may have made room; a tick that finds
//     nothing missing stops that. There is no polling, so a host with nothing due can
//     stop (a simulator's end), and a deficit that never fits costs one cheap tick per
//     event, not a loop.
//   - A function whose Init always fails is re-provisioned at each tick its environment
//     dies; the host's tick loop bounds that.
#include <algorithm>
#include <set>

#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

class Provisioned : public KeepAlivePolicy {
 public:
  Provisioned(int64_t n, std::string function, TimeUs ttl_us)
      : n_(n), function_(std::move(function)), ttl_us_(ttl_us) {}

  std::string name() const override {
    return "provisioned:n=" + std::to_string(n_) + (function_.empty() ? "" : ",function=" + function_) +
           ",ttl=" + format_duration(ttl_us_);
  }

  void on_request(const std::string& function, const Pool& /*pool*/, TimeUs now) override {
    if (applies(function) && provisioned_for_.count(function) == 0) due_ = std::min(due_, now);
  }

  IdleDecision on_idle(const EnvInfo& env, const Pool& /*pool*/, TimeUs now) override {
    if (asked_) due_ = std::min(due_, now);
    if (env.provisioned) return IdleDecision::keep_forever();
    if (ttl_us_ <= 0) return IdleDecision::evict_now();
    if (env.last_used_us > kForever - ttl_us_) return IdleDecision::keep_forever();
    return IdleDecision::keep_until(env.last_used_us + ttl_us_);
  }

  void on_evicted(const EnvInfo& env, const Pool& /*pool*/, TimeUs now) override {
    if (asked_ || (env.provisioned && applies(env.function))) due_ = std::min(due_, now);
  }

  std::vector<int64_t> victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) override {
    std::vector<int64_t> order;
    for (int64_t id : lru_victims(pool))
      if (!pool.find(id)->provisioned) order.push_back(id);
    return keep_alive::enough(pool, order, need_mb);
  }

  TimeUs next_tick() const override { return due_; }

  TickActions on_tick(const Pool& pool, TimeUs now) override {
    due_ = kForever;
    TickActions actions;
    for (const auto& [name, info] : pool.functions()) {
      if (!applies(name)) continue;
      provisioned_for_.insert(name);
      int64_t have = 0;
      for (const EnvInfo* env : pool.of(name)) have += env->provisioned ? 1 : 0;
      if (have >= n_) continue;
      Prewarm p;
      p.function = name;
      p.at_us = now;
      p.keep_until_us = kForever;
      p.count = static_cast<int>(n_ - have);
      p.provisioned = true;
      actions.prewarm.push_back(p);
    }
    asked_ = !actions.prewarm.empty();
    return actions;
  }

 private:
  bool applies(const std::string& function) const { return function_.empty() || function == function_; }

  int64_t n_;
  std::string function_;  // empty: every function
  TimeUs ttl_us_;
  TimeUs due_ = 0;      // the first tick provisions whatever the pool already serves
  bool asked_ = false;  // the last tick asked for environments: some may not have fit
  std::set<std::string> provisioned_for_;
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_provisioned(PolicySpec& spec) {
  const int64_t n = spec.integer("n", 1, 1, 10'000);
  std::string function = spec.text("function", "");
  const TimeUs ttl = spec.duration("ttl", 10 * kMinuteUs);
  return std::make_unique<Provisioned>(n, std::move(function), ttl);
}

}  // namespace coldlab::policies
