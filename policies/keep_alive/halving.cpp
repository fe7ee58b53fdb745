// Halving: AWS Lambda's idle-environment reaper as measured around 2020.
//
// Contract: every `period` (default 380 s), each function's idle environments that have
// been idle for at least `period` are halved, oldest-idle first (ties: lower id): of n
// such environments ceil(n/2) survive when n >= 2, and none when n = 1. A function is
// halved at most once per period, at the first moment one of its environments has been
// idle for a period and a period has passed since its previous halving, so a cohort that
// went idle together loses half at 1 x period, half the rest at 2 x period, and so on.
// Deterministic: no randomness.
//
// Source: SeBS (Copik et al., Middleware'21), container-eviction experiment, data in
// spcl/serverless-benchmarks-artifact analysis/container_eviction/results_aws_*.csv,
// summarised in coldstart.md §2.5: N warm at 360 s, ceil(N/2) at 420 s, ~N/4 at 780 s,
// ~N/8 at 1140 s, for Python and Node.js, 128 to 1536 MB.
//
// Deviation, and the choice it makes: the summary does not say what becomes of a lone
// environment (ceil(1/2) = 1 would keep it forever). The data answers it: N=2 gives 2,
// 1, then 0 at 780 s; N=3 and N=4 give 1 at 780 s and 0 at 1140 s; N=5..8 give 1 at
// 1140 s, still 1 at 1320 s (the last sample). Every run drops a lone survivor at the
// next halving and no run keeps one through two, which is "n = 1 -> 0". The rule
// "ceil(n/2), but 0 for 1" reproduces the modal count of every N from 2 to 16 at every
// sample. So a single environment idle alone lives one period, and the study's 15-min
// gap is cold under this policy, as coldstart.md §2.5 says it should be.
//
// Under a memory budget the seam's default LRU victims apply.
#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

constexpr TimeUs kNever = std::numeric_limits<TimeUs>::min();

class Halving : public KeepAlivePolicy {
 public:
  explicit Halving(TimeUs period_us) : period_us_(period_us) {}

  std::string name() const override { return "halving:period=" + format_duration(period_us_); }

  void on_start(const EnvInfo& env, bool /*cold*/, const Pool& /*pool*/, TimeUs /*now*/) override {
    forget(env.id);
  }

  IdleDecision on_idle(const EnvInfo& env, const Pool& /*pool*/, TimeUs /*now*/) override {
    forget(env.id);
    idle_[env.id] = {env.function, env.last_used_us};
    by_function_[env.function].insert({env.last_used_us, env.id});
    return IdleDecision::keep_forever();  // on_tick decides
  }

  void on_evicted(const EnvInfo& env, const Pool& /*pool*/, TimeUs /*now*/) override { forget(env.id); }

  TimeUs next_tick() const override {
    TimeUs next = kForever;
    for (const auto& [function, idle] : by_function_) next = std::min(next, due(function, idle));
    return next;
  }

  TickActions on_tick(const Pool& pool, TimeUs now) override {
    TickActions actions;
    std::vector<std::string> functions;
    for (const auto& [function, idle] : by_function_)
      if (due(function, idle) <= now) functions.push_back(function);
    for (const std::string& function : functions) {
      resync(pool, function);
      std::vector<const EnvInfo*> eligible;
      for (const EnvInfo* env : pool.idle(function))
        if (env->last_used_us <= now - period_us_) eligible.push_back(env);
      if (eligible.empty()) continue;
      std::stable_sort(eligible.begin(), eligible.end(),
                       [](const EnvInfo* a, const EnvInfo* b) { return a->last_used_us < b->last_used_us; });
      const size_t n = eligible.size();
      const size_t evict = n == 1 ? 1 : n / 2;
      for (size_t i = 0; i < evict; ++i) {
        actions.evict.push_back(eligible[i]->id);
        forget(eligible[i]->id);
      }
      if (by_function_.count(function)) last_halving_[function] = now;
    }
    return actions;
  }

 private:
  struct Idle {
    std::string function;
    TimeUs since;
  };

  // When `function` is next halved: once its oldest idle environment has been idle a
  // period, and a period after its previous halving.
  TimeUs due(const std::string& function, const std::set<std::pair<TimeUs, int64_t>>& idle) const {
    if (idle.empty()) return kForever;
    TimeUs at = saturating_add(idle.begin()->first, period_us_);
    auto it = last_halving_.find(function);
    if (it != last_halving_.end()) at = std::max(at, saturating_add(it->second, period_us_));
    return at;
  }

  static TimeUs saturating_add(TimeUs t, TimeUs d) { return t > kForever - d ? kForever : t + d; }

  void forget(int64_t id) {
    auto it = idle_.find(id);
    if (it == idle_.end()) return;
    auto f = by_function_.find(it->second.function);
    f->second.erase({it->second.since, id});
    if (f->second.empty()) {
      last_halving_.erase(f->first);  // a new idle environment waits a period of its own anyway
      by_function_.erase(f);
    }
    idle_.erase(it);
  }

  // The pool is the truth: an environment this policy missed a call about (or a hand-built
  // pool in a test) must not keep a tick due forever.
  void resync(const Pool& pool, const std::string& function) {
    auto last = last_halving_.find(function);
    const TimeUs last_halving = last == last_halving_.end() ? kNever : last->second;
    std::vector<int64_t> stale;
    if (auto f = by_function_.find(function); f != by_function_.end())
      for (const auto& [since, id] : f->second) stale.push_back(id);
    for (int64_t id : stale) forget(id);
    for (const EnvInfo* env : pool.idle(function)) {
      forget(env->id);
      idle_[env->id] = {function, env->last_used_us};
      by_function_[function].insert({env->last_used_us, env->id});
    }
    if (last_halving != kNever && by_function_.count(function)) last_halving_[function] = last_halving;
  }

  TimeUs period_us_;
  std::map<int64_t, Idle> idle_;                                             // by id
  std::map<std::string, std::set<std::pair<TimeUs, int64_t>>> by_function_;  // (since, id)
  std::map<std::string, TimeUs> last_halving_;
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_halving(PolicySpec& spec) {
  return std::make_unique<Halving>(spec.duration("period", 380 * kSecondUs, 1));
}

}  // namespace coldlab::policies
