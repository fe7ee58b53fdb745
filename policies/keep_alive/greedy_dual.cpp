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
//     A priority is computed when one of f's environments starts a request, goes idle or
//     leaves: the Scheduler records a request's cost just before the last two, so the
//     priorities always use the current means. Before both means exist,
//     keep_alive::miss_cost_ms's fallback applies (the mean cold request alone, or 0).
//   - Clock never decreases: it becomes max(Clock, the victim's priority). In faascache-
//     sim every priority is at least Clock, so this is the same there; with learnt costs
//     a priority can fall below Clock, and GD's aging needs a monotone clock.
//   - Clock moves when the Scheduler actually evicts a victim (on_evicted), not when
//     victims() answers: an answer that frees too little evicts nothing.
//   - Only environments that went idle through on_idle are candidates: a pre-warmed one
//     never did, and these policies never ask for pre-warms.
//
// Cost: idle environments of one function and memory size share a priority, so they are
// kept in groups, least recently used first, and only each group's first is ordered
// against the others: O(log n) per request and per victim.
#include <algorithm>
#include <map>
#include <queue>
#include <set>
#include <tuple>
#include <unordered_map>

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
    forget_idle(env.id);
    if (auto it = groups_of_.find(env.function); it != groups_of_.end())
      for (Group* g : it->second) list(*g, pool);
  }

  IdleDecision on_idle(const EnvInfo& env, const Pool& pool, TimeUs /*now*/) override {
    forget_idle(env.id);
    Group& g = group(env.function, env.memory_mb);
    g.idle.emplace(env.last_used_us, env.id);
    idle_[env.id] = {&g, env.last_used_us};
    list(g, pool);
    return IdleDecision::keep_forever();
  }

  void on_evicted(const EnvInfo& env, const Pool& pool, TimeUs /*now*/) override {
    if (auto it = pending_.find(env.id); it != pending_.end()) {
      clock_ = std::max(clock_, it->second);
      pending_.erase(it);
    }
    forget_idle(env.id);
    if (pool.count(env.function) == 0) {
      access_.erase(env.function);  // its Freq is lost with it
      if (auto it = groups_of_.find(env.function); it != groups_of_.end()) {
        for (Group* g : it->second) {
          if (g->listed) heads_.erase(g->key);
          groups_.erase({g->function, g->memory_mb});
        }
        groups_of_.erase(it);
      }
    } else if (auto it = groups_.find({env.function, env.memory_mb}); it != groups_.end()) {
      list(it->second, pool);  // the request that ended in it may have moved Cost
    }
  }

  // Walks the groups' heads in priority order, merged with each taken group's next
  // environment: O(log n) per victim, however many environments are idle.
  std::vector<int64_t> victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) override {
    pending_.clear();
    std::vector<int64_t> out;
    if (need_mb <= 0) return out;
    struct Next {
      Key key;
      const Group* group;
      IdleSet::const_iterator at;
      bool operator>(const Next& o) const { return key > o.key; }
    };
    std::priority_queue<Next, std::vector<Next>, std::greater<Next>> more;
    std::vector<std::pair<int64_t, double>> chosen;
    auto head = heads_.begin();
    int64_t freed = 0;
    while (freed < need_mb) {
      Next n;
      if (head != heads_.end() && (more.empty() || head->first < more.top().key)) {
        n = {head->first, head->second, head->second->idle.begin()};
        ++head;
      } else if (!more.empty()) {
        n = more.top();
        more.pop();
      } else {
        break;
      }
      const double priority = std::get<0>(n.key);
      if (const EnvInfo* env = pool.find(n.at->second); env && env->idle()) {  // never a busy one
        chosen.emplace_back(env->id, priority);
        freed += env->memory_mb;
      }
      if (auto after = std::next(n.at); after != n.group->idle.end())
        more.push({{priority, after->first, after->second}, n.group, after});
    }
    for (const auto& [id, priority] : chosen) {
      out.push_back(id);
      if (freed >= need_mb) pending_[id] = priority;
    }
    return out;
  }

 private:
  using IdleSet = std::set<std::pair<TimeUs, int64_t>>;  // (last_used_us, id)
  using Key = std::tuple<double, TimeUs, int64_t>;        // (priority, last_used_us, id)

  // The idle environments of one function at one memory size: they share a priority, so
  // they go least recently used first, and only the group's first competes with others.
  struct Group {
    std::string function;
    int memory_mb = 0;
    IdleSet idle;
    bool listed = false;  // in heads_ under `key`
    Key key;
  };

  struct Access {
    double clock;  // Clock at f's last access
    int64_t freq;  // Freq(f) at f's last access
  };

  Group& group(const std::string& function, int memory_mb) {
    auto [it, added] = groups_.try_emplace({function, memory_mb});
    if (added) {
      it->second.function = function;
      it->second.memory_mb = memory_mb;
      groups_of_[function].push_back(&it->second);
    }
    return it->second;
  }

  // Puts the group's first idle environment in heads_ at the group's priority now.
  void list(Group& g, const Pool& pool) {
    if (g.listed) heads_.erase(g.key);
    g.listed = !g.idle.empty();
    if (!g.listed) return;
    const auto& [last_used, id] = *g.idle.begin();
    g.key = {priority(g, pool), last_used, id};
    heads_.emplace(g.key, &g);
  }

  void forget_idle(int64_t id) {
    auto it = idle_.find(id);
    if (it == idle_.end()) return;
    const auto [g, last_used] = it->second;
    idle_.erase(it);
    const bool was_first = !g->idle.empty() && g->idle.begin()->second == id;
    g->idle.erase({last_used, id});
    if (was_first && g->listed) {
      // The group's priority is unchanged here: only its first environment moves.
      heads_.erase(g->key);
      g->listed = !g->idle.empty();
      if (g->listed) {
        g->key = {std::get<0>(g->key), g->idle.begin()->first, g->idle.begin()->second};
        heads_.emplace(g->key, g);
      }
    }
  }

  double priority(const Group& g, const Pool& pool) const {
    auto it = access_.find(g.function);
    const Access a = it == access_.end() ? Access{clock_, 0} : it->second;
    const double freq = static_cast<double>(a.freq);
    const double size = std::max(1, g.memory_mb);
    switch (kind_) {
      case Kind::kGreedyDual:
        return a.clock + freq * keep_alive::miss_cost_ms(pool, g.function, g.memory_mb) / size;
      case Kind::kFreq:
        return a.clock + freq * keep_alive::miss_cost_ms(pool, g.function, g.memory_mb);
      case Kind::kSize:
        return a.clock + freq / size;
    }
    return a.clock;
  }

  Kind kind_;
  double clock_ = 0;
  std::unordered_map<std::string, Access> access_;  // by function
  // std::map: groups do not move, so heads_ and idle_ may point at them.
  std::map<std::pair<std::string, int>, Group> groups_;
  std::unordered_map<std::string, std::vector<Group*>> groups_of_;  // by function
  std::map<Key, Group*> heads_;
  struct IdleAt {
    Group* group;
    TimeUs last_used_us;
  };
  std::unordered_map<int64_t, IdleAt> idle_;          // by id, while idle
  std::unordered_map<int64_t, double> pending_;       // the last victims() answer: id -> priority
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
