// The load driver's user model on a virtual clock with a stand-in endpoint (no processes,
// no HTTP): users join on the ramp-up schedule, each has one request outstanding, stages
// follow each other, open-loop schedules fire at their times, and iterations end a stage.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/timer_queue.h"
#include "driver/load_driver.h"
#include "scenario/scenario.h"

using namespace coldlab;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;

// Answers after a short real delay, like a warm function; the first request of each user is
// "cold". Checks that no user ever has two requests outstanding.
class FakeEndpoint : public driver::Sender {
 public:
  explicit FakeEndpoint(std::chrono::microseconds took) : took_(took) {}
  driver::Answer send(int user, const std::string& function, const std::string& payload) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (user > 0 && ++outstanding_[user] > 1) overlapped_ = true;
      functions_.insert(function);
      payloads_.insert(payload);
    }
    std::this_thread::sleep_for(took_);
    driver::Answer a;
    a.http_status = 200;
    std::lock_guard<std::mutex> lock(mu_);
    if (user > 0) --outstanding_[user];
    a.request_id = "r" + std::to_string(++count_);
    a.cold = seen_.insert(user).second;
    return a;
  }
  bool overlapped() {
    std::lock_guard<std::mutex> lock(mu_);
    return overlapped_;
  }
  std::set<std::string> functions_, payloads_;

 private:
  std::chrono::microseconds took_;
  std::mutex mu_;
  std::map<int, int> outstanding_;
  std::set<int> seen_;
  bool overlapped_ = false;
  int count_ = 0;
};

scenario::ScenarioFile one_scenario(int64_t think_us) {
  scenario::ScenarioFile file;
  scenario::Scenario s;
  s.name = "predict";
  s.think_time_us = think_us;
  scenario::Request request;
  request.label = "predict";
  request.payload = "{\"features\": [0, 215, 45076]}";
  s.requests.push_back(request);
  file.scenarios["predict"] = s;
  return file;
}

scenario::Stage closed(int concurrency, int64_t ramp_up, int steps, int64_t hold_for) {
  scenario::Stage st;
  st.scenario = "predict";
  st.concurrency = concurrency;
  st.ramp_up_us = ramp_up;
  st.steps = steps;
  st.hold_for_us = hold_for;
  return st;
}

struct Harness {
  core::VirtualClock clock;
  core::TimerQueue timers{clock};
  std::mutex mu;
  std::vector<log::RequestRecord> records;
  Harness() { clock.allow_until(core::VirtualClock::kNoLimit); }
  driver::LoadDriver::Recorder recorder() {
    return [this](const log::RequestRecord& r) {
      std::lock_guard<std::mutex> lock(mu);
      records.push_back(r);
    };
  }
};

}  // namespace

TEST_CASE("load driver: the study's ramp 3 -> 6 -> 9 -> 18 users, each joining on schedule, one request "
          "outstanding each",
          "[driver]") {
  auto file = one_scenario(10 * kSecond);
  file.execution = {closed(9, 3 * kMinute, 3, 1 * kMinute), closed(18, 0, 0, 1 * kMinute)};
  Harness h;
  FakeEndpoint endpoint(1000us);
  driver::LoadDriver driver({&file, "kdd-python", 7}, endpoint, h.clock, h.timers, h.recorder());
  const int64_t t0 = h.clock.now_us();
  const auto real_start = std::chrono::steady_clock::now();
  REQUIRE(driver.run());
  // Five minutes of users thinking 10 s between requests, in a few seconds of real time.
  CHECK(std::chrono::steady_clock::now() - real_start < 30s);
  CHECK_FALSE(endpoint.overlapped());
  CHECK(endpoint.functions_ == std::set<std::string>{"kdd-python"});

  std::map<int, int64_t> first_sent;  // user -> its first request, minutes after t0 (x 1e6)
  int64_t last_sent = 0;
  for (const auto& r : h.records) {
    CHECK(r.run_id == 7);
    CHECK_FALSE(r.open_loop);
    CHECK(r.http_status == 200);
    if (!first_sent.count(r.user_id)) first_sent[r.user_id] = r.sent_at_us - t0;
    last_sent = std::max(last_sent, r.sent_at_us - t0);
    // Stage 2 starts at 4 min (a request due at that very instant may still count as stage 1's).
    if (r.stage == 0) {
      CHECK(r.sent_at_us - t0 < 4 * kMinute + kSecond);
    } else {
      CHECK(r.stage == 1);
      CHECK(r.sent_at_us - t0 >= 4 * kMinute);
    }
  }
  REQUIRE(first_sent.size() == 18);
  // Joining times: 3 users at 0, 3 at 1 min, 3 at 2 min (3 steps over 3 min), 9 at 4 min
  // (stage 2 starts after 3 min of ramp-up and 1 min of hold). Slack: real time of requests.
  auto near = [](int64_t got, int64_t want) { return got >= want && got < want + 2 * kSecond; };
  for (int user = 1; user <= 18; ++user) {
    const int64_t want = user <= 3 ? 0 : user <= 6 ? kMinute : user <= 9 ? 2 * kMinute : 4 * kMinute;
    INFO("user " << user << " first sent at " << first_sent[user] / 1e6 << " s");
    CHECK(near(first_sent[user], want));
  }
  CHECK(last_sent < 5 * kMinute);  // nobody sends after the last stage's hold
  // Users recorded as active when each request was sent: 3, 6, 9, then 18.
  std::set<int> user_counts;
  for (const auto& r : h.records) user_counts.insert(r.users);
  CHECK(user_counts.count(18) == 1);
  CHECK(*user_counts.rbegin() == 18);
  // With think-time 10 s, each user sends about once per 10 s while it is in: 3 users x 60 s
  // + 6 x 60 + 9 x 120 + 18 x 60 = 2700 user-seconds -> about 270 requests.
  CHECK(h.records.size() >= 250);
  CHECK(h.records.size() <= 290);
}

