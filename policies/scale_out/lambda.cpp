// lambda: AWS Lambda's on-demand scaling; the default scale-out policy.
//
// One request per environment. A request reuses an idle environment of its function, the
// one `routing` prefers (factories.h), or else starts a new one. Limits, checked in this
// order, each a 429 TooManyRequestsException with its Reason:
//   1. the function's reserved concurrency, then the account's `concurrency` (default
//      1000) for functions without one (factories.h, concurrency_throttle);
//   2. only when a new environment is needed (reuse is never rate-limited), the scaling
//      rate, a token bucket (token_bucket.h):
//        rate=2023 (default): per function, 1,000 environments per 10 s, refilled
//          continuously, not banked (Lambda since 2023-11);
//        rate=legacy: one bucket shared by every function of the account, an initial
//          `burst` (default 3000; Lambda's regions had 3000, 1000 or 500), then +500
//          environments per minute (Lambda up to 2023);
//        rate=none: no scaling limit.
//
// Source: lambda-api.md §1.3 and §4; docs.aws.amazon.com/lambda/latest/dg/
// scaling-behavior.html, invocation-scaling.md (legacy), configuration-concurrency.md.
//
// Deviations and choices:
//   - Lambda documents only "429" for a request over the scaling rate, not its Reason.
//     We say FunctionInvocationRateLimitExceeded, the API model's Reason for a function's
//     invocation rate, for both rates: two other Reasons name concurrency, which is not
//     what ran out, and the remaining rate Reasons belong to reserved functions or to the
//     caller's API rate. The legacy burst was account-wide, but the model has no
//     account-wide rate Reason.
//   - The token is taken in on_environment_started so that route() changes nothing; a
//     second route() before the Scheduler reports the first start sees the same token.
//     Environments started for a pre-warm or provisioned concurrency take none.
//   - The 2023 rule's "+10,000 requests per second per 10 s" and the account's RPS limit
//     (10 x concurrency) are not modelled; the live emulator is far below both.
#include <optional>
#include <unordered_map>

#include "scale_out/factories.h"
#include "scale_out/token_bucket.h"

namespace coldlab::policies {
namespace {

using scale_out::Routing;

enum class Rate { k2023, kLegacy, kNone };

constexpr int64_t kRate2023Environments = 1000;
constexpr TimeUs kRate2023Period = 10 * kSecondUs;
constexpr int64_t kLegacyRefill = 500;
constexpr TimeUs kLegacyPeriod = kMinuteUs;

class Lambda final : public ScaleOutPolicy {
 public:
  Lambda(int64_t concurrency, Rate rate, int64_t burst, Routing routing)
      : concurrency_(concurrency), rate_(rate), burst_(burst), routing_(routing) {
    if (rate_ == Rate::kLegacy) account_bucket_.emplace(burst_, kLegacyRefill, kLegacyPeriod);
  }

  std::string name() const override {
    std::string name = "lambda:concurrency=" + std::to_string(concurrency_) + ",rate=";
    if (rate_ == Rate::k2023) name += "2023";
    if (rate_ == Rate::kLegacy) name += "legacy,burst=" + std::to_string(burst_);
    if (rate_ == Rate::kNone) name += "none";
    return name + ",routing=" + scale_out::routing_name(routing_);
  }

  Route route(const std::string& function, int /*queued*/, const Pool& pool, TimeUs now) override {
    if (auto throttle = scale_out::concurrency_throttle(function, pool, concurrency_)) return *throttle;
    if (const EnvInfo* env = scale_out::pick_idle(pool, function, routing_)) return Route::reuse(env->id);
    const TokenBucket* bucket = bucket_of(function);
    if (!bucket || bucket->available(now) > 0) return Route::start();
    const std::string wait = format_duration(bucket->next_token_us(now) - now);
    if (rate_ == Rate::kLegacy)
      return Route::throttle(kFunctionInvocationRateLimitExceeded,
                             "scaling rate: the account's burst of " + std::to_string(burst_) +
                                 " new environments (then +500 per minute) is used up; next in " + wait);
    return Route::throttle(kFunctionInvocationRateLimitExceeded,
                           "scaling rate: function " + function +
                               "'s 1000 new environments per 10s are used up; next in " + wait);
  }

  void on_environment_started(const EnvInfo& env, TimeUs now) override {
    if (rate_ == Rate::kLegacy) {
      account_bucket_->take(now);
    } else if (rate_ == Rate::k2023) {
      auto it = function_buckets_
                    .try_emplace(env.function, kRate2023Environments, kRate2023Environments, kRate2023Period)
                    .first;
      it->second.take(now);
    }
  }

 private:
  // The bucket a new environment of `function` draws from; nullptr when nothing limits
  // it, which includes a function that has not started an environment yet (its bucket
  // would be full).
  const TokenBucket* bucket_of(const std::string& function) const {
    if (rate_ == Rate::kLegacy) return &*account_bucket_;
    if (rate_ == Rate::kNone) return nullptr;
    auto it = function_buckets_.find(function);
    return it == function_buckets_.end() ? nullptr : &it->second;
  }

  const int64_t concurrency_;
  const Rate rate_;
  const int64_t burst_;
  const Routing routing_;
  std::unordered_map<std::string, TokenBucket> function_buckets_;  // rate=2023
  std::optional<TokenBucket> account_bucket_;                       // rate=legacy
};

}  // namespace

std::unique_ptr<ScaleOutPolicy> make_lambda(PolicySpec& spec) {
  const int64_t concurrency = spec.integer("concurrency", 1000, 1, 100'000'000);
  const std::string rate_text = spec.choice("rate", "2023", {"2023", "legacy", "none"});
  const Rate rate = rate_text == "legacy" ? Rate::kLegacy : rate_text == "none" ? Rate::kNone : Rate::k2023;
  int64_t burst = 0;
  if (rate == Rate::kLegacy) {
    burst = spec.integer("burst", 3000, 1, 100'000'000);
  } else if (!spec.text("burst", "").empty()) {
    // A burst with another rate would be ignored; say so rather than run something else.
    throw SpecError("policy lambda: burst applies only to rate=legacy (rate=" + rate_text + ")");
  }
  const Routing routing = scale_out::routing_param(spec);
  return std::make_unique<Lambda>(concurrency, rate, burst, routing);
}

}  // namespace coldlab::policies
