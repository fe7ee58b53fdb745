// An execution environment: one function process (a second when Init is retried), a Runtime
// API server for each, and the state machine Lambda gives it.
//
//   Init (process started, no /next yet) --first /next--> Ready <--> Busy (event delivered)
//   any state --crash, timeout, init error, eviction, shutdown--> Dead
//
// A Ready environment with nothing to do is frozen (cgroup freezer, when
// EnvironmentServices::freeze and the group can): from the runtime's /next (plus 2 ms, so a
// request that follows at once costs no freeze and thaw) until the next event is handed to
// it, none of its processes runs, as on Lambda. Thawing happens in /next,
// before the event is delivered, so it counts in that invocation's latency. From its start
// until it is frozen (or dead), and from assign() on, the environment holds the clock: a
// virtual clock does not skip time while its process may be running.
//
// One invocation at a time. The environment enforces the Init limit (10 s; exceeded once,
// Init is retried inside the first invocation's timeout, as Lambda does), the function
// timeout (the process is killed), and turns every way a process can fail into exactly one
// completion of the invocation it was serving. It writes the platform lines (INIT_START,
// START, END, REPORT) and keeps the log tail of the current invocation.
//
// Thread-safety: all public methods may be called from any thread. Lock order: the
// dispatcher's lock may be held when calling in; the environment never calls its
// Listener while holding its own lock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/function_registry.h"
#include "core/platform_log.h"
#include "core/process.h"
#include "core/runtime_endpoint.h"
#include "core/sandbox_pool.h"
#include "core/timer_queue.h"
#include "isolation/cgroups.h"
#include "log/invocation_log.h"

namespace coldlab::core {

// The outcome of one invocation attempt that reached an environment.
struct InvocationResult {
  enum class Status { kOk, kError, kTimeout, kCrash, kOom };
  Status status = Status::kOk;
  bool function_error = false;  // the caller gets X-Amz-Function-Error: Unhandled
  std::string payload;          // the function's response, or the error document
  std::string error_type;
  int64_t environment_id = 0;
  bool cold = false;
  std::optional<double> init_ms;
  double duration_ms = 0;
  int64_t billed_ms = 0;
  int max_memory_mb = 0;
  std::string log_tail;  // the last 4 KB of this invocation's log (START .. REPORT)
  // Set by the dispatcher, never by an environment: the environment this invocation was
  // placed on died before running it, so it may be placed again.
  bool undelivered = false;
};

// An invocation on its way through an environment. Created by the dispatcher, finished
// exactly once by the environment; the invoking thread waits on it.
class PendingInvocation {
 public:
  std::string request_id;
  std::string payload;
  std::string client_context;  // decoded JSON, as Lambda-Runtime-Client-Context carries it
  std::string function_arn;    // as invoked
  std::string version = "$LATEST";
  std::string trace_id;

  void finish(InvocationResult result);
  InvocationResult wait();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  InvocationResult result_;
};

// Everything an environment needs from the emulator around it.
struct EnvironmentServices {
  Clock* clock = nullptr;
  TimerQueue* timers = nullptr;
  ProcessSupervisor* supervisor = nullptr;
  log::InvocationLog* log = nullptr;
  FunctionLogSink* sink = nullptr;
  RuntimeServerFactory server_factory;
  int64_t run_id = 0;
  int64_t init_timeout_us = 10'000'000;
  bool legacy_timeout_message = false;  // pre-2025 "Task timed out" body without errorType
  std::string region = "us-east-1";
  std::filesystem::path python;            // interpreter for python3.x runtimes
  std::filesystem::path python_bootstrap;  // coldlab's Python runtime client
  std::filesystem::path java;              // the JVM for java* runtimes
  std::filesystem::path java_runtime_jar;  // coldlab's Java runtime client
  isolation::Cgroups* cgroups = nullptr;   // null: no resource limits
  // Where processes come from: a sandbox (its spare group claimed, its standby process
  // exec'd). Null: each process is spawned and joins its group itself, and its Init
  // Duration then includes the fork and the cgroup migration.
  SandboxPool* sandboxes = nullptr;
  // CPU for on-demand Init, in vCPUs: 0 the memory's share (throttled), < 0 no limit,
  // else that many (never less than the memory's share, nor more than the host has).
  double init_cpus = 0;
  int64_t cpu_period_us = isolation::kDefaultCpuPeriodUs;
  bool freeze = false;                     // freeze idle environments' cgroups (where possible)
  unsigned host_cpus = 1;
};

class Environment;

class EnvironmentListener {
 public:
  virtual ~EnvironmentListener() = default;
  // An invocation finished with `result`. `reusable`: the environment can take another
  // one; otherwise it is dead and must be stopped.
  virtual void released(const std::shared_ptr<Environment>& env, bool reusable,
                        const InvocationResult& result) = 0;
  // The process left while the environment had no invocation (also: a pre-warmed
  // environment whose Init failed).
  virtual void died_idle(const std::shared_ptr<Environment>& env) = 0;
};

class Environment : public std::enable_shared_from_this<Environment> {
 public:
  Environment(int64_t id, FunctionState function, EnvironmentServices& services,
              EnvironmentListener& listener);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

  int64_t id() const { return id_; }
  const FunctionState& function() const { return function_; }

