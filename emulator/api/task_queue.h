// A thread pool for cpp-httplib servers that grows with demand.
//
// httplib's own ThreadPool has a fixed size chosen at start (8 by default, and the
// compile-time knob has no effect with Debian's prebuilt library). Every synchronous
// invoke and every runtime long poll holds a worker for its whole duration, so a fixed
// pool either starves (8 parked polls block everything) or wastes a thousand threads.
// This pool keeps up to `max_idle` idle workers and starts a new one whenever a task
// arrives and none is idle, up to `max_threads`; beyond that tasks wait in FIFO order.
//
// Thread-safety: enqueue() may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <httplib.h>
#include <mutex>

namespace coldlab::api {

class ElasticTaskQueue : public httplib::TaskQueue {
 public:
  ElasticTaskQueue(size_t max_threads, size_t max_idle);
  ~ElasticTaskQueue() override;

  void enqueue(std::function<void()> fn) override;
  // Runs the tasks already queued, then joins every worker.
  void shutdown() override;

 private:
  void worker();

  const size_t max_threads_;
  const size_t max_idle_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::condition_variable all_exited_;
  size_t threads_ = 0;  // workers alive; they are detached and count themselves out
  size_t idle_ = 0;
  bool shutting_down_ = false;
};

}  // namespace coldlab::api
