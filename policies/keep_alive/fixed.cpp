// Fixed keep-alive (a TTL), the baseline every paper beats, and `none`.
//
// Contract: an environment that went idle at e is kept until e + ttl, then evicted
// unless a request reused it (coldstart.md §2.1: a request in (e, e+K] is warm). ttl = 0
// evicts at once, which is `none`: every request is a cold start. Under a memory budget
// the seam's default victims apply, least recently used first, as faascache-sim's TTL
// does when its server is full.
//
// Sources: AWS 10 min and Azure 20 min (Shahrad et al., ATC'20 §1); SimFaaS's
// expiration_threshold; faascache-sim's TTL; dslab's FixedTimeColdStartPolicy. The
// provider presets are registry lines (registry_keep_alive.cpp) naming their source.
#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

class Fixed : public KeepAlivePolicy {
 public:
  // An empty label prints the spec ("fixed:ttl=10m"); a preset prints its name first.
  Fixed(std::string label, TimeUs ttl_us) : label_(std::move(label)), ttl_us_(ttl_us) {}

  std::string name() const override {
    const std::string spec = "fixed:ttl=" + format_duration(ttl_us_);
    return label_.empty() ? spec : label_ + " (" + spec + ")";
  }

  IdleDecision on_idle(const EnvInfo& env, const Pool& /*pool*/, TimeUs /*now*/) override {
    if (ttl_us_ <= 0) return IdleDecision::evict_now();
    // From when it went idle, not from when the caller got round to asking.
    if (ttl_us_ == kForever || env.last_used_us > kForever - ttl_us_) return IdleDecision::keep_forever();
    return IdleDecision::keep_until(env.last_used_us + ttl_us_);
  }

 private:
  std::string label_;
  TimeUs ttl_us_;
};

class None : public KeepAlivePolicy {
 public:
  std::string name() const override { return "none"; }
  IdleDecision on_idle(const EnvInfo&, const Pool&, TimeUs) override { return IdleDecision::evict_now(); }
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_none(PolicySpec& /*spec*/) { return std::make_unique<None>(); }

std::unique_ptr<KeepAlivePolicy> make_fixed(PolicySpec& spec) {
  return std::make_unique<Fixed>("", spec.duration("ttl", 10 * kMinuteUs));
}

std::unique_ptr<KeepAlivePolicy> make_fixed_preset(const std::string& label, TimeUs ttl) {
  return std::make_unique<Fixed>(label, ttl);
}

}  // namespace coldlab::policies
