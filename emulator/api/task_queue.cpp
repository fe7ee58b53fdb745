#include "api/task_queue.h"

#include <thread>

namespace coldlab::api {

ElasticTaskQueue::ElasticTaskQueue(size_t max_threads, size_t max_idle)
    : max_threads_(max_threads), max_idle_(max_idle) {}

ElasticTaskQueue::~ElasticTaskQueue() { shutdown(); }

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  tasks_.push_back(std::move(fn));
  // Tasks may already be queued for the idle workers that have not woken yet, so compare
  // the backlog, not just the idle count: a parked long poll must never hold up a task.
  if (tasks_.size() > idle_ && threads_ < max_threads_) {
    ++threads_;
    ++idle_;  // the new worker counts as idle until it takes a task
    std::thread([this] { worker(); }).detach();
  }
  cv_.notify_one();
}

void ElasticTaskQueue::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
  all_exited_.wait(lock, [this] { return threads_ == 0; });
}

void ElasticTaskQueue::worker() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return shutting_down_ || !tasks_.empty(); });
    if (tasks_.empty()) {  // shutting down with nothing left to run
      --idle_;
      break;
    }
    auto fn = std::move(tasks_.front());
    tasks_.pop_front();
    --idle_;
    lock.unlock();
    fn();
    lock.lock();
    // Keep a few warm workers for the next burst; let the rest go.
    if (idle_ >= max_idle_ && tasks_.empty() && !shutting_down_) break;
    ++idle_;
  }
  --threads_;
  all_exited_.notify_all();
}

}  // namespace coldlab::api
