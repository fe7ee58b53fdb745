#include "core/environment.h"

#include <ctime>
#include <random>

#include "core/lambda_errors.h"

namespace coldlab::core {

namespace {

constexpr size_t kTailBytes = 4096;    // X-Amz-Log-Result carries the last 4 KB
constexpr size_t kRecentIds = 64;
constexpr std::chrono::milliseconds kFreezeAfter{2};  // idle this long before freezing (see park)

// YYYY/MM/DD/[$LATEST]<32 hex digits>, the shape of Lambda's log stream names.
std::string make_log_stream_name(int64_t now_us) {
  std::time_t t = static_cast<std::time_t>(now_us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y/%m/%d", &tm);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return std::string(date) + "/[$LATEST]" + hex;
}

int mb_from_kib(int64_t kib) { return static_cast<int>((kib + 1023) / 1024); }

// The JVM command line of Lambda's Java runtimes: the function's memory split 85 % heap,
// 10 % metaspace, 5 % code cache (as AWS's own launcher does), the serial collector, and
// since java17 tiered compilation stopped at C1, which favours start-up. JAVA_TOOL_OPTIONS
// in the function's environment still applies, as on Lambda.
std::vector<std::string> java_arguments(int memory_mb, const std::filesystem::path& runtime_jar,
                                        const std::filesystem::path& code_dir) {
  const int64_t kib = int64_t{memory_mb} * 1024;
  const std::string code = code_dir.string();
  return {"-XX:MaxHeapSize=" + std::to_string(kib * 85 / 100) + "k",
          "-XX:MaxMetaspaceSize=" + std::to_string(kib * 10 / 100) + "k",
          "-XX:ReservedCodeCacheSize=" + std::to_string(kib * 5 / 100) + "k",
          "-XX:+UseSerialGC",
          "-Xshare:auto",
          "-XX:+TieredCompilation",
          "-XX:TieredStopAtLevel=1",
          "-cp",
          runtime_jar.string() + ":" + code + ":" + code + "/*:" + code + "/lib/*",
          "coldlab.runtime.Main"};
}

}  // namespace

// The Runtime API server of one process: every call carries that process's generation.
class Environment::GenerationEndpoint : public RuntimeEndpoint {
 public:
  GenerationEndpoint(Environment& env, uint64_t generation) : env_(env), generation_(generation) {}
  Event next() override { return env_.next(generation_); }
  Reply respond(const std::string& request_id, std::string body, size_t body_size) override {
    return env_.respond(generation_, request_id, std::move(body), body_size);
  }
  Reply error(const std::string& request_id, std::string body, const std::string& error_type_header) override {
    return env_.error(generation_, request_id, std::move(body), error_type_header);
  }
  Reply init_error(std::string body, const std::string& error_type_header) override {
    return env_.init_error(generation_, std::move(body), error_type_header);
  }

 private:
  Environment& env_;
  const uint64_t generation_;
};

void PendingInvocation::finish(InvocationResult result) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    result_ = std::move(result);
    done_ = true;
  }
  cv_.notify_all();
}

InvocationResult PendingInvocation::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return done_; });
  return result_;
}

Environment::Environment(int64_t id, FunctionState function, EnvironmentServices& services,
                         EnvironmentListener& listener)
    : id_(id),
      function_(std::move(function)),
      services_(services),
      listener_(listener),
      log_stream_name_(make_log_stream_name(services.clock->now_us())) {}

Environment::~Environment() {
  // Normally stop() has run; if not, no handler may stay parked in next() while the
  // server shuts down.
  {
    std::lock_guard<std::mutex> lock(mu_);
    phase_ = Phase::kDead;
  }
  cv_.notify_all();
  if (process_) process_->kill();
  bindings_.clear();
}

Environment::Binding Environment::bind(uint64_t generation) {
  Binding b;
  b.endpoint = std::make_unique<GenerationEndpoint>(*this, generation);
  b.server = services_.server_factory(*b.endpoint);
  return b;
}

