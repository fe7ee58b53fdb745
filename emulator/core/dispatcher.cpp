#include "core/dispatcher.h"

#include <algorithm>

namespace coldlab::core {
namespace {

policies::FunctionInfo function_info(const FunctionState& f, std::optional<int> reserved) {
  return {f.config.name, f.config.memory_mb, reserved};
}

}  // namespace

Dispatcher::Dispatcher(Options options, FunctionRegistry& registry, EnvironmentServices& services,
                       std::unique_ptr<policies::KeepAlivePolicy> keep_alive,
                       std::unique_ptr<policies::ScaleOutPolicy> scale_out)
    : options_(options),
      registry_(registry),
      services_(services),
      scheduler_({options.memory_budget_mb}, std::move(keep_alive), std::move(scale_out),
                 [&services] { return services.log->allocate_environment_id(); }),
      worker_([this] { worker_loop(); }),
      pinger_([this] { pinger_loop(); }) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : registry_.list()) scheduler_.set_function(function_info(f, std::nullopt));
  run_work_locked();  // a policy may want environments from the start (provisioned)
}

Dispatcher::~Dispatcher() {
  shutdown(std::chrono::milliseconds(0));
  {
    std::lock_guard<std::mutex> lock(ping_mu_);
    ping_quit_ = true;
  }
  ping_cv_.notify_all();
  pinger_.join();
  {
    std::lock_guard<std::mutex> lock(worker_mu_);
    worker_quit_ = true;
  }
  worker_cv_.notify_all();
  worker_.join();
}

std::string Dispatcher::keep_alive_name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scheduler_.keep_alive().name();
}

std::string Dispatcher::scale_out_name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scheduler_.scale_out().name();
}

InvokeOutcome Dispatcher::invoke(const InvokeRequest& request) {
  // From arrival to the logged answer, queued or running, the invocation is activity.
  const Clock::Hold active = services_.clock->hold();
  InvokeOutcome outcome;
  auto function = registry_.find(request.function);
  if (!function) {
    outcome.kind = InvokeOutcome::Kind::kNoSuchFunction;
    return outcome;
  }
  const int memory_mb = function->config.memory_mb;
  // Placed again if the environment it was given dies before running it.
  for (;;) {
    auto inv = std::make_shared<PendingInvocation>();
    inv->request_id = request.request_id;
    inv->payload = request.payload;
    inv->client_context = request.client_context;
    inv->function_arn = request.function_arn;
    inv->trace_id = request.trace_id;

    std::unique_lock<std::mutex> lock(mu_);
    auto refuse = [&](InvokeOutcome::Kind kind, const char* status, const std::string& error_type) {
      outcome.kind = kind;
      lock.unlock();
      log_row(request, status, error_type, memory_mb, nullptr, 0);
      return outcome;
    };
    if (shutting_down_) return refuse(InvokeOutcome::Kind::kShuttingDown, "rejected", "ServiceException");
    // The function may have been updated since `function` was read; run the current one.
    if (auto current = registry_.find(request.function)) function = current;
    const auto admission = scheduler_.request(request.function, services_.clock->now_us());
    policies::Scheduler::Placement placement = admission.placement;
    if (admission.kind == policies::Scheduler::Admission::Kind::kThrottled) {
      run_work_locked();
      outcome.throttle_reason = admission.reason;
      outcome.throttle_message = admission.message;
      return refuse(InvokeOutcome::Kind::kThrottled, "throttled", "TooManyRequestsException");
    }
    if (admission.kind == policies::Scheduler::Admission::Kind::kQueued) {
      auto waiter = std::make_shared<Waiter>();
      waiters_[admission.ticket] = waiter;
      run_work_locked();
      queue_cv_.wait(lock, [&] { return waiter->done || shutting_down_; });
      waiters_.erase(admission.ticket);
      if (!waiter->done) return refuse(InvokeOutcome::Kind::kShuttingDown, "rejected", "ServiceException");
      if (waiter->expired) {
        outcome.throttle_reason = waiter->reason;
        outcome.throttle_message = waiter->message;
        return refuse(InvokeOutcome::Kind::kThrottled, "throttled", "TooManyRequestsException");
      }
      placement = waiter->placement;
    }
    ++in_flight_;
    run_on(lock, placement, *function, inv);

    outcome.result = inv->wait();
    if (outcome.result.undelivered) continue;
    static const char* kStatus[] = {"ok", "error", "timeout", "crash", "oom"};
    log_row(request, kStatus[static_cast<int>(outcome.result.status)], outcome.result.error_type,
            memory_mb, &outcome.result, static_cast<int64_t>(outcome.result.payload.size()));
    return outcome;
  }
}

