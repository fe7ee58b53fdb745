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
// Deviation: faascache-sim draws a priority in [0, 10) at each access and evicts the
// lowest, so ties (one in ten) fall back to heap order; here every idle environment is
// equally likely at every draw.
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
  IdleDecision on_idle(const EnvInfo&, const Pool&, TimeUs) override { return IdleDecision::keep_forever(); }

  std::vector<int64_t> victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) override {
    std::vector<const EnvInfo*> left = pool.idle();  // by id: the draws depend on nothing else
    std::vector<int64_t> out;
    int64_t freed = 0;
    while (freed < need_mb && !left.empty()) {
      const size_t i = uniform_below(rng_, left.size());
      out.push_back(left[i]->id);
      freed += left[i]->memory_mb;
      left.erase(left.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return out;
  }

 private:
  uint64_t seed_;
  std::mt19937_64 rng_;
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_rand(PolicySpec& spec) {
  return std::make_unique<Rand>(
      static_cast<uint64_t>(spec.integer("seed", 1, 0, std::numeric_limits<int64_t>::max())));
}

}  // namespace coldlab::policies
