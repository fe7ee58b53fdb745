// What isolation adds to a cold start: for N rounds, (a) spawn /bin/true and reap it, bare;
// (b) the same inside a fresh cgroup: create + configure (memory 1769 MB, CPU quota of one
// CPU) + join before exec + kill_all + delete. Prints both, the difference, the command and
// the machine. A benchmark, not a test: it asserts nothing. Needs root for (b).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "core/process.h"
#include "isolation/cgroups.h"

namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5))];
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

// Spawns /bin/true (joined to `fds` before exec) and waits until it has been reaped.
void run_true(coldlab::core::ProcessSupervisor& sup, const std::vector<int>& fds) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  coldlab::core::SpawnSpec spec;
  spec.executable = "/bin/true";
  spec.working_dir = "/";
  spec.join_cgroup_fds = fds;
  auto p = sup.spawn(spec, [](std::string_view, bool) {}, [&](coldlab::core::ExitStatus) {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
}

void report(const char* what, const std::vector<double>& ms) {
  std::printf("%-44s n=%zu  mean=%.3f ms  p50=%.3f ms  p99=%.3f ms\n", what, ms.size(), mean(ms), percentile(ms, 50),
              percentile(ms, 99));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coldlab-bench-isolation: the cold-start overhead of per-environment cgroups"};
  int rounds = 200;
  std::string root = "/sys/fs/cgroup";
  app.add_option("--rounds", rounds, "spawns per variant")->capture_default_str();
  app.add_option("--cgroup-root", root, "cgroupfs mount")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
  std::string model;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
  }
  std::printf("coldlab-bench-isolation %s\ncommand: %s\nmachine: %u cpus (%s)\n", COLDLAB_VERSION, cmd.c_str(),
              std::thread::hardware_concurrency(), model.c_str());

  std::string why;
  auto cgroups = coldlab::isolation::Cgroups::open(root, "coldlab-bench", &why);
  if (!cgroups) {
    std::fprintf(stderr, "cgroups unavailable: %s\n", why.c_str());
    return 1;
  }
  std::printf("isolation: %s\n", cgroups->describe().c_str());
  coldlab::core::ProcessSupervisor sup;
  const auto limits = coldlab::isolation::lambda_limits(1769, std::thread::hardware_concurrency());

  std::vector<double> bare, isolated, group_only;
  for (int i = 0; i < rounds; ++i) {
    // Interleaved, so that the VM's drifting CPU speed affects both variants alike.
    auto t0 = Clock::now();
    run_true(sup, {});
    auto t1 = Clock::now();
    {
      auto group = cgroups->create(i, limits);
      run_true(sup, group->join_fds());
      group->kill_all();
    }
    auto t2 = Clock::now();
    { auto group = cgroups->create(rounds + i, limits); }
    auto t3 = Clock::now();
    bare.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    isolated.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    group_only.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
  }
  report("bare spawn + reap of /bin/true", bare);
  report("in a new cgroup (create, join, kill, delete)", isolated);
  report("cgroup create + configure + delete alone", group_only);
  std::printf("overhead of isolation per cold start: p50 %.3f ms, mean %.3f ms\n",
              percentile(isolated, 50) - percentile(bare, 50), mean(isolated) - mean(bare));
  return 0;
}
