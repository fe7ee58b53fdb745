#include "scheduler.h"

#include <algorithm>
#include <stdexcept>

namespace coldlab::policies {

Scheduler::Scheduler(Options options, std::unique_ptr<KeepAlivePolicy> keep_alive,
                     std::unique_ptr<ScaleOutPolicy> scale_out, IdSource next_id)
    : options_(options),
      keep_alive_(std::move(keep_alive)),
      scale_out_(std::move(scale_out)),
      next_id_(std::move(next_id)) {
  pool_.set_budget_mb(options_.memory_budget_mb);
}

void Scheduler::set_function(const FunctionInfo& f) { pool_.set_function(f); }

int Scheduler::queued(const std::string& function) const {
  auto it = queues_.find(function);
  return it == queues_.end() ? 0 : static_cast<int>(it->second.size());
}

Scheduler::Admission Scheduler::request(const std::string& function, TimeUs now) {
  const Pool::FunctionHandle h = pool_.handle(function);
  if (!h) throw std::invalid_argument("Scheduler: unknown function " + function);
  return request(h, now);
}

Scheduler::Admission Scheduler::request(Pool::FunctionHandle handle, TimeUs now) {
  pool_.function(handle);  // the lookups by name below find it at once
  const std::string& function = Pool::name_of(handle);
  keep_alive_->on_request(function, pool_, now);
  // Requests already waiting go first (capacity may have come back with time alone, e.g.
  // a refilled rate limit); a newcomer may not overtake them.
  if (queued(function) > 0) serve_queue(function, now);
  const int waiting = queued(function);
  Route route = scale_out_->route(function, waiting, pool_, now);
  if (waiting > 0 && route.kind != Route::Kind::kQueue && route.kind != Route::Kind::kThrottle) {
    route = Route::queue(now);  // inconsistent policy: queue behind the others, expire at once
  }
  if (route.kind == Route::Kind::kQueue) {
    Admission a;
    a.kind = Admission::Kind::kQueued;
    a.ticket = next_ticket_++;
    queues_[function].push_back({a.ticket, route.queue_deadline_us});
    return a;
  }
  return place(function, route, now);
}

Scheduler::Admission Scheduler::place(const std::string& function, const Route& route, TimeUs now) {
  Admission a;
  const int per_env = std::max(1, scale_out_->per_environment_concurrency());
  switch (route.kind) {
    case Route::Kind::kThrottle:
      a.kind = Admission::Kind::kThrottled;
      a.reason = route.reason;
      a.message = route.message;
      return a;
    case Route::Kind::kReuse: {
      const EnvInfo* env = pool_.find(route.environment_id);
      if (!env || env->function != function || env->active >= per_env) {
        throw std::logic_error("scale-out policy " + scale_out_->name() + " routed a request for " +
                               function + " to environment " + std::to_string(route.environment_id) +
                               ", which cannot take it");
      }
      clear_keep_until(env->id);
      pool_.start_request(env->id);
      keep_alive_->on_start(*env, false, pool_, now);
      a.kind = Admission::Kind::kRun;
      a.placement = {env->id, false};
      return a;
    }
    case Route::Kind::kStart: {
      const FunctionInfo& f = *pool_.function(function);
      if (!make_room(f.memory_mb, now)) {
        a.kind = Admission::Kind::kThrottled;
        a.reason = kConcurrentInvocationLimitExceeded;
        a.message = "the memory budget of " + std::to_string(pool_.budget_mb()) +
                    " MB is held by busy environments and ones the keep-alive policy will not "
                    "evict; " + function + " needs " + std::to_string(f.memory_mb) + " MB";
        return a;
      }
      EnvInfo env;
      env.id = next_id_();
      env.function = function;
      env.memory_mb = f.memory_mb;
      env.created_us = now;
      env.last_used_us = now;
      env.invocations = 1;
      env.active = 1;
      pool_.add(env);
      scale_out_->on_environment_started(env, now);
      keep_alive_->on_start(*pool_.find(env.id), true, pool_, now);
      a.kind = Admission::Kind::kRun;
      a.placement = {env.id, true};
      return a;
    }
    case Route::Kind::kQueue:
      break;
  }
  throw std::logic_error("Scheduler::place: a queue route cannot be placed");
}

bool Scheduler::make_room(int64_t need_mb, TimeUs now) {
  const int64_t budget = pool_.budget_mb();
  if (budget <= 0) return true;
  int64_t over = pool_.used_mb() + need_mb - budget;
  if (over <= 0) return true;
  // All or nothing: evicting some idle environments and still throttling would lose
  // warm environments for no request.
  std::vector<int64_t> chosen;
  int64_t freed = 0;
  for (int64_t id : keep_alive_->victims(pool_, over, now)) {
    const EnvInfo* env = pool_.find(id);
    if (!env || !env->idle() || std::find(chosen.begin(), chosen.end(), id) != chosen.end()) continue;
    chosen.push_back(id);
    freed += env->memory_mb;
    if (freed >= over) break;
  }
  if (freed < over) return false;
  for (int64_t id : chosen) evict(id, "memory", now);
  return true;
}

void Scheduler::evict(int64_t id, const std::string& reason, TimeUs now) {
  const EnvInfo* found = pool_.find(id);
  if (!found || !found->idle()) return;  // never a busy one, whoever asks
  const EnvInfo env = *found;
  clear_keep_until(id);
  pool_.remove(id);
  work_.evict.push_back({id, reason});
  keep_alive_->on_evicted(env, pool_, now);
}

void Scheduler::finished(int64_t environment_id, bool reusable, bool cold, double cost_ms, TimeUs now) {
  const EnvInfo* env = pool_.find(environment_id);
  if (!env) return;
  if (cost_ms >= 0) pool_.add_cost(environment_id, cold, cost_ms);
  pool_.end_request(environment_id, now);
  if (!reusable) {
    const EnvInfo gone = *env;
    clear_keep_until(environment_id);
    pool_.remove(environment_id);
    // The host stops it; eviction here would only tell it twice.
    keep_alive_->on_evicted(gone, pool_, now);
    serve_queue(gone.function, now);
    return;
  }
  // Waiting requests take the freed capacity before the keep-alive policy sees an idle
  // environment. (A copy of the name: serving the queue may evict this environment.)
  if (!queues_.empty()) serve_queue(std::string(env->function), now);
  env = pool_.find(environment_id);
  if (env && env->idle()) becomes_idle(*env, now);
}

void Scheduler::becomes_idle(const EnvInfo& env, TimeUs now) {
  const IdleDecision d = keep_alive_->on_idle(env, pool_, now);
  const int64_t id = env.id;
  if (d.prewarm) prewarms_.emplace(d.prewarm->at_us, *d.prewarm);
  if (d.keep_until_us <= now) {
    evict(id, "idle", now);
  } else {
    set_keep_until(id, d.keep_until_us);
  }
}

void Scheduler::set_keep_until(int64_t id, TimeUs t) {
  clear_keep_until(id);
  if (!pool_.find(id)) return;
  pool_.set_keep_until(id, t);
  ++live_deadlines_;
  deadlines_.emplace(t, id);
  // Stale entries are bounded by the live ones: rebuild when they outnumber them.
  if (deadlines_.size() > 2 * live_deadlines_ + 64) {
    std::vector<Deadline> live;
    live.reserve(live_deadlines_);
    for (const auto& [env, info] : pool_.environments())
      if (info.keep_until_us != kForever) live.emplace_back(info.keep_until_us, env);
    deadlines_ = decltype(deadlines_)(std::greater<Deadline>(), std::move(live));
  }
}

// Before an environment leaves the pool, and whenever its deadline no longer holds.
void Scheduler::clear_keep_until(int64_t id) {
  const EnvInfo* env = pool_.find(id);
  if (!env || env->keep_until_us == kForever) return;
  pool_.set_keep_until(id, kForever);
  --live_deadlines_;
  drop_stale_deadlines();
}

void Scheduler::drop_stale_deadlines() {
  while (!deadlines_.empty()) {
    const auto [t, id] = deadlines_.top();
    const EnvInfo* env = pool_.find(id);
    if (env && env->keep_until_us == t) return;
    deadlines_.pop();
  }
}

void Scheduler::removed(int64_t environment_id, TimeUs now) {
  const EnvInfo* found = pool_.find(environment_id);
  if (!found) return;
  const EnvInfo env = *found;
  clear_keep_until(environment_id);
  pool_.remove(environment_id);
  keep_alive_->on_evicted(env, pool_, now);
  serve_queue(env.function, now);
}

void Scheduler::serve_queue(const std::string& function, TimeUs now) {
  auto it = queues_.find(function);
  if (it == queues_.end()) return;
  auto& queue = it->second;
  while (!queue.empty()) {
    const Route route = scale_out_->route(function, 0, pool_, now);
    if (route.kind == Route::Kind::kQueue) break;  // still no capacity: keep waiting
    const Ticket ticket = queue.front();
    queue.pop_front();
    const Admission a = place(function, route, now);
    if (a.kind == Admission::Kind::kRun) {
      work_.dispatch.push_back({ticket.id, a.placement});
    } else {
      work_.expire.push_back({ticket.id, a.reason, a.message});
    }
  }
  if (queue.empty()) queues_.erase(it);
}

void Scheduler::start_prewarm(const Prewarm& p, TimeUs now) {
  const FunctionInfo* f = pool_.function(p.function);
  if (!f) return;
  for (int i = 0; i < p.count; ++i) {
    // A pre-warm that does not fit is dropped: it must never cost a warm environment
    // that is in use, and evicting idle ones for speculation is the policy's call
    // through victims(), like any start.
    if (!make_room(f->memory_mb, now)) return;
    EnvInfo env;
    env.id = next_id_();
    env.function = p.function;
    env.memory_mb = f->memory_mb;
    env.created_us = now;
    env.last_used_us = now;
    env.provisioned = p.provisioned;
    pool_.add(env);
    if (p.keep_until_us != kForever) set_keep_until(env.id, p.keep_until_us);
    work_.start.push_back({env.id, p.function, f->memory_mb, p.provisioned});
  }
}

Scheduler::Work Scheduler::take_work(TimeUs now) {
  // The usual case, on every event of a simulation: nothing due, nothing produced.
  if (work_.empty() && queues_.empty() && (deadlines_.empty() || deadlines_.top().first > now) &&
      (prewarms_.empty() || prewarms_.begin()->first > now) && keep_alive_->next_tick() > now)
    return Work{};
  // Idle deadlines that passed.
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const int64_t id = deadlines_.top().second;  // never stale at the top
    clear_keep_until(id);  // also when evict() finds it busy: a deadline is used once
    evict(id, "idle", now);
  }

