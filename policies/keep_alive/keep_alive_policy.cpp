// The seam's defaults: least-recently-used victims when memory runs short, which is also
// how faascache-sim's TTL policy behaves when its server is full (coldstart.md §2.1).
#include "keep_alive/keep_alive_policy.h"

#include <algorithm>
#include <set>

#include "keep_alive/factories.h"

namespace coldlab::policies {

std::vector<int64_t> lru_victims(const Pool& pool) {
  std::vector<const EnvInfo*> idle = pool.idle();
  // pool.idle() is by id, so a stable sort leaves equal times in id order.
  std::stable_sort(idle.begin(), idle.end(),
                   [](const EnvInfo* a, const EnvInfo* b) { return a->last_used_us < b->last_used_us; });
  std::vector<int64_t> ids;
  ids.reserve(idle.size());
  for (const EnvInfo* env : idle) ids.push_back(env->id);
  return ids;
}

std::vector<int64_t> KeepAlivePolicy::victims(const Pool& pool, int64_t need_mb, TimeUs /*now*/) {
  return keep_alive::enough(pool, lru_victims(pool), need_mb);
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
