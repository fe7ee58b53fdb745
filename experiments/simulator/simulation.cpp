#include "simulation.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "log/invocation_log.h"
#include "policy_spec.h"
#include "registry.h"
#include "scheduler.h"

namespace coldlab::sim {
namespace {

using policies::Scheduler;
using policies::TimeUs;

constexpr int64_t kProgressEvery = 1 << 20;

// std::llround's result, without its libm call on every event.
int64_t to_us(double seconds) {
  const double us = seconds * 1e6;
  if (!(us >= 0) || us >= 9e15) return static_cast<int64_t>(std::llround(us));
  int64_t whole = static_cast<int64_t>(us);
  if (us - static_cast<double>(whole) >= 0.5) ++whole;  // exact: us < 2^53
  return whole;
}

// One request, from arrival to completion.
struct Request {
  int64_t seq = 0;         // arrival order, for request ids
  TimeUs arrived_us = 0;
  uint32_t function = 0;
  bool ping = false;
};

// An environment as the loop knows it (the Scheduler's Pool knows the policy's view).
struct Env {
  uint32_t function = 0;
  int memory_mb = 0;
  TimeUs created_us = 0;
  TimeUs ready_us = 0;     // Init over; a request placed earlier waits
  int active = 0;
};

struct Event {
  enum class Kind : uint8_t { kCompletion, kReady } kind;
  bool cold;
  int64_t env;
  Request request;
  double init_s;           // cold: the Init share, when the workload models it (< 0: not)
  double service_s;
};

// When an event happens; the event itself waits in a slab, so the heap moves 24 bytes.
struct Due {
  TimeUs at_us;
  int64_t order;           // ties: the order they were scheduled in
  uint32_t slot;
  bool operator>(const Due& o) const { return at_us != o.at_us ? at_us > o.at_us : order > o.order; }
};

// Events by time, first scheduled first among equals.
class EventQueue {
 public:
  bool empty() const { return heap_.empty(); }
  TimeUs next_at() const { return heap_.top().at_us; }
  void push(TimeUs at_us, const Event& e) {
    uint32_t slot;
    if (free_.empty()) {
      slot = static_cast<uint32_t>(slab_.size());
      slab_.push_back(e);
    } else {
      slot = free_.back();
      free_.pop_back();
      slab_[slot] = e;
    }
    heap_.push({at_us, order_++, slot});
  }
  Event pop() {
    const uint32_t slot = heap_.top().slot;
    heap_.pop();
    free_.push_back(slot);
    return slab_[slot];
  }

 private:
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> heap_;
  std::vector<Event> slab_;
  std::vector<uint32_t> free_;
  int64_t order_ = 0;
};

class Loop {
 public:
  Loop(Workload& w, const SimulationOptions& o)
      : w_(w),
        o_(o),
        scheduler_({o.memory_budget_mb}, policies::make_keep_alive(o.keep_alive),
                   policies::make_scale_out(o.scale_out), [this] { return next_env_id(); }),
        app_of_(),
        metrics_(count_apps()) {
    for (size_t i = 0; i < w_.functions.size(); ++i) {
      const SimFunction& f = w_.functions[i];
      scheduler_.set_function({f.name, f.memory_mb, std::nullopt});
      handles_.push_back(scheduler_.pool().handle(f.name));
      index_[f.name] = static_cast<uint32_t>(i);
      rng_.push_back(Rng::stream(o.seed, "service/" + f.name));
    }
    if (o_.log) next_id_ = o_.log->allocate_environment_id();
    // As the live emulator refuses it: a caching policy without a budget would keep
    // everything for ever and say nothing about the policy.
    if (scheduler_.keep_alive().needs_memory_budget() && o_.memory_budget_mb <= 0)
      throw policies::SpecError("keep-alive policy " + scheduler_.keep_alive().name() +
                                " evicts only when memory runs short; give --memory-budget MB");
  }

