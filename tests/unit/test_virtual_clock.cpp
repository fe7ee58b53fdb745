// The virtual clock's rule, driven through the TimerQueue as the emulator drives it: it
// follows real time while anything holds it, jumps straight to the next timer when nothing
// does, fires timers in time order at their own instants, and never passes its limit.
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/timer_queue.h"

using coldlab::core::Clock;
using coldlab::core::RealClock;
using coldlab::core::TimerQueue;
using coldlab::core::VirtualClock;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kMinute = 60'000'000;

// Timer firings: which, and at what time of the clock; wait() for a count.
class Firings {
 public:
  void add(int tag, int64_t at) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back({tag, at});
    cv_.notify_all();
  }
  // False if `n` firings did not come within `real` time.
  bool wait(size_t n, std::chrono::milliseconds real) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, real, [&] { return seen_.size() >= n; });
  }
  std::vector<std::pair<int, int64_t>> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<int, int64_t>> seen_;
};

double real_seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("virtual clock: starts at wall-clock time and follows real time", "[virtual-clock]") {
  VirtualClock clock;
  RealClock real;
  CHECK(std::abs(clock.now_us() - real.now_us()) < 1'000'000);
  const int64_t a = clock.now_us();
  std::this_thread::sleep_for(20ms);
  CHECK(clock.now_us() - a >= 20'000);
  CHECK(clock.skipped_us() == 0);
  CHECK(clock.name() == "virtual");
}

TEST_CASE("virtual clock: with nothing active, the queue jumps straight to each timer, in time order",
          "[virtual-clock]") {
  VirtualClock clock;
  TimerQueue timers(clock);
  Firings firings;
  const int64_t t0 = clock.now_us();
  const auto real_start = std::chrono::steady_clock::now();
  for (int minutes : {31, 6, 61, 16}) {
    timers.schedule(t0 + minutes * kMinute, [&firings, &clock, minutes] { firings.add(minutes, clock.now_us()); });
  }
  clock.allow_until(VirtualClock::kNoLimit);  // only now may it jump: every timer is in place
  REQUIRE(firings.wait(4, 5000ms));
  CHECK(real_seconds_since(real_start) < 5);  // an hour of timers, not an hour of waiting
  const auto seen = firings.seen();
  REQUIRE(seen.size() == 4);
  const int order[] = {6, 16, 31, 61};
  for (size_t i = 0; i < 4; ++i) {
    CHECK(seen[i].first == order[i]);
    // Each fires at its own instant: at its deadline, not later by more than real slack.
    CHECK(seen[i].second >= t0 + order[i] * kMinute);
    CHECK(seen[i].second < t0 + order[i] * kMinute + 1'000'000);
  }
  CHECK(clock.skipped_us() >= 60 * kMinute);
  // A deadline told to a function process, whose clock is real, is a real time.
  CHECK(clock.to_real_us(clock.now_us() + 3'000'000) - RealClock().now_us() <= 3'000'000);
  CHECK(clock.to_real_us(clock.now_us() + 3'000'000) - RealClock().now_us() > 2'000'000);
}

TEST_CASE("virtual clock: a hold keeps it on real time, releasing the last one lets it jump", "[virtual-clock]") {
  VirtualClock clock;
  clock.allow_until(VirtualClock::kNoLimit);
  TimerQueue timers(clock);
  Firings firings;
  const int64_t t0 = clock.now_us();
  Clock::Hold a = clock.hold();
  Clock::Hold b = clock.hold();
  CHECK(clock.active() == 2);
  timers.schedule(t0 + 30 * kMinute, [&] { firings.add(1, clock.now_us()); });
  // Held: a timer half an hour away cannot fire, however long we look.
  CHECK_FALSE(firings.wait(1, 300ms));
  CHECK(clock.skipped_us() == 0);
  a.reset();
  CHECK_FALSE(firings.wait(1, 100ms));  // one hold is enough
  b.reset();
  CHECK(clock.active() == 0);
  REQUIRE(firings.wait(1, 2000ms));
  CHECK(firings.seen()[0].second >= t0 + 30 * kMinute);
}

TEST_CASE("virtual clock: activity a timer starts keeps the clock from skipping what comes after it",
          "[virtual-clock]") {
  VirtualClock clock;
  clock.allow_until(VirtualClock::kNoLimit);
  TimerQueue timers(clock);
  Firings firings;
  std::atomic<bool> work_done{false};
  std::thread worker;
  const int64_t t0 = clock.now_us();
  // The first timer starts 200 ms of real work (an eviction, an invocation) and holds the
  // clock for it; the second, ten minutes later, must come only after that work is over.
  timers.schedule(t0 + 10 * kMinute, [&] {
    firings.add(1, clock.now_us());
    Clock::Hold busy = clock.hold();
    worker = std::thread([&work_done, busy = std::move(busy)]() mutable {
      std::this_thread::sleep_for(200ms);
      work_done = true;
      busy.reset();
    });
  });
  timers.schedule(t0 + 20 * kMinute, [&] {
    firings.add(work_done ? 2 : -2, clock.now_us());
  });
  REQUIRE(firings.wait(2, 5000ms));
  worker.join();
  const auto seen = firings.seen();
  CHECK(seen[0].second >= t0 + 10 * kMinute);
  CHECK(seen[1].first == 2);  // the work was over when the second timer fired
  CHECK(seen[1].second >= t0 + 20 * kMinute);
}

TEST_CASE("virtual clock: it never jumps past its limit, raising the limit lets it go on", "[virtual-clock]") {
  VirtualClock clock;  // limit: its start, so no jumps at all
  TimerQueue timers(clock);
  Firings firings;
  const int64_t t0 = clock.now_us();
  timers.schedule(t0 + 10 * kMinute, [&] { firings.add(10, clock.now_us()); });
  timers.schedule(t0 + 20 * kMinute, [&] { firings.add(20, clock.now_us()); });
  CHECK_FALSE(firings.wait(1, 200ms));
  clock.allow_until(t0 + 15 * kMinute);
  REQUIRE(firings.wait(1, 2000ms));
  CHECK_FALSE(firings.wait(2, 200ms));
  CHECK(clock.now_us() < t0 + 15 * kMinute + 1'000'000);
  clock.allow_until(t0 + 5 * kMinute);  // never lowers it
  CHECK(clock.limit_us() == t0 + 15 * kMinute);
  clock.allow_until(t0 + 20 * kMinute);
  REQUIRE(firings.wait(2, 2000ms));
  CHECK(firings.seen()[1].second >= t0 + 20 * kMinute);
}

TEST_CASE("real clock: holds are empty and it never jumps", "[virtual-clock]") {
  RealClock clock;
  Clock::Hold h = clock.hold();
  CHECK_FALSE(clock.try_jump_to(clock.now_us() + kMinute));
  CHECK(clock.try_jump_to(clock.now_us() - 1));
  CHECK(clock.name() == "real");
}
