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
#include <set>
#include <string>
#include <unordered_map>
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
  // While idle: when the keep-alive policy will evict it (kForever: not for idleness).
  TimeUs keep_until_us = kForever;
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
  friend class Pool;
  using BySize = std::vector<std::pair<int, Costs>>;  // a function has one size or a few
  BySize* of(const std::string& function) const;
  BySize& slot(const std::string& function);  // created if need be; never moves
  static void add(BySize& sizes, int memory_mb, bool cold, double ms);
  mutable std::unordered_map<std::string, BySize> costs_;
  mutable std::pair<const std::string, BySize>* last_ = nullptr;  // see Pool::per_function
};

// Every query the Scheduler and the policies make on each request is O(1) or O(log n)
// (indexes kept by the mutators below), so a simulator can push a million requests a
// second through the same code the emulator runs. Listing queries (of, idle) cost what
// they return.
class Pool {
  struct PerFunction;

 public:
  Pool() = default;
  // The indexes point into the pool's own nodes, which a move keeps and a copy would not.
  Pool(Pool&&) = default;
  Pool& operator=(Pool&&) = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Functions.
  void set_function(const FunctionInfo& f);
  const FunctionInfo* function(const std::string& name) const;
  // A function's entry, for a host that names the same functions over and over: a name
  // costs a hash on every lookup, a handle none. Valid as long as the pool; nullptr for a
  // function never set. function(handle) also makes the next lookups of that name cheap.
  using FunctionHandle = const std::pair<const std::string, PerFunction>*;
  FunctionHandle handle(const std::string& name) const;
  static const std::string& name_of(FunctionHandle h);
  const FunctionInfo* function(FunctionHandle h) const;
  const std::map<std::string, FunctionInfo>& functions() const { return functions_; }
  // Functions with a reserved concurrency, by name.
  const std::map<std::string, int>& reserved() const { return reserved_; }

  // Environments. add() replaces an environment with the same id. Environments change
  // only through these, which keep the indexes true; find() is read-only.
  void add(const EnvInfo& env);
  void remove(int64_t id);
  // A request starts in environment `id`: active + 1, invocations + 1.
  void start_request(int64_t id);
  // A request in `id` ended at `now`: active - 1 (not below 0), last_used_us = now.
  void end_request(int64_t id, TimeUs now);
  // The Scheduler's record of when it will evict idle `id`.
  void set_keep_until(int64_t id, TimeUs t);
  // costs().add() for the function and memory of environment `id`, without looking the
  // function up by name: the Scheduler does this on every request.
  void add_cost(int64_t id, bool cold, double ms);

  const EnvInfo* find(int64_t id) const;
  const std::map<int64_t, EnvInfo>& environments() const { return envs_; }  // by id
  std::vector<const EnvInfo*> of(const std::string& function) const;       // by id
  std::vector<const EnvInfo*> idle() const;                                 // by id
  std::vector<const EnvInfo*> idle(const std::string& function) const;      // by id
  size_t count(const std::string& function) const;                          // environments

  // The idle environment of `function` a router picks: provisioned ones first, then the
  // most recently used (ties: the higher id) or the least recently used (ties: the lower
  // id). nullptr when none is idle.
  const EnvInfo* most_recently_used_idle(const std::string& function) const;
  const EnvInfo* least_recently_used_idle(const std::string& function) const;
  // Every idle environment, least recently used first (ties: lower id first).
  template <typename Visit>  // bool visit(const EnvInfo&): false stops
  void for_each_idle_lru(Visit visit) const {
    for (const Node* n = idle_lru_.head; n; n = n->in_pool.next)
      if (!visit(n->env)) return;
  }

  // Requests running now: in the whole pool, and for one function.
  int concurrency() const { return active_; }
  int concurrency(const std::string& function) const;
  // Requests started by `function`'s environments now in the pool (Greedy-Dual's Freq).
  int64_t invocations(const std::string& function) const;

  // Memory: the sum of every environment's memory_mb (busy, idle or initialising), and the
  // host's budget for it (0: no budget).
  int64_t used_mb() const { return used_mb_; }
  int64_t budget_mb() const { return budget_mb_; }
  void set_budget_mb(int64_t mb) { budget_mb_ = mb; }

  CostStats& costs() { return costs_; }
  const CostStats& costs() const { return costs_; }

 private:
  struct Node;
  // Idle environments by (last_used_us, id), in intrusive lists: environments go idle at the
  // latest time yet, almost always, so an insert walked from the tail is O(1) per request
  // where a tree would rebalance, and linking a node allocates nothing.
  struct Link {
    Node* prev = nullptr;
    Node* next = nullptr;
  };
  struct ByUse {
    Node* head = nullptr;
    Node* tail = nullptr;
    bool empty() const { return head == nullptr; }
  };
  struct PerFunction {
    const FunctionInfo* info = nullptr;  // null until set_function()
    CostStats::BySize* costs = nullptr;  // in costs_, once a cost was added through a node
    std::set<int64_t> ids;
    int active = 0;
    int64_t invocations = 0;
    ByUse idle_provisioned, idle_on_demand;
  };
  struct Node {
    EnvInfo& env;  // in envs_
    PerFunction* function = nullptr;
    Link in_function, in_pool;  // linked while idle
  };
  static void link(ByUse& list, Node& n, Link Node::*through);
  static void unlink(ByUse& list, Node& n, Link Node::*through);
  void index(Node& n);
  void unindex(Node& n);
  void insert_idle(Node& n);
  void erase_idle(Node& n);
  const PerFunction* per_function(const std::string& name) const;
  Node* node(int64_t id) const;

  std::map<std::string, FunctionInfo> functions_;
  std::map<std::string, int> reserved_;
  std::map<int64_t, EnvInfo> envs_;
  mutable std::unordered_map<int64_t, Node> nodes_;  // by id
  // PerFunction entries live as long as the pool: nodes point to them.
  std::unordered_map<std::string, PerFunction> by_function_;
  // The last entry each lookup found. One request makes several queries in a row about
  // one function and one environment; a comparison is cheaper than hashing again.
  mutable FunctionHandle last_function_ = nullptr;
  mutable Node* last_node_ = nullptr;
  ByUse idle_lru_;
  int active_ = 0;
  int64_t used_mb_ = 0;
  int64_t budget_mb_ = 0;
  CostStats costs_;
};

}  // namespace coldlab::policies
