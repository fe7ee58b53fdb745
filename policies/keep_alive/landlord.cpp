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
//
// Rent is kept as one running total per MB (rent_) instead of touching every credit:
// an environment's credit is its credit when set minus (rent_ now - rent_ then) * size.
#include <algorithm>
#include <limits>
#include <map>

#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

class Landlord : public KeepAlivePolicy {
 public:
  std::string name() const override { return "landlord"; }
  bool needs_memory_budget() const override { return true; }

  IdleDecision on_idle(const EnvInfo& env, const Pool& pool, TimeUs /*now*/) override {
    credit_[env.id] = {keep_alive::hit_cost_ms(pool, env.function, env.memory_mb), rent_};
    pending_.erase(env.id);
    return IdleDecision::keep_forever();
  }

  void on_start(const EnvInfo& env, bool, const Pool&, TimeUs) override { pending_.erase(env.id); }

  void on_evicted(const EnvInfo& env, const Pool& /*pool*/, TimeUs /*now*/) override {
    if (auto it = pending_.find(env.id); it != pending_.end()) {
      rent_ = std::max(rent_, it->second);
      pending_.erase(it);
    }
    credit_.erase(env.id);
  }

  std::vector<int64_t> victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) override {
    pending_.clear();
    std::vector<const EnvInfo*> left = pool.idle();
    std::vector<std::pair<int64_t, double>> chosen;  // id, rent_ once it is evicted
    double rent = rent_;
    int64_t freed = 0;
    while (freed < need_mb && !left.empty()) {
      double delta = std::numeric_limits<double>::infinity();
      for (const EnvInfo* env : left) delta = std::min(delta, credit(*env, rent) / size(*env));
      rent += std::max(0.0, delta);
      auto victim = std::min_element(left.begin(), left.end(), [&](const EnvInfo* a, const EnvInfo* b) {
        const double ca = credit(*a, rent), cb = credit(*b, rent);
        if (ca != cb) return ca < cb;
        if (a->last_used_us != b->last_used_us) return a->last_used_us < b->last_used_us;
        return a->id < b->id;
      });
      chosen.push_back({(*victim)->id, rent});
      freed += (*victim)->memory_mb;
      left.erase(victim);
    }
    std::vector<int64_t> ids;
    for (const auto& [id, at] : chosen) {
      ids.push_back(id);
      if (freed >= need_mb) pending_[id] = at;
    }
    return ids;
  }

 private:
  struct Credit {
    double set_ms;   // the credit when it was set
    double rent_at;  // rent_ then
  };

  static double size(const EnvInfo& env) { return std::max(1, env.memory_mb); }

  // An environment this policy never saw go idle (a pre-warm) has no credit.
  double credit(const EnvInfo& env, double rent) const {
    auto it = credit_.find(env.id);
    if (it == credit_.end()) return 0;
    return it->second.set_ms - (rent - it->second.rent_at) * size(env);
  }

  double rent_ = 0;                    // rent charged so far, per MB
  std::map<int64_t, Credit> credit_;   // by id
  std::map<int64_t, double> pending_;  // the last victims() answer: id -> rent_ once evicted
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_landlord(PolicySpec& /*spec*/) { return std::make_unique<Landlord>(); }

}  // namespace coldlab::policies
