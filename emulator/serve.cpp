#include "serve.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <iostream>
#include <thread>

#include "api/api_context.h"
#include "api/async_invoker.h"
#include "api/invoke_api.h"
#include "api/management_api.h"
#include "api/runtime_api.h"
#include "api/task_queue.h"
#include "config/sam_template.h"
#include "core/clock.h"
#include "core/dispatcher.h"
#include "core/environment.h"
#include "core/function_registry.h"
#include "core/platform_log.h"
#include "core/process.h"
#include "core/timer_queue.h"
#include "host_facts.h"
#include "isolation/cgroups.h"
#include "registry.h"
#include "log/invocation_log.h"

namespace coldlab {

void add_serve_options(CLI::App& cmd, ServeOptions& o) {
  cmd.add_option("--port", o.port, "Port of the Lambda API (0: any free port)")->capture_default_str();
  cmd.add_option("--bind", o.bind, "Address to listen on (loopback unless you mean it)")->capture_default_str();
  cmd.add_option("--db", o.db, "SQLite invocation log")->capture_default_str();
  cmd.add_option("--template", o.template_file, "AWS SAM template with the functions (default: the built-in ones)");
  cmd.add_option("--keep-alive", o.keep_alive,
                 "Keep-alive policy, NAME[:key=value,...] (see docs/policies.md; default fixed:ttl=10m)");
  cmd.add_option("--scale-out", o.scale_out, "Scale-out policy, NAME[:key=value,...] (see docs/policies.md)")
      ->capture_default_str();
  cmd.add_option("--memory-budget", o.memory_budget_mb,
                 "Memory in MB all environments together may hold (0: no budget); lru, greedy-dual "
                 "and the other caching policies need one")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd.add_option("--idle-timeout", o.idle_timeout_s,
                 "Seconds an idle environment is kept (0: never reuse); short for --keep-alive fixed:ttl=N")
      ->default_str("600")->check(CLI::NonNegativeNumber);
  cmd.add_option("--max-concurrency", o.max_concurrency,
                 "Account concurrency limit; beyond it, 429 (the lambda policy's concurrency= unless given)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd.add_option("--init-timeout", o.init_timeout_s, "Init limit in seconds (Lambda: 10)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd.add_option("--python", o.python, "Interpreter for python3.x functions (an absolute path)")->capture_default_str();
  cmd.add_option("--java", o.java, "JVM for java11/17/21 functions (an absolute path)")->capture_default_str();
  cmd.add_flag("--legacy-timeout-message", o.legacy_timeout_message,
               "Answer timeouts with the pre-2025 body (no errorType)");
  cmd.add_option("--log-dir", o.log_dir, "Write each environment's log stream to DIR/<function>/<env>.log "
                                         "instead of stderr");
  cmd.add_option("--region", o.region, "Region in ARNs and AWS_REGION")->capture_default_str();
  cmd.add_option("--shutdown-grace", o.shutdown_grace_s, "Seconds in-flight invocations get on SIGINT/SIGTERM")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd.add_option("--async-retry-delay", o.async_retry_delay_s,
                 "Base delay of Event retries after a function error (Lambda: 60 s, then 120 s)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd.add_option("--isolation", o.isolation, "cgroup: memory limit and CPU quota per environment, as Lambda; none: no limits")
      ->capture_default_str()->check(CLI::IsMember({"cgroup", "none"}));
  cmd.add_option("--cgroup-root", o.cgroup_root, "Where cgroupfs is mounted")->capture_default_str();
  cmd.add_option("--cgroup-parent", o.cgroup_parent,
                 "Group (relative to the root) under which environments' groups are made; on cgroup v2 "
                 "without root, a subtree delegated to you")->capture_default_str();
  cmd.add_option("--init-cpu", o.init_cpu, "Init under the CPU quota (throttled) or without it (unthrottled, as "
                                           "reported for on-demand Init on Lambda)")
      ->capture_default_str()->check(CLI::IsMember({"throttled", "unthrottled"}));
}

namespace {

nlohmann::json options_json(const ServeOptions& o, const std::string& template_file,
                            const std::string& keep_alive, const std::string& scale_out,
                            const std::string& isolation) {
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
          {"init_cpu", o.init_cpu}};
}

int64_t seconds_to_us(double s) { return static_cast<int64_t>(s * 1e6); }

// The policies the options ask for; throws policies::SpecError with a message for the user.
struct Policies {
  std::unique_ptr<policies::KeepAlivePolicy> keep_alive;
  std::unique_ptr<policies::ScaleOutPolicy> scale_out;
};

Policies make_policies(const ServeOptions& o) {
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

}  // namespace

int run_serve(const ServeOptions& o, const std::string& command_line) {
  // Signals are taken by sigwait() below; every thread started from here on inherits the
  // mask (function processes get it cleared before exec).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const auto exe_dir = executable_dir();
  const std::filesystem::path template_file =
      o.template_file.empty() ? exe_dir / ".." / "functions" / "template.yaml" : std::filesystem::path(o.template_file);
  config::LoadedTemplate loaded;
  try {
    loaded = config::load_sam_template(template_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coldlab: %s\n", e.what());
    return 2;
  }
  for (const auto& w : loaded.warnings) std::fprintf(stderr, "coldlab: warning: %s\n", w.c_str());

  const auto python_bootstrap = exe_dir / ".." / "runtimes" / "python" / "bootstrap.py";
  const auto java_runtime_jar = exe_dir / ".." / "runtimes" / "java" / "coldlab-runtime.jar";
  // Each runtime a template uses must be runnable before anything is served.
  auto check_runtime = [](const config::FunctionConfig& f, const std::string& program, const char* flag,
                          const std::filesystem::path& client) {
    if (access(program.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "coldlab: function %s needs %s, but %s is not an executable (use %s PATH)\n",
                   f.name.c_str(), f.runtime.c_str(), program.c_str(), flag);
      return false;
    }
    if (!std::filesystem::exists(client)) {
      std::fprintf(stderr, "coldlab: the %s runtime client is missing at %s (rebuild coldlab)\n",
                   f.runtime.c_str(), client.c_str());
      return false;
    }
    return true;
  };
  for (const auto& f : loaded.functions) {
    if (f.kind == config::RuntimeKind::kPython && !check_runtime(f, o.python, "--python", python_bootstrap)) return 2;
    if (f.kind == config::RuntimeKind::kJava && !check_runtime(f, o.java, "--java", java_runtime_jar)) return 2;
  }

  // Isolation first: a result obtained without limits must never look like one with them.
  std::unique_ptr<isolation::Cgroups> cgroups;
  std::string isolation_name = "none";
  if (o.isolation == "cgroup") {
    std::string why;
    cgroups = isolation::Cgroups::open(o.cgroup_root, o.cgroup_parent, &why);
    if (!cgroups) {
      std::fprintf(stderr,
                   "coldlab: WARNING: cgroups cannot be used here: %s\n"
                   "coldlab: WARNING: running WITHOUT memory or CPU limits (isolation: none).\n"
                   "coldlab: WARNING: to enable them run as root, or on cgroup v2 delegate a subtree to your user\n"
                   "coldlab: WARNING: (systemd-run --user -p Delegate=yes ...) and pass it as --cgroup-parent;\n"
                   "coldlab: WARNING: see docs/resources.md. --isolation none silences this.\n",
                   why.c_str());
    } else {
      isolation_name = "cgroup " + cgroups->version();
      if (int stale = cgroups->remove_stale(); stale > 0)
        std::fprintf(stderr, "coldlab: removed %d cgroups (and their processes) left by a coldlab that was killed\n", stale);
    }
  }

  core::RealClock clock;
  std::unique_ptr<log::InvocationLog> log;
  try {
    log = log::InvocationLog::open(o.db);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coldlab: %s\n", e.what());
    return 2;
  }
  Policies chosen;
  try {
    chosen = make_policies(o);
  } catch (const policies::SpecError& e) {
    std::fprintf(stderr, "coldlab: %s\n", e.what());
    return 2;
  }
  const std::string keep_alive_name = chosen.keep_alive->name();
  const std::string scale_out_name = chosen.scale_out->name();
  log::RunInfo run;
  run.started_at_us = clock.now_us();
  run.coldlab_version = COLDLAB_VERSION;
  run.command_line = command_line;
  run.host_json = host_facts().dump();
  run.config_json = options_json(o, std::filesystem::weakly_canonical(template_file).string(), keep_alive_name,
                                 scale_out_name, isolation_name).dump();
  run.keep_alive = keep_alive_name;
  run.scale_out = scale_out_name;
  run.memory_budget_mb = o.memory_budget_mb;
  const int64_t run_id = log->begin_run(run);

  core::TimerQueue timers(clock);
  core::ProcessSupervisor supervisor;
  core::FunctionLogSink sink(o.log_dir);
  core::FunctionRegistry registry(loaded.functions, clock.now_us());

  core::EnvironmentServices services;
  services.clock = &clock;
  services.timers = &timers;
  services.supervisor = &supervisor;
  services.log = log.get();
  services.sink = &sink;
  services.server_factory = [](core::RuntimeEndpoint& endpoint) { return api::start_runtime_server(endpoint); };
  services.run_id = run_id;
  services.init_timeout_us = seconds_to_us(o.init_timeout_s);
  services.legacy_timeout_message = o.legacy_timeout_message;
  services.region = o.region;
  services.python = o.python;
  services.python_bootstrap = std::filesystem::weakly_canonical(python_bootstrap);
  services.java = o.java;
  services.java_runtime_jar = std::filesystem::weakly_canonical(java_runtime_jar);
  services.cgroups = cgroups.get();
  services.init_cpu_unthrottled = o.init_cpu == "unthrottled";
  services.host_cpus = std::max(1u, std::thread::hardware_concurrency());

  core::Dispatcher dispatcher({o.memory_budget_mb, o.max_concurrency}, registry, services,
                             std::move(chosen.keep_alive), std::move(chosen.scale_out));
  api::AsyncInvoker::Options async_options;
  async_options.retry_base_delay_us = seconds_to_us(o.async_retry_delay_s);
  async_options.max_workers = static_cast<size_t>(o.max_concurrency);
  api::AsyncInvoker async(async_options, dispatcher, timers);

  api::ApiContext ctx;
  ctx.registry = &registry;
  ctx.dispatcher = &dispatcher;
  ctx.async = &async;
  ctx.clock = &clock;
  ctx.region = o.region;
  ctx.max_concurrency = o.max_concurrency;

  httplib::Server server;
  // Each synchronous invoke holds a worker until the function answers; throttled ones
  // must still get their 429 at once, hence room beyond the concurrency limit.
  const size_t workers = static_cast<size_t>(o.max_concurrency) + 64;
  server.new_task_queue = [workers] { return new api::ElasticTaskQueue(workers, 16); };
  server.set_tcp_nodelay(true);  // without it every keep-alive request waits ~40 ms
  server.set_keep_alive_max_count(100000);
  server.set_keep_alive_timeout(30);
  server.set_read_timeout(60);
  server.set_write_timeout(60);
  server.set_payload_max_length(std::numeric_limits<size_t>::max());  // the API counts and refuses
  api::install_invoke_api(server, ctx);
  api::install_management_api(server, ctx);

  int port = o.port;
  bool bound = port == 0 ? (port = server.bind_to_any_port(o.bind)) > 0 : server.bind_to_port(o.bind, port);
  if (!bound) {
    std::fprintf(stderr, "coldlab: cannot listen on %s:%d (in use, or not an address of this machine)\n",
                 o.bind.c_str(), o.port);
    return 1;
  }
  std::promise<void> listener_done;
  auto listener_finished = listener_done.get_future();
  std::thread listener([&server, &listener_done] {
    server.listen_after_bind();
    listener_done.set_value();
  });

  std::fprintf(stderr, "coldlab %s: %zu functions from %s; isolation: %s; keep-alive: %s; scale-out: %s; "
               "memory budget: %s; log: %s (run %lld)\n",
               COLDLAB_VERSION, loaded.functions.size(), template_file.c_str(),
               cgroups ? cgroups->describe().c_str() : "none (no memory or CPU limits)", keep_alive_name.c_str(),
               scale_out_name.c_str(),
               o.memory_budget_mb > 0 ? (std::to_string(o.memory_budget_mb) + " MB").c_str() : "none",
               o.db.c_str(), static_cast<long long>(run_id));
  for (const auto& f : loaded.functions)
    std::fprintf(stderr, "coldlab:   %-20s %-16s %5d MB %4d s  %s\n", f.name.c_str(), f.runtime.c_str(),
                 f.memory_mb, f.timeout_s, f.code_dir.c_str());
  // One line on stdout, for scripts and tests that wait for readiness and want the port.
  std::printf("coldlab listening on http://%s:%d\n", o.bind.c_str(), port);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "coldlab: %s: finishing in-flight invocations (up to %.1f s), then stopping\n",
               strsignal(sig), o.shutdown_grace_s);

  dispatcher.shutdown(std::chrono::milliseconds(static_cast<int64_t>(o.shutdown_grace_s * 1000)));
  async.shutdown();
  log->end_run(run_id, clock.now_us());
  log->flush();
  server.stop();
  // httplib lets a worker sit out an idle keep-alive connection to its timeout before the
  // listener can finish. Everything that matters is done by now (every invocation answered
  // and logged, every function process gone), so do not make the user wait for idle clients.
  if (listener_finished.wait_for(std::chrono::seconds(1)) != std::future_status::ready) {
    std::fprintf(stderr, "coldlab: stopped (idle client connections closed)\n");
    std::fflush(stderr);
    std::_Exit(0);
  }
  listener.join();
  std::fprintf(stderr, "coldlab: stopped\n");
  return 0;
}

}  // namespace coldlab
