// Benchmark of the emulator's invoke path: starts `coldlab serve`, then measures
//  1. warm invokes: latency p50/p99 and throughput, with 1 and with C keep-alive clients;
//  2. cold starts: with --idle-timeout 0 every invoke starts a new environment; client-side
//     latency and the Init Duration coldlab reports (read from the REPORT line via Tail).
// It prints the figures with the command line and the machine, so they can be quoted.
// A benchmark, not a test: it asserts nothing.
#include <httplib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "api/base64.h"
#include "bench/bench_support.h"

namespace {

using Clock = std::chrono::steady_clock;
using coldlab::bench::percentile;

// Runs `per_client` sequential invokes on each of `clients` keep-alive connections.
void warm(int port, const std::string& function, int clients, int per_client, const std::string& payload) {
  std::vector<std::vector<double>> lat(clients);
  std::atomic<int> failures{0};
  // One invoke per client first, so that every client has its warm environment.
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      const std::string path = "/2015-03-31/functions/" + function + "/invocations";
      cli.Post(path.c_str(), payload, "application/json");
      lat[c].reserve(per_client);
      for (int i = 0; i < per_client; ++i) {
        auto s = Clock::now();
        auto r = cli.Post(path.c_str(), payload, "application/json");
        auto e = Clock::now();
        if (!r || r->status != 200) ++failures;
        lat[c].push_back(std::chrono::duration<double, std::milli>(e - s).count());
      }
    });
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::printf("warm  %-12s clients=%-2d requests=%-6zu p50=%.3f ms  p99=%.3f ms  max=%.3f ms  throughput=%.0f req/s  failures=%d\n",
              function.c_str(), clients, all.size(), percentile(all, 50), percentile(all, 99),
              percentile(all, 100), static_cast<double>(all.size() + clients) / secs, failures.load());
}

void cold(int port, const std::string& function, int n) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  const std::string path = "/2015-03-31/functions/" + function + "/invocations";
  std::vector<double> lat, init;
  for (int i = 0; i < n; ++i) {
    auto s = Clock::now();
    auto r = cli.Post(path.c_str(), {{"X-Amz-Log-Type", "Tail"}}, "{}", "application/json");
    auto e = Clock::now();
    if (!r || r->status != 200) continue;
    lat.push_back(std::chrono::duration<double, std::milli>(e - s).count());
    auto log = coldlab::api::base64_decode(r->get_header_value("X-Amz-Log-Result")).value_or("");
    auto pos = log.find("Init Duration: ");
    if (pos != std::string::npos) init.push_back(std::stod(log.substr(pos + 15)));
    // Let the evicted environment's teardown finish, so starts do not overlap teardowns.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::printf("cold  %-12s starts=%-3zu (cold: %zu)  latency p50=%.2f ms p99=%.2f ms  Init Duration p50=%.2f ms p99=%.2f ms\n",
              function.c_str(), lat.size(), init.size(), percentile(lat, 50), percentile(lat, 99),
              percentile(init, 50), percentile(init, 99));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coldlab-bench: latency, throughput and cold-start time of the emulator's invoke path"};
  std::string coldlab = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "coldlab").string();
  int requests = 5000, clients = 4, cold_starts = 30;
  std::string isolation = "none";
  std::string freeze = "auto";
  std::string cpu_period = "20ms";
  std::vector<std::string> functions = {"echo", "echo-python"};
  app.add_option("--coldlab", coldlab, "coldlab binary")->capture_default_str();
  app.add_option("--requests", requests, "warm requests per client")->capture_default_str();
  app.add_option("--clients", clients, "concurrent clients for the parallel run")->capture_default_str();
  app.add_option("--cold-starts", cold_starts, "cold starts to measure per function")->capture_default_str();
  app.add_option("--functions", functions, "built-in functions to measure")->capture_default_str();
  app.add_option("--isolation", isolation,
                 "passed to coldlab serve; none measures the emulator itself, cgroup adds Lambda's CPU share "
                 "(7% of a CPU at the built-ins' 128 MB)")->capture_default_str();
  app.add_option("--freeze", freeze, "passed to coldlab serve: freeze idle environments (on, off, auto)")
      ->capture_default_str();
  app.add_option("--cpu-period", cpu_period, "passed to coldlab serve: the CFS period of the CPU share")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("coldlab-bench %s\ncommand: %s\nisolation: %s, freeze: %s, cpu period: %s\nmachine: %s\n",
              COLDLAB_VERSION, coldlab::bench::command_line(argc, argv).c_str(), isolation.c_str(), freeze.c_str(),
              cpu_period.c_str(), coldlab::bench::describe_machine().c_str());

  auto dir = std::filesystem::temp_directory_path() / ("coldlab-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::vector<std::string> serve_args = {"--isolation", isolation, "--freeze", freeze, "--cpu-period", cpu_period};
  {
    auto s = coldlab::bench::start_serve(coldlab, (dir / "warm.db").string(), serve_args);
    for (auto& f : functions) {
      warm(s.port, f, 1, requests, R"({"hello": "world"})");
      warm(s.port, f, clients, requests / clients, R"({"hello": "world"})");
    }
    coldlab::bench::stop_serve(s);
  }
  {
    std::vector<std::string> args = serve_args;
    args.insert(args.begin(), {"--idle-timeout", "0"});
    auto s = coldlab::bench::start_serve(coldlab, (dir / "cold.db").string(), args);
    for (auto& f : functions) cold(s.port, f, cold_starts);
    coldlab::bench::stop_serve(s);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
