#include "keep_alive/keep_alive_policy.h"

namespace coldlab::policies {
namespace {

class FixedTtl : public KeepAlivePolicy {
 public:
  explicit FixedTtl(int64_t ttl_us) : ttl_us_(ttl_us) {}

  std::string name() const override {
    // Whole seconds print as such ("fixed:ttl=600s"); otherwise milliseconds.
    if (ttl_us_ % 1000000 == 0) return "fixed:ttl=" + std::to_string(ttl_us_ / 1000000) + "s";
    return "fixed:ttl=" + std::to_string(ttl_us_ / 1000) + "ms";
  }

  IdleDecision on_idle(const IdleEnvironment& env, int64_t /*now_us*/) override {
    if (ttl_us_ <= 0) return IdleDecision::evict_now();
    return IdleDecision::keep_until(env.idle_since_us + ttl_us_);
  }

 private:
  int64_t ttl_us_;
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_fixed_ttl(int64_t ttl_us) {
  return std::make_unique<FixedTtl>(ttl_us);
}

}  // namespace coldlab::policies
