// `coldlab serve`: the emulator as a long-running server, until SIGINT or SIGTERM.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace coldlab {

struct ServeOptions {
  int port = 9001;
  std::string bind = "127.0.0.1";
  std::string db = "coldlab.db";
  std::string template_file;  // empty: the built-in functions
  double idle_timeout_s = -1;  // unset: --keep-alive decides (default fixed:ttl=10m)
  std::string keep_alive;      // a policy spec; empty: fixed:ttl=<idle timeout>
  std::string scale_out = "lambda";
  int64_t memory_budget_mb = 0;
  int max_concurrency = 1000;
  double init_timeout_s = 10;
  std::string python = "/usr/bin/python3";
  std::string java = "/usr/bin/java";
  bool legacy_timeout_message = false;
  std::string log_dir;  // empty: function logs to stderr
  std::string region = "us-east-1";
  double shutdown_grace_s = 2;
  double async_retry_delay_s = 60;
  std::string isolation = "cgroup";  // "cgroup" or "none"
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string cgroup_parent = "coldlab";
  std::string init_cpu = "throttled";  // or "unthrottled"
};

void add_serve_options(CLI::App& cmd, ServeOptions& o);

// Returns the process exit status.
int run_serve(const ServeOptions& o, const std::string& command_line);

}  // namespace coldlab
