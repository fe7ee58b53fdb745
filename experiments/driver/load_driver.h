// The load driver: applies a scenario's stages (scenario::Stage) to an endpoint through a
// Sender, on a Clock and its TimerQueue, and records every request it sends.
//
// Closed-loop users, as in Taurus/JMeter: each user has one request outstanding at most and
// sends the next when the previous has answered (plus think-time); users join on the
// stage's ramp-up schedule and carry over from stage to stage. Open-loop stages (`at:`)
// send at their times whether earlier requests have answered or not.
//
// Time: every wait is a timer on the TimerQueue, and from the moment a request is due until
// its answer is recorded the driver holds the clock (Clock::hold). On a virtual clock whose
// limit is lifted, idle gaps (think-time, schedules, ramp-up steps) therefore cost no real
// time, while requests take their real durations.
//
// Thread-safety: run() once, from one thread; interrupt() and progress() from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/timer_queue.h"
#include "log/invocation_log.h"
#include "scenario/scenario.h"

namespace coldlab::driver {

// What one request achieved, as its client saw it.
struct Answer {
  std::optional<int> http_status;  // none: transport error
  std::string request_id;
  std::string function_error;      // X-Amz-Function-Error
  std::string error;               // transport error, or x-amzn-ErrorType of a refusal
  std::optional<bool> cold;        // from the REPORT line of the log tail, if there is one
  std::optional<double> init_ms;
  int64_t response_bytes = 0;
  int64_t network_delay_us = 0;    // included in the time send() took
  bool ok() const { return http_status == 200 && function_error.empty() && error.empty(); }
};

// Sends one Invoke and blocks until its answer. `user` (0 for open-loop requests) lets an
// implementation keep one connection per user. Must be safe to call from many threads.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual Answer send(int user, const std::string& function, const std::string& payload) = 0;
};

struct Progress {
  int stage = 0;            // 0-based
  int stages = 0;
  int users = 0;            // closed-loop users active
  int64_t sent = 0;
  int64_t answered = 0;
  int64_t errors = 0;
  int64_t in_flight = 0;
};

// How far behind its own schedule the driver issued requests (the machine's saturation,
// not the function's slowness): closed loop, the time between an answer (plus think-time)
// and the next send, as a share of users' busy time; open loop, the total delay past the
// `at` times as a share of the schedule's span.
struct Lag {
  double closed_fraction = 0;
  double open_fraction = 0;
  int64_t max_lag_us = 0;
  bool behind() const { return closed_fraction > 0.10 || open_fraction > 0.10; }
  std::string describe() const;
};

class LoadDriver {
 public:
  struct Config {
    const scenario::ScenarioFile* file = nullptr;
    std::string function;    // for requests without their own `function` (the combination's)
    int64_t run_id = 0;      // for the records
  };
  using Recorder = std::function<void(const log::RequestRecord&)>;

  LoadDriver(Config config, Sender& sender, core::Clock& clock, core::TimerQueue& timers, Recorder record);
  ~LoadDriver();
  LoadDriver(const LoadDriver&) = delete;
  LoadDriver& operator=(const LoadDriver&) = delete;

  // Runs every stage from the clock's now; returns once the last request sent has been
  // answered and recorded. Returns false if interrupted. The clock stays held from then
  // until the driver is destroyed: stop the emulator first, so that nothing after the
  // run's last answer (an eviction) happens in skipped time.
  bool run();
  // No new requests; run() returns once those in flight have answered.
  void interrupt();
  Progress progress() const;
  Lag lag() const;

 private:
  struct User {
    int id = 0;
    std::thread thread;
    bool leave = false;
    int64_t next_at = 0;                  // when its next request is due
    core::TimerQueue::TimerId timer = 0;  // pending wake-up at next_at
    bool woken = false;
    core::Clock::Hold handed;             // the hold the wake-up took for it
    int64_t budget = -1;                  // scenario loops left in this stage; -1: no limit
    int64_t iteration = 0;
    size_t next_request = 0;
    bool joined = false;                  // has sent (or is sending) its first request
    core::Clock::Hold start_hold;         // from its creation until its first timer is set
  };

  void user_loop(User& user);
  // Waits, holding mu_, until `deadline_us` on the clock or until `done()`; false if interrupted.
  bool wait_until(std::unique_lock<std::mutex>& lock, int64_t deadline_us, const std::function<bool()>& done);
  // Both return the stage's end on the clock.
  int64_t run_closed_stage(std::unique_lock<std::mutex>& lock, const scenario::Stage& stage, int64_t start_us);
  int64_t run_open_stage(std::unique_lock<std::mutex>& lock, const scenario::Stage& stage, int64_t start_us);
  // Returns when the answer arrived (the clock's time).
  int64_t send_and_record(const scenario::Request& request, int user, int64_t iteration, int stage,
                          bool open_loop, int64_t scheduled_us, int users);
  int active_users_locked() const;
  void leave_locked(User& user);
  void join_left_users(std::unique_lock<std::mutex>& lock);
  const std::string& function_of(const scenario::Request& request) const;

  const Config config_;
  Sender& sender_;
  core::Clock& clock_;
  core::TimerQueue& timers_;
  Recorder record_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool interrupted_ = false;
  int stage_index_ = 0;
  const scenario::Scenario* scenario_ = nullptr;  // of the current closed-loop stage
  int64_t think_us_ = 0;
  std::list<User> users_;  // list: users stay put while their threads run
  int next_user_id_ = 1;
  // Whoever ends a stage (its end timer, the last open-loop answer, the last user to use up
  // its iterations) holds the clock until this thread has set up what follows, so a virtual
  // clock cannot skip ahead in between. Released when the run thread waits again.
  core::Clock::Hold stage_hold_;
  std::vector<std::thread> open_senders_;
  std::vector<core::TimerQueue::TimerId> open_timers_;
  size_t open_pending_ = 0;  // open-loop scenario loops not yet answered
  int64_t in_flight_ = 0;
  int64_t sent_ = 0, answered_ = 0, errors_ = 0;
  // Lag bookkeeping.
  int64_t closed_lag_us_ = 0, closed_busy_us_ = 0, open_lag_us_ = 0, open_span_us_ = 0, max_lag_us_ = 0;
};

}  // namespace coldlab::driver