  Summary run() {
    Arrival next{};
    bool more = w_.arrivals->next(next);
    TimeUs now = 0;
    for (;;) {
      TimeUs t = policies::kForever;
      if (!events_.empty()) t = events_.next_at();
      if (more) t = std::min(t, next.at_us);
      const TimeUs due = scheduler_.next_deadline();
      if (!more && events_.empty() && (due == policies::kForever || due >= std::max(w_.duration_us, now))) break;
      t = std::min(t, due);
      if (t <= now) {
        t = now;  // a policy asking for the past runs now
        // take_work(now) runs everything due at now, so only a policy that keeps asking
        // for the present could bring the loop back here for ever.
        if (++stalled_ > 10000)
          throw std::logic_error("the keep-alive policy " + scheduler_.keep_alive().name() +
                                 " keeps asking for a tick at the same instant");
      } else {
        stalled_ = 0;
      }
      now = t;
      metrics_.advance(now);
      while (!events_.empty() && events_.next_at() == now) {
        const Event e = events_.pop();
        if (e.kind == Event::Kind::kCompletion) {
          complete(e, now);
        } else {
          ready(e, now);
        }
      }
      while (more && next.at_us == now) {
        arrive({arrivals_++, now, next.function, false}, now);
        more = w_.arrivals->next(next);
        if (more && next.at_us < now) throw WorkloadError("the workload's arrivals are not in time order");
      }
      apply(scheduler_.take_work(now), now);
      if (o_.progress && ++events_seen_ % kProgressEvery == 0) o_.progress({now, w_.duration_us, arrivals_});
    }
    const TimeUs end = std::max(w_.duration_us, now);
    std::map<int64_t, Env> left(envs_.begin(), envs_.end());  // by id: rows in a stable order
    std::vector<std::pair<int, int64_t>> alive;
    for (const auto& [id, env] : left) {
      alive.emplace_back(env.memory_mb, env.created_us);
      if (o_.log) o_.log->record(log::EnvironmentEnded{id, end, "shutdown", ""});
    }
    if (o_.progress) o_.progress({end, w_.duration_us, arrivals_});
    Summary s = metrics_.finish(end, arrivals_, alive);
    s.keep_alive = scheduler_.keep_alive().name();
    s.scale_out = scheduler_.scale_out().name();
    s.memory_budget_mb = o_.memory_budget_mb;
    s.seed = o_.seed;
    return s;
  }

 private:
  size_t count_apps() {
    std::unordered_map<std::string, size_t> apps;
    for (const SimFunction& f : w_.functions) {
      auto [it, added] = apps.try_emplace(f.app.empty() ? f.name : f.app, apps.size());
      app_of_.push_back(it->second);
    }
    return apps.size();
  }

  int64_t next_env_id() { return next_id_++; }

  void arrive(const Request& r, TimeUs now) {
    const Scheduler::Admission a = scheduler_.request(handles_[r.function], now);
    switch (a.kind) {
      case Scheduler::Admission::Kind::kRun:
        start(r, a.placement, now);
        break;
      case Scheduler::Admission::Kind::kQueued:
        metrics_.request_queued();
        queued_.emplace(a.ticket, r);
        break;
      case Scheduler::Admission::Kind::kThrottled:
        reject(r, now);
        break;
    }
  }

  void start(const Request& r, const Scheduler::Placement& p, TimeUs now) {
    const SimFunction& f = w_.functions[r.function];
    Rng& rng = rng_[r.function];
    double init_s = -1, service_s;
    if (p.cold) {
      Env env{r.function, f.memory_mb, now, now, 0};
      if (f.init) {
        init_s = f.init->sample(rng);
        service_s = init_s + f.warm.sample(rng);
      } else {
        service_s = f.cold.sample(rng);
      }
      env.ready_us = now + to_us(init_s > 0 ? init_s : 0);
      envs_.emplace(p.environment_id, env);
      metrics_.env_started(f.memory_mb, now);
      if (o_.log) {
        o_.log->record(log::EnvironmentStarted{p.environment_id, o_.run_id, f.name, f.memory_mb, "", 0, now});
        if (init_s >= 0) o_.log->record(log::EnvironmentReady{p.environment_id, env.ready_us, init_s * 1e3});
      }
    } else {
      service_s = f.warm.sample(rng);
    }
    Env& env = envs_.at(p.environment_id);
    if (env.active++ == 0) metrics_.env_busy(env.memory_mb, now);
    const TimeUs begin = p.cold ? now : std::max(now, env.ready_us);
    events_.push(begin + to_us(service_s), {Event::Kind::kCompletion, p.cold, p.environment_id, r, init_s, service_s});
  }

  void complete(const Event& e, TimeUs now) {
    Env& env = envs_.at(e.env);
    const SimFunction& f = w_.functions[e.request.function];
    if (!e.request.ping)
      metrics_.request_ran(app_of_[e.request.function], e.cold,
                           static_cast<double>(now - e.request.arrived_us) / 1e6);
    if (o_.log) record_invocation(e, f, now);
    if (--env.active == 0) metrics_.env_idle(env.memory_mb, now);
    scheduler_.finished(e.env, true, e.cold, e.service_s * 1e3, now);
  }

  void ready(const Event& e, TimeUs now) {
    if (o_.log) o_.log->record(log::EnvironmentReady{e.env, now, e.init_s * 1e3});
  }

