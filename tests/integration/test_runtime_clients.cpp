// coldlab's runtime clients (native and Python) against a Runtime API that is slow to take
// an answer. Lambda's Runtime API has no client-side timeouts: however long the platform
// takes, a runtime must neither give up on an answer nor go on to /next without it.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "coldlab_server.h"

using coldlab::testing::binary_dir;
using coldlab::testing::source_dir;

namespace {

// A fake Runtime API: serves one event, then sleeps `delay` before it reads the answer.
// A second /next waits until the test ends.
class SlowRuntimeApi {
 public:
  SlowRuntimeApi(std::string event, std::chrono::milliseconds delay, bool close_after_next)
      : event_(std::move(event)), delay_(delay) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(8); };
    server_.Get("/2018-06-01/runtime/invocation/next", [this, close_after_next](const httplib::Request&,
                                                                                httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu_);
      if (nexts_++ > 0) {
        cv_.notify_all();
        cv_.wait(lock, [this] { return stopping_; });
        res.status = 500;
        return;
      }
      res.set_header("Lambda-Runtime-Aws-Request-Id", "req-1");
      res.set_header("Lambda-Runtime-Deadline-Ms", "9999999999999");
      // The runtime's answer then needs a new connection: made after the handler ran.
      if (close_after_next) res.set_header("Connection", "close");
      res.set_content(event_, "application/json");
    });
    server_.Post("/2018-06-01/runtime/invocation/req-1/response",
                 [this](const httplib::Request&, httplib::Response& res, const httplib::ContentReader& reader) {
                   std::this_thread::sleep_for(delay_);
                   std::string body;
                   const bool complete = reader([&](const char* data, size_t n) {
                     body.append(data, n);
                     return true;
                   });
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     answers_.push_back(complete ? body : "(cut short after " + std::to_string(body.size()) + " bytes)");
                   }
                   cv_.notify_all();
                   res.status = 202;
                   res.set_content(R"({"status":"OK"})", "application/json");
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  ~SlowRuntimeApi() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Waits until the runtime has asked /next again after answering (or `within` passes);
  // returns the answers received.
  std::vector<std::string> answers_then_next(std::chrono::seconds within) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, within, [this] { return nexts_ > 1 && !answers_.empty(); });
    return answers_;
  }

 private:
  std::string event_;
  std::chrono::milliseconds delay_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  int nexts_ = 0;
  bool stopping_ = false;
  std::vector<std::string> answers_;
};

// Starts a runtime with the variables Lambda gives one; killed and reaped when it goes.
class Runtime {
 public:
  Runtime(std::vector<std::string> argv, const std::string& api, const std::string& task_root,
          const std::string& handler) {
    std::vector<std::string> env = {"AWS_LAMBDA_RUNTIME_API=" + api, "LAMBDA_TASK_ROOT=" + task_root,
                                    "_HANDLER=" + handler, "PATH=/usr/bin:/bin",
                                    "AWS_LAMBDA_FUNCTION_NAME=f", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
                                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024"};
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(task_root.c_str()) != 0) _exit(126);
      execve(cargv[0], cargv.data(), cenv.data());
      _exit(127);
    }
  }
  ~Runtime() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("the native runtime client waits for a Runtime API that is slow to take its answer") {
  // Larger than loopback's socket buffers, so that sending it blocks until the server
  // reads; read only after 11 s. httplib's default 5 s write timeout applies twice (to the
  // blocked send, then to the poll for room), so a client keeping it gives up at 10 s.
  const std::string event = "\"" + std::string(32 << 20, 'x') + "\"";
  SlowRuntimeApi api(event, std::chrono::seconds(11), false);
  Runtime echo({(binary_dir() / "functions" / "echo" / "bootstrap").string()}, api.address(),
               (binary_dir() / "functions" / "echo").string(), "bootstrap");
  auto answers = api.answers_then_next(std::chrono::seconds(60));
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].size() == event.size());
  CHECK(answers[0] == event);
}

TEST_CASE("the Python runtime client keeps no timeout even when the handler sets a default one") {
  SlowRuntimeApi api(R"({"k": "v"})", std::chrono::milliseconds(1500), true);
  Runtime python({"/usr/bin/python3", "-u", (binary_dir() / "runtimes" / "python" / "bootstrap.py").string()},
                 api.address(), (source_dir() / "tests" / "functions" / "default-timeout").string(), "app.handler");
  auto answers = api.answers_then_next(std::chrono::seconds(30));
  REQUIRE(answers.size() == 1);
  CHECK(answers[0] == R"({"k": "v"})");
}
