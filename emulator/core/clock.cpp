#include "core/clock.h"

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

}  // namespace coldlab::core
