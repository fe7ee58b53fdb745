// hybrid-histogram: windows computed by hand from idle-time histograms (coldstart.md §2.2).
#include <catch2/catch.hpp>

#include "keep_alive/keep_alive_policy.h"
#include "registry.h"

using namespace coldlab::policies;

namespace {

constexpr TimeUs s(int64_t seconds) { return seconds * kSecondUs; }
constexpr TimeUs m(int64_t minutes) { return minutes * kMinuteUs; }

struct Run {
  std::vector<IdleDecision> decisions;  // one per request, in order
  TimeUs end = 0;                       // when the last request ended
  const IdleDecision& last() const { return decisions.back(); }
};

// One environment of "f" serves a request at 0 and then one request `its[i]` after the
// previous one ended; every request runs for `run`.
Run feed(KeepAlivePolicy& policy, const std::vector<TimeUs>& its, TimeUs run = s(1)) {
  Pool pool;
  EnvInfo env;
  env.id = 1;
  env.function = "f";
  env.memory_mb = 128;
  pool.add(env);
  Run r;
  auto one = [&](TimeUs start) {
    policy.on_request("f", pool, start);
    pool.start_request(1);
    policy.on_start(*pool.find(1), false, pool, start);
    pool.end_request(1, start + run);
    r.decisions.push_back(policy.on_idle(*pool.find(1), pool, start + run));
    r.end = start + run;
  };
  one(0);
  for (TimeUs it : its) one(r.end + it);
  return r;
}

std::vector<TimeUs> repeat(size_t n, TimeUs it) { return std::vector<TimeUs>(n, it); }

void check_standard(const IdleDecision& d, TimeUs e) {
  CHECK(d.keep_until_us == e + m(240));
  CHECK_FALSE(d.prewarm);
}

void check_prewarm(const IdleDecision& d, TimeUs at, TimeUs keep_until) {
  CHECK(d.keep_until_us <= 0);  // unloaded now
  REQUIRE(d.prewarm);
  CHECK(d.prewarm->function == "f");
  CHECK(d.prewarm->at_us == at);
  CHECK(d.prewarm->keep_until_us == keep_until);
  CHECK(d.prewarm->count == 1);
  CHECK_FALSE(d.prewarm->provisioned);
}

}  // namespace

TEST_CASE("keep_alive hybrid-histogram: standard keep-alive until min_its idle times", "[keep_alive]") {
  auto policy = make_keep_alive("hybrid-histogram");
  const Run r = feed(*policy, repeat(9, s(330)));
  // The first request has no idle time; nine after it are one short of min_its = 10.
  for (const IdleDecision& d : r.decisions) CHECK_FALSE(d.prewarm);
  check_standard(r.last(), r.end);
}

TEST_CASE("keep_alive hybrid-histogram: one bin gives head and tail from its edges", "[keep_alive]") {
  // Ten ITs of 5 min 30 s, all in bin 5. CV = sqrt(240*100 - 10^2)/10 = 15.5 >= 2.
  // Head: the 5th percentile's bin (5), rounded down: 5 min; pre-warm at 0.9 x 5 min = 270 s.
  // Tail: the 99th percentile's bin (5), rounded up: 6 min; unload at 1.1 x 6 min = 396 s.
  auto policy = make_keep_alive("hybrid-histogram");
  const Run r = feed(*policy, repeat(10, s(330)));
  check_prewarm(r.last(), r.end + s(270), r.end + s(396));
}

TEST_CASE("keep_alive hybrid-histogram: idle time counts from the end of the last execution",
          "[keep_alive]") {
  // Requests 200 s long, each starting 330 s after the previous one ended: same as above.
  auto policy = make_keep_alive("hybrid-histogram");
  const Run r = feed(*policy, repeat(10, s(330)), s(200));
  check_prewarm(r.last(), r.end + s(270), r.end + s(396));
}

TEST_CASE("keep_alive hybrid-histogram: percentiles from a spread histogram", "[keep_alive]") {
  // 100 ITs: 4 in bin 1, 50 in bin 2, 45 in bin 3, 1 in bin 7 (each at the bin's middle).
  // Head: 5% of 100 = 5; cumulative 4 at bin 1, 54 at bin 2: head = 2 min, pre-warm at
  // 0.9 x 120 s = 108 s. Tail: 99; cumulative 99 at bin 3: tail = 4 min, unload at
  // 1.1 x 240 s = 264 s. The one IT in bin 7 is the 1% left out.
  // CV = sqrt(240 * (16 + 2500 + 2025 + 1) - 100^2) / 100 = 10.4.
  std::vector<TimeUs> its;
  for (auto [bin, count] : std::vector<std::pair<int, int>>{{2, 50}, {1, 4}, {3, 45}, {7, 1}})
    for (int i = 0; i < count; ++i) its.push_back(m(bin) + s(30));
  auto policy = make_keep_alive("hybrid-histogram");
  const Run r = feed(*policy, its);
  check_prewarm(r.last(), r.end + s(108), r.end + s(264));
}