void Dispatcher::run_on(std::unique_lock<std::mutex>& lock, const policies::Scheduler::Placement& placement,
                        const FunctionState& function,
                        const std::shared_ptr<PendingInvocation>& inv) {
  const int64_t id = placement.environment_id;
  if (placement.cold) {
    auto env = std::make_shared<Environment>(id, function, services_, *this);
    all_.emplace(id, env);
    busy_.insert(id);
    run_work_locked();
    lock.unlock();
    env->start(inv);
    return;
  }
  auto it = all_.find(id);
  if (it != all_.end() && busy_.count(id)) {
    backlog_[id].push_back(inv);
  } else if (it != all_.end() && it->second->assign(inv)) {
    busy_.insert(id);
  } else {
    // It died between the scheduler's choice and now; the scheduler forgets it and the
    // invocation is placed again.
    --in_flight_;
    scheduler_.removed(id, services_.clock->now_us());
    if (it != all_.end()) retire_locked(it->second, "exited");
    InvocationResult r;
    r.undelivered = true;
    inv->finish(std::move(r));
  }
  run_work_locked();
  lock.unlock();
}

void Dispatcher::record_rejected(const InvokeRequest& request, const std::string& error_type,
                                 int memory_mb) {
  log_row(request, "rejected", error_type, memory_mb, nullptr, 0);
}

void Dispatcher::log_row(const InvokeRequest& request, const std::string& status,
                         const std::string& error_type, int memory_mb,
                         const InvocationResult* result, int64_t response_bytes) {
  log::InvocationRecord row;
  row.request_id = request.request_id;
  row.attempt = request.attempt;
  row.run_id = services_.run_id;
  row.function = request.function;
  row.memory_mb = memory_mb;
  row.invocation_type = request.invocation_type;
  row.started_at_us = request.received_us;
  row.status = status;
  row.error_type = error_type;
  row.request_bytes = request.request_bytes;
  row.response_bytes = response_bytes;
  if (result) {
    row.environment_id = result->environment_id;
    row.cold = result->cold;
    row.init_ms = result->init_ms;
    row.duration_ms = result->duration_ms;
    row.billed_ms = result->billed_ms;
    row.max_memory_mb = result->max_memory_mb;
  }
  row.latency_us = services_.clock->now_us() - request.received_us;
  services_.log->record(row);
}

void Dispatcher::released(const std::shared_ptr<Environment>& env, bool reusable,
                          const InvocationResult& result) {
  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
  if (in_flight_ == 0) idle_cv_.notify_all();
  const int64_t id = env->id();
  auto current = registry_.find(env->function().config.name);
  const bool stale = !current || current->revision != env->function().revision;
  const bool keep = reusable && !stale && !shutting_down_;
  double cost_ms = -1;  // only successful invocations say what a request costs
  if (result.status == InvocationResult::Status::kOk)
    cost_ms = result.duration_ms + (result.cold && result.init_ms ? *result.init_ms : 0.0);
  scheduler_.finished(id, keep, result.cold, cost_ms, services_.clock->now_us());

  auto backlog = backlog_.find(id);
  if (keep && backlog != backlog_.end() && !backlog->second.empty()) {
    auto next = backlog->second.front();
    backlog->second.pop_front();
    if (!env->assign(next)) {
      backlog->second.push_front(next);
      fail_backlog_locked(id);
    }
  } else {
    busy_.erase(id);
    if (!keep) {
      fail_backlog_locked(id);
      retire_locked(env, stale ? "config_update" : "shutdown");
    }
  }
  run_work_locked();
}

