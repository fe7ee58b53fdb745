#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "api/task_queue.h"

using coldlab::api::ElasticTaskQueue;
using namespace std::chrono_literals;

namespace {

// Shared state for tasks that park until the test releases them, like a runtime's long
// poll waiting for an invocation.
class Board {
 public:
  // A task body: counts itself started, records its tag, waits for release (if asked),
  // counts itself finished.
  std::function<void()> task(int tag, bool park) {
    return [this, tag, park] {
      {
        std::unique_lock<std::mutex> lock(mu_);
        order_.push_back(tag);
        ++running_;
        if (running_ > max_running_) max_running_ = running_;
        cv_.notify_all();
        if (park) cv_.wait_for(lock, 30s, [&] { return released_; });
        --running_;
        ++finished_;
        // Notify under the lock: once a waiter sees the count, the board may be destroyed.
        cv_.notify_all();
      }
    };
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  bool wait_started(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return order_.size() >= n; });
  }
  bool wait_finished(int n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return finished_ >= n; });
  }
  size_t started() {
    std::lock_guard<std::mutex> lock(mu_);
    return order_.size();
  }
  std::vector<int> order() {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }
  int max_running() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_running_;
  }
  int finished() {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> order_;
  int running_ = 0;
  int max_running_ = 0;
  int finished_ = 0;
  bool released_ = false;
};

}  // namespace

TEST_CASE("ElasticTaskQueue: parked tasks all run concurrently up to max_threads",
          "[task_queue]") {
  Board board;
  ElasticTaskQueue q(32, 2);
  constexpr int kTasks = 12;
  for (int i = 0; i < kTasks; ++i) q.enqueue(board.task(i, true));
  // Every task is parked at once: none waits for another to finish.
  CHECK(board.wait_started(kTasks));
  CHECK(board.max_running() == kTasks);
  board.release();
  CHECK(board.wait_finished(kTasks));
}

TEST_CASE("ElasticTaskQueue: a burst arriving while workers are idle still runs at once",
          "[task_queue]") {
  Board warmup;
  ElasticTaskQueue q(32, 8);
  // Leave a few idle workers behind.
  for (int i = 0; i < 4; ++i) q.enqueue(warmup.task(i, false));
  REQUIRE(warmup.wait_finished(4));
  // Now a burst bigger than the idle set, queued faster than idle workers wake up: a
  // parked task must never hold up one queued behind it.
  for (int round = 0; round < 5; ++round) {
    Board burst;
    for (int i = 0; i < 10; ++i) q.enqueue(burst.task(i, true));
    CAPTURE(round);
    CHECK(burst.wait_started(10));
    burst.release();
    REQUIRE(burst.wait_finished(10));
  }
}

TEST_CASE("ElasticTaskQueue: beyond max_threads tasks wait", "[task_queue]") {
  Board board;
  ElasticTaskQueue q(3, 3);
  for (int i = 0; i < 9; ++i) q.enqueue(board.task(i, true));
  REQUIRE(board.wait_started(3));
  std::this_thread::sleep_for(50ms);  // time enough for a fourth worker to appear wrongly
  CHECK(board.started() == 3);
  auto first_three = board.order();
  std::sort(first_three.begin(), first_three.end());
  CHECK(first_three == std::vector<int>{0, 1, 2});  // the first three, not any three
  board.release();
  REQUIRE(board.wait_finished(9));
  CHECK(board.max_running() == 3);
}

TEST_CASE("ElasticTaskQueue: waiting tasks run in FIFO order", "[task_queue]") {
  Board blocker;
  Board board;
  ElasticTaskQueue q(1, 1);
  q.enqueue(blocker.task(0, true));
  REQUIRE(blocker.wait_started(1));
  for (int i = 1; i <= 8; ++i) q.enqueue(board.task(i, false));
  std::this_thread::sleep_for(20ms);
  CHECK(board.started() == 0);  // the only worker is parked
  blocker.release();
  REQUIRE(board.wait_finished(8));
  CHECK(board.order() == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("ElasticTaskQueue: a freed worker takes the oldest waiting task", "[task_queue]") {
  // Two workers, both parked; each waiting task parks on its own board, so which one a
  // freed worker picked is visible.
  Board first, second;
  Board waiting[4];
  ElasticTaskQueue q(2, 2);
  q.enqueue(first.task(0, true));
  q.enqueue(second.task(0, true));
  REQUIRE(first.wait_started(1));
  REQUIRE(second.wait_started(1));
  for (int i = 0; i < 4; ++i) q.enqueue(waiting[i].task(i, true));
  first.release();
  REQUIRE(waiting[0].wait_started(1));
  second.release();
  REQUIRE(waiting[1].wait_started(1));
  CHECK(waiting[2].started() == 0);
  CHECK(waiting[3].started() == 0);
  waiting[0].release();
  REQUIRE(waiting[2].wait_started(1));
  CHECK(waiting[3].started() == 0);
  waiting[1].release();
  waiting[2].release();
  REQUIRE(waiting[3].wait_started(1));
  waiting[3].release();
  CHECK(waiting[3].wait_finished(1));
}

TEST_CASE("ElasticTaskQueue: with max_idle 0 every task still runs", "[task_queue]") {
  Board board;
  ElasticTaskQueue q(4, 0);
  for (int i = 0; i < 20; ++i) {
    q.enqueue(board.task(i, false));
    REQUIRE(board.wait_finished(i + 1));
  }
  CHECK(board.order().size() == 20);
}

TEST_CASE("ElasticTaskQueue: shutdown runs queued tasks and returns after the workers exit",
          "[task_queue]") {
  Board board;
  std::atomic<int> completed{0};
  ElasticTaskQueue q(2, 2);
  q.enqueue(board.task(0, true));
  q.enqueue(board.task(1, true));
  REQUIRE(board.wait_started(2));
  // Queued behind the two parked ones; each takes a while after it starts.
  for (int i = 0; i < 4; ++i) {
    q.enqueue([&completed] {
      std::this_thread::sleep_for(20ms);
      completed.fetch_add(1);
    });
  }
  std::atomic<bool> returned{false};
  std::thread stopper([&] {
    q.shutdown();
    returned = true;
  });
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(returned);  // two tasks are still parked
  board.release();
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!returned && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(1ms);
  CHECK(returned);
  // Everything queued before shutdown ran to its end before shutdown returned.
  CHECK(completed == 4);
  CHECK(board.finished() == 2);
  stopper.join();
}

TEST_CASE("ElasticTaskQueue: shutdown of an idle queue returns promptly", "[task_queue]") {
  Board board;
  auto q = std::make_unique<ElasticTaskQueue>(8, 8);
  for (int i = 0; i < 5; ++i) q->enqueue(board.task(i, false));
  REQUIRE(board.wait_finished(5));
  const auto t0 = std::chrono::steady_clock::now();
  q->shutdown();
  q.reset();  // the destructor's second shutdown is harmless
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
}
