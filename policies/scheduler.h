// The Scheduler: one host's pool of execution environments, driven by a keep-alive policy
// and a scale-out policy. It is the code the live emulator and the offline simulator
// share: both tell it what happens (a request arrives, a request ends, an environment
// dies) and carry out what it answers (run here, start one, queue, throttle, evict,
// pre-warm, ping). It decides nothing itself beyond applying the memory budget and
// serving queues first-in first-out; the policies decide.
//
// Time is passed in (TimeUs). Whatever becomes due later (an idle environment's
// keep-until, a pre-warm, a policy tick, a queue deadline) happens in take_work(now),
// which the host calls at next_deadline() and after every other call.
//
// Invariants, checked by tests/unit/test_scheduler.cpp over random sequences:
//   - an environment with a request in it is never evicted;
//   - after a start or pre-warm, the pool's memory is within the budget (when one is set);
//   - a request is throttled only when a scale-out limit, the queue's deadline, or the
//     budget (every megabyte held by busy environments) says so.
//
// Thread-safety: none; the host serialises calls.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "keep_alive/keep_alive_policy.h"
#include "pool.h"
#include "scale_out/scale_out_policy.h"

namespace coldlab::policies {

class Scheduler {
 public:
  struct Options {
    int64_t memory_budget_mb = 0;  // 0: no budget
  };
  // Gives the id of each new environment (the host's numbering, e.g. the log's).
  using IdSource = std::function<int64_t()>;

  Scheduler(Options options, std::unique_ptr<KeepAlivePolicy> keep_alive,
            std::unique_ptr<ScaleOutPolicy> scale_out, IdSource next_id);

  const Pool& pool() const { return pool_; }
  const KeepAlivePolicy& keep_alive() const { return *keep_alive_; }
  const ScaleOutPolicy& scale_out() const { return *scale_out_; }

  // Adds a function or changes its memory size or reserved concurrency. Environments
  // already running keep the memory they were started with.
  void set_function(const FunctionInfo& f);

  // Where a request runs. A cold placement is an environment the host must create now
  // with that id and the function's memory; a warm one already exists (it may still be
  // in Init if it was pre-warmed) and may already be running other requests when the
  // scale-out policy shares environments.
  struct Placement {
    int64_t environment_id = 0;
    bool cold = false;
  };
  struct Admission {
    enum class Kind { kRun, kQueued, kThrottled };
    Kind kind = Kind::kThrottled;
    Placement placement;   // kRun
    int64_t ticket = 0;    // kQueued: take_work() later places or expires this ticket
    std::string reason;    // kThrottled: Lambda's Reason
    std::string message;   // kThrottled: which limit
  };
  // `function` must have been set.
  Admission request(const std::string& function, TimeUs now);
  // The same for a handle from pool().handle(): what a host that places millions of
  // requests uses, to spare a lookup by name each time.
  Admission request(Pool::FunctionHandle function, TimeUs now);

  // The request that ran in `environment_id` ended. `reusable` false: the environment is
  // gone (crash, timeout, out of memory) and leaves the pool. `cost_ms`, when >= 0, feeds
  // the running cost statistics (Init + duration if cold, else duration).
  void finished(int64_t environment_id, bool reusable, bool cold, double cost_ms, TimeUs now);

  // An environment left on its own (died idle, failed a pre-warm Init, retired by a
  // configuration change). Idempotent; unknown ids are ignored.
  void removed(int64_t environment_id, TimeUs now);

  struct Work {
    struct Evict {
      int64_t environment_id;
      std::string reason;  // "idle" (keep-alive) or "memory" (budget victim)
    };
    struct Start {
      int64_t environment_id;
      std::string function;
      int memory_mb;
      bool provisioned;
    };
    struct Dispatch {
      int64_t ticket;
      Placement placement;
    };
    struct Expire {
      int64_t ticket;
      std::string reason;
      std::string message;
    };
    std::vector<Evict> evict;        // stop these (already gone from the pool)
    std::vector<Start> start;        // pre-warm these: Init only (already in the pool)
    std::vector<std::string> ping;   // send a keep-warm request to these functions
    std::vector<Dispatch> dispatch;  // queued requests now placed
    std::vector<Expire> expire;      // queued requests throttled
    bool empty() const {
      return evict.empty() && start.empty() && ping.empty() && dispatch.empty() && expire.empty();
    }
  };
  // Runs everything due at `now` and returns all work produced since the last call.
  Work take_work(TimeUs now);

  // When take_work() next has something to do (kForever: nothing scheduled).
  TimeUs next_deadline() const;

  int queued(const std::string& function) const;

 private:
  struct Ticket {
    int64_t id;
    TimeUs deadline;
  };

  // Places a request on an environment the scale-out policy chose; kThrottled if not.
  Admission place(const std::string& function, const Route& route, TimeUs now);
  // Frees `need_mb` of the budget with the keep-alive policy's victims, all or nothing.
  bool make_room(int64_t need_mb, TimeUs now);
  void evict(int64_t id, const std::string& reason, TimeUs now);
  void becomes_idle(const EnvInfo& env, TimeUs now);
  void serve_queue(const std::string& function, TimeUs now);
  void start_prewarm(const Prewarm& p, TimeUs now);
  void set_keep_until(int64_t id, TimeUs t);
  void clear_keep_until(int64_t id);

  Options options_;
  std::unique_ptr<KeepAlivePolicy> keep_alive_;
  std::unique_ptr<ScaleOutPolicy> scale_out_;
  IdSource next_id_;
  Pool pool_;
  // Idle environments' deadlines, by environment (EnvInfo::keep_until_us in the pool, the
  // truth) and in time order (deadlines_, a min-heap of (time, id)). take_work() and
  // next_deadline() run on every event, so they must not scan every environment; and a
  // deadline is set and cleared on almost every request, so clearing only forgets it in
  // the pool: its heap entry goes stale and is dropped when it reaches the top. The top is
  // never stale.
  using Deadline = std::pair<TimeUs, int64_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<Deadline>> deadlines_;
  size_t live_deadlines_ = 0;
  void drop_stale_deadlines();
  std::multimap<TimeUs, Prewarm> prewarms_;
  std::map<std::string, std::deque<Ticket>> queues_;
  int64_t next_ticket_ = 1;
  Work work_;
};

}  // namespace coldlab::policies
