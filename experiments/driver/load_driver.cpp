#include "driver/load_driver.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace coldlab::driver {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

}  // namespace

std::string Lag::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "the driver issued requests behind its schedule: %.1f %% of closed-loop users' time, %.1f %% of "
                "the open-loop schedule's span (largest delay %.1f ms); this machine may be saturated, so "
                "latencies and throughput measure it, not only the function",
                closed_fraction * 100, open_fraction * 100, static_cast<double>(max_lag_us) / 1000);
  return buf;
}

LoadDriver::LoadDriver(Config config, Sender& sender, core::Clock& clock, core::TimerQueue& timers,
                       Recorder record)
    : config_(std::move(config)), sender_(sender), clock_(clock), timers_(timers), record_(std::move(record)) {}

LoadDriver::~LoadDriver() {
  interrupt();
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& u : users_) leave_locked(u);
  join_left_users(lock);
  auto senders = std::move(open_senders_);
  lock.unlock();
  for (auto& t : senders) t.join();
  // A timer callback of ours may be running right now (its cancel came too late): the
  // timer thread runs callbacks one at a time, so once this one has run, none of ours is.
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  timers_.schedule(std::numeric_limits<int64_t>::min(), [&] {
    std::lock_guard<std::mutex> l(done_mu);
    done = true;
    done_cv.notify_all();
  });
  std::unique_lock<std::mutex> l(done_mu);
  done_cv.wait(l, [&] { return done; });
}

const std::string& LoadDriver::function_of(const scenario::Request& request) const {
  return request.function.empty() ? config_.function : request.function;
}

Progress LoadDriver::progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  Progress p;
  p.stage = stage_index_;
  p.stages = static_cast<int>(config_.file->execution.size());
  p.users = active_users_locked();
  p.sent = sent_;
  p.answered = answered_;
  p.errors = errors_;
  p.in_flight = in_flight_;
  return p;
}

Lag LoadDriver::lag() const {
  std::lock_guard<std::mutex> lock(mu_);
  Lag l;
  if (closed_busy_us_ > 0) l.closed_fraction = static_cast<double>(closed_lag_us_) / static_cast<double>(closed_busy_us_);
  if (open_span_us_ > 0) l.open_fraction = static_cast<double>(open_lag_us_) / static_cast<double>(open_span_us_);
  l.max_lag_us = max_lag_us_;
  return l;
}

int LoadDriver::active_users_locked() const {
  int n = 0;
  for (const auto& u : users_)
    if (u.joined && !u.leave) ++n;
  return n;
}

void LoadDriver::interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  for (auto& u : users_)
    if (u.timer && timers_.cancel(u.timer)) u.timer = 0;
  cv_.notify_all();
}

bool LoadDriver::run() {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t start = clock_.now_us();
  const auto& stages = config_.file->execution;
  for (size_t k = 0; k < stages.size() && !interrupted_; ++k) {
    stage_index_ = static_cast<int>(k);
    start = stages[k].at_us.empty() ? run_closed_stage(lock, stages[k], start) : run_open_stage(lock, stages[k], start);
  }
  for (auto& u : users_) leave_locked(u);
  join_left_users(lock);
  // The run ends with its last answer: from here until the driver is gone the clock stays
  // held, so that nothing after the schedule (an eviction) happens in skipped time.
  if (!stage_hold_) stage_hold_ = clock_.hold();
  return !interrupted_;
}

void LoadDriver::leave_locked(User& u) {
  u.leave = true;
  if (u.timer && timers_.cancel(u.timer)) u.timer = 0;
  cv_.notify_all();
}

void LoadDriver::join_left_users(std::unique_lock<std::mutex>& lock) {
  std::vector<std::thread> threads;
  for (auto& u : users_)
    if (u.leave && u.thread.joinable()) threads.push_back(std::move(u.thread));
  lock.unlock();
  for (auto& t : threads) t.join();
  lock.lock();
  // Users that left stay in the list until the destructor: a wake-up of theirs whose
  // cancel came too late may still be about to run.
}

