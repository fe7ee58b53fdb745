// The dispatcher: runs each invocation in an execution environment, as the policies say.
//
// The decisions (reuse which environment, start one, queue, throttle, how long an idle
// one stays, what to pre-warm or ping) are the policies' (policies/scheduler.h); the
// dispatcher carries them out with real environments and timers. By default that is
// Lambda: one request per environment, the most recently used idle environment first, a
// new environment when none is idle, 429 over the concurrency limits.
// Environments whose function configuration changed are retired instead of reused.
//
// Every invocation attempt that reaches invoke() or record_rejected() gets exactly one row
// in the invocation log.
//
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/environment.h"
#include "core/function_registry.h"
#include "scheduler.h"

namespace coldlab::core {

struct InvokeRequest {
  std::string function;          // the function's name (already resolved)
  std::string request_id;
  std::string payload;
  std::string client_context;    // decoded JSON for Lambda-Runtime-Client-Context
  std::string function_arn;      // as invoked
  std::string trace_id;
  std::string invocation_type;   // "RequestResponse", "Event", or "Ping" (a keep-warm request)
  int attempt = 1;
  int64_t received_us = 0;
  int64_t request_bytes = 0;
};

struct InvokeOutcome {
  enum class Kind { kDone, kThrottled, kNoSuchFunction, kShuttingDown };
  Kind kind = Kind::kDone;
  InvocationResult result;      // for kDone
  std::string throttle_reason;  // for kThrottled: Lambda's Reason
  std::string throttle_message; // for kThrottled: which limit
};

class Dispatcher : public EnvironmentListener {
 public:
  struct Options {
    int64_t memory_budget_mb = 0;      // 0: none
    int account_concurrency = 1000;    // for PutFunctionConcurrency's unreserved minimum
  };

  // All references must outlive the dispatcher.
  Dispatcher(Options options, FunctionRegistry& registry, EnvironmentServices& services,
             std::unique_ptr<policies::KeepAlivePolicy> keep_alive,
             std::unique_ptr<policies::ScaleOutPolicy> scale_out);
  // Calls shutdown() with no grace if it was not called.
  ~Dispatcher() override;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Runs one invocation attempt to its end and logs it. Blocks the calling thread.
  InvokeOutcome invoke(const InvokeRequest& request);

  // Logs an attempt that was refused before it could run (bad payload, unknown function...).
  void record_rejected(const InvokeRequest& request, const std::string& error_type, int memory_mb);

  // After a configuration update: new environments get the new configuration; idle
  // environments of older ones are stopped now, busy ones as soon as they finish.
  void function_updated(const std::string& function);

  // PutFunctionConcurrency / DeleteFunctionConcurrency (nullopt). Returns Lambda's error
  // message if the value is refused (it would leave the unreserved pool below 100).
  std::optional<std::string> set_reserved_concurrency(const std::string& function,
                                                      std::optional<int> reserved);
  std::optional<int> reserved_concurrency(const std::string& function) const;

  std::string keep_alive_name() const;
  std::string scale_out_name() const;

  // Refuses new invocations, waits up to `grace` for those in flight, then stops every
  // environment (in-flight invocations end as Runtime.ExitError) and waits until each
  // invocation has been answered and logged. Idempotent.
  void shutdown(std::chrono::milliseconds grace);

  // EnvironmentListener
  void released(const std::shared_ptr<Environment>& env, bool reusable,
                const InvocationResult& result) override;
  void died_idle(const std::shared_ptr<Environment>& env) override;

 private:
  // A request waiting in a scale-out queue.
  struct Waiter {
    bool done = false;
    bool expired = false;
    policies::Scheduler::Placement placement;
    std::string reason, message;
  };

  void log_row(const InvokeRequest& request, const std::string& status, const std::string& error_type,
               int memory_mb, const InvocationResult* result, int64_t response_bytes);
  // Puts `inv` on the placement's environment (creating it if cold). Caller holds `lock`;
  // it is released on return.
  void run_on(std::unique_lock<std::mutex>& lock, const policies::Scheduler::Placement& placement,
              const FunctionState& function,
              const std::shared_ptr<PendingInvocation>& inv);
  // Carries out whatever the scheduler has due now, and re-arms the wake-up timer.
  void run_work_locked();
  void on_wake();
  // Finishes invocations queued on a dead environment as undelivered (they are placed again).
  void fail_backlog_locked(int64_t env_id);
  // Removes `env` from every pool and hands it to the worker thread. Caller holds mu_.
  void retire_locked(std::shared_ptr<Environment> env, const std::string& reason);
  void worker_loop();
  void pinger_loop();

  const Options options_;
  FunctionRegistry& registry_;
  EnvironmentServices& services_;

  mutable std::mutex mu_;
  std::condition_variable idle_cv_;    // in_flight_ reached zero
  std::condition_variable queue_cv_;   // a waiter was placed or expired
  policies::Scheduler scheduler_;
  bool shutting_down_ = false;
  int in_flight_ = 0;
  std::unordered_map<int64_t, std::shared_ptr<Environment>> all_;
  std::set<int64_t> busy_;  // environments running an invocation
  // Invocations placed on a busy environment (a scale-out policy that shares
  // environments); it takes them one after another.
  std::unordered_map<int64_t, std::deque<std::shared_ptr<PendingInvocation>>> backlog_;
  std::unordered_map<int64_t, std::shared_ptr<Waiter>> waiters_;  // by ticket
  TimerQueue::TimerId wake_timer_ = 0;
  int64_t wake_at_ = policies::kForever;

  // Stopping an environment blocks (its server must drain), and both stopping and
  // starting may be triggered from an environment's own threads, so one thread does it.
  // Each queued task holds the clock: a virtual clock must not skip time while a start or
  // stop is pending.
  struct Task {
    std::shared_ptr<Environment> env;
    std::string stop_reason;  // empty: start it (a pre-warm)
    bool provisioned = false;
    Clock::Hold hold;
  };
  std::mutex worker_mu_;
  std::condition_variable worker_cv_;
  std::deque<Task> tasks_;
  bool worker_quit_ = false;
  size_t worker_busy_ = 0;
  std::thread worker_;

  // Keep-warm requests run on their own thread: each blocks for a whole invocation.
  std::mutex ping_mu_;
  std::condition_variable ping_cv_;
  std::deque<std::pair<std::string, Clock::Hold>> pings_;
  bool ping_quit_ = false;
  std::thread pinger_;
};

}  // namespace coldlab::core
