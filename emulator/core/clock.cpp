#include "core/clock.h"

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
