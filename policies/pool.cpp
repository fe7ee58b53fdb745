#include "pool.h"

#include <algorithm>

namespace coldlab::policies {

CostStats::BySize* CostStats::of(const std::string& function) const {
  if (last_ && last_->first == function) return &last_->second;
  auto it = costs_.find(function);
  if (it == costs_.end()) return nullptr;
  last_ = &*it;  // unordered_map nodes stay put; entries are never erased
  return &it->second;
}

CostStats::BySize& CostStats::slot(const std::string& function) {
  if (BySize* sizes = of(function)) return *sizes;
  return costs_[function];
}

void CostStats::add(const std::string& function, int memory_mb, bool cold, double ms) {
  add(slot(function), memory_mb, cold, ms);
}

void CostStats::add(BySize& sizes, int memory_mb, bool cold, double ms) {
  auto it = std::find_if(sizes.begin(), sizes.end(), [&](const auto& e) { return e.first == memory_mb; });
  if (it == sizes.end()) it = sizes.insert(sizes.end(), {memory_mb, Costs{}});
  Costs& c = it->second;
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
  if (const BySize* sizes = of(function))
    for (const auto& [mb, costs] : *sizes)
      if (mb == memory_mb) return costs;
  return Costs{};
}

void Pool::set_function(const FunctionInfo& f) {
  const FunctionInfo& stored = functions_[f.name] = f;
  by_function_[f.name].info = &stored;
  if (f.reserved_concurrency) {
    reserved_[f.name] = *f.reserved_concurrency;
  } else {
    reserved_.erase(f.name);
  }
}

const FunctionInfo* Pool::function(const std::string& name) const {
  const PerFunction* f = per_function(name);
  return f ? f->info : nullptr;
}

Pool::FunctionHandle Pool::handle(const std::string& name) const {
  auto it = by_function_.find(name);
  if (it == by_function_.end() || !it->second.info) return nullptr;
  return &*it;
}

const std::string& Pool::name_of(FunctionHandle h) { return h->first; }

const FunctionInfo* Pool::function(FunctionHandle h) const {
  last_function_ = h;
  return h->second.info;
}

const Pool::PerFunction* Pool::per_function(const std::string& name) const {
  if (last_function_ && last_function_->first == name) return &last_function_->second;
  auto it = by_function_.find(name);
  if (it == by_function_.end()) return nullptr;
  last_function_ = &*it;  // unordered_map nodes stay put, and these are never erased
  return &it->second;
}

Pool::Node* Pool::node(int64_t id) const {
  if (last_node_ && last_node_->env.id == id) return last_node_;
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return nullptr;
  last_node_ = &it->second;
  return last_node_;
}

namespace {

// (last_used_us, id) order.
bool before(const EnvInfo& a, const EnvInfo& b) {
  return a.last_used_us != b.last_used_us ? a.last_used_us < b.last_used_us : a.id < b.id;
}

}  // namespace

void Pool::link(ByUse& list, Node& n, Link Node::*through) {
  Node* after = list.tail;
  while (after && before(n.env, after->env)) after = (after->*through).prev;
  Node* next = after ? (after->*through).next : list.head;
  (n.*through) = {after, next};
  (after ? (after->*through).next : list.head) = &n;
  (next ? (next->*through).prev : list.tail) = &n;
}

void Pool::unlink(ByUse& list, Node& n, Link Node::*through) {
  const Link l = n.*through;
  (l.prev ? (l.prev->*through).next : list.head) = l.next;
  (l.next ? (l.next->*through).prev : list.tail) = l.prev;
  n.*through = {};
}

void Pool::insert_idle(Node& n) {
  link(n.env.provisioned ? n.function->idle_provisioned : n.function->idle_on_demand, n, &Node::in_function);
  link(idle_lru_, n, &Node::in_pool);
}

void Pool::erase_idle(Node& n) {
  unlink(n.env.provisioned ? n.function->idle_provisioned : n.function->idle_on_demand, n, &Node::in_function);
  unlink(idle_lru_, n, &Node::in_pool);
}

void Pool::index(Node& n) {
  const EnvInfo& env = n.env;
  n.function = &by_function_[env.function];
  PerFunction& f = *n.function;
  f.ids.insert(env.id);
  f.active += env.active;
  f.invocations += env.invocations;
  active_ += env.active;
  used_mb_ += env.memory_mb;
  if (env.idle()) insert_idle(n);
}

void Pool::unindex(Node& n) {
  const EnvInfo& env = n.env;
  PerFunction& f = *n.function;
  f.ids.erase(env.id);
  f.active -= env.active;
  f.invocations -= env.invocations;
  active_ -= env.active;
  used_mb_ -= env.memory_mb;
  if (env.idle()) erase_idle(n);
}

void Pool::add(const EnvInfo& env) {
  remove(env.id);
  EnvInfo& stored = envs_.emplace(env.id, env).first->second;
  index(nodes_.emplace(env.id, Node{stored, nullptr, {}, {}}).first->second);
}

void Pool::remove(int64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  if (last_node_ == &it->second) last_node_ = nullptr;
  unindex(it->second);
  nodes_.erase(it);
  envs_.erase(id);
}

// start_request and end_request run on every request: they touch only the indexes that
// change.
void Pool::start_request(int64_t id) {
  Node* found = node(id);
  if (!found) return;
  Node& n = *found;
  EnvInfo& env = n.env;
  if (env.idle()) erase_idle(n);
  ++env.active;
  ++env.invocations;
  ++n.function->active;
  ++n.function->invocations;
  ++active_;
}

void Pool::end_request(int64_t id, TimeUs now) {
  Node* found = node(id);
  if (!found) return;
  Node& n = *found;
  EnvInfo& env = n.env;
  if (env.idle()) {
    erase_idle(n);
  } else {
    --env.active;
    --n.function->active;
    --active_;
  }
  env.last_used_us = now;
  if (env.idle()) insert_idle(n);
}

void Pool::set_keep_until(int64_t id, TimeUs t) {
  if (Node* n = node(id)) n->env.keep_until_us = t;
}

void Pool::add_cost(int64_t id, bool cold, double ms) {
  Node* n = node(id);
  if (!n) return;
  PerFunction& f = *n->function;
  if (!f.costs) f.costs = &costs_.slot(n->env.function);
  CostStats::add(*f.costs, n->env.memory_mb, cold, ms);
}

const EnvInfo* Pool::find(int64_t id) const {
  const Node* n = node(id);
  return n ? &n->env : nullptr;
}

std::vector<const EnvInfo*> Pool::of(const std::string& function) const {
  std::vector<const EnvInfo*> out;
  if (const PerFunction* f = per_function(function))
    for (int64_t id : f->ids) out.push_back(&nodes_.at(id).env);
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
      if (const EnvInfo& env = nodes_.at(id).env; env.idle()) out.push_back(&env);
  return out;
}

size_t Pool::count(const std::string& function) const {
  const PerFunction* f = per_function(function);
  return f ? f->ids.size() : 0;
}

const EnvInfo* Pool::most_recently_used_idle(const std::string& function) const {
  const PerFunction* f = per_function(function);
  if (!f) return nullptr;
  const ByUse& list = f->idle_provisioned.empty() ? f->idle_on_demand : f->idle_provisioned;
  return list.empty() ? nullptr : &list.tail->env;
}

const EnvInfo* Pool::least_recently_used_idle(const std::string& function) const {
  const PerFunction* f = per_function(function);
  if (!f) return nullptr;
  const ByUse& list = f->idle_provisioned.empty() ? f->idle_on_demand : f->idle_provisioned;
  return list.empty() ? nullptr : &list.head->env;
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
