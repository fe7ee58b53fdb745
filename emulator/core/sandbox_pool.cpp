#include "core/sandbox_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <utility>

namespace coldlab::core {

namespace {

const char* const kUnclaimed = R"({"errorMessage":"this sandbox has no environment yet","errorType":"Sandbox.Failure"})";

}  // namespace

RuntimeEndpoint::Event ForwardingEndpoint::next() {
  if (auto* t = target_.load()) return t->next();
  Event e;
  e.status = 500;
  e.body = kUnclaimed;
  return e;
}

RuntimeEndpoint::Reply ForwardingEndpoint::respond(const std::string& request_id, std::string body, size_t body_size) {
  if (auto* t = target_.load()) return t->respond(request_id, std::move(body), body_size);
  return Reply{500, kUnclaimed};
}

RuntimeEndpoint::Reply ForwardingEndpoint::error(const std::string& request_id, std::string body,
                                                 const std::string& error_type_header) {
  if (auto* t = target_.load()) return t->error(request_id, std::move(body), error_type_header);
  return Reply{500, kUnclaimed};
}

RuntimeEndpoint::Reply ForwardingEndpoint::init_error(std::string body, const std::string& error_type_header) {
  if (auto* t = target_.load()) return t->init_error(std::move(body), error_type_header);
  return Reply{500, kUnclaimed};
}

SandboxPool::SandboxPool(Options options) : options_(std::move(options)) {
  if (options_.spares > 0) thread_ = std::thread([this] { refill(); });
}

SandboxPool::~SandboxPool() { drain(); }

void SandboxPool::drain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<Sandbox> spares;
  {
    std::lock_guard<std::mutex> lock(mu_);
    spares.swap(ready_);
  }
  // Processes before groups: a group's removal needs it empty.
  for (auto& s : spares) s.process.reset();
}

Sandbox SandboxPool::make() {
  Sandbox s;
  if (options_.cgroups) {
    int64_t seq;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seq = next_seq_++;
    }
    s.group = options_.cgroups->create_spare(seq);
  }
  if (options_.server_factory) {
    s.endpoint = std::make_unique<ForwardingEndpoint>();
    s.server = options_.server_factory(*s.endpoint);
  }
  s.process = standby_in(s.group.get());
  return s;
}

std::unique_ptr<StandbyProcess> SandboxPool::standby_in(const isolation::Group* group) {
  static const std::vector<int> none;
  return StandbyProcess::start(*options_.supervisor, options_.stub, group ? group->join_fds() : none);
}

Sandbox SandboxPool::take() {
  std::deque<Sandbox> dead;  // destroyed outside the lock: that kills and removes
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!ready_.empty()) {
      Sandbox s = std::move(ready_.front());
      ready_.pop_front();
      if (s.process->alive()) {
        ++taken_ready_;
        last_take_ = Clock::now();
        cv_.notify_all();
        return s;
      }
      dead.push_back(std::move(s));
    }
    ++taken_made_;
    last_take_ = Clock::now();
    cv_.notify_all();
  }
  for (auto& s : dead) s.process.reset();
  return make();
}

void SandboxPool::refill() {
  std::unique_lock<std::mutex> lock(mu_);
  bool warned = false;
  while (!stopping_) {
    cv_.wait(lock, [this] { return stopping_ || ready_.size() < options_.spares; });
    if (stopping_) break;
    // Not while the cold start that took a sandbox is starting: making one forks the
    // emulator and execs the stub, CPU the new runtime would miss on a small machine
    // (measured: about 0.5 ms more per native cold start on 2 vCPUs). So wait until takes
    // have paused for kRefillQuiet, but never longer than kRefillMaxDelay, so a steady
    // stream of cold starts still gets its spares.
    const auto needed_since = Clock::now();
    while (!stopping_ && Clock::now() - last_take_ < kRefillQuiet && Clock::now() - needed_since < kRefillMaxDelay)
      cv_.wait_until(lock, std::min(last_take_ + kRefillQuiet, needed_since + kRefillMaxDelay));
    if (stopping_) break;
    lock.unlock();
    std::optional<Sandbox> s;
    try {
      s = make();
    } catch (const std::exception& e) {
      // Cold starts still make their own; say so once, and do not spin.
      if (!warned) std::fprintf(stderr, "coldlab: cannot prepare a spare sandbox: %s\n", e.what());
      warned = true;
    }
    lock.lock();
    if (s && !stopping_) {
      ready_.push_back(std::move(*s));
    } else if (!s) {
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    }
    if (s && stopping_) {
      lock.unlock();
      s->process.reset();
      s.reset();
      lock.lock();
    }
  }
}

size_t SandboxPool::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_.size();
}

uint64_t SandboxPool::taken_ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return taken_ready_;
}

uint64_t SandboxPool::taken_made() const {
  std::lock_guard<std::mutex> lock(mu_);
  return taken_made_;
}

}  // namespace coldlab::core