TEST_CASE("keep_alive hybrid-histogram: head in bin 0 keeps the environment", "[keep_alive]") {
  // 20 ITs: 30 s (bin 0), 18 x 10 min 30 s (bin 10), 30 min 30 s (bin 30).
  // Head: 5% of 20 = 1, reached at bin 0: no pre-warm window. Tail: 19.8, reached at bin
  // 30: 31 min; keep until 1.1 x 31 min = 34.1 min = 2046 s.
  std::vector<TimeUs> its = {s(30)};
  for (int i = 0; i < 18; ++i) its.push_back(s(630));
  its.push_back(s(1830));
  auto policy = make_keep_alive("hybrid-histogram");
  const Run r = feed(*policy, its);
  CHECK(r.last().keep_until_us == r.end + s(2046));
  CHECK_FALSE(r.last().prewarm);
}

TEST_CASE("keep_alive hybrid-histogram: a flat histogram is not representative", "[keep_alive]") {
  // 60 ITs, one in each of bins 0..59: CV = sqrt(240*60 - 60^2)/60 = 1.73 < 2.
  std::vector<TimeUs> its;
  for (int bin = 0; bin < 60; ++bin) its.push_back(m(bin) + s(30));
  auto standard = make_keep_alive("hybrid-histogram");
  const Run r = feed(*standard, its);
  check_standard(r.last(), r.end);
  // With the threshold at 1.5 it is: head = bin 2 (3 of 60 = 5%), pre-warm at 108 s;
  // tail = bin 59 (59.4 of 60), rounded up to 60 min, unload at 66 min.
  auto lenient = make_keep_alive("hybrid-histogram:cv=1.5");
  const Run l = feed(*lenient, its);
  check_prewarm(l.last(), l.end + s(108), l.end + m(66));
}

TEST_CASE("keep_alive hybrid-histogram: mostly out-of-range idle times use the forecaster", "[keep_alive]") {
  // ITs 5 h, 5 h, 1 min, 6 h: 3 of 4 are beyond the 4 h range (>= 0.5).
  // Exponential smoothing, alpha 0.5: 5 h; 5 h; (1 min + 5 h)/2 = 9030 s;
  // (6 h + 9030 s)/2 = 15315 s = p. Pre-warm at 0.85p = 13017.75 s, unload at
  // 1.15p = 17612.25 s.
  auto policy = make_keep_alive("hybrid-histogram:min_its=4");
  const Run r = feed(*policy, {m(300), m(300), m(1), m(360)});
  check_prewarm(r.last(), r.end + 13'017'750'000, r.end + 17'612'250'000);
  // alpha = 1 forecasts the last IT: p = 6 h.
  auto last = make_keep_alive("hybrid-histogram:min_its=4,alpha=1");
  const Run l = feed(*last, {m(300), m(300), m(1), m(360)});
  check_prewarm(l.last(), l.end + m(306), l.end + m(414));
}

TEST_CASE("keep_alive hybrid-histogram: a minority of out-of-range idle times is ignored", "[keep_alive]") {
  // 5 h, then three 1 min 10 s: OOB 1/4 < 0.5; the histogram has 3 in bin 1, CV 15.5.
  // Head bin 1: pre-warm at 54 s; tail bin 1, rounded up to 2 min: unload at 132 s.
  auto policy = make_keep_alive("hybrid-histogram:min_its=4");
  const Run r = feed(*policy, {m(300), s(70), s(70), s(70)});
  check_prewarm(r.last(), r.end + s(54), r.end + s(132));
}

TEST_CASE("keep_alive hybrid-histogram: functions keep separate histograms", "[keep_alive]") {
  auto policy = make_keep_alive("hybrid-histogram:min_its=2");
  Pool pool;
  EnvInfo f;
  f.id = 1;
  f.function = "f";
  f.memory_mb = 128;
  pool.add(f);
  EnvInfo g = f;
  g.id = 2;
  g.function = "g";
  pool.add(g);
  // f: requests at 0, 5m30s+1s... idle 330 s twice; g: first seen only at the end.
  TimeUs t = 0;
  for (int i = 0; i < 3; ++i) {
    policy->on_request("f", pool, t);
    f.last_used_us = t + s(1);
    policy->on_idle(f, pool, t + s(1));
    t += s(1) + s(330);
  }
  policy->on_request("g", pool, t);
  g.last_used_us = t + s(1);
  const IdleDecision dg = policy->on_idle(g, pool, t + s(1));
  CHECK(dg.keep_until_us == t + s(1) + m(240));  // no ITs of its own
  CHECK_FALSE(dg.prewarm);
}

TEST_CASE("keep_alive hybrid-histogram: name and parameter checks", "[keep_alive]") {
  CHECK(make_keep_alive("hybrid-histogram")->name() ==
        "hybrid-histogram:range=4h,bin=1m,head=0.05,tail=0.99,margin=0.1,cv=2,min_its=10,oob=0.5,alpha=0.5");
  CHECK(make_keep_alive("hybrid-histogram:range=2h,bin=30s,margin=0")->name() ==
        "hybrid-histogram:range=2h,bin=30s,head=0.05,tail=0.99,margin=0,cv=2,min_its=10,oob=0.5,alpha=0.5");
  CHECK_THROWS_AS(make_keep_alive("hybrid-histogram:range=90s"), SpecError);  // 1.5 bins
  CHECK_THROWS_AS(make_keep_alive("hybrid-histogram:bin=1us"), SpecError);    // too many bins
  CHECK_THROWS_AS(make_keep_alive("hybrid-histogram:alpha=0"), SpecError);
  CHECK_THROWS_AS(make_keep_alive("hybrid-histogram:arima=1"), SpecError);
}
