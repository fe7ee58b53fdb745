// Sandboxes made before they are needed, as Lambda keeps its microVMs: a spare cgroup (under
// isolation) with a standby process already in it (standby_process.h), and a Runtime API
// server already listening on the loopback port that process will be told. A cold start
// takes one, gives the group its environment's name and limits, points the server at its
// environment, and execs the runtime in it, so that what coldlab adds to a cold start is
// small and does not depend on the kernel's cgroup migration (a grace period of 5-25 ms
// here), on forking the emulator, or on starting a server's threads.
//
// A background thread keeps `spares` sandboxes ready, making new ones once takes have paused
// for kRefillQuiet (at most kRefillMaxDelay after one is missing), so that it does not take
// CPU from the cold start that just took one. take() never waits for it: with none ready it
// makes one on the caller's thread. Either way the function's Init starts at the
// exec, so Init Duration does not depend on how many spares were ready; only the client's
// cold-start latency does.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "core/process.h"
#include "core/runtime_endpoint.h"
#include "core/standby_process.h"
#include "isolation/cgroups.h"

namespace coldlab::core {

// A Runtime API endpoint whose environment is not known yet: it forwards to the one set
// by claim(), and refuses (500 Sandbox.Failure) before.
class ForwardingEndpoint : public RuntimeEndpoint {
 public:
  void claim(RuntimeEndpoint* target) { target_.store(target); }
  Event next() override;
  Reply respond(const std::string& request_id, std::string body, size_t body_size) override;
  Reply error(const std::string& request_id, std::string body, const std::string& error_type_header) override;
  Reply init_error(std::string body, const std::string& error_type_header) override;

 private:
  std::atomic<RuntimeEndpoint*> target_{nullptr};
};

// Destroyed in reverse order: the server stops before its endpoint goes, the process is
// killed before its group is removed.
struct Sandbox {
  std::unique_ptr<isolation::Group> group;  // a spare group to claim; null without isolation
  std::unique_ptr<ForwardingEndpoint> endpoint;
  std::unique_ptr<RuntimeServer> server;    // serving `endpoint`; null without a server factory
  std::unique_ptr<StandbyProcess> process;  // waiting in `group`
};

class SandboxPool {
 public:
  static constexpr std::chrono::milliseconds kRefillQuiet{20};
  static constexpr std::chrono::milliseconds kRefillMaxDelay{100};

  struct Options {
    size_t spares = 2;                 // kept ready; 0: each made when taken
    std::filesystem::path stub;        // the coldlab-exec-stub executable
    ProcessSupervisor* supervisor = nullptr;
    isolation::Cgroups* cgroups = nullptr;  // null: sandboxes without a cgroup
    RuntimeServerFactory server_factory;     // empty: sandboxes without a server
  };
  explicit SandboxPool(Options options);
  // Stops refilling; the spares' processes are killed and their groups removed.
  ~SandboxPool();
  // The same, ahead of destruction (an emulator stopping): take() still works, making
  // each sandbox on the spot.
  void drain();
  SandboxPool(const SandboxPool&) = delete;
  SandboxPool& operator=(const SandboxPool&) = delete;

  // A ready sandbox whose process is alive, or one made now. Throws std::runtime_error
  // when one cannot be made (no stub, no cgroup, fork failed).
  Sandbox take();
  // A standby process in `group` (null: none), made now: for a process started in a group
  // that already has its environment (an Init retry). Throws std::runtime_error.
  std::unique_ptr<StandbyProcess> standby_in(const isolation::Group* group);

  size_t ready() const;
  // Sandboxes taken that were ready / that had to be made on the spot.
  uint64_t taken_ready() const;
  uint64_t taken_made() const;

 private:
  Sandbox make();
  void refill();

  using Clock = std::chrono::steady_clock;

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Sandbox> ready_;
  bool stopping_ = false;
  int64_t next_seq_ = 1;
  uint64_t taken_ready_ = 0, taken_made_ = 0;
  Clock::time_point last_take_{};
  std::thread thread_;
};

}  // namespace coldlab::core
