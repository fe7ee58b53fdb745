#include "emulator.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

#include "api/api_context.h"
#include "api/async_invoker.h"
#include "api/clock_api.h"
#include "api/http_guard.h"
#include "api/invoke_api.h"
#include "api/management_api.h"
#include "api/runtime_api.h"
#include "api/task_queue.h"
#include "config/sam_template.h"
#include "core/cpu_model.h"
#include "core/dispatcher.h"
#include "core/environment.h"
#include "core/function_registry.h"
#include "core/platform_log.h"
#include "core/process.h"
#include "host_facts.h"
#include "isolation/cgroups.h"
#include "isolation/thaw_guard.h"
#include "registry.h"

namespace coldlab {
namespace {

// Pending connections the Invoke API's socket holds (the kernel caps it at somaxconn,
// 4096 on Debian 12): a burst of clients up to the concurrency limit and the 429s beyond.
constexpr int kListenBacklog = 4096;

int64_t seconds_to_us(double s) { return static_cast<int64_t>(s * 1e6); }

nlohmann::json options_json(const EmulatorOptions& o, const std::string& template_file,
                            const std::string& keep_alive, const std::string& scale_out,
                            const std::string& isolation, bool freeze) {
  return {{"port", o.port},
          {"bind", o.bind},
          {"template", template_file},
          {"keep_alive", keep_alive},
          {"scale_out", scale_out},
          {"memory_budget_mb", o.memory_budget_mb},
          {"max_concurrency", o.max_concurrency},
          {"init_timeout_s", o.init_timeout_s},
          {"python", o.python},
          {"java", o.java},
          {"legacy_timeout_message", o.legacy_timeout_message},
          {"region", o.region},
          {"isolation", isolation},
          {"init_cpu", o.init_cpu},
          {"cpu_period", o.cpu_period},
          {"clock", o.clock},
          {"freeze", freeze},
          {"spare_sandboxes", o.spare_sandboxes},
          {"memory_mb", o.memory_mb}};
}

struct Policies {
  std::unique_ptr<policies::KeepAlivePolicy> keep_alive;
  std::unique_ptr<policies::ScaleOutPolicy> scale_out;
};

// The policies the options ask for; throws policies::SpecError with a message for the user.
Policies make_policies(const EmulatorOptions& o) {
  if (!o.keep_alive.empty() && o.idle_timeout_s >= 0)
    throw policies::SpecError("give --keep-alive or --idle-timeout, not both");
  std::string keep_alive = o.keep_alive;
  if (keep_alive.empty()) {
    const double ttl_s = o.idle_timeout_s >= 0 ? o.idle_timeout_s : 600;
    keep_alive = ttl_s == 0 ? "none" : "fixed:ttl=" + std::to_string(seconds_to_us(ttl_s)) + "us";
  }
  // --max-concurrency is the account limit of the policies that have one.
  std::string scale_out = o.scale_out;
  const std::string name = policies::PolicySpec::parse(scale_out).name();
  if ((name == "lambda" || name == "per-env-concurrency") && scale_out.find("concurrency=") == std::string::npos)
    scale_out += (scale_out.find(':') == std::string::npos ? ":" : ",") + std::string("concurrency=") +
                 std::to_string(o.max_concurrency);
  Policies p{policies::make_keep_alive(keep_alive), policies::make_scale_out(scale_out)};
  if (p.keep_alive->needs_memory_budget() && o.memory_budget_mb <= 0) {
    throw policies::SpecError("keep-alive policy " + p.keep_alive->name() +
                              " evicts only when memory runs short; give --memory-budget MB");
  }
  return p;
}

class LiveEmulator final : public Emulator {
 public:
  LiveEmulator(const EmulatorOptions& o, const std::string& command_line);
  ~LiveEmulator() override;

