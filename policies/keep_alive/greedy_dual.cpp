// Greedy-Dual keep-alive (FaasCache) and the two comparison policies that share its
// priority machinery, FREQ and SIZE.
//
// Contract: keep every idle environment while memory allows (on_idle keeps forever);
// when a new environment does not fit, evict idle environments lowest priority first
// (ties: least recently used, then lower id) until it does. needs_memory_budget().
//
//   greedy-dual  Priority = Clock + Freq(f) * Cost(f) / Size(f)
//   freq         Priority = Clock + Freq(f) * Cost(f)
//   size         Priority = Clock + Freq(f) / Size(f)
//
// Freq(f) is the sum of the invocation counts of f's environments in the pool (a count
// starts at 0 with its environment and dies with it); Cost(f) = cold - warm in ms, the
// Init overhead; Size(f) is the environment's memory in MB. Clock is the priority of the
// last victim. On each access (a request starting in an environment of f) all of f's
// environments take the same Clock and Freq, as faascache-sim sets the priority of all
// of a function's clones at once.
//
// Source: Fuerst & Sharma, "FaasCache: Keeping Serverless Computing Alive with
// Greedy-Dual Caching", ASPLOS'21, eq. 1; aFuerst/faascache-sim code/split/
// LambdaScheduler.py (GD, FREQ, SIZE); coldstart.md §2.3.
//
// Deviations:
//   - Cost is learnt, not given: faascache-sim reads cold and warm times from the trace,
//     coldlab from the running means of the log (Pool::costs(), per function and memory).
//     So Cost is read when victims are chosen, not frozen at the access: Clock and Freq
//     are what the access fixes. Before both means exist, keep_alive::miss_cost_ms's
//     fallback applies (the mean cold request alone, or 0 with no data).
//   - Clock never decreases: it becomes max(Clock, the victim's priority). In faascache-
//     sim every priority is at least Clock, so this is the same there; with learnt costs
//     a priority can fall below Clock, and GD's aging needs a monotone clock.
//   - Clock moves when the Scheduler actually evicts a victim (on_evicted), not when
//     victims() answers: an answer that frees too little evicts nothing.
//   - An environment of a function no request has used yet (a pre-warm) has priority
//     Clock: nothing shows it is worth anything.
#include <algorithm>
#include <map>

#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

class PriorityCache : public KeepAlivePolicy {
 public:
  enum class Kind { kGreedyDual, kFreq, kSize };

  explicit PriorityCache(Kind kind) : kind_(kind) {}

  std::string name() const override {
    switch (kind_) {
      case Kind::kGreedyDual:
        return "greedy-dual";
      case Kind::kFreq:
        return "freq";
      case Kind::kSize:
        return "size";
    }
    return "greedy-dual";
  }

  bool needs_memory_budget() const override { return true; }

  void on_start(const EnvInfo& env, bool /*cold*/, const Pool& pool, TimeUs /*now*/) override {
    access_[env.function] = {clock_, pool.invocations(env.function)};
    pending_.erase(env.id);
  }

  IdleDecision on_idle(const EnvInfo&, const Pool&, TimeUs) override { return IdleDecision::keep_forever(); }

  void on_evicted(const EnvInfo& env, const Pool& pool, TimeUs /*now*/) override {
    if (auto it = pending_.find(env.id); it != pending_.end()) {
      clock_ = std::max(clock_, it->second);
      pending_.erase(it);
    }
    if (pool.count(env.function) == 0) access_.erase(env.function);  // its Freq is lost with it
  }

  std::vector<int64_t> victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) override {
    pending_.clear();
    struct Candidate {
      double priority;
      const EnvInfo* env;
    };
    std::vector<Candidate> candidates;
    for (const EnvInfo* env : pool.idle()) candidates.push_back({priority(*env, pool), env});
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      if (a.priority != b.priority) return a.priority < b.priority;
      return a.env->last_used_us < b.env->last_used_us;  // then by id: pool.idle() is by id
    });
    std::vector<int64_t> order;
    for (const Candidate& c : candidates) order.push_back(c.env->id);
    std::vector<int64_t> chosen = keep_alive::enough(pool, order, need_mb);
    int64_t freed = 0;
    for (int64_t id : chosen) freed += pool.find(id)->memory_mb;
    if (freed >= need_mb) {
      for (const Candidate& c : candidates)
        if (std::find(chosen.begin(), chosen.end(), c.env->id) != chosen.end())
          pending_[c.env->id] = c.priority;
    }
    return chosen;
  }

 private:
  double priority(const EnvInfo& env, const Pool& pool) const {
    auto it = access_.find(env.function);
    const Access a = it == access_.end() ? Access{clock_, 0} : it->second;
    const double freq = static_cast<double>(a.freq);
    const double size = std::max(1, env.memory_mb);
    switch (kind_) {
      case Kind::kGreedyDual:
        return a.clock + freq * keep_alive::miss_cost_ms(pool, env.function, env.memory_mb) / size;
      case Kind::kFreq:
        return a.clock + freq * keep_alive::miss_cost_ms(pool, env.function, env.memory_mb);
      case Kind::kSize:
        return a.clock + freq / size;
    }
    return a.clock;
  }

  struct Access {
    double clock;  // Clock at f's last access
    int64_t freq;  // Freq(f) at f's last access
  };

  Kind kind_;
  double clock_ = 0;
  std::map<std::string, Access> access_;  // by function
  std::map<int64_t, double> pending_;     // the last victims() answer: id -> priority
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_greedy_dual(PolicySpec& /*spec*/) {
  return std::make_unique<PriorityCache>(PriorityCache::Kind::kGreedyDual);
}

std::unique_ptr<KeepAlivePolicy> make_freq(PolicySpec& /*spec*/) {
  return std::make_unique<PriorityCache>(PriorityCache::Kind::kFreq);
}

std::unique_ptr<KeepAlivePolicy> make_size(PolicySpec& /*spec*/) {
  return std::make_unique<PriorityCache>(PriorityCache::Kind::kSize);
}

}  // namespace coldlab::policies