SpawnSpec Environment::spawn_spec(const std::string& runtime_api) const {
  const auto& c = function_.config;
  SpawnSpec spec;
  spec.working_dir = c.code_dir;
  if (c.kind == config::RuntimeKind::kPython) {
    spec.executable = services_.python;
    spec.args = {"-u", services_.python_bootstrap.string()};
  } else if (c.kind == config::RuntimeKind::kJava) {
    spec.executable = services_.java;
    spec.args = java_arguments(c.memory_mb, services_.java_runtime_jar, c.code_dir);
  } else {
    spec.executable = c.code_dir / "bootstrap";
  }
  if (group_) spec.join_cgroup_fds = group_->join_fds();
  // The function's own variables first: the reserved ones below always win, as on Lambda.
  spec.env = c.environment;
  auto& e = spec.env;
  e["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  e["LANG"] = "C.UTF-8";
  e["TZ"] = ":UTC";
  e["LAMBDA_TASK_ROOT"] = c.code_dir.string();
  switch (c.kind) {
    case config::RuntimeKind::kPython:
      e["LAMBDA_RUNTIME_DIR"] = services_.python_bootstrap.parent_path().string();
      break;
    case config::RuntimeKind::kJava:
      e["LAMBDA_RUNTIME_DIR"] = services_.java_runtime_jar.parent_path().string();
      break;
    case config::RuntimeKind::kProvided:
      e["LAMBDA_RUNTIME_DIR"] = c.code_dir.string();
      break;
  }
  e["_HANDLER"] = c.handler;
  e["AWS_LAMBDA_RUNTIME_API"] = runtime_api;
  e["AWS_LAMBDA_FUNCTION_NAME"] = c.name;
  e["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
  e["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(c.memory_mb);
  e["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + c.name;
  e["AWS_LAMBDA_LOG_STREAM_NAME"] = log_stream_name_;
  e["AWS_LAMBDA_INITIALIZATION_TYPE"] = provisioned_ ? "provisioned-concurrency" : "on-demand";
  e["AWS_REGION"] = services_.region;
  e["AWS_DEFAULT_REGION"] = services_.region;
  if (c.kind != config::RuntimeKind::kProvided) e["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + c.runtime;
  if (c.kind == config::RuntimeKind::kPython) {
    e["PYTHONDONTWRITEBYTECODE"] = "1";  // Lambda's /var/task is read-only; leave user code alone
  }
  return spec;
}

void Environment::platform_line(const std::string& line) { on_output(line); }

void Environment::kill_all(const std::shared_ptr<Process>& process) {
  if (process) process->kill();
  if (group_) group_->kill_all();
}

int64_t Environment::peak_memory_kib(const std::shared_ptr<Process>& process) const {
  // The cgroup's peak covers every process of the environment; without isolation, the
  // runtime process's own high-water mark is the best there is.
  if (group_) return group_->peak_memory_bytes() / 1024;
  return process ? process->peak_rss_kib() : 0;
}

void Environment::on_output(std::string_view line) {
  std::lock_guard<std::mutex> lock(log_mu_);
  services_.sink->write(function_.config.name, id_, line);
  if (!capturing_) return;
  tail_.append(line);
  tail_.push_back('\n');
  if (tail_.size() > 2 * kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
}

void Environment::start(std::shared_ptr<PendingInvocation> first, bool provisioned) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A pre-warm (no `first`) may already have been assigned a request while it waited to
    // be started: keep that one, and it is not a cold start.
    if (first) {
      current_ = std::move(first);
      current_is_cold_ = true;
    }
    provisioned_ = provisioned;
    running_ = services_.clock->hold();
    generation_ = 1;
  }
  std::string runtime_api;
  try {
    Sandbox sandbox;
    if (services_.sandboxes) sandbox = services_.sandboxes->take();
    Binding binding;
    if (sandbox.server) {
      // The sandbox's server already listens: from now on it serves this environment.
      binding.endpoint = std::make_unique<GenerationEndpoint>(*this, 1);
      sandbox.endpoint->claim(binding.endpoint.get());
      binding.forwarder = std::move(sandbox.endpoint);
      binding.server = std::move(sandbox.server);
    } else {
      binding = bind(1);
    }
    runtime_api = binding.server->address();
    {
      std::lock_guard<std::mutex> lock(mu_);
      bindings_.push_back(std::move(binding));
    }
    if (services_.cgroups)
      limits_ = isolation::lambda_limits(function_.config.memory_mb, services_.host_cpus, services_.cpu_period_us);
    if (sandbox.process) {
      if (sandbox.group) sandbox.group->claim(id_, limits_);
      group_ = std::move(sandbox.group);
      standby_ = std::move(sandbox.process);
    } else if (services_.cgroups) {
      group_ = services_.cgroups->create(id_, limits_);
    }
  } catch (const std::exception& e) {
    std::unique_lock<std::mutex> lock(mu_);
    phase_ = Phase::kDead;
    end_reason_ = "crash";
    end_detail_ = e.what();
    InvocationResult r;
    r.status = InvocationResult::Status::kError;
    r.function_error = true;
    r.error_type = "Sandbox.Failure";
    r.payload = function_error(r.error_type, std::string("cannot start the environment: ") + e.what());
    if (current_) {
      finish_current(lock, std::move(r));
    } else {
      lock.unlock();
      listener_.died_idle(shared_from_this());
    }
    return;
  }
  spawn_process(1, runtime_api);
}

int64_t Environment::init_cpu_quota() const {
  if (!group_ || provisioned_ || services_.init_cpus == 0) return limits_.cpu_quota_us;
  if (services_.init_cpus < 0) return -1;
  return std::max(limits_.cpu_quota_us,
                  isolation::cpu_quota_for(services_.init_cpus, services_.host_cpus, limits_.cpu_period_us));
}

void Environment::spawn_process(uint64_t generation, const std::string& runtime_api) {
  // The process to exec into, made now unless the sandbox brought one. Making it is not
  // part of Init: on Lambda the sandbox exists before the runtime starts in it.
  std::unique_ptr<StandbyProcess> standby;
  std::string no_sandbox;
  if (services_.sandboxes) {
    standby = generation == 1 ? std::move(standby_) : nullptr;
    try {
      if (!standby || !standby->alive()) standby = services_.sandboxes->standby_in(group_.get());
    } catch (const std::exception& e) {
      no_sandbox = e.what();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != generation_) return;
    phase_ = Phase::kInit;
    spawned_us_ = services_.clock->now_us();
  }
  platform_line(init_start_line(function_.config.runtime));
  // On-demand Init is reported to run with more CPU than the memory's share on Lambda
  // (docs/resources.md); provisioned Init is reported not to.
  if (const int64_t quota = init_cpu_quota(); quota != limits_.cpu_quota_us) group_->set_cpu_quota(quota);
  std::weak_ptr<Environment> weak = weak_from_this();
  std::shared_ptr<Process> process;
  const char* error_type = "Runtime.InvalidEntrypoint";  // Lambda's word for a bootstrap that cannot be executed
  try {
    auto on_line = [weak](std::string_view line, bool) {
      if (auto self = weak.lock()) self->on_output(line);
    };
    auto on_exit = [weak, generation](ExitStatus status) {
      if (auto self = weak.lock()) self->on_exit(generation, status);
    };
    if (!services_.sandboxes) {
      process = services_.supervisor->spawn(spawn_spec(runtime_api), on_line, on_exit);
    } else if (!no_sandbox.empty()) {
      error_type = "Sandbox.Failure";
      throw std::runtime_error("cannot prepare the sandbox: " + no_sandbox);
    } else {
      try {
        process = standby->become(spawn_spec(runtime_api), on_line, on_exit);
      } catch (const StandbyGone&) {
        // Killed while it waited: another, at once (this one costs the fork and the join).
        standby = services_.sandboxes->standby_in(group_.get());
        process = standby->become(spawn_spec(runtime_api), on_line, on_exit);
      }
    }
  } catch (const std::exception& e) {
    std::unique_lock<std::mutex> lock(mu_);
    phase_ = Phase::kDead;
    end_reason_ = "init_error";
    end_detail_ = e.what();
    platform_line(std::string("coldlab: ") + e.what());
    InvocationResult r;
    r.status = InvocationResult::Status::kError;
    r.function_error = true;
    r.error_type = error_type;
    r.payload = function_error(r.error_type, e.what());
    if (current_) {
      finish_current(lock, std::move(r));
    } else {
      lock.unlock();
      listener_.died_idle(shared_from_this());
    }
    return;
  }

  const bool first_spawn = generation == 1;
  if (first_spawn) {
    log::EnvironmentStarted row;
    row.environment_id = id_;
    row.run_id = services_.run_id;
    row.function = function_.config.name;
    row.memory_mb = function_.config.memory_mb;
    row.runtime = function_.config.runtime;
    row.pid = process->pid();
    row.spawned_at_us = spawned_us_;
    services_.log->record(row);
  }

  std::lock_guard<std::mutex> lock(mu_);
  // Replaced or stopped while we were spawning: its exit finishes the invocation, if any.
  if (generation != generation_ || stopped_) {
    process->kill();
    return;
  }
  process_ = process;
  // The first Init gets Lambda's 10 s; a retried Init runs inside the invocation's timeout.
  int64_t limit = invoke_deadline_us_ ? invoke_deadline_us_ : spawned_us_ + services_.init_timeout_us;
  init_timer_ = services_.timers->schedule(limit, [weak, generation] {
    if (auto self = weak.lock()) self->on_init_timer(generation);
  });
}

bool Environment::assign(std::shared_ptr<PendingInvocation> inv) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (phase_ == Phase::kDead || stopped_ || current_) return false;
    current_ = std::move(inv);
    delivered_ = false;
    current_is_cold_ = false;
    running_ = services_.clock->hold();
  }
  cv_.notify_all();
  return true;
}

std::optional<RuntimeEndpoint::Reply> Environment::refuse_stale_locked(uint64_t generation) const {
  if (generation == generation_) return std::nullopt;
  return Reply{403, runtime_error_body("InvalidStateTransition",
                                       "this runtime process has been replaced: it must exit")};
}

RuntimeEndpoint::Event Environment::next(uint64_t generation) {
  std::unique_lock<std::mutex> lock(mu_);
  auto sandbox_failure = [] {
    Event e;
    e.status = 500;
    e.body = runtime_error_body("Sandbox.Failure", "Container error. Non-recoverable state. Runtime should exit promptly.");
    return e;
  };
  if (generation != generation_) return sandbox_failure();
  const int64_t now = services_.clock->now_us();
  if (phase_ == Phase::kInit) {
    // Init ends at the runtime's first /next, as Lambda measures it.
    phase_ = Phase::kReady;
    services_.timers->cancel(init_timer_);
    if (init_cpu_quota() != limits_.cpu_quota_us) group_->set_cpu_quota(limits_.cpu_quota_us);
    double init_ms = static_cast<double>(now - spawned_us_) / 1000.0;
    if (current_is_cold_) init_ms_ = init_ms;
    // An environment reaches Ready at most once: a failure afterwards makes it Dead.
    services_.log->record(log::EnvironmentReady{id_, now, init_ms});
  }
  if (current_ && delivered_) {
    Event e;
    e.status = 403;
    e.body = runtime_error_body("InvalidStateTransition",
                                "the previous invocation " + current_->request_id + " has no answer yet");
    return e;
  }
  if (!current_) park(lock);
  cv_.wait(lock, [&] { return phase_ == Phase::kDead || generation != generation_ || (current_ && !delivered_); });
  if (frozen_ && phase_ != Phase::kDead) {
    frozen_ = false;
    lock.unlock();
    group_->thaw();
    lock.lock();
  }
  if (phase_ == Phase::kDead || generation != generation_) return sandbox_failure();

  delivered_ = true;
  delivered_us_ = services_.clock->now_us();
  const int64_t deadline_us = invoke_deadline_us_ ? invoke_deadline_us_
                                                  : delivered_us_ + int64_t{function_.config.timeout_s} * 1000000;
  auto inv = current_;
  std::weak_ptr<Environment> weak = weak_from_this();
  timeout_timer_ = services_.timers->schedule(deadline_us, [weak, inv] {
    if (auto self = weak.lock()) self->on_timeout(inv);
  });
  {
    std::lock_guard<std::mutex> log_lock(log_mu_);
    tail_.clear();
    capturing_ = true;
  }
  lock.unlock();
  platform_line(start_line(inv->request_id, inv->version));

  Event e;
  e.ok = true;
  e.body = inv->payload;
  e.request_id = inv->request_id;
  // The function's clock is real: its deadline must be too.
  e.deadline_ms = services_.clock->to_real_us(deadline_us) / 1000;
  e.function_arn = inv->function_arn;
  e.trace_id = inv->trace_id;
  e.client_context = inv->client_context;
  return e;
}

void Environment::park(std::unique_lock<std::mutex>& lock) {
  // A closed-loop client's next request usually arrives within a fraction of a millisecond
  // of the previous answer; freezing and thawing for that would cost more than the request.
  // So freeze only once the environment has stayed idle a moment (real time, with the clock
  // still held: a virtual clock cannot skip while it waits).
  if (services_.freeze && group_ && group_->can_freeze())
    cv_.wait_for(lock, kFreezeAfter, [this] { return current_ || phase_ == Phase::kDead; });
  if (current_) return;
  if (services_.freeze && group_ && group_->can_freeze() && phase_ != Phase::kDead) {
    frozen_ = true;
    lock.unlock();
    try {
      group_->freeze();
    } catch (const std::exception& e) {
      platform_line(std::string("coldlab: cannot freeze the environment: ") + e.what());
    }
    lock.lock();
  }
  // assign() may have come while the group was freezing: its hold must stay.
  if (!current_) running_.reset();
}

std::optional<RuntimeEndpoint::Reply> Environment::refuse_answer_locked(const std::string& request_id) const {
  if (current_ && delivered_ && current_->request_id == request_id) return std::nullopt;
  // An answer to an invocation this environment already finished is a state error; an id
  // it never served is a bad request.
  if (std::find(finished_ids_.begin(), finished_ids_.end(), request_id) != finished_ids_.end())
    return Reply{403, runtime_error_body("InvalidStateTransition", "invocation " + request_id + " is already finished")};
  return Reply{400, runtime_error_body("InvalidRequestID", "Invalid request ID")};
}

RuntimeEndpoint::Reply Environment::respond(uint64_t generation, const std::string& request_id,
                                            std::string body, size_t body_size) {
  std::unique_lock<std::mutex> lock(mu_);
  if (auto refusal = refuse_stale_locked(generation)) return *refusal;
  if (auto refusal = refuse_answer_locked(request_id)) return *refusal;
  InvocationResult r;
  Reply reply;
  if (body_size > static_cast<size_t>(kMaxResponseBytes)) {
    r.status = InvocationResult::Status::kError;
    r.function_error = true;
    r.error_type = "Function.ResponseSizeTooLarge";
    r.payload = response_too_large_error();
    reply = {413, runtime_error_body("RequestEntityTooLarge",
                                     "Exceeded maximum allowed payload size (" +
                                         std::to_string(kMaxResponseBytes) + " bytes).")};
  } else {
    r.payload = std::move(body);
  }
  finish_current(lock, std::move(r));
  return reply;
}

RuntimeEndpoint::Reply Environment::error(uint64_t generation, const std::string& request_id,
                                          std::string body, const std::string& error_type_header) {
  std::unique_lock<std::mutex> lock(mu_);
  if (auto refusal = refuse_stale_locked(generation)) return *refusal;
  if (auto refusal = refuse_answer_locked(request_id)) return *refusal;
  InvocationResult r;
  r.status = InvocationResult::Status::kError;
  r.function_error = true;
  r.error_type = error_type_of(error_type_header, body, "Function.Unknown");
  r.payload = body.empty() ? function_error(r.error_type, "") : std::move(body);
  finish_current(lock, std::move(r));
  return {};
}

RuntimeEndpoint::Reply Environment::init_error(uint64_t generation, std::string body,
                                               const std::string& error_type_header) {
  std::unique_lock<std::mutex> lock(mu_);
  if (auto refusal = refuse_stale_locked(generation)) return *refusal;
  if (phase_ != Phase::kInit) {
    return {403, runtime_error_body("InvalidStateTransition", "Init is already over")};
  }
  // The runtime gave up: this environment is finished, and the invocation that caused
  // the Init gets the runtime's own error document.
  phase_ = Phase::kDead;
  services_.timers->cancel(init_timer_);
  const std::string type = error_type_of(error_type_header, body, "Runtime.Unknown");
  end_reason_ = "init_error";
  end_detail_ = type;
  cv_.notify_all();
  if (current_) {
    InvocationResult r;
    r.status = InvocationResult::Status::kError;
    r.function_error = true;
    r.error_type = type;
    r.payload = body.empty() ? function_error(type, "") : std::move(body);
    finish_current(lock, std::move(r));
  }
  return {};
}

void Environment::on_init_timer(uint64_t generation) {
  std::unique_lock<std::mutex> lock(mu_);
  if (generation != generation_ || phase_ != Phase::kInit || stopped_) return;
  auto old = process_;
  const int64_t now = services_.clock->now_us();
  if (!init_retried_ && current_) {
    // Lambda: an Init over 10 s is retried as part of the first invocation, inside the
    // function timeout. The retry starts a fresh runtime process.
    init_retried_ = true;
    invoke_deadline_us_ = now + int64_t{function_.config.timeout_s} * 1000000;
    // From here on the killed process's exit is not a crash of this environment, and
    // whatever it still sends the Runtime API is refused.
    const uint64_t retry = ++generation_;
    cv_.notify_all();
    lock.unlock();
    char buf[160];
    std::snprintf(buf, sizeof buf, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: timeout",
                  static_cast<double>(now - spawned_us_) / 1000.0);
    platform_line(buf);
    // Everything the first Init started goes, not only its process group: the retry starts
    // clean, in the same (then empty) group.
    if (old) old->kill();
    if (group_) group_->kill_all();
    std::string runtime_api;
    try {
      Binding binding = bind(retry);
      runtime_api = binding.server->address();
      lock.lock();
      bindings_.push_back(std::move(binding));
      lock.unlock();
    } catch (const std::exception& e) {
      lock.lock();
      if (generation_ != retry || stopped_) return;
      phase_ = Phase::kDead;
      end_reason_ = "crash";
      end_detail_ = e.what();
      cv_.notify_all();
      if (current_) {
        InvocationResult r;
        r.status = InvocationResult::Status::kError;
        r.function_error = true;
        r.error_type = "Sandbox.Failure";
        r.payload = function_error(r.error_type, std::string("cannot restart the environment: ") + e.what());
        finish_current(lock, std::move(r));
      }
      return;
    }
    spawn_process(retry, runtime_api);
    return;
  }
  phase_ = Phase::kDead;
  end_reason_ = "init_timeout";
  cv_.notify_all();
  if (current_) {
    InvocationResult r;
    r.status = InvocationResult::Status::kTimeout;
    r.function_error = true;
    r.error_type = "Sandbox.Timedout";
    r.payload = timeout_error(current_->request_id, function_.config.timeout_s,
                              services_.legacy_timeout_message, now);
    finish_current(lock, std::move(r));
  } else {
    lock.unlock();
  }
  kill_all(old);
}

void Environment::on_timeout(const std::shared_ptr<PendingInvocation>& inv) {
  std::unique_lock<std::mutex> lock(mu_);
  if (current_ != inv || !delivered_) return;
  auto process = process_;
  peak_rss_kib_ = std::max(peak_rss_kib_, peak_memory_kib(process));
  phase_ = Phase::kDead;  // Lambda resets the environment after a timeout
  end_reason_ = "timeout";
  cv_.notify_all();
  InvocationResult r;
  r.status = InvocationResult::Status::kTimeout;
  r.function_error = true;
  r.error_type = "Sandbox.Timedout";
  r.payload = timeout_error(inv->request_id, function_.config.timeout_s,
                            services_.legacy_timeout_message, services_.clock->now_us());
  finish_current(lock, std::move(r));
  kill_all(process);
}

void Environment::on_exit(uint64_t generation, const ExitStatus& status) {
  std::unique_lock<std::mutex> lock(mu_);
  if (generation != generation_) return;  // a process we replaced on purpose
  const bool was_dead = phase_ == Phase::kDead;
  phase_ = Phase::kDead;
  cv_.notify_all();
  const std::string detail = (!status.signaled && status.code == 0) ? "" : status.describe();
  if (current_) {
    if (end_reason_.empty()) {
      end_reason_ = "crash";
      end_detail_ = status.describe();
    }
    InvocationResult r;
    r.status = InvocationResult::Status::kCrash;
    r.function_error = true;
    r.error_type = "Runtime.ExitError";
    r.payload = exit_error(current_->request_id, detail);
    // The OOM killer's SIGKILL looks exactly like any other; only the group's counter
    // tells them apart. The caller sees what Lambda shows, the log and REPORT say OOM.
    if (group_ && group_->oom_kills() > 0) {
      r.status = InvocationResult::Status::kOom;
      r.error_type = "Runtime.OutOfMemory";
      r.payload = exit_error(current_->request_id, "signal: killed");
      end_reason_ = "oom";
    }
    finish_current(lock, std::move(r));
    return;
  }
  if (stopped_) return;
  if (!was_dead) {
    end_reason_ = "exited";
    end_detail_ = status.describe();
  }
  lock.unlock();
  // Also when it was already dead: a pre-warmed environment whose Init failed has had no
  // invocation to carry the news. Telling the dispatcher twice is harmless.
  listener_.died_idle(shared_from_this());
}

void Environment::finish_current(std::unique_lock<std::mutex>& lock, InvocationResult r) {
  auto inv = std::move(current_);
  current_.reset();
  const bool was_delivered = delivered_;
  delivered_ = false;
  services_.timers->cancel(timeout_timer_);
  finished_ids_.push_back(inv->request_id);
  if (finished_ids_.size() > kRecentIds) finished_ids_.pop_front();
  const int64_t now = services_.clock->now_us();
  r.environment_id = id_;
  r.cold = current_is_cold_;
  if (current_is_cold_) r.init_ms = init_ms_;
  current_is_cold_ = false;
  r.duration_ms = was_delivered ? static_cast<double>(now - delivered_us_) / 1000.0 : 0.0;
  r.billed_ms = billed_ms(r.duration_ms);
  invoke_deadline_us_ = 0;
  auto process = process_;
  peak_rss_kib_ = std::max(peak_rss_kib_, peak_memory_kib(process));
  r.max_memory_mb = mb_from_kib(peak_rss_kib_);
  const bool reusable = phase_ != Phase::kDead && !stopped_;
  lock.unlock();

  // Everything the function printed before it answered belongs to this invocation.
  if (process) process->drain_output();
  if (was_delivered) {
    platform_line(end_line(inv->request_id));
    ReportFields f;
    f.request_id = inv->request_id;
    f.duration_ms = r.duration_ms;
    f.billed_ms = r.billed_ms;
    f.memory_size_mb = function_.config.memory_mb;
    f.max_memory_used_mb = r.max_memory_mb;
    f.init_ms = r.init_ms;
    if (r.status == InvocationResult::Status::kTimeout) {
      f.status = "timeout";
    } else if (r.status != InvocationResult::Status::kOk) {
      f.status = "error";
      f.error_type = r.error_type;
    }
    platform_line(report_line(f));
  }
  {
    std::lock_guard<std::mutex> log_lock(log_mu_);
    capturing_ = false;
    r.log_tail = tail_.size() > kTailBytes ? tail_.substr(tail_.size() - kTailBytes) : tail_;
    tail_.clear();
  }
  // Back in the pool before the caller hears the answer, so that its next request finds
  // this environment warm.
  listener_.released(shared_from_this(), reusable, r);
  inv->finish(std::move(r));
}

void Environment::stop(const std::string& reason) {
  std::shared_ptr<Process> process;
  std::vector<Binding> bindings;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    phase_ = Phase::kDead;
    if (end_reason_.empty()) end_reason_ = reason;
    services_.timers->cancel(init_timer_);
    process = process_;
    bindings.swap(bindings_);
  }
  cv_.notify_all();
  // The process first: a runtime blocked in /next is woken above and gets a 500, and its
  // in-flight invocation (if any) is finished by on_exit as Runtime.ExitError.
  kill_all(process);
  for (auto& b : bindings) b.server->stop();
  log::EnvironmentEnded row;
  row.environment_id = id_;
  row.ended_at_us = services_.clock->now_us();
  {
    std::lock_guard<std::mutex> lock(mu_);
    row.reason = end_reason_;
    row.detail = end_detail_;
  }
  services_.log->record(row);
  services_.sink->close(id_);
  std::lock_guard<std::mutex> lock(mu_);
  running_.reset();
}

}  // namespace coldlab::core