  void reject(const Request& r, TimeUs now) {
    if (r.ping) return;
    metrics_.request_rejected();
    if (!o_.log) return;
    const SimFunction& f = w_.functions[r.function];
    log::InvocationRecord row;
    row.request_id = request_id(r);
    row.run_id = o_.run_id;
    row.function = f.name;
    row.memory_mb = f.memory_mb;
    row.invocation_type = "RequestResponse";
    row.started_at_us = r.arrived_us;
    row.status = "throttled";
    row.error_type = "TooManyRequestsException";
    row.latency_us = now - r.arrived_us;
    o_.log->record(row);
  }

  void record_invocation(const Event& e, const SimFunction& f, TimeUs now) {
    log::InvocationRecord row;
    row.request_id = request_id(e.request);
    row.run_id = o_.run_id;
    row.function = f.name;
    row.memory_mb = f.memory_mb;
    row.environment_id = e.env;
    row.cold = e.cold;
    row.invocation_type = e.request.ping ? "Ping" : "RequestResponse";  // as the emulator logs them
    row.started_at_us = e.request.arrived_us;
    double duration_s = e.service_s;
    if (e.cold && e.init_s >= 0) {
      row.init_ms = e.init_s * 1e3;
      duration_s -= e.init_s;
    }
    row.duration_ms = duration_s * 1e3;
    row.billed_ms = static_cast<int64_t>(std::ceil(row.duration_ms));
    row.status = "ok";
    row.latency_us = now - e.request.arrived_us;
    o_.log->record(row);
  }

  // Unique in the file and the same in every rerun: the run, then requests and pings
  // numbered apart.
  std::string request_id(const Request& r) const {
    char id[48];
    std::snprintf(id, sizeof id, "%08llx-0000-4000-%s-%012llx", static_cast<unsigned long long>(o_.run_id),
                  r.ping ? "8001" : "8000", static_cast<unsigned long long>(r.seq));
    return id;
  }

  void apply(const Scheduler::Work& work, TimeUs now) {
    if (work.empty()) return;
    for (const auto& x : work.evict) end_env(x.environment_id, x.reason, now);
    for (const auto& x : work.start) {
      const uint32_t fi = index_.at(x.function);
      const SimFunction& f = w_.functions[fi];
      Rng& rng = rng_[fi];
      const double init_s = f.init ? f.init->sample(rng) : std::max(0.0, f.cold.sample(rng) - f.warm.sample(rng));
      Env env{fi, x.memory_mb, now, now + to_us(init_s), 0};
      envs_.emplace(x.environment_id, env);
      metrics_.env_started(x.memory_mb, now);
      if (o_.log) o_.log->record(log::EnvironmentStarted{x.environment_id, o_.run_id, f.name, x.memory_mb, "", 0, now});
      events_.push(env.ready_us, {Event::Kind::kReady, false, x.environment_id, Request{}, init_s, 0});
    }
    for (const auto& name : work.ping) {
      metrics_.ping();
      arrive({pings_++, now, index_.at(name), true}, now);
    }
    for (const auto& x : work.dispatch) {
      auto it = queued_.find(x.ticket);
      if (it == queued_.end()) continue;
      const Request r = it->second;
      queued_.erase(it);
      start(r, x.placement, now);
    }
    for (const auto& x : work.expire) {
      auto it = queued_.find(x.ticket);
      if (it == queued_.end()) continue;
      const Request r = it->second;
      queued_.erase(it);
      reject(r, now);
    }
    // A ping or a dispatch may have produced more work at this instant.
    if (!work.ping.empty() || !work.dispatch.empty()) {
      Scheduler::Work more = scheduler_.take_work(now);
      if (!more.empty()) apply(more, now);
    }
  }

  void end_env(int64_t id, const std::string& reason, TimeUs now) {
    auto it = envs_.find(id);
    if (it == envs_.end()) return;
    metrics_.env_ended(it->second.memory_mb, it->second.active > 0, it->second.created_us, now);
    if (o_.log) o_.log->record(log::EnvironmentEnded{id, now, reason, ""});
    envs_.erase(it);
  }

  Workload& w_;
  const SimulationOptions& o_;
  Scheduler scheduler_;
  std::vector<size_t> app_of_;  // before metrics_, which count_apps() sizes
  MetricsRecorder metrics_;
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<policies::Pool::FunctionHandle> handles_;  // by function index
  std::vector<Rng> rng_;
  std::unordered_map<int64_t, Env> envs_;
  std::unordered_map<int64_t, Request> queued_;
  EventQueue events_;
  int64_t next_id_ = 1;
  int64_t arrivals_ = 0;
  int64_t pings_ = 0;
  int64_t events_seen_ = 0;
  int stalled_ = 0;
};

}  // namespace

Summary simulate(Workload& workload, const SimulationOptions& options) {
  const auto began = std::chrono::steady_clock::now();
  Loop loop(workload, options);
  Summary s = loop.run();
  s.workload = workload.file.string();
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return s;
}

}  // namespace coldlab::sim