  // Pre-warms that are due.
  while (!prewarms_.empty() && prewarms_.begin()->first <= now) {
    const Prewarm p = prewarms_.begin()->second;
    prewarms_.erase(prewarms_.begin());
    start_prewarm(p, now);
  }

  // Policy ticks. A tick may ask for the next one at once; bounded so a policy that keeps
  // asking for `now` cannot hang the host.
  for (int rounds = 0; rounds < 16 && keep_alive_->next_tick() <= now; ++rounds) {
    TickActions actions = keep_alive_->on_tick(pool_, now);
    for (int64_t id : actions.evict) evict(id, "idle", now);
    for (const Prewarm& p : actions.prewarm) {
      if (p.at_us <= now) {
        start_prewarm(p, now);
      } else {
        prewarms_.emplace(p.at_us, p);
      }
    }
    for (auto& f : actions.ping)
      if (pool_.function(f)) work_.ping.push_back(std::move(f));
  }

  // Queued requests whose deadline passed.
  for (auto it = queues_.begin(); it != queues_.end();) {
    auto& queue = it->second;
    while (!queue.empty() && queue.front().deadline <= now) {
      work_.expire.push_back({queue.front().id, kReservedFunctionConcurrentInvocationLimitExceeded,
                              "no environment of " + it->first + " freed up while the request waited"});
      queue.pop_front();
    }
    it = queue.empty() ? queues_.erase(it) : std::next(it);
  }

  Work out = std::move(work_);
  work_ = Work{};
  return out;
}

TimeUs Scheduler::next_deadline() const {
  TimeUs t = keep_alive_->next_tick();
  if (!deadlines_.empty()) t = std::min(t, deadlines_.top().first);
  if (!prewarms_.empty()) t = std::min(t, prewarms_.begin()->first);
  for (const auto& [f, queue] : queues_)
    if (!queue.empty()) t = std::min(t, queue.front().deadline);
  return t;
}

}  // namespace coldlab::policies
