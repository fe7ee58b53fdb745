// Every keep-alive policy family that test_simulation.cpp does not trace by hand, through
// simulate() on a short trace whose outcome is derived from the policy's contract (the
// header comment of its .cpp): which request is cold, which environment goes and when,
// and what that costs in idle memory. Service times are constant and arrivals listed, so
// every number is exact.
//
// The summary counts cold starts but not who was evicted; for caching policies the victim
// is the point. So each run also records the invocation log the simulator writes (an
// in-memory InvocationLog) and prints it as "f@t cold|warm" per request in arrival order,
// and "f@t reason" per environment that ended before the end of the run.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "log/invocation_log.h"
#include "simulation.h"
#include "temp_dir.h"
#include "workload.h"

namespace coldlab::sim {
namespace {

using coldlab::testing::TempDir;

std::string at(const std::string& function, int64_t us) {
  std::ostringstream out;
  out << function << "@" << static_cast<double>(us) / 1e6;
  return out.str();
}

// Keeps what the tests compare: who ran cold, and who left the pool, when and why.
class Recorder final : public log::InvocationLog {
 public:
  int64_t begin_run(const log::RunInfo&) override { return 1; }
  void end_run(int64_t, int64_t) override {}
  void end_run(int64_t, const log::RunEnd&) override {}
  int64_t allocate_environment_id() override { return 1; }
  void record(const log::EnvironmentStarted& e) override { function_[e.environment_id] = e.function; }
  void record(const log::EnvironmentReady&) override {}
  void record(const log::EnvironmentEnded& e) override {
    if (e.reason == "shutdown") return;  // still loaded when the run ended
    evictions +=
        (evictions.empty() ? "" : ", ") + at(function_[e.environment_id], e.ended_at_us) + " " + e.reason;
  }
  void record(const log::InvocationRecord& r) override {
    if (r.invocation_type != "Ping") invocations_.push_back(r);
  }
  void record(const log::RequestRecord&) override {}
  void flush() override {}

