#include <catch2/catch.hpp>

#include "scale_out/token_bucket.h"

using coldlab::policies::kForever;
using coldlab::policies::kMinuteUs;
using coldlab::policies::kSecondUs;
using coldlab::policies::TimeUs;
using coldlab::policies::TokenBucket;

namespace {

// Lambda's scaling rate since 2023: 1,000 environments per 10 s, i.e. one per 10 ms.
TokenBucket rate_2023() { return TokenBucket(1000, 1000, 10 * kSecondUs); }

int take_all(TokenBucket& bucket, TimeUs now) {
  int taken = 0;
  while (bucket.take(now)) ++taken;
  return taken;
}

}  // namespace

TEST_CASE("token_bucket: starts full and gives exactly its capacity at once", "[scale_out][token_bucket]") {
  TokenBucket bucket = rate_2023();
  const TimeUs t0 = 1'700'000'000'000'000;
  CHECK(bucket.available(t0) == 1000);
  CHECK(take_all(bucket, t0) == 1000);
  CHECK(bucket.available(t0) == 0);
  CHECK_FALSE(bucket.take(t0));
}

TEST_CASE("token_bucket: refills continuously at its rate", "[scale_out][token_bucket]") {
  TokenBucket bucket = rate_2023();
  const TimeUs t0 = 5 * kSecondUs;
  REQUIRE(take_all(bucket, t0) == 1000);
  CHECK(bucket.available(t0 + 9'999) == 0);
  CHECK(bucket.available(t0 + 10'000) == 1);
  CHECK(bucket.available(t0 + kSecondUs) == 100);
  CHECK(bucket.available(t0 + 10 * kSecondUs) == 1000);
  // 1 s later: 100 more; then 10 s after that: the full 1000 again.
  CHECK(take_all(bucket, t0 + kSecondUs) == 100);
  CHECK(take_all(bucket, t0 + 11 * kSecondUs) == 1000);
}

TEST_CASE("token_bucket: unused rate is not banked beyond capacity", "[scale_out][token_bucket]") {
  TokenBucket bucket = rate_2023();
  REQUIRE(take_all(bucket, 0) == 1000);
  CHECK(bucket.available(3600 * kSecondUs) == 1000);
  CHECK(take_all(bucket, 3600 * kSecondUs) == 1000);
  // Far in the future: still full, and no overflow on the way (UBSan).
  CHECK(bucket.available(kForever - 1) == 1000);
}

TEST_CASE("token_bucket: fractions of a token carry over exactly", "[scale_out][token_bucket]") {
  TokenBucket bucket = rate_2023();
  REQUIRE(take_all(bucket, 0) == 1000);
  CHECK(bucket.take(15'000));  // 1.5 tokens: one taken, half left
  CHECK_FALSE(bucket.take(19'999));
  CHECK(bucket.take(20'000));  // the half plus another half
  // At the steady rate every take succeeds and nothing piles up.
  for (TimeUs t = 30'000; t <= 100 * kSecondUs; t += 10'000) {
    REQUIRE(bucket.take(t));
    REQUIRE(bucket.available(t) == 0);
  }
}

TEST_CASE("token_bucket: legacy burst refills 500 per minute", "[scale_out][token_bucket]") {
  TokenBucket bucket(3000, 500, kMinuteUs);
  REQUIRE(take_all(bucket, 0) == 3000);
  CHECK(bucket.next_token_us(0) == 120'000);  // 60 s / 500
  CHECK(bucket.available(119'999) == 0);
  CHECK(bucket.available(120'000) == 1);
  CHECK(take_all(bucket, kMinuteUs) == 500);
  CHECK(bucket.available(7 * kMinuteUs) == 3000);
}

TEST_CASE("token_bucket: next_token_us and time running backwards", "[scale_out][token_bucket]") {
  TokenBucket bucket = rate_2023();
  CHECK(bucket.next_token_us(42) == 42);
  REQUIRE(take_all(bucket, kSecondUs) == 1000);
  CHECK(bucket.next_token_us(kSecondUs) == kSecondUs + 10'000);
  CHECK(bucket.next_token_us(kSecondUs + 4'000) == kSecondUs + 10'000);
  // An earlier time than the last take refills nothing and takes nothing.
  CHECK(bucket.available(0) == 0);
  CHECK_FALSE(bucket.take(0));
  CHECK(bucket.available(kSecondUs + 10'000) == 1);

  TokenBucket never(1, 0, kSecondUs);
  REQUIRE(never.take(0));
  CHECK(never.next_token_us(kSecondUs) == kForever);
  CHECK(never.available(100 * kSecondUs) == 0);
}
