// Which environment a request goes to when more than one would do (factories.h).
#include "scale_out/factories.h"

namespace coldlab::policies::scale_out {

Routing routing_param(PolicySpec& spec) {
  return spec.choice("routing", "mru", {"mru", "lru"}) == "lru" ? Routing::kLru : Routing::kMru;
}

const char* routing_name(Routing routing) { return routing == Routing::kLru ? "lru" : "mru"; }

bool preferred(const EnvInfo& a, const EnvInfo& b, Routing routing) {
  if (a.provisioned != b.provisioned) return a.provisioned;
  if (routing == Routing::kMru) {
    if (a.last_used_us != b.last_used_us) return a.last_used_us > b.last_used_us;
    return a.id > b.id;
  }
  if (a.last_used_us != b.last_used_us) return a.last_used_us < b.last_used_us;
  return a.id < b.id;
}

const EnvInfo* pick(const std::vector<const EnvInfo*>& candidates, Routing routing) {
  const EnvInfo* best = nullptr;
  for (const EnvInfo* env : candidates)
    if (!best || preferred(*env, *best, routing)) best = env;
  return best;
}

const EnvInfo* pick_idle(const Pool& pool, const std::string& function, Routing routing) {
  return routing == Routing::kMru ? pool.most_recently_used_idle(function) : pool.least_recently_used_idle(function);
}

}  // namespace coldlab::policies::scale_out
