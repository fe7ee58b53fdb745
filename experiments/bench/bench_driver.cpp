// Benchmark of the load driver's overhead: how many requests per second `coldlab run`'s
// driver can issue against the native `echo` function before it falls behind its own
// schedule. Starts an emulator in-process (real clock, the built-in functions), then
//  1. open loop: one request every 1/R s for a few seconds, for rising rates R; prints the
//     rate achieved and the driver's lag (the delay past each request's `at` time, as a share
//     of the schedule's span; `coldlab run` warns above 10 %);
//  2. closed loop: N users with no think-time for a few seconds; prints the throughput and
//     the closed-loop lag (time between an answer and the user's next send, as a share of
//     users' busy time).
// It prints the figures with the command line and the machine. A benchmark: it asserts nothing.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "driver/http_sender.h"
#include "driver/load_driver.h"
#include "driver/network_model.h"
#include "emulator.h"
#include "host_facts.h"
#include "scenario/scenario.h"

namespace {

using namespace coldlab;

struct Result {
  int64_t answered = 0, errors = 0;
  double seconds = 0;
  driver::Lag lag;
};

Result drive(Emulator& emulator, const scenario::ScenarioFile& file) {
  scenario::NetworkModel none;
  driver::NetworkDelay network(none, 1);
  driver::HttpSender sender(emulator.endpoint(), network);
  int64_t first = 0, last = 0, answered = 0, errors = 0;
  std::mutex mu;
  driver::LoadDriver d({&file, "echo", emulator.run_id()}, sender, emulator.clock(), emulator.timers(),
                       [&](const log::RequestRecord& r) {
                         std::lock_guard<std::mutex> lock(mu);
                         if (first == 0 || r.sent_at_us < first) first = r.sent_at_us;
                         if (r.answered_at_us && *r.answered_at_us > last) last = *r.answered_at_us;
                         ++answered;
                         if (r.http_status != 200) ++errors;
                       });
  d.run();
  sender.close_all();
  Result res;
  res.answered = answered;
  res.errors = errors;
  res.seconds = static_cast<double>(last - first) / 1e6;
  res.lag = d.lag();
  return res;
}

scenario::ScenarioFile base() {
  scenario::ScenarioFile file;
  scenario::Scenario s;
  s.name = "echo";
  scenario::Request request;
  request.label = "echo";
  request.payload = "{\"hello\": \"world\"}";
  s.requests.push_back(request);
  file.scenarios["echo"] = s;
  return file;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Load driver overhead: requests/s issued against echo before the driver falls behind"};
  double seconds = 3;
  std::vector<int> rates = {100, 200, 500, 1000, 2000};
  std::vector<int> users = {1, 2, 4, 16, 64};
  std::string isolation = "cgroup";
  app.add_option("--seconds", seconds, "Length of each measurement")->capture_default_str();
  app.add_option("--rates", rates, "Open-loop rates (requests/s)")->delimiter(',');
  app.add_option("--users", users, "Closed-loop user counts")->delimiter(',');
  app.add_option("--isolation", isolation, "cgroup or none")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  const auto facts = host_facts();
  std::printf("coldlab-bench-driver %s\ncommand: %s\nmachine: %s, %s cpus (%s), %s MB\n\n", COLDLAB_VERSION,
              command_line.c_str(), facts.value("hostname", "?").c_str(), facts["cpus"].dump().c_str(),
              facts.value("cpu_model", "?").c_str(), facts["memory_mb"].dump().c_str());

  const std::string dir = "/tmp/coldlab-bench-driver-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  EmulatorOptions o;
  o.port = 0;
  o.quiet = true;
  o.db = dir + "/bench.db";
  o.log_dir = dir + "/logs";
  o.log_cap_bytes = 1 << 20;
  o.isolation = isolation;
  o.template_file = (executable_dir() / ".." / "functions" / "template.yaml").string();

  std::printf("open loop (one new connection per request, as the driver's open-loop stages do)\n");
  std::printf("%10s %10s %12s %10s %12s %8s\n", "rate/s", "requests", "achieved/s", "lag %", "max lag ms", "errors");
  for (int rate : rates) {
    auto emulator = Emulator::start(o, command_line);
    auto file = base();
    scenario::Stage st;
    st.scenario = "echo";
    const int n = static_cast<int>(rate * seconds);
    for (int i = 0; i < n; ++i) st.at_us.push_back(static_cast<int64_t>(i) * 1000000 / rate);
    file.execution = {st};
    const Result r = drive(*emulator, file);
    emulator->stop(log::RunEnd{});
    std::printf("%10d %10lld %12.0f %10.1f %12.1f %8lld\n", rate, static_cast<long long>(r.answered),
                static_cast<double>(r.answered) / r.seconds, r.lag.open_fraction * 100,
                static_cast<double>(r.lag.max_lag_us) / 1000, static_cast<long long>(r.errors));
    std::fflush(stdout);
  }

  std::printf("\nclosed loop (one keep-alive connection per user, no think-time)\n");
  std::printf("%10s %10s %12s %10s %12s %8s\n", "users", "requests", "req/s", "lag %", "max lag ms", "errors");
  for (int u : users) {
    auto emulator = Emulator::start(o, command_line);
    auto file = base();
    scenario::Stage st;
    st.scenario = "echo";
    st.concurrency = u;
    st.hold_for_us = static_cast<int64_t>(seconds * 1e6);
    file.execution = {st};
    const Result r = drive(*emulator, file);
    emulator->stop(log::RunEnd{});
    std::printf("%10d %10lld %12.0f %10.1f %12.1f %8lld\n", u, static_cast<long long>(r.answered),
                static_cast<double>(r.answered) / r.seconds, r.lag.closed_fraction * 100,
                static_cast<double>(r.lag.max_lag_us) / 1000, static_cast<long long>(r.errors));
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
