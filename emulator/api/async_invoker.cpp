#include "api/async_invoker.h"

#include <algorithm>

namespace coldlab::api {

AsyncInvoker::AsyncInvoker(Options options, core::Dispatcher& dispatcher, core::TimerQueue& timers)
    : options_(options), dispatcher_(dispatcher), timers_(timers), workers_(options.max_workers, 4) {}

AsyncInvoker::~AsyncInvoker() { shutdown(); }

void AsyncInvoker::submit(core::InvokeRequest request) {
  // An accepted event is activity until its attempt has run: a virtual clock must not skip
  // past it while it waits for a worker.
  auto queued = std::make_shared<core::Clock::Hold>(timers_.clock().hold());
  workers_.enqueue([this, queued, request = std::move(request)]() mutable {
    run(std::move(request), 0);
    queued->reset();
  });
}

void AsyncInvoker::run(core::InvokeRequest request, int throttles) {
  auto outcome = dispatcher_.invoke(request);
  switch (outcome.kind) {
    case core::InvokeOutcome::Kind::kThrottled: {
      const int64_t age = timers_.clock().now_us() - request.received_us;
      if (age >= options_.max_event_age_us) return;  // Lambda drops it (to a DLQ, if any)
      int64_t delay = std::min<int64_t>(1'000'000LL << std::min(throttles, 9), 300'000'000);
      later(std::move(request), throttles + 1, delay);
      return;
    }
    case core::InvokeOutcome::Kind::kDone:
      if (outcome.result.status != core::InvocationResult::Status::kOk &&
          request.attempt <= options_.max_retries) {
        const int64_t delay = options_.retry_base_delay_us * request.attempt;
        request.attempt += 1;
        later(std::move(request), throttles, delay);
      }
      return;
    default:
      return;
  }
}

void AsyncInvoker::later(core::InvokeRequest request, int throttles, int64_t delay_us) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) {
    dispatcher_.record_rejected(request, "EventDroppedOnShutdown", 0);
    return;
  }
  const uint64_t key = next_key_++;
  auto id = timers_.schedule(timers_.clock().now_us() + delay_us, [this, key, throttles] {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = waiting_.find(key);
    if (it == waiting_.end()) return;
    auto req = std::move(it->second.second);
    waiting_.erase(it);
    auto queued = std::make_shared<core::Clock::Hold>(timers_.clock().hold());
    workers_.enqueue([this, queued, req = std::move(req), throttles]() mutable {
      run(std::move(req), throttles);
      queued->reset();
    });
  });
  waiting_.emplace(key, std::make_pair(id, std::move(request)));
}

void AsyncInvoker::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    shutting_down_ = true;
    for (auto& [key, entry] : waiting_) {
      timers_.cancel(entry.first);
      dispatcher_.record_rejected(entry.second, "EventDroppedOnShutdown", 0);
    }
    waiting_.clear();
  }
  workers_.shutdown();
}

}  // namespace coldlab::api
