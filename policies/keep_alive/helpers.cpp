// Small rules several keep-alive policies share: what a miss or a hit of a function costs
// according to the running statistics, and how a parameter prints in a policy's name.
#include <algorithm>
#include <charconv>

#include "keep_alive/factories.h"

namespace coldlab::policies::keep_alive {

double miss_cost_ms(const Pool& pool, const std::string& function, int memory_mb) {
  const CostStats::Costs c = pool.costs().get(function, memory_mb);
  if (c.cold_count > 0 && c.warm_count > 0) return std::max(0.0, c.cold_ms - c.warm_ms);
  if (c.cold_count > 0) return std::max(0.0, c.cold_ms);
  return 0;
}

double hit_cost_ms(const Pool& pool, const std::string& function, int memory_mb) {
  const CostStats::Costs c = pool.costs().get(function, memory_mb);
  if (c.warm_count > 0) return std::max(0.0, c.warm_ms);
  if (c.cold_count > 0) return std::max(0.0, c.cold_ms);
  return 0;
}

std::string format_number(double value) {
  // std::to_chars, unlike printf and streams, ignores the locale and gives the shortest
  // round-trip form.
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, result.ptr);
}

}  // namespace coldlab::policies::keep_alive
