#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/timer_queue.h"

using coldlab::core::Clock;
using coldlab::core::RealClock;
using coldlab::core::TimerQueue;
using namespace std::chrono_literals;

namespace {

// Time moves only when the test says so. wait_until sleeps on the queue's own condition
// variable for a short real while, so the queue notices a set() within milliseconds and
// schedule()/cancel() notifications still wake it.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_us) : now_(start_us) {}
  int64_t now_us() const override { return now_.load(); }
  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  int64_t /*deadline_us*/) override {
    cv.wait_for(lock, 2ms);
  }
  void set(int64_t t_us) { now_.store(t_us); }
  std::string name() const override { return "manual"; }

 private:
  std::atomic<int64_t> now_;
};

// What the timer callbacks did, in order, and a way to wait for it.
class Recorder {
 public:
  void add(int v) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(v);
    }
    cv_.notify_all();
  }
  // True once at least `n` entries are recorded (false after a generous timeout).
  bool wait_count(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return seen_.size() >= n; });
  }
  std::vector<int> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> seen_;
};

}  // namespace

// --- RealClock --------------------------------------------------------------------------

TEST_CASE("RealClock: now_us is microseconds since the Unix epoch", "[timer_queue]") {
  RealClock clock;
  const int64_t system_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  const int64_t now = clock.now_us();
  // Same scale and origin as the system clock (seconds or nanoseconds would be far off).
  CHECK(now > system_us - 5'000'000);
  CHECK(now < system_us + 5'000'000);
  CHECK(now > int64_t{1'600'000'000} * 1'000'000);  // after September 2020
}

TEST_CASE("RealClock: now_us never decreases and advances with real time", "[timer_queue]") {
  RealClock clock;
  int64_t prev = clock.now_us();
  const int64_t first = prev;
  int backwards = 0;
  for (int i = 0; i < 200'000; ++i) {
    const int64_t t = clock.now_us();
    if (t < prev) ++backwards;
    prev = t;
  }
  CHECK(backwards == 0);
  std::this_thread::sleep_for(20ms);
  // At least the 20 ms slept (microseconds, not milliseconds or nanoseconds)...
  CHECK(clock.now_us() - first >= 20'000);
  // ...and not absurdly more.
  CHECK(clock.now_us() - first < 60'000'000);
}

TEST_CASE("RealClock: wait_until returns once the deadline has passed", "[timer_queue]") {
  RealClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> done{false};
  const int64_t deadline = clock.now_us() + 50'000;
  std::thread waiter([&] {
    std::unique_lock<std::mutex> lock(mu);
    // Spurious returns are allowed; the deadline itself must end the wait.
    while (clock.now_us() < deadline) clock.wait_until(lock, cv, deadline);
    done = true;
  });
  // Nobody notifies `cv`: only the deadline can release the waiter. Give it 10 s.
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!done && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  const bool released_by_deadline = done;
  CHECK(released_by_deadline);
  // If the deadline did not release it, a notification (the deadline being long past) does,
  // so the test fails instead of hanging.
  while (!done) {
    cv.notify_all();
    std::this_thread::sleep_for(1ms);
  }
  waiter.join();
  CHECK(clock.now_us() >= deadline);
}

// --- TimerQueue with a manual clock -----------------------------------------------------

TEST_CASE("TimerQueue: timers fire in deadline order whatever the schedule order",
          "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  TimerQueue q(clock);
  q.schedule(300, [&] { rec.add(300); });
  q.schedule(100, [&] { rec.add(100); });
  q.schedule(200, [&] { rec.add(200); });
  q.schedule(50, [&] { rec.add(50); });
  clock.set(1000);
  REQUIRE(rec.wait_count(4));
  CHECK(rec.seen() == std::vector<int>{50, 100, 200, 300});
}

TEST_CASE("TimerQueue: timers with equal deadlines fire in schedule order", "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  TimerQueue q(clock);
  std::vector<int> expected;
  for (int i = 0; i < 20; ++i) {
    q.schedule(100, [&rec, i] { rec.add(i); });
    expected.push_back(i);
  }
  // An earlier deadline scheduled last still goes first.
  q.schedule(99, [&] { rec.add(-1); });
  expected.insert(expected.begin(), -1);
  clock.set(100);
  REQUIRE(rec.wait_count(expected.size()));
  CHECK(rec.seen() == expected);
}

TEST_CASE("TimerQueue: a timer does not fire before the clock reaches its deadline",
          "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  TimerQueue q(clock);
  q.schedule(100, [&] { rec.add(100); });
  q.schedule(10, [&] { rec.add(10); });
  clock.set(99);
  REQUIRE(rec.wait_count(1));  // the one at 10 is due
  // The one at 100 must still be waiting (give the queue a few wake-ups to misbehave).
  std::this_thread::sleep_for(30ms);
  CHECK(rec.seen() == std::vector<int>{10});
  clock.set(100);  // exactly the deadline is enough
  REQUIRE(rec.wait_count(2));
  CHECK(rec.seen() == std::vector<int>{10, 100});
}

TEST_CASE("TimerQueue: cancel of a pending timer returns true and it never runs",
          "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  TimerQueue q(clock);
  auto before = q.schedule(100, [&] { rec.add(1); });
  auto victim = q.schedule(100, [&] { rec.add(2); });
  auto after = q.schedule(100, [&] { rec.add(3); });
  CHECK(before != victim);
  CHECK(victim != after);
  CHECK(q.cancel(victim));
  CHECK_FALSE(q.cancel(victim));  // already cancelled
  clock.set(100);
  // Timers with equal deadlines run in schedule order, so once `after` has run the
  // cancelled one would have run too.
  REQUIRE(rec.wait_count(2));
  q.schedule(100, [&] { rec.add(4); });  // and one more round trip through the loop
  REQUIRE(rec.wait_count(3));
  CHECK(rec.seen() == std::vector<int>{1, 3, 4});
}

TEST_CASE("TimerQueue: cancel of a fired or unknown timer returns false", "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  TimerQueue q(clock);
  auto id = q.schedule(0, [&] { rec.add(1); });
  REQUIRE(rec.wait_count(1));
  CHECK_FALSE(q.cancel(id));
  CHECK_FALSE(q.cancel(id + 1000));
}

TEST_CASE("TimerQueue: cancel of a timer that is running returns false", "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  TimerQueue q(clock);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  auto id = q.schedule(0, [&] {
    rec.add(1);
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, 10s, [&] { return release; });
  });
  REQUIRE(rec.wait_count(1));  // the callback has started and is blocked
  CHECK_FALSE(q.cancel(id));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST_CASE("TimerQueue: a callback may schedule a timer that is already due", "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  TimerQueue q(clock);
  q.schedule(100, [&] {
    rec.add(1);
    q.schedule(100, [&] {
      rec.add(2);
      q.schedule(50, [&] { rec.add(3); });  // even one in the past
    });
  });
  clock.set(100);
  REQUIRE(rec.wait_count(3));
  CHECK(rec.seen() == std::vector<int>{1, 2, 3});
}

TEST_CASE("TimerQueue: a callback may cancel another pending timer", "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  TimerQueue q(clock);
  std::atomic<int> cancel_result{-1};
  TimerQueue::TimerId victim = 0;
  std::mutex id_mu;
  TimerQueue::TimerId killer = 0;
  {
    std::lock_guard<std::mutex> lock(id_mu);
    killer = q.schedule(100, [&] {
      std::lock_guard<std::mutex> lock(id_mu);
      cancel_result = q.cancel(victim) ? 1 : 0;
      rec.add(1);
    });
    victim = q.schedule(200, [&] { rec.add(2); });
  }
  q.schedule(300, [&] { rec.add(3); });
  clock.set(300);
  REQUIRE(rec.wait_count(2));
  CHECK(cancel_result == 1);
  CHECK(rec.seen() == std::vector<int>{1, 3});
  CHECK_FALSE(q.cancel(killer));
}

TEST_CASE("TimerQueue: destruction drops timers not yet due without running them",
          "[timer_queue]") {
  ManualClock clock(0);
  Recorder rec;
  std::atomic<bool> late_ran{false};
  {
    TimerQueue q(clock);
    q.schedule(1'000'000, [&] { late_ran = true; });
    q.schedule(0, [&] { rec.add(1); });
    REQUIRE(rec.wait_count(1));  // the loop is running and has looked at the queue
  }
  CHECK_FALSE(late_ran);
}

// --- TimerQueue with the real clock -----------------------------------------------------

TEST_CASE("TimerQueue: with the real clock a timer fires at its deadline and not before",
          "[timer_queue]") {
  RealClock clock;
  Recorder rec;
  TimerQueue q(clock);
  CHECK(&q.clock() == &clock);
  const int64_t deadline = clock.now_us() + 30'000;
  std::atomic<int64_t> fired_at{0};
  q.schedule(deadline, [&] {
    fired_at = clock.now_us();
    rec.add(1);
  });
  REQUIRE(rec.wait_count(1));
  CHECK(fired_at >= deadline);
}

TEST_CASE("TimerQueue: an earlier timer scheduled later wakes the waiting loop",
          "[timer_queue]") {
  RealClock clock;
  Recorder rec;
  TimerQueue q(clock);
  const int64_t start = clock.now_us();
  q.schedule(start + 3600LL * 1'000'000, [&] { rec.add(2); });  // an hour away
  std::this_thread::sleep_for(10ms);  // let the loop settle into waiting for it
  q.schedule(start + 20'000, [&] { rec.add(1); });
  REQUIRE(rec.wait_count(1));
  CHECK(rec.seen() == std::vector<int>{1});
  CHECK(clock.now_us() - start < 10'000'000);
}

TEST_CASE("TimerQueue: destruction does not wait for far-away timers", "[timer_queue]") {
  RealClock clock;
  std::atomic<bool> ran{false};
  const auto t0 = std::chrono::steady_clock::now();
  {
    TimerQueue q(clock);
    q.schedule(clock.now_us() + 3600LL * 1'000'000, [&] { ran = true; });
    std::this_thread::sleep_for(5ms);
  }
  CHECK_FALSE(ran);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
}

TEST_CASE("TimerQueue: schedule and cancel from many threads at once", "[timer_queue]") {
  ManualClock clock(0);
  TimerQueue q(clock);
  std::atomic<int> ran{0};
  std::atomic<int> cancelled{0};
  constexpr int kThreads = 4, kPerThread = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = q.schedule(100 + i, [&] { ran.fetch_add(1); });
        if (i % 2 == 0 && q.cancel(id)) cancelled.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(cancelled == kThreads * kPerThread / 2);
  clock.set(1'000'000);
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (ran < kThreads * kPerThread / 2 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(1ms);
  CHECK(ran == kThreads * kPerThread / 2);
}