TEST_CASE("load driver: an open-loop schedule fires at its times, whatever the answers", "[driver]") {
  auto file = one_scenario(0);
  scenario::Stage st;
  st.scenario = "predict";
  st.at_us = {0, 6 * kMinute, 16 * kMinute, 31 * kMinute, 61 * kMinute};
  file.execution = {st};
  Harness h;
  FakeEndpoint endpoint(2000us);
  driver::LoadDriver driver({&file, "kdd-java", 1}, endpoint, h.clock, h.timers, h.recorder());
  const int64_t t0 = h.clock.now_us();
  const auto real_start = std::chrono::steady_clock::now();
  REQUIRE(driver.run());
  CHECK(std::chrono::steady_clock::now() - real_start < 5s);
  REQUIRE(h.records.size() == 5);
  const int64_t start = h.records[0].scheduled_at_us;  // the stage's start, read by run()
  CHECK(start - t0 >= 0);
  CHECK(start - t0 < kSecond);
  for (size_t i = 0; i < 5; ++i) {
    const auto& r = h.records[i];
    CHECK(r.open_loop);
    CHECK(r.user_id == 0);
    CHECK(r.iteration == static_cast<int64_t>(i));
    CHECK(r.scheduled_at_us == start + st.at_us[i]);
    CHECK(r.sent_at_us >= r.scheduled_at_us);
    CHECK(r.sent_at_us - r.scheduled_at_us < kSecond);
    CHECK(r.latency_us >= 2000);
  }
  CHECK_FALSE(driver.lag().behind());
}

TEST_CASE("load driver: iterations end a stage once every user has done them, the next stage follows",
          "[driver]") {
  auto file = one_scenario(30 * kSecond);
  scenario::Stage first = closed(3, 0, 0, 0);
  first.iterations = 2;
  scenario::Stage second;
  second.scenario = "predict";
  second.at_us = {0};
  file.execution = {first, second};
  Harness h;
  FakeEndpoint endpoint(500us);
  driver::LoadDriver driver({&file, "echo", 1}, endpoint, h.clock, h.timers, h.recorder());
  REQUIRE(driver.run());
  std::map<int, int> per_user;
  int64_t last_closed = 0, open_sent = 0;
  for (const auto& r : h.records) {
    if (r.open_loop) {
      open_sent = r.sent_at_us;
    } else {
      ++per_user[r.user_id];
      last_closed = std::max(last_closed, *r.answered_at_us);
    }
  }
  CHECK(per_user == std::map<int, int>{{1, 2}, {2, 2}, {3, 2}});
  // Each user sent twice, 30 s apart; the open-loop stage started when the last answered.
  CHECK(open_sent >= last_closed);
  CHECK(open_sent - last_closed < kSecond);
}

TEST_CASE("load driver: interrupt stops new requests and run() returns false", "[driver]") {
  auto file = one_scenario(0);
  file.execution = {closed(2, 0, 0, 60 * kMinute)};
  Harness h;
  FakeEndpoint endpoint(1000us);
  driver::LoadDriver driver({&file, "echo", 1}, endpoint, h.clock, h.timers, h.recorder());
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    driver.interrupt();
  });
  const bool completed = driver.run();
  stopper.join();
  CHECK_FALSE(completed);
  const size_t n = h.records.size();
  CHECK(n > 0);
  std::this_thread::sleep_for(50ms);
  CHECK(h.records.size() == n);
  CHECK(driver.progress().in_flight == 0);
}

TEST_CASE("load driver: a driver that falls behind its schedule says so", "[driver]") {
  auto file = one_scenario(0);
  scenario::Stage st;
  st.scenario = "predict";
  for (int i = 0; i <= 10; ++i) st.at_us.push_back(i * 100'000);  // every 100 ms for 1 s
  file.execution = {st};
  Harness h;
  FakeEndpoint endpoint(100us);
  // Something else keeps the timer thread busy for half a second at the schedule's start,
  // as a saturated machine would: the first half of the requests go out late.
  h.timers.schedule(h.clock.now_us(), [] { std::this_thread::sleep_for(500ms); });
  driver::LoadDriver driver({&file, "echo", 1}, endpoint, h.clock, h.timers, h.recorder());
  REQUIRE(driver.run());
  const driver::Lag lag = driver.lag();
  CHECK(lag.behind());
  CHECK(lag.open_fraction > 0.10);
  CHECK(lag.max_lag_us >= 300'000);
  CHECK(lag.describe().find("behind its schedule") != std::string::npos);
}

TEST_CASE("load driver: on time, it does not claim to be behind", "[driver]") {
  auto file = one_scenario(0);
  scenario::Stage st;
  st.scenario = "predict";
  for (int i = 0; i <= 10; ++i) st.at_us.push_back(i * 100'000);
  file.execution = {st};
  Harness h;
  FakeEndpoint endpoint(100us);
  driver::LoadDriver driver({&file, "echo", 1}, endpoint, h.clock, h.timers, h.recorder());
  REQUIRE(driver.run());
  CHECK_FALSE(driver.lag().behind());
}