bool LoadDriver::wait_until(std::unique_lock<std::mutex>& lock, int64_t deadline_us,
                            const std::function<bool()>& done) {
  auto fired = std::make_shared<bool>(false);
  core::TimerQueue::TimerId timer = 0;
  if (deadline_us != kNever) {
    timer = timers_.schedule(deadline_us, [this, fired] {
      std::lock_guard<std::mutex> l(mu_);
      *fired = true;
      stage_hold_ = clock_.hold();
      cv_.notify_all();
    });
  }
  stage_hold_.reset();
  cv_.wait(lock, [&] { return interrupted_ || *fired || done(); });
  if (timer) timers_.cancel(timer);
  return !interrupted_;
}

int64_t LoadDriver::run_closed_stage(std::unique_lock<std::mutex>& lock, const scenario::Stage& stage,
                                     int64_t start) {
  scenario_ = &config_.file->scenarios.at(stage.scenario);
  think_us_ = stage.think_time_us.value_or(scenario_->think_time_us);
  const int64_t budget = stage.iterations.value_or(-1);
  // Users beyond the stage's concurrency leave, the newest first.
  int staying = 0;
  for (auto& u : users_)
    if (!u.leave) ++staying;
  for (auto it = users_.rbegin(); it != users_.rend() && staying > stage.concurrency; ++it) {
    if (it->leave) continue;
    leave_locked(*it);
    --staying;
  }
  for (auto& u : users_) {
    if (u.leave) continue;
    // A user that had used up its iterations resumes with this stage, not before it.
    if (u.budget == 0) u.next_at = std::max(u.next_at, start);
    u.budget = budget;
  }
  // The users the stage adds join over its ramp-up: one by one, or in `steps` groups.
  const int added = stage.concurrency - staying;
  for (int i = 0; i < added; ++i) {
    int64_t join = start;
    if (stage.ramp_up_us > 0) {
      join += stage.steps > 0 ? stage.ramp_up_us * (i * stage.steps / added) / stage.steps
                              : stage.ramp_up_us * i / added;
    }
    User& u = users_.emplace_back();
    u.id = next_user_id_++;
    u.next_at = join;
    u.budget = budget;
    u.start_hold = clock_.hold();
    u.thread = std::thread([this, &u] { user_loop(u); });
  }
  cv_.notify_all();
  const bool timed = stage.hold_for_us > 0 || !stage.iterations;
  const int64_t end = timed ? start + stage.ramp_up_us + stage.hold_for_us : kNever;
  bool by_time = true;
  wait_until(lock, end, [&] {
    if (!stage.iterations) return false;
    for (const auto& u : users_)
      if (!u.leave && u.budget != 0) return false;
    by_time = false;
    return true;
  });
  return by_time && end != kNever ? end : clock_.now_us();
}

void LoadDriver::user_loop(User& u) {
  std::unique_lock<std::mutex> lock(mu_);
  // Some hold is alive from the moment this user's request is due until its next wake-up
  // is scheduled, so a virtual clock never skips past a due request.
  core::Clock::Hold carry = std::move(u.start_hold);
  for (;;) {
    core::Clock::Hold active;
    for (;;) {
      if (u.leave || interrupted_) {
        if (u.timer && timers_.cancel(u.timer)) u.timer = 0;
        u.handed.reset();
        return;
      }
      if (u.woken) {
        active = std::move(u.handed);
        u.woken = false;
        break;
      }
      if (u.budget != 0 && u.timer == 0) {
        if (clock_.now_us() >= u.next_at) {
          active = clock_.hold();
          break;
        }
        User* user = &u;
        u.timer = timers_.schedule(u.next_at, [this, user] {
          std::lock_guard<std::mutex> l(mu_);
          user->timer = 0;
          if (!user->leave && !interrupted_) {
            user->handed = clock_.hold();
            user->woken = true;
          }
          cv_.notify_all();
        });
      }
      carry.reset();
      cv_.wait(lock);
    }
    carry.reset();
    u.joined = true;
    const auto& requests = scenario_->requests;
    const scenario::Request request = requests[u.next_request % requests.size()];
    const int64_t scheduled = u.next_at;
    const int64_t iteration = u.iteration;
    const int stage = stage_index_;
    const int users = active_users_locked();
    lock.unlock();
    const int64_t answered = send_and_record(request, u.id, iteration, stage, false, scheduled, users);
    lock.lock();
    if (++u.next_request >= requests.size()) {
      u.next_request = 0;
      ++u.iteration;
      if (u.budget > 0 && --u.budget == 0) {
        // The last user to finish its iterations ends the stage.
        bool last = true;
        for (const auto& other : users_)
          if (!other.leave && other.budget != 0) last = false;
        if (last) stage_hold_ = clock_.hold();
        cv_.notify_all();
      }
    }
    u.next_at = answered + request.think_time_us.value_or(think_us_);
    carry = std::move(active);
  }
}

