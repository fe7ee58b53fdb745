// What coldlab itself adds to a cold start, measured side by side in one run. Each round,
// interleaved so that the VM's drifting CPU speed affects every variant alike:
//   bare   one HTTP round trip (POST, body echoed) to a server in this process, on a kept-alive
//          connection: what any invoke over loopback costs before an emulator does anything;
//   spawn  posix_spawn of the function's own executable (the native `echo` bootstrap) against
//          a minimal Runtime API in this process that hands it one event, takes its answer and
//          refuses the next /next, so it exits; "to answer" stops the clock when the answer
//          arrives, "+ wait" when waitpid returns;
//   cold   one invoke of the same function on `coldlab serve --idle-timeout 0` (every invoke
//          starts an environment), with --isolation none, and with --isolation cgroup at a
//          memory size whose CPU share is the whole host (so the CPU model does not slow the
//          function: only the cgroup work is added);
//   warm   one invoke on `coldlab serve --isolation none` whose environment is already up;
//          after the rounds, also back to back with a bare round trip, pair after pair, as a
//          closed-loop client meets it (in the rounds, every process has slept for a while).
// coldlab's share of a cold start is then cold(none) - bare - spawn-to-answer: everything but
// the round trip and the process's own start and work. A benchmark, not a test: it prints
// figures with the command and the machine, and asserts nothing.
#include <fcntl.h>
#include <httplib.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using coldlab::bench::mean;
using coldlab::bench::percentile;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The smallest Runtime API that a Lambda runtime accepts: one event per arm(), then 403 to
// the runtime's next /next (Lambda's word for "this environment is going away"), so that the
// process exits. Also serves POST /echo for the bare round trip.
class MinimalRuntimeApi {
 public:
  MinimalRuntimeApi() {
    server_.set_tcp_nodelay(true);
    server_.Get("/2018-06-01/runtime/invocation/next", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!armed_) {
        res.status = 403;
        res.set_content(R"({"errorMessage":"no more events","errorType":"Bench.Done"})", "application/json");
        return;
      }
      armed_ = false;
      ++round_;
      res.set_header("Lambda-Runtime-Aws-Request-Id", "bench-" + std::to_string(round_));
      res.set_header("Lambda-Runtime-Deadline-Ms", "9999999999999");
      res.set_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:echo");
      res.set_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000");
      res.set_content(kEvent, "application/json");
    });
    server_.Post(R"(/2018-06-01/runtime/invocation/([^/]+)/response)",
                 [this](const httplib::Request&, httplib::Response& res) {
                   auto now = Clock::now();
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     answered_at_ = now;
                   }
                   cv_.notify_all();
                   res.status = 202;
                   res.set_content(R"({"status":"OK"})", "application/json");
                 });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("cannot listen on 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~MinimalRuntimeApi() {
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  void arm() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = true;
    answered_at_.reset();
  }
  // When the armed event was answered; nullopt if it was not within 10 s.
  std::optional<Clock::time_point> wait_answer() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return answered_at_.has_value(); });
    return answered_at_;
  }

  static constexpr const char* kEvent = R"({"hello": "world"})";

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  int round_ = 0;
  std::optional<Clock::time_point> answered_at_;
};

struct SpawnTimes {
  double to_answer_ms = 0;
  double to_exit_ms = 0;
};