  std::string requests() {
    // Rows come at completion; request ids end in the arrival number, zero-padded.
    std::sort(invocations_.begin(), invocations_.end(),
              [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
    std::string out;
    for (const auto& r : invocations_)
      out += (out.empty() ? "" : ", ") + at(r.function, r.started_at_us) + (r.cold ? " cold" : " warm");
    return out;
  }

  std::string evictions;

 private:
  std::map<int64_t, std::string> function_;
  std::vector<log::InvocationRecord> invocations_;
};

struct Traced {
  Summary s;
  std::string requests, evictions;
};

Traced trace(const std::string& yaml, const std::string& keep_alive, int64_t budget_mb = 0) {
  TempDir dir;
  Workload w = load_workload(dir.file("w.yaml", yaml), 1);
  Recorder log;
  SimulationOptions o;
  o.keep_alive = keep_alive;
  o.memory_budget_mb = budget_mb;
  o.log = &log;
  Traced t{simulate(w, o), "", ""};
  t.requests = log.requests();
  t.evictions = log.evictions;
  return t;
}

// One function f, requests at `times` (seconds), warm 1 s and cold 2 s.
std::string listed(const std::string& times, int duration, int memory_mb = 256) {
  return "kind: synthetic\nduration: " + std::to_string(duration) +
         "\nfunctions:\n  - name: f\n    memory_mb: " + std::to_string(memory_mb) +
         "\n    arrivals: {process: list, times: [" + times +
         "]}\n    warm: {dist: constant, value: 1}\n    cold: {dist: constant, value: 2}\n";
}

// One function of a caching trace: name, memory, request times, cold seconds, warm seconds.
std::string fn(const std::string& name, int mb, const std::string& times, int cold, int warm = 1) {
  return "  - {name: " + name + ", memory_mb: " + std::to_string(mb) +
         ", arrivals: {process: list, times: [" + times + "]}, warm: " + std::to_string(warm) +
         ", cold: " + std::to_string(cold) + "}\n";
}

std::string caching(int duration, const std::string& functions) {
  return "kind: synthetic\nduration: " + std::to_string(duration) + "\nfunctions:\n" + functions;
}

TEST_CASE("simulate policies: each provider preset is a fixed TTL of the length its registry line cites",
          "[simulator]") {
  // With TTL K: f@0 cold, idle from 2; f@K+2 comes exactly K later, warm, idle from K+3;
  // evicted at 2K+3, so f@2K+4 is cold and idle from 2K+6 to the end at 2K+10.
  const std::vector<std::pair<std::string, int>> presets = {{"aws-2018", 27},   {"aws-2019", 10},
                                                            {"azure-2019", 20}, {"openwhisk", 10},
                                                            {"localstack", 10}, {"study", 22}};
  for (const auto& [name, minutes] : presets) {
    const int k = minutes * 60;
    const Traced t =
        trace(listed("0, " + std::to_string(k + 2) + ", " + std::to_string(2 * k + 4), 2 * k + 10), name);
    INFO(name);
    CHECK(t.s.keep_alive == name + " (fixed:ttl=" + std::to_string(minutes) + "m)");
    CHECK(t.requests == "f@0 cold, " + at("f", (k + 2) * 1'000'000LL) + " warm, " +
                            at("f", (2 * k + 4) * 1'000'000LL) + " cold");
    CHECK(t.evictions == at("f", (2 * k + 3) * 1'000'000LL) + " idle");
    CHECK(t.s.cold_starts == 2);
    CHECK(t.s.environments == 2);
    // Idle K + K + 4 s at 0.25 GB; lifespans 2K+3 and 6 s.
    CHECK(t.s.wasted_memory_gb_s == Approx((2 * k + 4) * 0.25));
    CHECK(t.s.mean_lifespan_s == Approx((2 * k + 3 + 6) / 2.0));
    CHECK(t.s.avg_envs == Approx((2 * k + 9.0) / (2 * k + 10)));
  }
}

TEST_CASE("simulate policies: study keeps the study's 15-minute gap warm and its 30-minute gap cold",
          "[simulator]") {
  // Scenario 1, minutes 0, 6, 16, 31, 61 (study.md), TTL 22 min = 1320 s. Idle times:
  // 358, 599, 899 s (warm), then 1799 s: evicted at 1861 + 1320 = 3181, cold at 3660.
  // aws-2019's 10 min also loses the 15-min gap (899 > 600), which is why study exists.
  const std::string yaml = listed("0, 360, 960, 1860, 3660", 3720);
  const Traced t = trace(yaml, "study");
  CHECK(t.requests == "f@0 cold, f@360 warm, f@960 warm, f@1860 warm, f@3660 cold");
  CHECK(t.evictions == "f@3181 idle");
  CHECK(t.s.cold_starts == 2);
  CHECK(t.s.environments == 2);
  // Idle 358 + 599 + 899 + 1320, then 3662 to 3720.
  CHECK(t.s.wasted_memory_gb_s == Approx((358 + 599 + 899 + 1320 + 58) * 0.25));
  CHECK(t.s.mean_lifespan_s == Approx((3181 + 60) / 2.0));
  const Traced aws = trace(yaml, "aws-2019");
  CHECK(aws.requests == "f@0 cold, f@360 warm, f@960 warm, f@1860 cold, f@3660 cold");
  CHECK(aws.s.cold_starts == 3);
}

TEST_CASE("simulate policies: halving halves a cohort each period and drops a lone survivor", "[simulator]") {
  // halving:period=10s. Four requests at 0 make four environments (ids 1-4), idle from 2.
  //   12: all four idle >= 10 s, halved oldest-idle then lower id first: 1 and 2 go.
  //   22: a period after that halving, 3 and 4 eligible, one (3) goes.
  //   25: two requests: 4 serves one warm, 5 starts cold. No idle environment is left, so
  //       the function's halving history is forgotten; 4 is idle from 26, 5 from 27.
  //   36: 4 has been idle a period, 5 not yet: 4 alone is eligible and goes (n = 1 -> 0).
  //       The next halving is a period later, 46, so 5, idle 13 s at 40, is still there:
  //   40: warm on 5, idle from 41, evicted alone at 51.
  const Traced t = trace(listed("0, 0, 0, 0, 25, 25, 40", 60), "halving:period=10s");
  CHECK(t.requests == "f@0 cold, f@0 cold, f@0 cold, f@0 cold, f@25 warm, f@25 cold, f@40 warm");
  CHECK(t.evictions == "f@12 idle, f@12 idle, f@22 idle, f@36 idle, f@51 idle");
  CHECK(t.s.cold_starts == 5);
  CHECK(t.s.environments == 5);
  // Idle: 1 and 2 for 10 s, 3 for 20, 4 for 23 + 10, 5 for 13 + 10: 96 s at 0.25 GB.
  CHECK(t.s.wasted_memory_gb_s == Approx(96 * 0.25));
  // Lifespans 12, 12, 22, 36 and 26 (25 to 51) over the 60-s span.
  CHECK(t.s.mean_lifespan_s == Approx(108 / 5.0));
  CHECK(t.s.avg_envs == Approx(108 / 60.0));
}

TEST_CASE("simulate policies: halving's default period keeps a lone environment 380 s", "[simulator]") {
  // f@0 idle from 2; f@382, exactly a period later, arrives before the halving: warm, idle
  // from 383. Alone, it goes at 763, so f@1283, after a 15-minute gap, is cold.
  const Traced t = trace(listed("0, 382, 1283", 1300), "halving");
  CHECK(t.s.keep_alive == "halving:period=380s");
  CHECK(t.requests == "f@0 cold, f@382 warm, f@1283 cold");
  CHECK(t.evictions == "f@763 idle");
  CHECK(t.s.wasted_memory_gb_s == Approx((380 + 380 + 15) * 0.25));
}

// The caching trace of the next tests, budget 1280 MB: b (256 MB, cold 3 s) at 0 and 40,
// a (1024 MB, cold 10 s) at 10 and 50, c (256 MB, cold 2 s) at 30. Warm is 1 s; until a
// function has run warm, the cost of its miss is its mean cold time. c@30 needs 256 MB
// more than is free, so a or b goes. LRU takes b, idle since 3 (a since 20).
std::string budget_trace() {
  return caching(60, fn("a", 1024, "10, 50", 10) + fn("b", 256, "0, 40", 3) + fn("c", 256, "30", 2));
}

TEST_CASE("simulate policies: greedy-dual evicts the lowest cost per MB where LRU evicts the oldest",
          "[simulator]") {
  // Priority = Clock + Freq x Cost / Size. At 30, Clock 0, Freq 1: a 10000/1024 = 9.77,
  // b 3000/256 = 11.72: a goes, although LRU would keep it; Clock = 9.77. So b@40 is warm
  // (Freq 2, Cost now 3000 - 1000). a@50 needs 256 MB more: b 9.77 + 2 x 2000/256 = 25.39,
  // c 9.77 + 2000/256 = 17.58: c goes.
  const Traced gd = trace(budget_trace(), "greedy-dual", 1280);
  CHECK(gd.requests == "b@0 cold, a@10 cold, c@30 cold, b@40 warm, a@50 cold");
  CHECK(gd.evictions == "a@30 memory, c@50 memory");
  CHECK(gd.s.cold_starts == 4);
  CHECK(gd.s.environments == 4);
  // Idle: b 3-40 and 41-60 at 0.25 GB, a 20-30 at 1 GB, c 32-50 at 0.25 GB.
  CHECK(gd.s.wasted_memory_gb_s == Approx((37 + 19) * 0.25 + 10 * 1.0 + 18 * 0.25));
  // Lifespans b 60 (to the end), a 20, c 20, the second a 10.
  CHECK(gd.s.mean_lifespan_s == Approx(110 / 4.0));

  // LRU: b goes at 30, so b@40 is cold and takes a (idle since 20, c since 32); a@50 is
  // cold and takes c (idle since 32, b since 43). Every request is cold.
  const Traced lru = trace(budget_trace(), "lru", 1280);
  CHECK(lru.requests == "b@0 cold, a@10 cold, c@30 cold, b@40 cold, a@50 cold");
  CHECK(lru.evictions == "b@30 memory, a@40 memory, c@50 memory");
  CHECK(lru.s.environments == 5);
}

TEST_CASE("simulate policies: freq keeps the function whose misses cost most whatever its size",
          "[simulator]") {
  // Priority = Clock + Freq x Cost. At 30: a 10000, b 3000: b goes (4x smaller, but size
  // does not count), Clock = 3000. b@40 is cold and needs 256 MB: a 10000, c 3000 + 2000
  // = 5000: c goes, where LRU took a. So a@50 is warm.
  const Traced t = trace(budget_trace(), "freq", 1280);
  CHECK(t.requests == "b@0 cold, a@10 cold, c@30 cold, b@40 cold, a@50 warm");
  CHECK(t.evictions == "b@30 memory, c@40 memory");
  CHECK(t.s.cold_starts == 4);
  CHECK(t.s.environments == 4);
  // Idle: b 3-30, c 32-40, the second b 43-60 at 0.25 GB; a 20-50 and 51-60 at 1 GB.
  CHECK(t.s.wasted_memory_gb_s == Approx((27 + 8 + 17) * 0.25 + (30 + 9) * 1.0));
}

TEST_CASE("simulate policies: size evicts the biggest environment even when its cold start costs most",
          "[simulator]") {
  // The same shape with a's cold start 30 s (idle from 40), c at 50 and b again at 60.
  // size, Priority = Clock + Freq / Size: a 1/1024 < b 1/256, so a goes and b@60 is warm.
  // greedy-dual: a 30000/1024 = 29.30 > b 3000/256 = 11.72, so b goes (Clock 11.72) and
  // b@60 is cold and takes c (11.72 + 2000/256 = 19.53 < a's 29.30).
  const std::string yaml =
      caching(70, fn("a", 1024, "10", 30) + fn("b", 256, "0, 60", 3) + fn("c", 256, "50", 2));
  const Traced size = trace(yaml, "size", 1280);
  CHECK(size.requests == "b@0 cold, a@10 cold, c@50 cold, b@60 warm");
  CHECK(size.evictions == "a@50 memory");
  CHECK(size.s.cold_starts == 3);
  CHECK(size.s.environments == 3);
  // Idle: b 3-60 and 61-70, c 52-70 at 0.25 GB; a 40-50 at 1 GB.
  CHECK(size.s.wasted_memory_gb_s == Approx((57 + 9 + 18) * 0.25 + 10 * 1.0));
  const Traced gd = trace(yaml, "greedy-dual", 1280);
  CHECK(gd.requests == "b@0 cold, a@10 cold, c@50 cold, b@60 cold");
  CHECK(gd.evictions == "b@50 memory, c@60 memory");
}

TEST_CASE("simulate policies: landlord credits the warm time, so it keeps a long-running function",
          "[simulator]") {
  // Budget 512 MB, all 256 MB. x: cold 11 s, warm 10 s (cheap Init, long run); y: cold
  // 10 s, warm 1 s (costly Init); z: cold 2 s. x at 0, 20, 60; y at 30, 45; z at 50.
  // When they last went idle, x's credit is its warm time 10000, y's 1000. z@50 needs
  // 256 MB: rent delta = min(10000, 1000) / 256, y's credit reaches 0 and y goes: x@60 is
  // warm. Greedy-dual weighs the Init instead (x 2 x 1000/256 = 7.8, y 2 x 9000/256 =
  // 70.3) and evicts x, so x@60 is cold there, as under LRU (x idle since 30, y 46).
  const std::string yaml =
      caching(80, fn("x", 256, "0, 20, 60", 11, 10) + fn("y", 256, "30, 45", 10) + fn("z", 256, "50", 2));
  const Traced t = trace(yaml, "landlord", 512);
  CHECK(t.requests == "x@0 cold, x@20 warm, y@30 cold, y@45 warm, z@50 cold, x@60 warm");
  CHECK(t.evictions == "y@50 memory");
  CHECK(t.s.cold_starts == 3);
  CHECK(t.s.environments == 3);
  // Idle: x 11-20, 30-60, 70-80; y 40-45, 46-50; z 52-80: 86 s at 0.25 GB.
  CHECK(t.s.wasted_memory_gb_s == Approx(86 * 0.25));
  // Lifespans x 80, y 20, z 30.
  CHECK(t.s.mean_lifespan_s == Approx(130 / 3.0));
  CHECK(t.s.avg_envs == Approx(130 / 80.0));
  const Traced gd = trace(yaml, "greedy-dual", 512);
  CHECK(gd.requests == "x@0 cold, x@20 warm, y@30 cold, y@45 warm, z@50 cold, x@60 cold");
  CHECK(gd.evictions == "x@50 memory, z@60 memory");
}

TEST_CASE("simulate policies: rand's victims depend only on its seed, within the bounds the budget sets",
          "[simulator]") {
  // a, b, c (256 MB each, cold 2 s) in turn every 10 s, three rounds; the budget holds
  // two. LRU always evicts the function asked for next, so every request is cold. Under
  // rand, c@20 evicts a or b; from then on exactly one function is missing, a request is
  // cold only when it asks for that one, and each cold request evicts exactly one other:
  // cold starts between 3 and 9, one eviction per cold start after the second.
  const std::string yaml = caching(
      90, fn("a", 256, "0, 30, 60", 2) + fn("b", 256, "10, 40, 70", 2) + fn("c", 256, "20, 50, 80", 2));
  CHECK(trace(yaml, "lru", 512).s.cold_starts == 9);
  std::set<std::string> first_victims;
  for (int seed = 1; seed <= 16; ++seed) {
    const std::string policy = "rand:seed=" + std::to_string(seed);
    const Traced t = trace(yaml, policy, 512);
    INFO(policy << ": " << t.requests << " / " << t.evictions);
    CHECK(t.s.cold_starts >= 3);
    CHECK(t.s.cold_starts <= 9);
    CHECK(t.s.environments == t.s.cold_starts);
    const auto evictions = std::count(t.evictions.begin(), t.evictions.end(), '@');
    CHECK(evictions == t.s.cold_starts - 2);
    first_victims.insert(t.evictions.substr(0, 4));
    // The victim is the function that misses next: a@30 is cold exactly when a went at 20.
    CHECK((t.requests.find("a@30 cold") != std::string::npos) == (t.evictions.rfind("a@20", 0) == 0));
    // The same seed makes the same choices.
    const Traced again = trace(yaml, policy, 512);
    CHECK(again.requests == t.requests);
    CHECK(again.evictions == t.evictions);
  }
  // Random, not LRU (which always evicts a first): both a and b are first victims.
  CHECK(first_victims == std::set<std::string>{"a@20", "b@20"});
}

TEST_CASE("simulate policies: hybrid-histogram keeps 4 h while it has seen few idle times", "[simulator]") {
  // Fewer than min_its = 10 idle times: the standard keep-alive, the histogram's range.
  // f@0 idle from 2; f@14402 exactly 4 h later, warm, idle from 14403; evicted at 28803,
  // so f@28805 is cold, and idle from 28807 to the end.
  const Traced t = trace(listed("0, 14402, 28805", 28810), "hybrid-histogram");
  CHECK(t.requests == "f@0 cold, f@14402 warm, f@28805 cold");
  CHECK(t.evictions == "f@28803 idle");
  CHECK(t.s.environments == 2);
  CHECK(t.s.wasted_memory_gb_s == Approx((14400 + 14400 + 3) * 0.25));
}

TEST_CASE("simulate policies: hybrid-histogram unloads between regular requests and pre-warms for the next",
          "[simulator]") {
  // f@0, then ten requests each 630 s after the previous one ended (at 632, 1263, ...,
  // 6311), all warm: until then each idle environment is kept 4 h (standard). After the
  // tenth (idle from 6312) there are 10 idle times, all in bin 10 ([600, 660) s), CV =
  // sqrt(239) >= 2: HIST with head 600 s and tail 660 s. Unloaded at 6312, pre-warmed at
  // 6312 + 0.9 x 600 = 6852, kept until 6312 + 1.1 x 660 = 7038.
  //   6942 (630 s idle): warm on the pre-warmed environment, idle from 6943: unloaded,
  //        pre-warm at 7483 until 7669.
  //   7243 (300 s idle, inside that window): cold, idle from 7245: unloaded; the head is
  //        now bin 5, so pre-warm at 7245 + 270 = 7515 until 7971.
  //   The pre-warm due at 7483 cannot be cancelled: it loads and waits until 7669.
  std::string times = "0";
  std::string expected = "f@0 cold";
  for (int t = 632; t <= 6942; t += 631) {
    times += ", " + std::to_string(t);
    expected += ", f@" + std::to_string(t) + " warm";
  }
  const Traced t = trace(listed(times + ", 7243", 8000), "hybrid-histogram");
  CHECK(t.requests == expected + ", f@7243 cold");
  CHECK(t.evictions == "f@6312 idle, f@6943 idle, f@7245 idle, f@7669 idle, f@7971 idle");
  CHECK(t.s.invocations == 13);
  CHECK(t.s.cold_starts == 2);
  CHECK(t.s.environments == 5);
  // Idle (pre-warms count from their load): ten gaps of 630 s, then 6852-6942, 7483-7669,
  // 7515-7971.
  CHECK(t.s.wasted_memory_gb_s == Approx((6300 + 90 + 186 + 456) * 0.25));
  // Lifespans 6312, 91, 2, 186, 456.
  CHECK(t.s.mean_lifespan_s == Approx(7047 / 5.0));
  CHECK(t.s.avg_envs == Approx(7047 / 8000.0));
}

TEST_CASE("simulate policies: hybrid-histogram pre-warms on the forecast when idle times are out of range",
          "[simulator]") {
  // range=10m, min_its=2. Idle times >= 10 min are out of bounds (OOB); once n >= 2 and
  // OOB / n >= 0.5, the window is [0.85 p, 1.15 p] after the end, p the smoothed forecast.
  //   f@0 idle from 2, kept 600 s (standard): gone at 602, so f@1002 (IT 1000) is cold.
  //   f@2004 (IT 1000) cold for the same reason (gone at 1604). p = 1000: unloaded at
  //       2006, pre-warmed at 2856, kept until 3156.
  //   f@3006 warm on it, idle from 3007: pre-warm at 3857 (until 4157).
  //   f@3507 (IT 500, in range) cold, inside that window. p = 0.5 x 500 + 0.5 x 1000 =
  //       750: unloaded at 3509, pre-warm at 3509 + 637.5 = 4146.5 (until 4371.5).
  //   f@4209 warm on it: with p still 1000 the pre-warm would come only at 4359.
  const Traced t =
      trace(listed("0, 1002, 2004, 3006, 3507, 4209", 4300), "hybrid-histogram:range=10m,min_its=2");
  CHECK(t.requests == "f@0 cold, f@1002 cold, f@2004 cold, f@3006 warm, f@3507 cold, f@4209 warm");
  CHECK(t.evictions ==
        "f@602 idle, f@1604 idle, f@2006 idle, f@3007 idle, f@3509 idle, f@4157 idle, f@4210 idle");
  CHECK(t.s.cold_starts == 4);
  CHECK(t.s.environments == 7);
  // Idle: 600 + 600 kept, then the pre-warms 2856-3006, 3857-4157 and 4146.5-4209.
  CHECK(t.s.wasted_memory_gb_s == Approx((600 + 600 + 150 + 300 + 62.5) * 0.25));
  // Lifespans 602, 602, 2, 151, 2, 300, 63.5.
  CHECK(t.s.mean_lifespan_s == Approx(1722.5 / 7));
}

}  // namespace
}  // namespace coldlab::sim
