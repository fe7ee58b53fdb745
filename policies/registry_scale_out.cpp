// The scale-out policies by name, one line each (registry.h). The first is the default.
#include "registry.h"
#include "scale_out/factories.h"

namespace coldlab::policies {

const std::vector<ScaleOutEntry>& scale_out_registry() {
  static const std::vector<ScaleOutEntry> table = {
      {"lambda",
       "AWS Lambda: one request per environment, reuse an idle one else start; concurrency=1000, "
       "rate=2023|legacy|none (2023: 1000 new environments per 10s per function; legacy: account burst "
       "then +500/min), burst=3000 (legacy only), routing=mru|lru",
       make_lambda},
      {"per-env-concurrency",
       "n requests share an environment, the least loaded below n, start when all are at n; n=4, "
       "concurrency=1000, routing=mru|lru",
       make_per_env_concurrency},
      {"max-instances",
       "at most m environments per function, then a FIFO queue; m=10, queue=1000, queue_timeout=30s, "
       "routing=mru|lru",
       make_max_instances},
  };
  return table;
}

}  // namespace coldlab::policies
