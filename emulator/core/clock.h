// The one source of time for every timer in coldlab: idle eviction, function timeouts,
// init limits, runtime deadlines and the log's timestamps all read it. A later issue adds
// a virtual clock that jumps over idle gaps; everything that waits for time to pass must
// therefore wait through Clock::wait_until, never through the OS directly.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace coldlab::core {

class Clock {
 public:
  virtual ~Clock() = default;

  // Microseconds since the Unix epoch. Never goes backwards.
  virtual int64_t now_us() const = 0;

  // With `lock` held on the mutex that guards `cv`: blocks until `cv` is notified or the
  // clock reaches `deadline_us`. May return spuriously, like condition_variable::wait_until;
  // callers re-check their condition.
  virtual void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          int64_t deadline_us) = 0;
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

 private:
  int64_t epoch_at_start_us_;
  std::chrono::steady_clock::time_point steady_at_start_;
};

// "2026-11-27T21:16:47.123" followed by `zone` ("Z", "+0000"): the shapes Lambda prints.
std::string iso8601_ms(int64_t epoch_us, const char* zone);

}  // namespace coldlab::core