  // Starts the Runtime API server and the process; `first` is served as soon as the
  // runtime asks for it (a cold start). If anything fails, `first` is finished with the
  // error and the environment is released as not reusable. A null `first` pre-warms: Init
  // runs and the environment waits for assign(); if Init fails, the listener hears
  // died_idle. `provisioned`: Init as provisioned concurrency (Lambda's
  // AWS_LAMBDA_INITIALIZATION_TYPE, and never with unthrottled CPU).
  void start(std::shared_ptr<PendingInvocation> first, bool provisioned = false);

  // Hands an idle environment its next invocation (a warm start). Returns false, and
  // leaves `inv` untouched, if the environment died in the meantime.
  bool assign(std::shared_ptr<PendingInvocation> inv);

  // Kills the process and everything it started, stops the Runtime API server and logs
  // the end with `reason` (unless a failure already gave one). Idempotent. Blocks until
  // the server has stopped: never call it from a Runtime API handler.
  void stop(const std::string& reason);

  // The Runtime API, as the process of `generation` calls it (see Binding). A call from
  // a process that has been replaced is refused: it is being killed.
  RuntimeEndpoint::Event next(uint64_t generation);
  RuntimeEndpoint::Reply respond(uint64_t generation, const std::string& request_id, std::string body,
                                 size_t body_size);
  RuntimeEndpoint::Reply error(uint64_t generation, const std::string& request_id, std::string body,
                               const std::string& error_type_header);
  RuntimeEndpoint::Reply init_error(uint64_t generation, std::string body, const std::string& error_type_header);

 private:
  enum class Phase { kInit, kReady, kDead };
  using Event = RuntimeEndpoint::Event;
  using Reply = RuntimeEndpoint::Reply;

  // Each process gets a Runtime API server of its own. When Init is retried, the first
  // process is killed, but a request it sent just before (its first /next, say) may still
  // reach the server after the kill; on a shared server that request would take the
  // event meant for the retry. A server per process generation makes every such request
  // identifiable, and refused.
  class GenerationEndpoint;
  // Members are destroyed in reverse: the server stops before the endpoints it calls go.
  struct Binding {
    std::unique_ptr<GenerationEndpoint> endpoint;
    std::unique_ptr<ForwardingEndpoint> forwarder;  // a sandbox's, forwarding to `endpoint`
    std::unique_ptr<RuntimeServer> server;
  };
  Binding bind(uint64_t generation);  // may throw

  void spawn_process(uint64_t generation, const std::string& runtime_api);  // call without mu_ held
  // The refusal for a call from a process other than the current one, or nullopt.
  // Caller holds mu_.
  std::optional<Reply> refuse_stale_locked(uint64_t generation) const;
  // The CPU quota Init runs under (limits_.cpu_quota_us when Init gets no more).
  int64_t init_cpu_quota() const;
  // The runtime waits in /next with nothing to do: freeze it and let the clock skip.
  // Called with `lock` held; may release and retake it.
  void park(std::unique_lock<std::mutex>& lock);
  void on_exit(uint64_t generation, const ExitStatus& status);
  void on_output(std::string_view line);
  void on_init_timer(uint64_t generation);
  void on_timeout(const std::shared_ptr<PendingInvocation>& inv);
  // Finishes the current invocation with `result` (status, payload, error fields set).
  // Called with `lock` held; releases it.
  void finish_current(std::unique_lock<std::mutex>& lock, InvocationResult result);
  // The refusal for an answer (/response or /error) that is not for the invocation in
  // flight, or nullopt if it is. Caller holds mu_.
  std::optional<Reply> refuse_answer_locked(const std::string& request_id) const;
  SpawnSpec spawn_spec(const std::string& runtime_api) const;
  void platform_line(const std::string& line);
  // Kills the process and, when isolated, everything else in its cgroup.
  void kill_all(const std::shared_ptr<Process>& process);
  int64_t peak_memory_kib(const std::shared_ptr<Process>& process) const;

  const int64_t id_;
  const FunctionState function_;
  EnvironmentServices& services_;
  EnvironmentListener& listener_;
  std::unique_ptr<isolation::Group> group_;  // the environment's cgroup, if isolated
  std::unique_ptr<StandbyProcess> standby_;  // the first process, from the sandbox, until exec'd
  isolation::Limits limits_;
  std::string log_stream_name_;

  std::mutex mu_;
  std::condition_variable cv_;
  Phase phase_ = Phase::kInit;
  std::shared_ptr<Process> process_;
  uint64_t generation_ = 0;  // bumped per process; exits and calls of older processes are ignored
  std::vector<Binding> bindings_;  // one per process started, all stopped by stop()
  std::shared_ptr<PendingInvocation> current_;
  bool delivered_ = false;
  bool current_is_cold_ = false;
  std::optional<double> init_ms_;
  bool init_retried_ = false;
  int64_t spawned_us_ = 0;
  int64_t delivered_us_ = 0;
  int64_t invoke_deadline_us_ = 0;  // set when Init was retried inside the invocation
  TimerQueue::TimerId init_timer_ = 0;
  TimerQueue::TimerId timeout_timer_ = 0;
  std::deque<std::string> finished_ids_;  // recent ids: a late answer is 403, an unknown one 400
  int64_t peak_rss_kib_ = 0;
  std::string end_reason_;
  std::string end_detail_;
  bool stopped_ = false;
  bool provisioned_ = false;
  bool frozen_ = false;
  Clock::Hold running_;  // alive while the process may run (see the class comment)

  std::mutex log_mu_;  // a leaf lock: taken by the output callback
  bool capturing_ = false;
  std::string tail_;
};

}  // namespace coldlab::core
