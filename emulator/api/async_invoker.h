// Asynchronous (Event) invocations: accepted at once (202), run in the background through
// the dispatcher like any other invocation, and retried as Lambda retries them:
// - on a function error (error, timeout, crash): twice more, after 1 and then 2 minutes
//   (the base delay is configurable so tests need not wait minutes);
// - when throttled: with backoff from 1 s to 5 min, until the event is 6 hours old.
// Every attempt is one row in the invocation log, with the same request id and its attempt
// number. On shutdown, events still waiting for a retry are logged as rejected, so no
// accepted event disappears without a trace.
//
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "api/task_queue.h"
#include "core/dispatcher.h"
#include "core/timer_queue.h"

namespace coldlab::api {

class AsyncInvoker {
 public:
  struct Options {
    int max_retries = 2;
    int64_t retry_base_delay_us = 60'000'000;  // retries after 1x and 2x this
    int64_t max_event_age_us = 6LL * 3600 * 1'000'000;
    size_t max_workers = 1000;
  };

  AsyncInvoker(Options options, core::Dispatcher& dispatcher, core::TimerQueue& timers);
  ~AsyncInvoker();
  AsyncInvoker(const AsyncInvoker&) = delete;
  AsyncInvoker& operator=(const AsyncInvoker&) = delete;

  // Accepts an event (request.invocation_type should be "Event").
  void submit(core::InvokeRequest request);

  // Stops retrying (waiting events are logged as rejected) and waits for running attempts.
  void shutdown();

 private:
  void run(core::InvokeRequest request, int throttles);
  void later(core::InvokeRequest request, int throttles, int64_t delay_us);

  const Options options_;
  core::Dispatcher& dispatcher_;
  core::TimerQueue& timers_;
  std::mutex mu_;
  bool shutting_down_ = false;
  uint64_t next_key_ = 1;
  std::map<uint64_t, std::pair<core::TimerQueue::TimerId, core::InvokeRequest>> waiting_;
  ElasticTaskQueue workers_;
};

}  // namespace coldlab::api
