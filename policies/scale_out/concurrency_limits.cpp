// Lambda's account and reserved concurrency limits (factories.h; lambda-api.md §4,
// configuration-concurrency.md). Concurrency counts requests running now, not
// environments: idle environments cost nothing.
#include <algorithm>

#include "scale_out/factories.h"

namespace coldlab::policies::scale_out {

std::optional<Route> concurrency_throttle(const std::string& function, const Pool& pool,
                                          int64_t account_limit) {
  const FunctionInfo* info = pool.function(function);
  if (info && info->reserved_concurrency) {
    const int reserved = *info->reserved_concurrency;
    if (pool.concurrency(function) < reserved) return std::nullopt;
    return Route::throttle(
        kReservedFunctionConcurrentInvocationLimitExceeded,
        "function " + function + " is at its reserved concurrency of " + std::to_string(reserved));
  }

  // Reserved functions are few: the pool keeps them apart, so this stays O(reserved).
  int64_t reserved_sum = 0;
  int64_t in_use = pool.concurrency();
  for (const auto& [name, reserved] : pool.reserved()) {
    reserved_sum += std::max(reserved, 0);
    in_use -= pool.concurrency(name);
  }
  const int64_t unreserved_pool = std::max<int64_t>(account_limit - reserved_sum, 0);
  if (in_use < unreserved_pool) return std::nullopt;
  return Route::throttle(kConcurrentInvocationLimitExceeded,
                         "account concurrency: the unreserved pool (" + std::to_string(unreserved_pool) +
                             " = " + std::to_string(account_limit) + " - " + std::to_string(reserved_sum) +
                             " reserved) is in use");
}

}  // namespace coldlab::policies::scale_out
