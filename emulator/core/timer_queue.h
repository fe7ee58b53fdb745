// One thread that runs callbacks when the Clock reaches their deadlines. Every timeout
// in the emulator is a timer here, so a virtual clock only has to drive this one queue:
// when the next timer is not yet due, the queue asks the clock to jump to it
// (Clock::try_jump_to), which a virtual clock does when nothing is active. Timers therefore
// fire in deadline order, each at its own virtual instant, and a callback that starts
// activity (takes a Hold) before it returns keeps the clock from skipping past what follows.
//
// Callbacks run on the timer thread, one at a time, and must be short: anything slow
// (killing a process, stopping a server) is handed to another thread.
// Thread-safety: schedule() and cancel() may be called from any thread, including from
// inside a callback.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "core/clock.h"

namespace coldlab::core {

class TimerQueue {
 public:
  using TimerId = uint64_t;

  explicit TimerQueue(Clock& clock);
  // Stops the thread; timers not yet due are dropped without running.
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `fn` once the clock reaches `deadline_us`. Returns an id for cancel().
  TimerId schedule(int64_t deadline_us, std::function<void()> fn);

  // Returns true if the timer was still pending (and now never runs); false if it has
  // run, is running, or never existed.
  bool cancel(TimerId id);

  Clock& clock() { return clock_; }

  // The earliest pending deadline, or INT64_MAX if there is none.
  int64_t next_deadline() const;

 private:
  void loop();

  Clock& clock_;
  uint64_t clock_subscription_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Ordered by (deadline, id) so timers with equal deadlines run in schedule order.
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> timers_;
  std::map<TimerId, int64_t> deadline_of_;
  TimerId next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace coldlab::core
