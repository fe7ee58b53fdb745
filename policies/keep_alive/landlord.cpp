// Landlord: FaasCache's comparison policy LND, the classic online file-caching algorithm.
//
// Contract: keep every idle environment while memory allows (on_idle keeps forever).
// Each environment holds a credit, set to its function's warm time (ms) when it becomes
// idle. When a new environment does not fit, rent is charged until enough is free: the
// rent per MB is delta = min over idle environments of credit / size, every idle
// environment pays delta * size, and the one left with no credit (ties: least recently
// used, then lower id) is evicted; repeat. needs_memory_budget().
//
// Source: Young, "On-line file caching", Algorithmica 2002 (Landlord); Fuerst & Sharma,
// ASPLOS'21, and faascache-sim's LND (credit = warm_time; rent delta = min(credit/size)
// charged to all on eviction: credit -= delta * size); coldstart.md §2.3.
//
// Deviations:
//   - Rent is charged before each victim, as in Landlord, not once per eviction round and
//     then lowest-credit-first as faascache-sim does; with one victim per round (the usual
//     case) they agree.
//   - Only idle environments pay rent and set delta. faascache-sim charges running ones
//     too, but a running environment cannot be evicted and its credit is set afresh when
//     it goes idle, so the rent it paid would not count. Setting the credit when the
//     environment goes idle rather than when its request starts is the same thing for a
//     policy that never evicts busy environments.
//   - Warm time is learnt (Pool::costs()); keep_alive::hit_cost_ms's fallback applies
//     before any warm request of the function was seen.
//   - Rent is charged when the Scheduler evicts (on_evicted), so an answer that frees too
//     little charges nothing.
//   - Only environments that went idle through on_idle are candidates: a pre-warmed one
//     never did, and Landlord never asks for pre-warms.
//
// Cost: rent is kept as one running total per MB (rent_) instead of touching every credit:
// an environment's credit is its credit when set minus (rent_ now - rent_ then) * size. So
// credit / size + rent_ then, its "level", is a constant; charging the rent the poorest
// can pay and evicting it is taking the lowest level, and rent_ becomes that level. The
// idle environments are kept ordered by level: O(log n) per request and per victim.
#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_map>

#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

class Landlord : public KeepAlivePolicy {
 public:
  std::string name() const override { return "landlord"; }
  bool needs_memory_budget() const override { return true; }

  IdleDecision on_idle(const EnvInfo& env, const Pool& pool, TimeUs /*now*/) override {
    forget(env.id);
    pending_.erase(env.id);
    const double level = keep_alive::hit_cost_ms(pool, env.function, env.memory_mb) / size(env) + rent_;
    const Key key{level, env.last_used_us, env.id};
    by_level_.insert(key);
    idle_[env.id] = key;
    return IdleDecision::keep_forever();
  }

  void on_start(const EnvInfo& env, bool, const Pool&, TimeUs) override {
    pending_.erase(env.id);
    forget(env.id);
  }

  void on_evicted(const EnvInfo& env, const Pool& /*pool*/, TimeUs /*now*/) override {
    if (auto it = pending_.find(env.id); it != pending_.end()) {
      rent_ = std::max(rent_, it->second);
      pending_.erase(it);
    }
    forget(env.id);
  }

  std::vector<int64_t> victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) override {
    pending_.clear();
    std::vector<int64_t> ids;
    std::vector<double> rents;  // rent_ once each is evicted
    double rent = rent_;
    int64_t freed = 0;
    for (auto it = by_level_.begin(); it != by_level_.end() && freed < need_mb; ++it) {
      const auto& [level, last_used, id] = *it;
      const EnvInfo* env = pool.find(id);
      if (!env || !env->idle()) continue;  // a host that did not say it started: never a busy one
      rent = std::max(rent, level);
      ids.push_back(id);
      rents.push_back(rent);
      freed += env->memory_mb;
    }
    if (freed >= need_mb)
      for (size_t i = 0; i < ids.size(); ++i) pending_[ids[i]] = rents[i];
    return ids;
  }

 private:
  // (level, last_used_us, id): the lowest level goes first, ties least recently used, then
  // lower id.
  using Key = std::tuple<double, TimeUs, int64_t>;

  static double size(const EnvInfo& env) { return std::max(1, env.memory_mb); }

  void forget(int64_t id) {
    auto it = idle_.find(id);
    if (it == idle_.end()) return;
    by_level_.erase(it->second);
    idle_.erase(it);
  }

  double rent_ = 0;                            // rent charged so far, per MB
  std::set<Key> by_level_;                     // idle environments
  std::unordered_map<int64_t, Key> idle_;      // by id, while idle
  std::unordered_map<int64_t, double> pending_;  // the last victims() answer: id -> rent_ once evicted
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_landlord(PolicySpec& /*spec*/) { return std::make_unique<Landlord>(); }

}  // namespace coldlab::policies
