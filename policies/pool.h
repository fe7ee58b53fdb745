// The pool: what every policy may know about the execution environments of one host.
//
// A Pool is plain data. The Scheduler (scheduler.h) owns one and keeps it true to what
// the host does; policies only read it. Tests build Pools by hand to drive a policy
// through a sequence of events.
//
// Time is an integer count of microseconds on the caller's clock (real or virtual);
// nothing in policies/ reads a clock of its own.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace coldlab::policies {

using TimeUs = int64_t;
constexpr TimeUs kForever = std::numeric_limits<TimeUs>::max();
constexpr TimeUs kSecondUs = 1'000'000;
constexpr TimeUs kMinuteUs = 60 * kSecondUs;

// One execution environment.
struct EnvInfo {
  int64_t id = 0;
  std::string function;
  int memory_mb = 0;
  TimeUs created_us = 0;
  TimeUs last_used_us = 0;   // when its last request ended; created_us before the first
  int64_t invocations = 0;   // requests it has started (all of them, not only finished ones)
  int active = 0;            // requests running in it now; 0 = idle
  bool provisioned = false;  // started by a policy to be kept initialised (not by a request)
  bool idle() const { return active == 0; }
};

// One function as the host serves it.
struct FunctionInfo {
  std::string name;
  int memory_mb = 128;
  std::optional<int> reserved_concurrency;  // PutFunctionConcurrency; 0 throttles everything
};

// Running means of how long a function's requests take, per function and memory size:
// what an invocation costs cold (Init + run) and warm (run). Greedy-Dual's Cost.
class CostStats {
 public:
  struct Costs {
    double cold_ms = 0;  // mean Init + duration of cold requests; 0 if none seen yet
    double warm_ms = 0;  // mean duration of warm requests; 0 if none seen yet
    int64_t cold_count = 0;
    int64_t warm_count = 0;
  };
  void add(const std::string& function, int memory_mb, bool cold, double ms);
  // Zeros when nothing was recorded for that function and memory size.
  Costs get(const std::string& function, int memory_mb) const;

 private:
  std::map<std::pair<std::string, int>, Costs> costs_;
};

class Pool {
 public:
  // Functions.
  void set_function(const FunctionInfo& f) { functions_[f.name] = f; }
  const FunctionInfo* function(const std::string& name) const;
  const std::map<std::string, FunctionInfo>& functions() const { return functions_; }

  // Environments. add() replaces an environment with the same id.
  void add(const EnvInfo& env) { envs_[env.id] = env; }
  void remove(int64_t id) { envs_.erase(id); }
  EnvInfo* find(int64_t id);
  const EnvInfo* find(int64_t id) const;
  const std::map<int64_t, EnvInfo>& environments() const { return envs_; }  // by id
  std::vector<const EnvInfo*> of(const std::string& function) const;       // by id
  std::vector<const EnvInfo*> idle() const;                                 // by id
  std::vector<const EnvInfo*> idle(const std::string& function) const;      // by id

  // Requests running now: in the whole pool, and for one function.
  int concurrency() const;
  int concurrency(const std::string& function) const;

  // Memory: the sum of every environment's memory_mb (busy, idle or initialising), and the
  // host's budget for it (0: no budget).
  int64_t used_mb() const;
  int64_t budget_mb() const { return budget_mb_; }
  void set_budget_mb(int64_t mb) { budget_mb_ = mb; }

  CostStats& costs() { return costs_; }
  const CostStats& costs() const { return costs_; }

 private:
  std::map<std::string, FunctionInfo> functions_;
  std::map<int64_t, EnvInfo> envs_;
  int64_t budget_mb_ = 0;
  CostStats costs_;
};

}  // namespace coldlab::policies