  int port() const override { return port_; }
  std::string endpoint() const override { return "http://" + options_.bind + ":" + std::to_string(port_); }
  int64_t run_id() const override { return run_id_; }
  core::Clock& clock() override { return *clock_; }
  core::TimerQueue& timers() override { return *timers_; }
  core::VirtualClock* virtual_clock() override { return virtual_clock_; }
  log::InvocationLog& log() override { return *log_; }
  std::string describe() const override { return description_; }
  int64_t advance_to(int64_t target_us) override;
  bool stop(const log::RunEnd& end) override;

 private:
  const EmulatorOptions options_;
  config::LoadedTemplate loaded_;
  std::unique_ptr<isolation::Cgroups> cgroups_;
  std::unique_ptr<isolation::ThawGuard> thaw_guard_;
  std::unique_ptr<core::Clock> clock_;
  core::VirtualClock* virtual_clock_ = nullptr;
  std::unique_ptr<log::InvocationLog> log_;
  int64_t run_id_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<core::TimerQueue> timers_;
  std::unique_ptr<core::ProcessSupervisor> supervisor_;
  std::unique_ptr<core::FunctionLogSink> sink_;
  std::unique_ptr<core::FunctionRegistry> registry_;
  std::unique_ptr<core::SandboxPool> sandboxes_;
  core::EnvironmentServices services_;
  std::unique_ptr<core::Dispatcher> dispatcher_;
  std::unique_ptr<api::AsyncInvoker> async_;
  api::ApiContext ctx_;
  httplib::Server server_;
  int listen_fd_ = -1;  // server_'s listening socket, seen as it is made
  int port_ = 0;
  std::thread listener_;
  std::promise<void> listener_done_;
  std::future<void> listener_finished_;
  std::string description_;
  std::mutex advance_mu_;
  std::mutex stop_mu_;
  bool stopped_ = false;
};

LiveEmulator::LiveEmulator(const EmulatorOptions& o, const std::string& command_line) : options_(o) {
  const auto exe_dir = executable_dir();
  const std::filesystem::path template_file =
      o.template_file.empty() ? exe_dir / ".." / "functions" / "template.yaml" : std::filesystem::path(o.template_file);
  try {
    loaded_ = config::load_sam_template(template_file);
  } catch (const std::exception& e) {
    throw EmulatorError(e.what(), 2);
  }
  if (!o.quiet)
    for (const auto& w : loaded_.warnings) std::fprintf(stderr, "coldlab: warning: %s\n", w.c_str());
  for (const auto& [name, mb] : o.memory_mb) {
    bool found = false;
    for (auto& f : loaded_.functions)
      if (f.name == name) {
        f.memory_mb = mb;
        found = true;
      }
    if (!found) throw EmulatorError("no function " + name + " in " + template_file.string(), 2);
  }

  const auto python_bootstrap = exe_dir / ".." / "runtimes" / "python" / "bootstrap.py";
  const auto java_runtime_jar = exe_dir / ".." / "runtimes" / "java" / "coldlab-runtime.jar";
  // Each runtime a template uses must be runnable before anything is served.
  auto check_runtime = [](const config::FunctionConfig& f, const std::string& program, const char* flag,
                          const std::filesystem::path& client) {
    if (access(program.c_str(), X_OK) != 0)
      throw EmulatorError("function " + f.name + " needs " + f.runtime + ", but " + program +
                              " is not an executable (use " + flag + " PATH)", 2);
    if (!std::filesystem::exists(client))
      throw EmulatorError("the " + f.runtime + " runtime client is missing at " + client.string() +
                              " (rebuild coldlab)", 2);
  };
  for (const auto& f : loaded_.functions) {
    if (f.kind == config::RuntimeKind::kPython) check_runtime(f, o.python, "--python", python_bootstrap);
    if (f.kind == config::RuntimeKind::kJava) check_runtime(f, o.java, "--java", java_runtime_jar);
  }

  // Isolation first: a result obtained without limits must never look like one with them.
  std::string isolation_name = "none";
  if (o.isolation == "cgroup") {
    std::string why;
    cgroups_ = isolation::Cgroups::open(o.cgroup_root, o.cgroup_parent, &why);
    if (!cgroups_) {
      std::fprintf(stderr,
                   "coldlab: WARNING: cgroups cannot be used here: %s\n"
                   "coldlab: WARNING: running WITHOUT memory or CPU limits (isolation: none).\n"
                   "coldlab: WARNING: to enable them run as root, or on cgroup v2 delegate a subtree to your user\n"
                   "coldlab: WARNING: (systemd-run --user -p Delegate=yes ...) and pass it as --cgroup-parent;\n"
                   "coldlab: WARNING: see docs/resources.md. --isolation none silences this.\n",
                   why.c_str());
    } else {
      isolation_name = "cgroup " + cgroups_->version();
      if (int stale = cgroups_->remove_stale(); stale > 0)
        std::fprintf(stderr, "coldlab: removed %d cgroups (and their processes) left by a coldlab that was killed\n",
                     stale);
    }
  }
  const bool freezer = cgroups_ && cgroups_->can_freeze();
  if (o.freeze == "on" && !freezer)
    throw EmulatorError(std::string("--freeze on needs the cgroup freezer, and ") +
                            (cgroups_ ? "this machine's cgroups have none" : "isolation is off") +
                            " (use --freeze off or auto)", 2);
  const bool freeze = freezer && o.freeze != "off";
  if (freeze && cgroups_->version() == "v1") {
    try {
      thaw_guard_ = std::make_unique<isolation::ThawGuard>(
          exe_dir / "coldlab",
          std::filesystem::path(o.cgroup_root) / "freezer" / o.cgroup_parent / ("run-" + std::to_string(::getpid())));
    } catch (const std::exception& e) {
      throw EmulatorError(std::string(e.what()) + " (needed to freeze idle environments; --freeze off goes without)",
                          2);
    }
  }

  if (o.clock == "virtual") {
    auto vc = std::make_unique<core::VirtualClock>();
    virtual_clock_ = vc.get();
    clock_ = std::move(vc);
  } else {
    clock_ = std::make_unique<core::RealClock>();
  }
  started_ = std::chrono::steady_clock::now();

  try {
    log_ = log::InvocationLog::open(o.db);
  } catch (const std::exception& e) {
    throw EmulatorError(e.what(), 2);
  }
  Policies chosen;
  double init_cpus = 0;
  int64_t cpu_period_us = 0;
  try {
    chosen = make_policies(o);
  } catch (const policies::SpecError& e) {
    throw EmulatorError(e.what(), 2);
  }
  try {
    init_cpus = core::parse_init_cpu(o.init_cpu);
  } catch (const policies::SpecError& e) {
    throw EmulatorError(std::string("--init-cpu: ") + e.what(), 2);
  }
  try {
    cpu_period_us = core::parse_cpu_period_us(o.cpu_period);
  } catch (const policies::SpecError& e) {
    throw EmulatorError(std::string("--cpu-period: ") + e.what(), 2);
  }
  const std::string keep_alive_name = chosen.keep_alive->name();
  const std::string scale_out_name = chosen.scale_out->name();
  log::RunInfo run = o.run;
  run.started_at_us = clock_->now_us();
  run.coldlab_version = COLDLAB_VERSION;
  run.command_line = command_line;
  run.host_json = host_facts().dump();
  run.config_json = options_json(o, std::filesystem::weakly_canonical(template_file).string(), keep_alive_name,
                                 scale_out_name, isolation_name, freeze).dump();
  run.keep_alive = keep_alive_name;
  run.scale_out = scale_out_name;
  run.memory_budget_mb = o.memory_budget_mb;
  run.clock = clock_->name();
  run_id_ = log_->begin_run(run);

  timers_ = std::make_unique<core::TimerQueue>(*clock_);
  supervisor_ = std::make_unique<core::ProcessSupervisor>();
  sink_ = std::make_unique<core::FunctionLogSink>(o.log_dir, o.log_cap_bytes);
  registry_ = std::make_unique<core::FunctionRegistry>(loaded_.functions, clock_->now_us());

  services_.clock = clock_.get();
  services_.timers = timers_.get();
  services_.supervisor = supervisor_.get();
  services_.log = log_.get();
  services_.sink = sink_.get();
  services_.server_factory = [](core::RuntimeEndpoint& endpoint) { return api::start_runtime_server(endpoint); };
  services_.run_id = run_id_;
  services_.init_timeout_us = seconds_to_us(o.init_timeout_s);
  services_.legacy_timeout_message = o.legacy_timeout_message;
  services_.region = o.region;
  services_.python = o.python;
  services_.python_bootstrap = std::filesystem::weakly_canonical(python_bootstrap);
  services_.java = o.java;
  services_.java_runtime_jar = std::filesystem::weakly_canonical(java_runtime_jar);
  services_.cgroups = cgroups_.get();
  services_.init_cpus = init_cpus;
  services_.cpu_period_us = cpu_period_us;
  services_.host_cpus = std::max(1u, std::thread::hardware_concurrency());
  services_.freeze = freeze;
  // Without its stub (a partial install) processes are spawned directly, as before pools.
  if (const auto stub = exe_dir / "coldlab-exec-stub"; access(stub.c_str(), X_OK) == 0) {
    core::SandboxPool::Options pool;
    pool.spares = static_cast<size_t>(std::max(0, o.spare_sandboxes));
    pool.stub = std::filesystem::weakly_canonical(stub);
    pool.supervisor = supervisor_.get();
    pool.cgroups = cgroups_.get();
    pool.server_factory = services_.server_factory;
    sandboxes_ = std::make_unique<core::SandboxPool>(pool);
    services_.sandboxes = sandboxes_.get();
  } else {
    std::fprintf(stderr, "coldlab: warning: %s is missing: cold starts fork the emulator (rebuild coldlab)\n",
                 stub.c_str());
  }

  dispatcher_ = std::make_unique<core::Dispatcher>(core::Dispatcher::Options{o.memory_budget_mb, o.max_concurrency},
                                                   *registry_, services_, std::move(chosen.keep_alive),
                                                   std::move(chosen.scale_out));
  api::AsyncInvoker::Options async_options;
  async_options.retry_base_delay_us = seconds_to_us(o.async_retry_delay_s);
  async_options.max_workers = static_cast<size_t>(o.max_concurrency);
  async_ = std::make_unique<api::AsyncInvoker>(async_options, *dispatcher_, *timers_);

  ctx_.registry = registry_.get();
  ctx_.dispatcher = dispatcher_.get();
  ctx_.async = async_.get();
  ctx_.clock = clock_.get();
  ctx_.region = o.region;
  ctx_.max_concurrency = o.max_concurrency;

  // Each synchronous invoke holds a worker until the function answers; throttled ones
  // must still get their 429 at once, hence room beyond the concurrency limit.
  const size_t workers = static_cast<size_t>(o.max_concurrency) + 64;
  server_.new_task_queue = [workers] { return new api::ElasticTaskQueue(workers, 16); };
  server_.set_tcp_nodelay(true);  // without it every keep-alive request waits ~40 ms
  server_.set_keep_alive_max_count(100000);
  server_.set_keep_alive_timeout(30);
  server_.set_read_timeout(60);
  server_.set_write_timeout(60);
  server_.set_payload_max_length(std::numeric_limits<size_t>::max());  // the API counts and refuses
  // Nothing the API takes is larger than a synchronous invoke's payload; a little slack so
  // the invoke API, not the guard, answers payloads just over it with Lambda's message.
  api::install_http_guard(server_, core::kMaxSyncRequestBytes + 1024 * 1024, api::ErrorShape::kService);
  std::function<int64_t(int64_t)> advance;
  if (virtual_clock_) advance = [this](int64_t target) { return advance_to(target); };
  api::install_clock_api(server_, *clock_, advance);  // before the management API's catch-all
  api::install_invoke_api(server_, ctx_);
  api::install_management_api(server_, ctx_);

  // cpp-httplib listens with a backlog of 5, compiled into Debian's library (so its
  // CPPHTTPLIB_LISTEN_BACKLOG cannot be changed from here): a burst of clients overflowed
  // it and had their connections reset. Linux lets listen() be called again on a listening
  // socket to change its backlog, so the socket is noted as it is made and widened after.
  server_.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd_ = sock;
  });
  port_ = o.port;
  const bool bound = port_ == 0 ? (port_ = server_.bind_to_any_port(o.bind)) > 0 : server_.bind_to_port(o.bind, port_);
  if (!bound) {
    throw EmulatorError("cannot listen on " + o.bind + ":" + std::to_string(o.port) +
                            " (in use, or not an address of this machine)", 1);
  }
  if (listen_fd_ >= 0 && ::listen(listen_fd_, kListenBacklog) != 0)
    std::fprintf(stderr, "coldlab: cannot widen the listen backlog: %s\n", std::strerror(errno));
  listener_finished_ = listener_done_.get_future();
  listener_ = std::thread([this] {
    server_.listen_after_bind();
    listener_done_.set_value();
  });

  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%zu functions from %s; isolation: %s; freezer: %s; clock: %s; keep-alive: %s; scale-out: %s; "
                "memory budget: %s; log: %s (run %lld)",
                loaded_.functions.size(), template_file.c_str(),
                cgroups_ ? cgroups_->describe().c_str() : "none (no memory or CPU limits)",
                freeze ? "on" : "off", clock_->name().c_str(), keep_alive_name.c_str(), scale_out_name.c_str(),
                o.memory_budget_mb > 0 ? (std::to_string(o.memory_budget_mb) + " MB").c_str() : "none",
                o.db.c_str(), static_cast<long long>(run_id_));
  description_ = buf;
  if (!o.quiet) {
    std::fprintf(stderr, "coldlab %s: %s\n", COLDLAB_VERSION, description_.c_str());
    for (const auto& f : loaded_.functions)
      std::fprintf(stderr, "coldlab:   %-20s %-16s %5d MB %4d s  %s\n", f.name.c_str(), f.runtime.c_str(),
                   f.memory_mb, f.timeout_s, f.code_dir.c_str());
  }
}