// posix_spawn of `bootstrap` against `api`, output to /dev/null, as coldlab would start it
// minus everything coldlab does around the spawn.
std::optional<SpawnTimes> spawn_once(const std::string& bootstrap, MinimalRuntimeApi& api) {
  std::vector<std::string> env_text = {"AWS_LAMBDA_RUNTIME_API=127.0.0.1:" + std::to_string(api.port()),
                                       "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "TZ=:UTC"};
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe = bootstrap;
  char* argv[] = {exe.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  api.arm();
  pid_t pid = -1;
  auto t0 = Clock::now();
  int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return std::nullopt;
  auto answered = api.wait_answer();
  int status = 0;
  waitpid(pid, &status, 0);
  auto t_exit = Clock::now();
  if (!answered) return std::nullopt;
  return SpawnTimes{ms_between(t0, *answered), ms_between(t0, t_exit)};
}

// One invoke on a kept-alive connection; nullopt unless it was a 200 without a function error.
std::optional<double> invoke_once(httplib::Client& client, const std::string& function) {
  const std::string path = "/2015-03-31/functions/" + function + "/invocations";
  auto t0 = Clock::now();
  auto r = client.Post(path, MinimalRuntimeApi::kEvent, "application/json");
  auto t1 = Clock::now();
  if (!r || r->status != 200 || r->has_header("X-Amz-Function-Error")) return std::nullopt;
  return ms_between(t0, t1);
}

std::unique_ptr<httplib::Client> client_for(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_read_timeout(60, 0);
  return c;
}

struct Series {
  const char* name;
  std::vector<double> ms;
};

void print_series(const Series& s) {
  std::printf("  %-52s n=%-4zu p50=%7.3f  mean=%7.3f  p99=%7.3f ms\n", s.name, s.ms.size(), percentile(s.ms, 50),
              mean(s.ms), percentile(s.ms, 99));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coldlab-bench-coldstart: what coldlab adds to a cold start over spawning the function itself"};
  const auto bin = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  std::string coldlab = (bin / "coldlab").string();
  std::string bootstrap = (bin.parent_path() / "functions" / "echo" / "bootstrap").string();
  int rounds = 200;
  int warm_pairs = 2000;
  int cgroup_memory_mb = 10240;
  bool with_cgroup = true;
  app.add_option("--coldlab", coldlab, "coldlab binary")->capture_default_str();
  app.add_option("--bootstrap", bootstrap, "the built-in echo's executable (spawned bare)")->capture_default_str();
  app.add_option("--rounds", rounds, "rounds; each measures every variant once")->capture_default_str();
  app.add_option("--warm-pairs", warm_pairs, "back-to-back bare and warm round trips after the rounds")
      ->capture_default_str();
  app.add_option("--cgroup-memory", cgroup_memory_mb,
                 "MemorySize of echo under --isolation cgroup: large enough that its CPU share is the host")
      ->capture_default_str();
  app.add_flag("!--no-cgroup", with_cgroup, "skip the --isolation cgroup variant (it needs root)");
  CLI11_PARSE(app, argc, argv);

  std::printf("coldlab-bench-coldstart %s\ncommand: %s\nmachine: %s\n", COLDLAB_VERSION,
              coldlab::bench::command_line(argc, argv).c_str(), coldlab::bench::describe_machine().c_str());

  auto dir = std::filesystem::temp_directory_path() / ("coldlab-bench-coldstart-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  MinimalRuntimeApi api;
  auto cold_none = coldlab::bench::start_serve(coldlab, (dir / "cold-none.db").string(),
                                               {"--isolation", "none", "--idle-timeout", "0"});
  auto warm_none = coldlab::bench::start_serve(coldlab, (dir / "warm-none.db").string(), {"--isolation", "none"});
  std::optional<coldlab::bench::ServeChild> cold_cgroup;
  if (with_cgroup) {
    cold_cgroup = coldlab::bench::start_serve(coldlab, (dir / "cold-cgroup.db").string(),
                                              {"--isolation", "cgroup", "--idle-timeout", "0"});
    httplib::Client mgmt("127.0.0.1", cold_cgroup->port);
    auto r = mgmt.Put("/2015-03-31/functions/echo/configuration",
                      R"({"MemorySize": )" + std::to_string(cgroup_memory_mb) + "}", "application/json");
    if (!r || r->status != 200) {
      std::fprintf(stderr, "cannot set echo's memory to %d MB: %s\n", cgroup_memory_mb,
                   r ? r->body.c_str() : httplib::to_string(r.error()).c_str());
      return 1;
    }
  }
  std::printf("variants: bare, spawn (%s), cold --isolation none, %s, warm --isolation none\n", bootstrap.c_str(),
              with_cgroup ? ("cold --isolation cgroup at " + std::to_string(cgroup_memory_mb) + " MB").c_str()
                          : "no cgroup variant");

  auto bare_client = client_for(api.port());
  auto none_client = client_for(cold_none.port);
  auto warm_client = client_for(warm_none.port);
  auto cgroup_client = cold_cgroup ? client_for(cold_cgroup->port) : nullptr;
  // Connections, the warm environment, page cache: the first round of each is not measured.
  bare_client->Post("/echo", MinimalRuntimeApi::kEvent, "application/json");
  spawn_once(bootstrap, api);
  invoke_once(*none_client, "echo");
  invoke_once(*warm_client, "echo");
  if (cgroup_client) invoke_once(*cgroup_client, "echo");

  Series bare{"bare loopback HTTP round trip", {}}, to_answer{"posix_spawn -> answer at a minimal Runtime API", {}},
      to_exit{"posix_spawn + waitpid (one event, then exits)", {}}, cold{"cold invoke, --isolation none", {}},
      cold_cg{"cold invoke, --isolation cgroup", {}}, warm{"warm invoke, --isolation none", {}};
  Series share{"coldlab's share: cold - bare - spawn-to-answer", {}},
      over_exit{"cold - (posix_spawn + waitpid)", {}}, cgroup_work{"cgroup work: cold(cgroup) - cold(none)", {}},
      warm_over{"warm - bare", {}};
  int failures = 0;
  const auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); };
  for (int i = 0; i < rounds; ++i) {
    auto t0 = Clock::now();
    auto b = bare_client->Post("/echo", MinimalRuntimeApi::kEvent, "application/json");
    double bare_ms = ms_between(t0, Clock::now());
    auto s = spawn_once(bootstrap, api);
    settle();
    auto c = invoke_once(*none_client, "echo");
    settle();  // the environment's teardown runs after the answer; keep it out of the next figure
    std::optional<double> cg;
    if (cgroup_client) {
      cg = invoke_once(*cgroup_client, "echo");
      settle();
    }
    auto w = invoke_once(*warm_client, "echo");
    if (!b || b->status != 200 || !s || !c || !w || (cgroup_client && !cg)) {
      ++failures;
      continue;
    }
    bare.ms.push_back(bare_ms);
    to_answer.ms.push_back(s->to_answer_ms);
    to_exit.ms.push_back(s->to_exit_ms);
    cold.ms.push_back(*c);
    warm.ms.push_back(*w);
    share.ms.push_back(*c - bare_ms - s->to_answer_ms);
    over_exit.ms.push_back(*c - s->to_exit_ms);
    warm_over.ms.push_back(*w - bare_ms);
    if (cg) {
      cold_cg.ms.push_back(*cg);
      cgroup_work.ms.push_back(*cg - *c);
    }
  }
  Series bare_b2b{"bare loopback HTTP round trip, back to back", {}},
      warm_b2b{"warm invoke, --isolation none, back to back", {}}, warm_b2b_over{"warm - bare, back to back", {}};
  for (int i = 0; i < warm_pairs; ++i) {
    auto t0 = Clock::now();
    auto b = bare_client->Post("/echo", MinimalRuntimeApi::kEvent, "application/json");
    double bare_ms = ms_between(t0, Clock::now());
    auto w = invoke_once(*warm_client, "echo");
    if (!b || b->status != 200 || !w) {
      ++failures;
      continue;
    }
    bare_b2b.ms.push_back(bare_ms);
    warm_b2b.ms.push_back(*w);
    warm_b2b_over.ms.push_back(*w - bare_ms);
  }
  coldlab::bench::stop_serve(cold_none);
  coldlab::bench::stop_serve(warm_none);
  if (cold_cgroup) coldlab::bench::stop_serve(*cold_cgroup);
  std::filesystem::remove_all(dir);

  std::printf("\nmeasured (%d rounds and %d warm pairs, %d with a failure left out):\n", rounds, warm_pairs, failures);
  for (const auto* s : {&bare, &to_answer, &to_exit, &cold, &cold_cg, &warm, &bare_b2b, &warm_b2b})
    if (!s->ms.empty()) print_series(*s);
  std::printf("per-round differences:\n");
  for (const auto* s : {&share, &over_exit, &cgroup_work, &warm_over, &warm_b2b_over})
    if (!s->ms.empty()) print_series(*s);
  return failures == rounds + warm_pairs ? 1 : 0;
}
