#include "scale_out/token_bucket.h"

#include <algorithm>

namespace coldlab::policies {

TokenBucket::TokenBucket(int64_t capacity, int64_t refill, TimeUs period_us)
    : capacity_(std::max<int64_t>(capacity, 1)),
      refill_(std::max<int64_t>(refill, 0)),
      period_us_(std::max<TimeUs>(period_us, 1)),
      level_(capacity_ * period_us_) {}

int64_t TokenBucket::level_at(TimeUs now) const {
  const int64_t full = capacity_ * period_us_;
  // A full bucket stays full whatever the time; checking first also keeps the
  // subtraction below away from the overflow of a far-away at_.
  if (level_ >= full || refill_ == 0 || now <= at_) return level_;
  const uint64_t elapsed = static_cast<uint64_t>(now) - static_cast<uint64_t>(at_);
  const uint64_t missing = static_cast<uint64_t>(full - level_);
  const uint64_t to_fill = (missing + static_cast<uint64_t>(refill_) - 1) / static_cast<uint64_t>(refill_);
  if (elapsed >= to_fill) return full;
  return level_ + static_cast<int64_t>(elapsed) * refill_;
}

int64_t TokenBucket::available(TimeUs now) const { return level_at(now) / period_us_; }

bool TokenBucket::take(TimeUs now) {
  level_ = level_at(now);
  at_ = std::max(at_, now);
  if (level_ < period_us_) return false;
  level_ -= period_us_;
  return true;
}

TimeUs TokenBucket::next_token_us(TimeUs now) const {
  const int64_t level = level_at(now);
  if (level >= period_us_) return now;
  if (refill_ == 0) return kForever;
  const TimeUs from = std::max(now, at_);
  return from + (period_us_ - level + refill_ - 1) / refill_;
}

}  // namespace coldlab::policies