int64_t LiveEmulator::advance_to(int64_t target_us) {
  if (!virtual_clock_) throw std::logic_error("advance_to needs a virtual clock");
  std::lock_guard<std::mutex> serial(advance_mu_);
  // A timer at the target: it runs after every timer due before it (and after those due at
  // the same instant, which were scheduled earlier), and lets the clock land exactly there.
  struct Reached {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto reached = std::make_shared<Reached>();
  timers_->schedule(target_us, [reached] {
    std::lock_guard<std::mutex> lock(reached->mu);
    reached->done = true;
    reached->cv.notify_all();
  });
  virtual_clock_->allow_until(target_us);
  {
    std::unique_lock<std::mutex> lock(reached->mu);
    reached->cv.wait(lock, [&] { return reached->done; });
  }
  virtual_clock_->wait_idle();
  return virtual_clock_->now_us();
}

bool LiveEmulator::stop(const log::RunEnd& requested) {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return true;
    stopped_ = true;
  }
  dispatcher_->shutdown(std::chrono::milliseconds(static_cast<int64_t>(options_.shutdown_grace_s * 1000)));
  async_->shutdown();
  if (sandboxes_) sandboxes_->drain();
  log::RunEnd end = requested;
  if (end.ended_at_us == 0) end.ended_at_us = clock_->now_us();
  if (end.wall_ms < 0)
    end.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  log_->end_run(run_id_, end);
  log_->flush();
  server_.stop();
  return listener_finished_.wait_for(std::chrono::seconds(1)) == std::future_status::ready;
}

LiveEmulator::~LiveEmulator() {
  if (listener_.joinable()) {
    log::RunEnd end;
    stop(end);
    listener_.join();
  }
}

}  // namespace

std::unique_ptr<Emulator> Emulator::start(const EmulatorOptions& options, const std::string& command_line) {
  return std::make_unique<LiveEmulator>(options, command_line);
}

}  // namespace coldlab
