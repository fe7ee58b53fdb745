#include "core/timer_queue.h"

#include <limits>

namespace coldlab::core {

TimerQueue::TimerQueue(Clock& clock) : clock_(clock) {
  // Taking mu_ before notifying closes the window between the loop's look at the clock
  // and its wait: the wake-up cannot fall into it.
  clock_subscription_ = clock_.subscribe([this] {
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_.notify_all();
  });
  thread_ = std::thread([this] { loop(); });
}

TimerQueue::~TimerQueue() {
  clock_.unsubscribe(clock_subscription_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

TimerQueue::TimerId TimerQueue::schedule(int64_t deadline_us, std::function<void()> fn) {
  TimerId id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    timers_.emplace(std::make_pair(deadline_us, id), std::move(fn));
    deadline_of_.emplace(id, deadline_us);
  }
  cv_.notify_all();
  return id;
}

int64_t TimerQueue::next_deadline() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timers_.empty() ? std::numeric_limits<int64_t>::max() : timers_.begin()->first.first;
}

bool TimerQueue::cancel(TimerId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  deadline_of_.erase(it);
  return true;
}

void TimerQueue::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = timers_.begin();
    if (!clock_.try_jump_to(first->first.first)) {
      clock_.wait_until(lock, cv_, first->first.first);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    deadline_of_.erase(first->first.second);
    timers_.erase(first);
    lock.unlock();
    fn();
    lock.lock();
  }
}

}  // namespace coldlab::core
