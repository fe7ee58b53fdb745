// The dispatcher: routes each invocation to an execution environment, as Lambda does.
//
// One request per environment at a time. A request reuses an idle environment of its
// function (the most recently used one: it is the warmest), or starts a new one (a cold
// start), or, when the account's concurrency limit is reached, is throttled (429).
// Environments whose function configuration changed are retired instead of reused.
// When an environment becomes idle the keep-alive policy decides how long it stays.
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
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/environment.h"
#include "core/function_registry.h"
#include "keep_alive/keep_alive_policy.h"

namespace coldlab::core {

struct InvokeRequest {
  std::string function;          // the function's name (already resolved)
  std::string request_id;
  std::string payload;
  std::string client_context;    // decoded JSON for Lambda-Runtime-Client-Context
  std::string function_arn;      // as invoked
  std::string trace_id;
  std::string invocation_type;   // "RequestResponse" or "Event" (for the log)
  int attempt = 1;
  int64_t received_us = 0;
  int64_t request_bytes = 0;
};

struct InvokeOutcome {
  enum class Kind { kDone, kThrottled, kNoSuchFunction, kShuttingDown };
  Kind kind = Kind::kDone;
  InvocationResult result;      // for kDone
  std::string throttle_reason;  // for kThrottled: Lambda's Reason
};

class Dispatcher : public EnvironmentListener {
 public:
  struct Options {
    int max_concurrency = 1000;
  };

  // All references must outlive the dispatcher.
  Dispatcher(Options options, FunctionRegistry& registry, EnvironmentServices& services,
             policies::KeepAlivePolicy& keep_alive);
  // Calls shutdown() with no grace if it was not called.
  ~Dispatcher() override;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Runs one invocation attempt to its end and logs it. Blocks the calling thread.
  InvokeOutcome invoke(const InvokeRequest& request);

  // Logs an attempt that was refused before it could run (bad payload, unknown function...).
  void record_rejected(const InvokeRequest& request, const std::string& error_type, int memory_mb);

  // After a configuration update: idle environments of older configurations are stopped
  // now, busy ones as soon as they finish.
  void retire_stale(const std::string& function);

  // Refuses new invocations, waits up to `grace` for those in flight, then stops every
  // environment (in-flight invocations end as Runtime.ExitError) and waits until each
  // invocation has been answered and logged. Idempotent.
  void shutdown(std::chrono::milliseconds grace);

  // EnvironmentListener
  void released(const std::shared_ptr<Environment>& env, bool reusable) override;
  void died_idle(const std::shared_ptr<Environment>& env) override;

 private:
  void log_row(const InvokeRequest& request, const std::string& status, const std::string& error_type,
               int memory_mb, const InvocationResult* result, int64_t response_bytes);
  // Removes `env` from every pool and hands it to the reaper thread. Caller holds mu_.
  void retire_locked(std::shared_ptr<Environment> env, const std::string& reason);
  void on_eviction_timer(int64_t env_id, uint64_t idle_epoch);
  void reaper_loop();

  const Options options_;
  FunctionRegistry& registry_;
  EnvironmentServices& services_;
  policies::KeepAlivePolicy& keep_alive_;

  mutable std::mutex mu_;
  std::condition_variable idle_cv_;  // in_flight_ reached zero
  bool shutting_down_ = false;
  int in_flight_ = 0;
  std::unordered_map<int64_t, std::shared_ptr<Environment>> all_;
  // Idle environments per function, least recently used first.
  std::map<std::string, std::vector<std::shared_ptr<Environment>>> idle_;
  struct IdleInfo {
    uint64_t epoch = 0;
    TimerQueue::TimerId timer = 0;
  };
  std::unordered_map<int64_t, IdleInfo> idle_info_;
  uint64_t next_epoch_ = 1;

  // Stopping an environment blocks (its server must drain), and may be triggered from
  // its own handler threads, so one thread does all of it.
  std::mutex reaper_mu_;
  std::condition_variable reaper_cv_;
  std::deque<std::pair<std::shared_ptr<Environment>, std::string>> to_stop_;
  bool reaper_quit_ = false;
  size_t reaper_busy_ = 0;
  std::thread reaper_;
};

}  // namespace coldlab::core
