#include "serve.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/cpu_model.h"
#include "policy_spec.h"

namespace coldlab {
namespace {

// A CLI11 check that runs `parse` and shows its error.
template <typename Parse>
CLI::Validator spec_check(Parse parse) {
  return CLI::Validator(
      [parse](std::string& value) -> std::string {
        try {
          parse(value);
          return "";
        } catch (const policies::SpecError& e) {
          return e.what();
        }
      },
      "", "");
}

}  // namespace

void add_serve_options(CLI::App& cmd, ServeOptions& o) {
  cmd.add_option("--port", o.port, "Port of the Lambda API (0: any free port)")->capture_default_str();
  cmd.add_option("--bind", o.bind, "Address to listen on (loopback unless you mean it)")->capture_default_str();
  cmd.add_option("--db", o.db, "SQLite invocation log")->capture_default_str();
  cmd.add_option("--log-dir", o.log_dir, "Write each environment's log stream to DIR/<function>/<env>.log "
                                         "instead of stderr");
  cmd.add_option("--shutdown-grace", o.shutdown_grace_s, "Seconds in-flight invocations get on SIGINT/SIGTERM")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  add_emulator_options(cmd, o);
}

void add_emulator_options(CLI::App& cmd, EmulatorOptions& o) {
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
  cmd.add_option("--region", o.region, "Region in ARNs and AWS_REGION")->capture_default_str();
  cmd.add_option("--async-retry-delay", o.async_retry_delay_s,
                 "Base delay of Event retries after a function error (Lambda: 60 s, then 120 s)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd.add_option("--isolation", o.isolation, "cgroup: memory limit and CPU quota per environment, as Lambda; none: no limits")
      ->capture_default_str()->check(CLI::IsMember({"cgroup", "none"}));
  cmd.add_option("--cgroup-root", o.cgroup_root, "Where cgroupfs is mounted")->capture_default_str();
  cmd.add_option("--cgroup-parent", o.cgroup_parent,
                 "Group (relative to the root) under which environments' groups are made; on cgroup v2 "
                 "without root, a subtree delegated to you")->capture_default_str();
  cmd.add_option("--init-cpu", o.init_cpu,
                 "CPU for on-demand Init: burst (2 vCPUs, as measured on Lambda), burst:vcpus=N, throttled "
                 "(the memory's share, as after Init) or unthrottled (no limit)")
      ->capture_default_str()->check(spec_check(core::parse_init_cpu));
  cmd.add_option("--cpu-period", o.cpu_period,
                 "CFS period over which the memory's CPU share is enforced (Lambda was observed to throttle "
                 "in 20 ms steps); 1ms to 1s")
      ->capture_default_str()->check(spec_check(core::parse_cpu_period_us));
  cmd.add_option("--spare-sandboxes", o.spare_sandboxes,
                 "Sandboxes (a waiting process, in its own cgroup under isolation) kept ready, so that a cold "
                 "start only execs the runtime, as on Lambda; 0 makes each when needed (Init Duration is the "
                 "same either way: it starts at the exec)")
      ->capture_default_str()->check(CLI::Range(0, 64));
  cmd.add_option("--clock", o.clock, "real, or virtual: skip idle gaps (see docs/experiments.md)")
      ->capture_default_str()->check(CLI::IsMember({"real", "virtual"}));
  cmd.add_option("--freeze", o.freeze, "Freeze idle environments with the cgroup freezer, as Lambda does: on, off, "
                                       "or auto (on where the freezer exists)")
      ->capture_default_str()->check(CLI::IsMember({"on", "off", "auto"}));
}

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

  std::unique_ptr<Emulator> emulator;
  try {
    emulator = Emulator::start(o, command_line);
  } catch (const EmulatorError& e) {
    std::fprintf(stderr, "coldlab: %s\n", e.what());
    return e.exit_status();
  }
  // One line on stdout, for scripts and tests that wait for readiness and want the port.
  std::printf("coldlab listening on %s\n", emulator->endpoint().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  std::fprintf(stderr, "coldlab: %s: finishing in-flight invocations (up to %.1f s), then stopping\n",
               strsignal(sig), o.shutdown_grace_s);
  if (!emulator->stop(log::RunEnd{})) {
    // httplib lets a worker sit out an idle keep-alive connection to its timeout before the
    // listener can finish. Everything that matters is done by now (every invocation answered
    // and logged, every function process gone), so do not make the user wait for idle clients.
    std::fprintf(stderr, "coldlab: stopped (idle client connections closed)\n");
    std::fflush(stderr);
    std::_Exit(0);
  }
  emulator.reset();
  std::fprintf(stderr, "coldlab: stopped\n");
  return 0;
}

}  // namespace coldlab
