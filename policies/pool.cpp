#include "pool.h"

namespace coldlab::policies {

void CostStats::add(const std::string& function, int memory_mb, bool cold, double ms) {
  Costs& c = costs_[{function, memory_mb}];
  // Incremental means: exact enough, and no sums that grow without bound.
  if (cold) {
    ++c.cold_count;
    c.cold_ms += (ms - c.cold_ms) / static_cast<double>(c.cold_count);
  } else {
    ++c.warm_count;
    c.warm_ms += (ms - c.warm_ms) / static_cast<double>(c.warm_count);
  }
}

CostStats::Costs CostStats::get(const std::string& function, int memory_mb) const {
  auto it = costs_.find({function, memory_mb});
  return it == costs_.end() ? Costs{} : it->second;
}

const FunctionInfo* Pool::function(const std::string& name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : &it->second;
}

EnvInfo* Pool::find(int64_t id) {
  auto it = envs_.find(id);
  return it == envs_.end() ? nullptr : &it->second;
}

const EnvInfo* Pool::find(int64_t id) const {
  auto it = envs_.find(id);
  return it == envs_.end() ? nullptr : &it->second;
}

std::vector<const EnvInfo*> Pool::of(const std::string& function) const {
  std::vector<const EnvInfo*> out;
  for (const auto& [id, env] : envs_)
    if (env.function == function) out.push_back(&env);
  return out;
}

std::vector<const EnvInfo*> Pool::idle() const {
  std::vector<const EnvInfo*> out;
  for (const auto& [id, env] : envs_)
    if (env.idle()) out.push_back(&env);
  return out;
}

std::vector<const EnvInfo*> Pool::idle(const std::string& function) const {
  std::vector<const EnvInfo*> out;
  for (const auto& [id, env] : envs_)
    if (env.idle() && env.function == function) out.push_back(&env);
  return out;
}

int Pool::concurrency() const {
  int n = 0;
  for (const auto& [id, env] : envs_) n += env.active;
  return n;
}

int Pool::concurrency(const std::string& function) const {
  int n = 0;
  for (const auto& [id, env] : envs_)
    if (env.function == function) n += env.active;
  return n;
}

int64_t Pool::used_mb() const {
  int64_t mb = 0;
  for (const auto& [id, env] : envs_) mb += env.memory_mb;
  return mb;
}

}  // namespace coldlab::policies
