#include "pool.h"

#include <algorithm>

namespace coldlab::policies {

size_t CostStats::KeyHash::operator()(const std::pair<std::string, int>& k) const {
  return std::hash<std::string>()(k.first) * 31 + std::hash<int>()(k.second);
}

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

void Pool::set_function(const FunctionInfo& f) {
  functions_[f.name] = f;
  if (f.reserved_concurrency) {
    reserved_[f.name] = *f.reserved_concurrency;
  } else {
    reserved_.erase(f.name);
  }
}

const FunctionInfo* Pool::function(const std::string& name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : &it->second;
}

const Pool::PerFunction* Pool::per_function(const std::string& name) const {
  auto it = by_function_.find(name);
  return it == by_function_.end() ? nullptr : &it->second;
}

// An environment goes idle at the latest time yet, almost always: with the end() hint
// the insert is O(1). Erasing through find() walks the tree once, not twice as erase(key)'s
// equal_range does.
void Pool::insert_idle(ByUse& set, const EnvInfo& env) { set.emplace_hint(set.end(), env.last_used_us, env.id); }

void Pool::erase_idle(ByUse& set, const EnvInfo& env) {
  auto it = set.find({env.last_used_us, env.id});
  if (it != set.end()) set.erase(it);
}

void Pool::index(const EnvInfo& env) {
  PerFunction& f = by_function_[env.function];
  f.ids.insert(env.id);
  f.active += env.active;
  f.invocations += env.invocations;
  active_ += env.active;
  used_mb_ += env.memory_mb;
  if (env.idle()) {
    insert_idle(env.provisioned ? f.idle_provisioned : f.idle_on_demand, env);
    insert_idle(idle_lru_, env);
  }
}

void Pool::unindex(const EnvInfo& env) {
  auto it = by_function_.find(env.function);
  PerFunction& f = it->second;
  f.ids.erase(env.id);
  f.active -= env.active;
  f.invocations -= env.invocations;
  active_ -= env.active;
  used_mb_ -= env.memory_mb;
  if (env.idle()) {
    erase_idle(env.provisioned ? f.idle_provisioned : f.idle_on_demand, env);
    erase_idle(idle_lru_, env);
  }
  if (f.ids.empty()) by_function_.erase(it);
}

void Pool::add(const EnvInfo& env) {
  remove(env.id);
  EnvInfo& stored = envs_.emplace(env.id, env).first->second;
  by_id_.emplace(env.id, &stored);
  index(stored);
}

void Pool::remove(int64_t id) {
  auto it = envs_.find(id);
  if (it == envs_.end()) return;
  unindex(it->second);
  by_id_.erase(id);
  envs_.erase(it);
}

// start_request and end_request run on every request: they touch only the indexes that
// change, not a full unindex/index.
void Pool::start_request(int64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  EnvInfo& env = *it->second;
  PerFunction& f = by_function_.find(env.function)->second;
  if (env.idle()) {
    erase_idle(env.provisioned ? f.idle_provisioned : f.idle_on_demand, env);
    erase_idle(idle_lru_, env);
  }
  ++env.active;
  ++env.invocations;
  ++f.active;
  ++f.invocations;
  ++active_;
}

void Pool::end_request(int64_t id, TimeUs now) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  EnvInfo& env = *it->second;
  PerFunction& f = by_function_.find(env.function)->second;
  if (env.idle()) {
    erase_idle(env.provisioned ? f.idle_provisioned : f.idle_on_demand, env);
    erase_idle(idle_lru_, env);
  } else {
    --env.active;
    --f.active;
    --active_;
  }
  env.last_used_us = now;
  if (env.idle()) {
    insert_idle(env.provisioned ? f.idle_provisioned : f.idle_on_demand, env);
    insert_idle(idle_lru_, env);
  }
}

const EnvInfo* Pool::find(int64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<const EnvInfo*> Pool::of(const std::string& function) const {
  std::vector<const EnvInfo*> out;
  if (const PerFunction* f = per_function(function))
    for (int64_t id : f->ids) out.push_back(by_id_.at(id));
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
  if (const PerFunction* f = per_function(function))
    for (int64_t id : f->ids)
      if (const EnvInfo* env = by_id_.at(id); env->idle()) out.push_back(env);
  return out;
}

size_t Pool::count(const std::string& function) const {
  const PerFunction* f = per_function(function);
  return f ? f->ids.size() : 0;
}

const EnvInfo* Pool::most_recently_used_idle(const std::string& function) const {
  const PerFunction* f = per_function(function);
  if (!f) return nullptr;
  const ByUse& set = f->idle_provisioned.empty() ? f->idle_on_demand : f->idle_provisioned;
  return set.empty() ? nullptr : by_id_.at(set.rbegin()->second);
}

const EnvInfo* Pool::least_recently_used_idle(const std::string& function) const {
  const PerFunction* f = per_function(function);
  if (!f) return nullptr;
  const ByUse& set = f->idle_provisioned.empty() ? f->idle_on_demand : f->idle_provisioned;
  return set.empty() ? nullptr : by_id_.at(set.begin()->second);
}

int Pool::concurrency(const std::string& function) const {
  const PerFunction* f = per_function(function);
  return f ? f->active : 0;
}

int64_t Pool::invocations(const std::string& function) const {
  const PerFunction* f = per_function(function);
  return f ? f->invocations : 0;
}

}  // namespace coldlab::policies
