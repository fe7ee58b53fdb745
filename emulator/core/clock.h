// The one source of time for every timer in coldlab: idle eviction, function timeouts,
// init limits, runtime deadlines and the log's timestamps all read it. Everything that
// waits for time to pass waits through a TimerQueue or Clock::wait_until, never through
// the OS directly, so that a virtual clock can skip idle time.
//
// Two clocks:
// - RealClock: wall-clock time.
// - VirtualClock: real time plus the idle gaps it skipped. While anything is active (any
//   Hold is alive: an invocation in flight or queued, an Init, a process being stopped, a
//   load driver's request) it follows real time; when nothing is, the TimerQueue may make
//   it jump straight to its next timer, up to a limit (see VirtualClock).
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace coldlab::core {

class Clock {
 public:
  // Marks activity: while a Hold is alive, the clock may not skip time. Move-only; the
  // activity ends when it is destroyed or reset(). Empty Holds (of a RealClock) cost nothing.
  class Hold {
   public:
    Hold() = default;
    Hold(Hold&& other) noexcept : clock_(std::exchange(other.clock_, nullptr)) {}
    Hold& operator=(Hold&& other) noexcept {
      if (this != &other) {
        reset();
        clock_ = std::exchange(other.clock_, nullptr);
      }
      return *this;
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { reset(); }
    void reset() {
      if (clock_) std::exchange(clock_, nullptr)->release_hold();
    }
    // True if it holds a clock that counts holds (a VirtualClock's).
    explicit operator bool() const { return clock_ != nullptr; }

   private:
    friend class Clock;
    explicit Hold(Clock* clock) : clock_(clock) {}
    Clock* clock_ = nullptr;
  };

  virtual ~Clock() = default;

  // Microseconds since the Unix epoch. Never goes backwards.
  virtual int64_t now_us() const = 0;

  // With `lock` held on the mutex that guards `cv`: blocks until `cv` is notified or the
  // clock reaches `deadline_us`. May return spuriously, like condition_variable::wait_until;
  // callers re-check their condition. A jump of a virtual clock does not wake waiters by
  // itself: those that must hear of jumps subscribe (TimerQueue does).
  virtual void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          int64_t deadline_us) = 0;

  // Activity for the virtual clock; RealClock's holds are empty.
  virtual Hold hold() { return Hold(); }

  // Moves the clock to `deadline_us` if it may skip there now (nothing active, within its
  // limit) and returns true; also true if the clock is already there. RealClock: false
  // unless the deadline has passed.
  virtual bool try_jump_to(int64_t deadline_us) { return now_us() >= deadline_us; }

  // `wake` is called (on some other thread, never with the clock's lock held) whenever a
  // jump may have become possible: the last Hold ended, or the limit was raised. The
  // TimerQueue re-checks its deadline then. Returns an id for unsubscribe(), which waits
  // for a call in progress to finish. RealClock never calls it.
  virtual uint64_t subscribe(std::function<void()> /*wake*/) { return 0; }
  virtual void unsubscribe(uint64_t /*id*/) {}

  virtual std::string name() const = 0;  // "real" or "virtual"

  // The wall-clock time at which this clock reads `t_us`, as long as it does not jump in
  // between: what a function process, whose clock is real, must be told (its invocation's
  // deadline). The identity on a RealClock.
  virtual int64_t to_real_us(int64_t t_us) const { return t_us; }

 protected:
  Hold make_hold() { return Hold(this); }
  virtual void release_hold() {}
};

// Wall-clock time that cannot jump: the epoch offset is read once at construction and
// the steady clock measures from there, so an NTP step during a run cannot make a
// duration negative.
class RealClock : public Clock {
 public:
  RealClock();
  int64_t now_us() const override;
  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  int64_t deadline_us) override;
  std::string name() const override { return "real"; }

 protected:
  int64_t epoch_at_start_us_;
  std::chrono::steady_clock::time_point steady_at_start_;
};

// Real time plus skipped idle gaps. The rule (docs/experiments.md): it follows real time
// while any Hold is alive; with none alive, try_jump_to() moves it forward, but never past
// the limit. The limit starts at "no jumps" (the start time); `coldlab run` lifts it for
// its whole schedule, `POST /coldlab/clock/advance` lifts it step by step.
class VirtualClock : public RealClock {
 public:
  static constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

  VirtualClock();
  int64_t now_us() const override;
  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  int64_t deadline_us) override;
  Hold hold() override;
  bool try_jump_to(int64_t deadline_us) override;
  uint64_t subscribe(std::function<void()> wake) override;
  void unsubscribe(uint64_t id) override;
  std::string name() const override { return "virtual"; }
  int64_t to_real_us(int64_t t_us) const override;

  // Lets the clock skip up to `limit_us` (never lowers the limit). Wakes subscribers.
  void allow_until(int64_t limit_us);
  int64_t limit_us() const;
  // Microseconds skipped so far.
  int64_t skipped_us() const;
  // Holds alive now.
  int active() const;
  // Blocks until no Hold is alive.
  void wait_idle();

 protected:
  void release_hold() override;

 private:
  void wake_subscribers();

  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  int64_t skipped_us_ = 0;
  int64_t limit_us_;
  int active_ = 0;
  // Subscribers are called under subscribers_mu_ (never under mu_), so unsubscribe() can
  // wait out a call in progress.
  std::mutex subscribers_mu_;
  std::map<uint64_t, std::function<void()>> subscribers_;
  uint64_t next_subscriber_ = 1;
};

// "2026-11-27T21:16:47.123" followed by `zone` ("Z", "+0000"): the shapes Lambda prints.
std::string iso8601_ms(int64_t epoch_us, const char* zone);

}  // namespace coldlab::core
