// Ping: the study's mitigation, a keep-warm request to every function every `every`.
//
// Contract: ticks every `every` (default 5m), the first at once, and asks the Scheduler to
// send one keep-warm request to each function the pool serves (or only `function`, when
// given); the host logs those as pings and leaves them out of user statistics. Idle
// environments are kept as by fixed with `ttl` (default 20m), so a ping period below the
// TTL keeps one environment per function warm indefinitely. Ticks keep their phase (the
// k-th at first + k * every) while the caller keeps up; after a whole missed period the
// next counts from the late tick: missed pings are not sent in a burst to catch up.
//
// Source: study.md, "a periodic ping can keep instances warm"; the common practice of a
// scheduled rule invoking the function (e.g. serverless-plugin-warmup, CloudWatch Events
// every 5 minutes). Limit: one ping keeps one environment warm; concurrency beyond it
// still starts cold, as on Lambda.
#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

class Ping : public KeepAlivePolicy {
 public:
  Ping(TimeUs every_us, std::string function, TimeUs ttl_us)
      : every_us_(every_us), function_(std::move(function)), ttl_us_(ttl_us) {}

  std::string name() const override {
    return "ping:every=" + format_duration(every_us_) + (function_.empty() ? "" : ",function=" + function_) +
           ",ttl=" + format_duration(ttl_us_);
  }

  IdleDecision on_idle(const EnvInfo& env, const Pool& /*pool*/, TimeUs /*now*/) override {
    if (ttl_us_ <= 0) return IdleDecision::evict_now();
    if (env.last_used_us > kForever - ttl_us_) return IdleDecision::keep_forever();
    return IdleDecision::keep_until(env.last_used_us + ttl_us_);
  }

  TimeUs next_tick() const override { return next_; }

  TickActions on_tick(const Pool& pool, TimeUs now) override {
    TickActions actions;
    if (now < next_) return actions;
    next_ = started_ ? next_ + every_us_ : now + every_us_;
    started_ = true;
    if (next_ <= now) next_ = now + every_us_;
    for (const auto& [name, info] : pool.functions())
      if (function_.empty() || name == function_) actions.ping.push_back(name);
    return actions;
  }

 private:
  TimeUs every_us_;
  std::string function_;  // empty: every function
  TimeUs ttl_us_;
  bool started_ = false;
  TimeUs next_ = 0;  // the first tick at once
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_ping(PolicySpec& spec) {
  const TimeUs every = spec.duration("every", 5 * kMinuteUs, 1);
  std::string function = spec.text("function", "");
  const TimeUs ttl = spec.duration("ttl", 20 * kMinuteUs);
  return std::make_unique<Ping>(every, std::move(function), ttl);
}

}  // namespace coldlab::policies