int64_t LoadDriver::run_open_stage(std::unique_lock<std::mutex>& lock, const scenario::Stage& stage,
                                   int64_t start) {
  // Closed-loop users of earlier stages leave (their requests in flight finish first).
  for (auto& u : users_) leave_locked(u);
  join_left_users(lock);
  const scenario::Scenario& sc = config_.file->scenarios.at(stage.scenario);
  const int index = stage_index_;
  open_pending_ = stage.at_us.size();
  open_timers_.clear();
  open_span_us_ += stage.at_us.back() - stage.at_us.front();
  for (size_t i = 0; i < stage.at_us.size(); ++i) {
    const int64_t due = start + stage.at_us[i];
    open_timers_.push_back(timers_.schedule(due, [this, &sc, i, due, index] {
      std::lock_guard<std::mutex> l(mu_);
      if (interrupted_) return;
      core::Clock::Hold active = clock_.hold();
      open_senders_.emplace_back([this, &sc, i, due, index, active = std::move(active)]() mutable {
        for (const auto& request : sc.requests)
          send_and_record(request, 0, static_cast<int64_t>(i), index, true, due, 0);
        std::lock_guard<std::mutex> l2(mu_);
        if (--open_pending_ == 0) stage_hold_ = std::move(active);
        active.reset();
        cv_.notify_all();
      });
    }));
  }
  wait_until(lock, kNever, [this] { return open_pending_ == 0; });
  if (interrupted_) {
    for (auto id : open_timers_) timers_.cancel(id);
    cv_.wait(lock, [this] { return in_flight_ == 0; });
  }
  auto senders = std::move(open_senders_);
  open_senders_.clear();
  lock.unlock();
  for (auto& t : senders) t.join();
  lock.lock();
  return clock_.now_us();
}

int64_t LoadDriver::send_and_record(const scenario::Request& request, int user, int64_t iteration, int stage,
                                    bool open_loop, int64_t scheduled_us, int users) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
    ++sent_;
  }
  const std::string& function = function_of(request);
  const int64_t sent = clock_.now_us();
  const Answer a = sender_.send(user, function, request.payload);
  const int64_t answered = clock_.now_us();

  log::RequestRecord r;
  r.run_id = config_.run_id;
  r.request_id = a.request_id;
  r.stage = stage;
  r.open_loop = open_loop;
  r.user_id = user;
  r.iteration = iteration;
  r.label = request.label;
  r.function = function;
  r.users = users;
  r.scheduled_at_us = scheduled_us;
  r.sent_at_us = sent;
  if (a.http_status) {
    r.answered_at_us = answered;
    r.latency_us = answered - sent;
  }
  r.network_delay_us = a.network_delay_us;
  r.http_status = a.http_status;
  r.function_error = a.function_error;
  r.error = a.error;
  r.cold = a.cold;
  r.init_ms = a.init_ms;
  r.response_bytes = a.response_bytes;
  record_(r);

  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
  ++answered_;
  if (!a.ok()) ++errors_;
  const int64_t lag = std::max<int64_t>(0, sent - scheduled_us);
  max_lag_us_ = std::max(max_lag_us_, lag);
  if (open_loop) {
    open_lag_us_ += lag;
  } else {
    closed_lag_us_ += lag;
    closed_busy_us_ += answered - std::min(scheduled_us, sent);
  }
  cv_.notify_all();
  return answered;
}

}  // namespace coldlab::driver
