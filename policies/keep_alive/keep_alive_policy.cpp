// The seam's defaults: least-recently-used victims when memory runs short, which is also
// how faascache-sim's TTL policy behaves when its server is full (coldstart.md §2.1).
#include "keep_alive/keep_alive_policy.h"

#include <algorithm>
#include <set>

#include "keep_alive/factories.h"

namespace coldlab::policies {

std::vector<int64_t> lru_victims(const Pool& pool) {
  std::vector<int64_t> ids;
  pool.for_each_idle_lru([&](const EnvInfo& env) {
    ids.push_back(env.id);
    return true;
  });
  return ids;
}

std::vector<int64_t> KeepAlivePolicy::victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) {
  // Only as many as it takes: O(victims · log n), not a sort of every idle environment.
  std::vector<int64_t> ids;
  if (need_mb <= 0) return ids;
  int64_t freed = 0;
  pool.for_each_idle_lru([&](const EnvInfo& env) {
    ids.push_back(env.id);
    freed += env.memory_mb;
    return freed < need_mb;
  });
  return ids;
}

namespace keep_alive {

std::vector<int64_t> enough(const Pool& pool, const std::vector<int64_t>& order, int64_t need_mb) {
  std::vector<int64_t> out;
  if (need_mb <= 0) return out;
  std::set<int64_t> seen;
  int64_t freed = 0;
  for (int64_t id : order) {
    const EnvInfo* env = pool.find(id);
    if (!env || !env->idle() || !seen.insert(id).second) continue;
    out.push_back(id);
    freed += env->memory_mb;
    if (freed >= need_mb) break;
  }
  return out;
}

}  // namespace keep_alive
}  // namespace coldlab::policies
