// RAND: FaasCache's random-eviction baseline.
//
// Contract: keep every idle environment while memory allows (on_idle keeps forever); when
// a new environment does not fit, evict idle environments chosen uniformly at random, one
// after another, until it does. needs_memory_budget(). Deterministic for a given `seed`
// (default 1) and sequence of calls: the generator is std::mt19937_64, whose output the
// standard fixes, and the draw below is written out rather than left to a
// std::uniform_int_distribution, whose output is implementation-defined.
//
// Source: faascache-sim's RAND (Fuerst & Sharma, ASPLOS'21; coldstart.md §2.3).
// Cost: the idle environments are kept in an order-statistics tree by id, so each draw
// finds its victim in O(log n). Only environments that went idle through on_idle are
// candidates (rand never asks for pre-warms).
//
// Deviation: faascache-sim draws a priority in [0, 10) at each access and evicts the
// lowest, so ties (one in ten) fall back to heap order; here every idle environment is
// equally likely at every draw.
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <limits>
#include <random>

#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

// Uniform in [0, n) by rejection: the low values that would make x % n favour some
// residues are redrawn. n > 0.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t threshold = (uint64_t{0} - n) % n;  // 2^64 mod n
  uint64_t x;
  do x = rng();
  while (x < threshold);
  return x % n;
}

class Rand : public KeepAlivePolicy {
 public:
  explicit Rand(uint64_t seed) : seed_(seed), rng_(seed) {}

  std::string name() const override { return "rand:seed=" + std::to_string(seed_); }
  bool needs_memory_budget() const override { return true; }
  IdleDecision on_idle(const EnvInfo& env, const Pool&, TimeUs) override {
    idle_.insert(env.id);
    return IdleDecision::keep_forever();
  }
  void on_start(const EnvInfo& env, bool, const Pool&, TimeUs) override { idle_.erase(env.id); }
  void on_evicted(const EnvInfo& env, const Pool&, TimeUs) override { idle_.erase(env.id); }

  // Draws without replacement over the idle environments by id, as if from a list that
  // loses each victim: the chosen leave the tree for the draws and come back after.
  std::vector<int64_t> victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) override {
    std::vector<int64_t> out;
    std::vector<int64_t> taken;
    int64_t freed = 0;
    while (freed < need_mb && !idle_.empty()) {
      const auto it = idle_.find_by_order(uniform_below(rng_, idle_.size()));
      const int64_t id = *it;
      idle_.erase(it);
      taken.push_back(id);
      const EnvInfo* env = pool.find(id);
      if (!env || !env->idle()) continue;  // a host that did not say it started: never a busy one
      out.push_back(id);
      freed += env->memory_mb;
    }
    for (int64_t id : taken) idle_.insert(id);
    return out;
  }

 private:
  uint64_t seed_;
  std::mt19937_64 rng_;
  __gnu_pbds::tree<int64_t, __gnu_pbds::null_type, std::less<int64_t>, __gnu_pbds::rb_tree_tag,
                   __gnu_pbds::tree_order_statistics_node_update>
      idle_;
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_rand(PolicySpec& spec) {
  return std::make_unique<Rand>(
      static_cast<uint64_t>(spec.integer("seed", 1, 0, std::numeric_limits<int64_t>::max())));
}

}  // namespace coldlab::policies