void Dispatcher::fail_backlog_locked(int64_t env_id) {
  auto backlog = backlog_.find(env_id);
  if (backlog == backlog_.end()) return;
  auto invs = std::move(backlog->second);
  backlog_.erase(backlog);
  for (auto& inv : invs) {
    --in_flight_;
    InvocationResult r;
    r.undelivered = true;
    inv->finish(std::move(r));
  }
  if (in_flight_ == 0) idle_cv_.notify_all();
}

void Dispatcher::died_idle(const std::shared_ptr<Environment>& env) {
  std::lock_guard<std::mutex> lock(mu_);
  scheduler_.removed(env->id(), services_.clock->now_us());
  fail_backlog_locked(env->id());
  busy_.erase(env->id());
  retire_locked(env, "exited");
  run_work_locked();
}

void Dispatcher::run_work_locked() {
  const int64_t now = services_.clock->now_us();
  auto work = scheduler_.take_work(now);
  for (const auto& e : work.evict) {
    auto it = all_.find(e.environment_id);
    if (it != all_.end()) retire_locked(it->second, e.reason);
  }
  for (const auto& s : work.start) {
    auto function = registry_.find(s.function);
    if (!function || shutting_down_) {
      scheduler_.removed(s.environment_id, now);
      continue;
    }
    auto env = std::make_shared<Environment>(s.environment_id, *function, services_, *this);
    all_.emplace(s.environment_id, env);
    {
      std::lock_guard<std::mutex> wlock(worker_mu_);
      tasks_.push_back({env, "", s.provisioned, services_.clock->hold()});
    }
    worker_cv_.notify_all();
  }
  for (const auto& d : work.dispatch) {
    auto it = waiters_.find(d.ticket);
    if (it == waiters_.end()) continue;
    it->second->done = true;
    it->second->placement = d.placement;
  }
  for (const auto& x : work.expire) {
    auto it = waiters_.find(x.ticket);
    if (it == waiters_.end()) continue;
    it->second->done = true;
    it->second->expired = true;
    it->second->reason = x.reason;
    it->second->message = x.message;
  }
  if (!work.dispatch.empty() || !work.expire.empty()) queue_cv_.notify_all();
  if (!work.ping.empty()) {
    {
      std::lock_guard<std::mutex> plock(ping_mu_);
      for (auto& f : work.ping) pings_.emplace_back(f, services_.clock->hold());
    }
    ping_cv_.notify_all();
  }
  // One timer, at the scheduler's next deadline.
  const int64_t next = shutting_down_ ? policies::kForever : scheduler_.next_deadline();
  if (next != wake_at_) {
    if (wake_timer_) services_.timers->cancel(wake_timer_);
    wake_timer_ = 0;
    wake_at_ = next;
    if (next != policies::kForever) wake_timer_ = services_.timers->schedule(next, [this] { on_wake(); });
  }
}

void Dispatcher::on_wake() {
  std::lock_guard<std::mutex> lock(mu_);
  wake_timer_ = 0;
  wake_at_ = policies::kForever;
  run_work_locked();
}

// `env` by value: it may be the very pointer stored in all_, which this function erases.
void Dispatcher::retire_locked(std::shared_ptr<Environment> env, const std::string& reason) {
  if (all_.erase(env->id()) == 0) return;  // already on its way out
  {
    std::lock_guard<std::mutex> lock(worker_mu_);
    tasks_.push_back({env, reason, false, services_.clock->hold()});
  }
  worker_cv_.notify_all();
}

void Dispatcher::function_updated(const std::string& function) {
  auto current = registry_.find(function);
  std::lock_guard<std::mutex> lock(mu_);
  if (!current) return;
  scheduler_.set_function(function_info(*current, scheduler_.pool().function(function)
                                                      ? scheduler_.pool().function(function)->reserved_concurrency
                                                      : std::nullopt));
  std::vector<std::shared_ptr<Environment>> stale;
  for (const auto& [id, env] : all_)
    if (env->function().config.name == function && env->function().revision != current->revision &&
        !busy_.count(id))
      stale.push_back(env);
  const int64_t now = services_.clock->now_us();
  for (auto& env : stale) {
    scheduler_.removed(env->id(), now);
    retire_locked(env, "config_update");
  }
  run_work_locked();
}

