#include "core/dispatcher.h"

#include <algorithm>

namespace coldlab::core {

Dispatcher::Dispatcher(Options options, FunctionRegistry& registry, EnvironmentServices& services,
                       policies::KeepAlivePolicy& keep_alive)
    : options_(options),
      registry_(registry),
      services_(services),
      keep_alive_(keep_alive),
      reaper_([this] { reaper_loop(); }) {}

Dispatcher::~Dispatcher() {
  shutdown(std::chrono::milliseconds(0));
  {
    std::lock_guard<std::mutex> lock(reaper_mu_);
    reaper_quit_ = true;
  }
  reaper_cv_.notify_all();
  reaper_.join();
}

InvokeOutcome Dispatcher::invoke(const InvokeRequest& request) {
  InvokeOutcome outcome;
  auto function = registry_.find(request.function);
  if (!function) {
    outcome.kind = InvokeOutcome::Kind::kNoSuchFunction;
    return outcome;
  }
  auto inv = std::make_shared<PendingInvocation>();
  inv->request_id = request.request_id;
  inv->payload = request.payload;
  inv->client_context = request.client_context;
  inv->function_arn = request.function_arn;
  inv->trace_id = request.trace_id;

  std::shared_ptr<Environment> cold_env;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (shutting_down_) {
      outcome.kind = InvokeOutcome::Kind::kShuttingDown;
      lock.unlock();
      log_row(request, "rejected", "ServiceException", function->config.memory_mb, nullptr, 0);
      return outcome;
    }
    if (in_flight_ >= options_.max_concurrency) {
      outcome.kind = InvokeOutcome::Kind::kThrottled;
      outcome.throttle_reason = "ConcurrentInvocationLimitExceeded";
      lock.unlock();
      log_row(request, "throttled", "TooManyRequestsException", function->config.memory_mb, nullptr, 0);
      return outcome;
    }
    ++in_flight_;
    bool warm = false;
    auto& pool = idle_[request.function];
    while (!pool.empty() && !warm) {
      auto env = pool.back();  // most recently used
      pool.pop_back();
      auto info = idle_info_.find(env->id());
      if (info != idle_info_.end()) {
        services_.timers->cancel(info->second.timer);
        idle_info_.erase(info);
      }
      if (env->function().revision != function->revision) {
        retire_locked(env, "config_update");
        continue;
      }
      warm = env->assign(inv);
      if (!warm) retire_locked(env, "exited");
    }
    if (!warm) {
      cold_env = std::make_shared<Environment>(services_.log->allocate_environment_id(), *function,
                                               services_, *this);
      all_.emplace(cold_env->id(), cold_env);
    }
  }
  if (cold_env) cold_env->start(inv);

  outcome.result = inv->wait();
  static const char* kStatus[] = {"ok", "error", "timeout", "crash", "oom"};
  log_row(request, kStatus[static_cast<int>(outcome.result.status)], outcome.result.error_type,
          function->config.memory_mb, &outcome.result,
          static_cast<int64_t>(outcome.result.payload.size()));
  return outcome;
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

void Dispatcher::released(const std::shared_ptr<Environment>& env, bool reusable) {
  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
  if (in_flight_ == 0) idle_cv_.notify_all();
  if (!reusable || shutting_down_) {
    retire_locked(env, "shutdown");
    return;
  }
  auto current = registry_.find(env->function().config.name);
  if (!current || current->revision != env->function().revision) {
    retire_locked(env, "config_update");
    return;
  }
  const int64_t now = services_.clock->now_us();
  policies::IdleEnvironment view{env->id(), env->function().config.name,
                                 env->function().config.memory_mb, now};
  auto decision = keep_alive_.on_idle(view, now);
  if (decision.kind == policies::IdleDecision::Kind::kEvictNow) {
    retire_locked(env, "idle");
    return;
  }
  const uint64_t epoch = next_epoch_++;
  const int64_t id = env->id();
  auto timer = services_.timers->schedule(decision.until_us, [this, id, epoch] { on_eviction_timer(id, epoch); });
  idle_info_[id] = IdleInfo{epoch, timer};
  idle_[env->function().config.name].push_back(env);
}

void Dispatcher::died_idle(const std::shared_ptr<Environment>& env) {
  std::lock_guard<std::mutex> lock(mu_);
  retire_locked(env, "exited");
}

void Dispatcher::on_eviction_timer(int64_t env_id, uint64_t idle_epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  auto info = idle_info_.find(env_id);
  if (info == idle_info_.end() || info->second.epoch != idle_epoch) return;  // reused since
  auto it = all_.find(env_id);
  if (it == all_.end()) return;
  retire_locked(it->second, "idle");
}

// `env` by value: it may be the very pointer stored in all_, which this function erases.
void Dispatcher::retire_locked(std::shared_ptr<Environment> env, const std::string& reason) {
  auto info = idle_info_.find(env->id());
  if (info != idle_info_.end()) {
    services_.timers->cancel(info->second.timer);
    idle_info_.erase(info);
  }
  auto& pool = idle_[env->function().config.name];
  pool.erase(std::remove(pool.begin(), pool.end(), env), pool.end());
  if (all_.erase(env->id()) == 0) return;  // already on its way out
  {
    std::lock_guard<std::mutex> lock(reaper_mu_);
    to_stop_.emplace_back(env, reason);
  }
  reaper_cv_.notify_all();
}

void Dispatcher::retire_stale(const std::string& function) {
  auto current = registry_.find(function);
  std::lock_guard<std::mutex> lock(mu_);
  auto pool = idle_[function];  // a copy: retire_locked edits the pool
  for (auto& env : pool)
    if (!current || env->function().revision != current->revision) retire_locked(env, "config_update");
}

void Dispatcher::shutdown(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<Environment>> all;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (shutting_down_ && all_.empty() && in_flight_ == 0) return;
    shutting_down_ = true;
    const int64_t deadline = services_.clock->now_us() + grace.count() * 1000;
    while (in_flight_ > 0 && services_.clock->now_us() < deadline)
      services_.clock->wait_until(lock, idle_cv_, deadline);
    for (auto& [id, env] : all_) all.push_back(env);
  }
  for (auto& env : all) {
    std::lock_guard<std::mutex> lock(mu_);
    retire_locked(env, "shutdown");
  }
  // Wait until the reaper has stopped everything and every invocation has its answer.
  std::unique_lock<std::mutex> rlock(reaper_mu_);
  reaper_cv_.wait(rlock, [this] { return to_stop_.empty() && reaper_busy_ == 0; });
  rlock.unlock();
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return in_flight_ == 0; });
}

void Dispatcher::reaper_loop() {
  std::unique_lock<std::mutex> lock(reaper_mu_);
  for (;;) {
    reaper_cv_.wait(lock, [this] { return reaper_quit_ || !to_stop_.empty(); });
    if (to_stop_.empty()) return;
    auto [env, reason] = std::move(to_stop_.front());
    to_stop_.pop_front();
    ++reaper_busy_;
    lock.unlock();
    env->stop(reason);
    env.reset();
    lock.lock();
    --reaper_busy_;
    reaper_cv_.notify_all();
  }
}

}  // namespace coldlab::core
