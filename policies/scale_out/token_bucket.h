// A token bucket: at most `capacity` tokens, refilled continuously at `refill` tokens per
// `period_us`, never above capacity (unused rate is not banked). It starts full.
//
// Lambda's scaling rate is one: 1,000 new execution environments per 10 s per function,
// "refilled continuously, not accumulated" (lambda-api.md §4, scaling-behavior.html), and
// the pre-2023 account-wide burst (500/1000/3000, then +500 per minute) is another.
//
// The level is kept in integers, 1 token = period_us units, so refill is exact: after
// 10 s a 1000-per-10-s bucket has exactly 1000 more tokens, not 999.9999. Time running
// backwards refills nothing.
//
// Pure: no clock; time is passed in. Thread-safety: none.
#pragma once

#include <cstdint>

#include "pool.h"

namespace coldlab::policies {

class TokenBucket {
 public:
  // capacity >= 1, refill >= 0, period_us >= 1.
  TokenBucket(int64_t capacity, int64_t refill, TimeUs period_us);

  int64_t capacity() const { return capacity_; }

  // Whole tokens in the bucket at `now`.
  int64_t available(TimeUs now) const;

  // Takes one token at `now`; false, taking nothing, when there is none.
  bool take(TimeUs now);

  // The first time at or after `now` with a whole token in the bucket (kForever if the
  // bucket never refills).
  TimeUs next_token_us(TimeUs now) const;

 private:
  int64_t level_at(TimeUs now) const;  // in units

  int64_t capacity_;
  int64_t refill_;  // units added per microsecond
  TimeUs period_us_;
  int64_t level_;  // units; capacity_ * period_us_ when full
  TimeUs at_ = 0;  // when level_ was last brought up to date
};

}  // namespace coldlab::policies