std::optional<std::string> Dispatcher::set_reserved_concurrency(const std::string& function,
                                                                std::optional<int> reserved) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto* info = scheduler_.pool().function(function);
  if (!info) return "Function not found: " + function;
  if (reserved) {
    // Lambda keeps at least 100 of the account's concurrency for functions without a
    // reservation.
    int64_t others = 0;
    for (const auto& [name, f] : scheduler_.pool().functions())
      if (name != function && f.reserved_concurrency) others += *f.reserved_concurrency;
    if (options_.account_concurrency - others - *reserved < 100) {
      return "Specified ReservedConcurrentExecutions for function decreases account's "
             "UnreservedConcurrentExecution below its minimum value of [100].";
    }
  }
  policies::FunctionInfo updated = *info;
  updated.reserved_concurrency = reserved;
  scheduler_.set_function(updated);
  return std::nullopt;
}

std::optional<int> Dispatcher::reserved_concurrency(const std::string& function) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto* info = scheduler_.pool().function(function);
  return info ? info->reserved_concurrency : std::nullopt;
}

void Dispatcher::shutdown(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<Environment>> all;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (shutting_down_ && all_.empty() && in_flight_ == 0) return;
    shutting_down_ = true;
    if (wake_timer_) services_.timers->cancel(wake_timer_);
    wake_timer_ = 0;
    wake_at_ = policies::kForever;
    queue_cv_.notify_all();  // queued requests are refused
    const int64_t deadline = services_.clock->now_us() + grace.count() * 1000;
    while (in_flight_ > 0 && services_.clock->now_us() < deadline)
      services_.clock->wait_until(lock, idle_cv_, deadline);
    for (auto& [id, env] : all_) all.push_back(env);
  }
  for (auto& env : all) {
    std::lock_guard<std::mutex> lock(mu_);
    retire_locked(env, "shutdown");
  }
  // Wait until the worker has stopped everything and every invocation has its answer.
  std::unique_lock<std::mutex> wlock(worker_mu_);
  worker_cv_.wait(wlock, [this] { return tasks_.empty() && worker_busy_ == 0; });
  wlock.unlock();
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return in_flight_ == 0; });
}

void Dispatcher::worker_loop() {
  std::unique_lock<std::mutex> lock(worker_mu_);
  for (;;) {
    worker_cv_.wait(lock, [this] { return worker_quit_ || !tasks_.empty(); });
    if (tasks_.empty()) return;
    Task task = std::move(tasks_.front());
    tasks_.pop_front();
    ++worker_busy_;
    lock.unlock();
    if (task.stop_reason.empty()) {
      task.env->start(nullptr, task.provisioned);
    } else {
      task.env->stop(task.stop_reason);
    }
    task.env.reset();
    task.hold.reset();
    lock.lock();
    --worker_busy_;
    worker_cv_.notify_all();
  }
}

void Dispatcher::pinger_loop() {
  std::unique_lock<std::mutex> lock(ping_mu_);
  uint64_t n = 0;
  for (;;) {
    ping_cv_.wait(lock, [this] { return ping_quit_ || !pings_.empty(); });
    if (ping_quit_) return;
    const std::string function = std::move(pings_.front().first);
    Clock::Hold queued = std::move(pings_.front().second);
    pings_.pop_front();
    lock.unlock();
    InvokeRequest r;
    r.function = function;
    r.request_id = "coldlab-ping-" + std::to_string(services_.run_id) + "-" + std::to_string(++n);
    r.payload = "{\"coldlab\": \"ping\"}";
    r.invocation_type = "Ping";
    r.received_us = services_.clock->now_us();
    r.request_bytes = static_cast<int64_t>(r.payload.size());
    invoke(r);
    queued.reset();
    lock.lock();
  }
}

}  // namespace coldlab::core
