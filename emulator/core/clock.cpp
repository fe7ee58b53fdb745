#include "core/clock.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace coldlab::core {

using std::chrono::duration_cast;
using std::chrono::microseconds;

RealClock::RealClock()
    : epoch_at_start_us_(duration_cast<microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count()),
      steady_at_start_(std::chrono::steady_clock::now()) {}

int64_t RealClock::now_us() const {
  return epoch_at_start_us_ +
         duration_cast<microseconds>(std::chrono::steady_clock::now() - steady_at_start_).count();
}

void RealClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                           int64_t deadline_us) {
  cv.wait_until(lock, steady_at_start_ + microseconds(deadline_us - epoch_at_start_us_));
}

VirtualClock::VirtualClock() : limit_us_(epoch_at_start_us_) {}

int64_t VirtualClock::now_us() const {
  std::lock_guard<std::mutex> lock(mu_);
  return RealClock::now_us() + skipped_us_;
}

void VirtualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                              int64_t deadline_us) {
  int64_t skipped;
  {
    std::lock_guard<std::mutex> guard(mu_);
    skipped = skipped_us_;
  }
  // The real instant at which the clock reaches the deadline if it does not jump; a jump
  // wakes the subscribers, who compute it again.
  RealClock::wait_until(lock, cv, deadline_us - skipped);
}

int64_t VirtualClock::to_real_us(int64_t t_us) const {
  std::lock_guard<std::mutex> lock(mu_);
  return t_us - skipped_us_;
}

Clock::Hold VirtualClock::hold() {
  std::lock_guard<std::mutex> lock(mu_);
  ++active_;
  return make_hold();
}

void VirtualClock::release_hold() {
  bool idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle = --active_ == 0;
  }
  if (idle) {
    idle_cv_.notify_all();
    wake_subscribers();
  }
}

bool VirtualClock::try_jump_to(int64_t deadline_us) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = RealClock::now_us() + skipped_us_;
  if (now >= deadline_us) return true;
  if (active_ > 0 || deadline_us > limit_us_) return false;
  skipped_us_ += deadline_us - now;
  return true;
}

void VirtualClock::allow_until(int64_t limit_us) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit_us_ = std::max(limit_us_, limit_us);
  }
  wake_subscribers();
}

int64_t VirtualClock::limit_us() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limit_us_;
}

int64_t VirtualClock::skipped_us() const {
  std::lock_guard<std::mutex> lock(mu_);
  return skipped_us_;
}

int VirtualClock::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

void VirtualClock::wait_idle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return active_ == 0; });
}

uint64_t VirtualClock::subscribe(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  const uint64_t id = next_subscriber_++;
  subscribers_.emplace(id, std::move(wake));
  return id;
}

void VirtualClock::unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  subscribers_.erase(id);
}

void VirtualClock::wake_subscribers() {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  for (auto& [id, wake] : subscribers_) wake();
}

std::string iso8601_ms(int64_t epoch_us, const char* zone) {
  std::time_t t = static_cast<std::time_t>(epoch_us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>((epoch_us / 1000) % 1000), zone);
  return buf;
}

}  // namespace coldlab::core
