// LRU: keep every idle environment while memory allows; when a new one does not fit,
// evict the least recently used idle ones (ties: lower id) until it does.
//
// Contract: on_idle keeps forever; all eviction happens in victims(), so the policy means
// something only with a memory budget (needs_memory_budget()). Without one, nothing is
// ever evicted for idleness.
//
// Source: faascache-sim's LRU (Fuerst & Sharma, ASPLOS'21; coldstart.md §2.3), whose
// priority is the last access time. "Last access" here is when the environment's last
// request ended (EnvInfo::last_used_us), not when it started: for one request at a time
// the order is the same except when runs overlap.
#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

class Lru : public KeepAlivePolicy {
 public:
  std::string name() const override { return "lru"; }
  bool needs_memory_budget() const override { return true; }
  IdleDecision on_idle(const EnvInfo&, const Pool&, TimeUs) override { return IdleDecision::keep_forever(); }
  // victims(): the seam's default, least recently used first.
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_lru(PolicySpec& /*spec*/) { return std::make_unique<Lru>(); }

}  // namespace coldlab::policies
