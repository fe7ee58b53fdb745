#include "core/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without it under C++20
#include <boost/asio.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace coldlab::core {

namespace bp = boost::process;

std::string ExitStatus::describe() const {
  if (!signaled) return "exit status " + std::to_string(code);
  // Go's os.ProcessState wording, which is what Lambda's messages show.
  switch (code) {
    case SIGKILL: return "signal: killed";
    case SIGSEGV: return "signal: segmentation fault";
    case SIGABRT: return "signal: aborted";
    case SIGTERM: return "signal: terminated";
    case SIGBUS: return "signal: bus error";
    case SIGFPE: return "signal: floating point exception";
    case SIGILL: return "signal: illegal instruction";
    case SIGINT: return "signal: interrupt";
    default: return "signal: " + std::string(strsignal(code));
  }
}

namespace {

constexpr size_t kMaxLineBytes = 256 * 1024;  // longer lines are split, as CloudWatch does

class OutputCollector;

class ProcessImpl : public Process {
 public:
  ProcessImpl(ProcessSupervisor::LineFn on_line, ProcessSupervisor::ExitFn on_exit,
              OutputCollector* collector)
      : on_line_(std::move(on_line)), on_exit_(std::move(on_exit)), collector_(collector) {}
  ~ProcessImpl() override;

  int pid() const override { return pid_; }
  void kill() override {
    if (exited_.load()) return;
    ::kill(-pid_, SIGKILL);  // its process group: whatever it started
    ::kill(pid_, SIGKILL);   // in case it had not reached setpgid yet
  }
  bool exited() const override { return exited_.load(); }
  int64_t peak_rss_kib() const override;
  void drain_output() override;

  // Reads stream `i` until it would block; delivers complete lines. Caller holds out_mu_.
  void read_locked(int i);

  int pid_ = -1;
  std::unique_ptr<bp::child> child_;  // never destroyed while the child runs
  std::atomic<bool> exited_{false};
  std::mutex out_mu_;
  int fds_[2] = {-1, -1};  // read ends of stdout and stderr pipes; -1 once closed
  uint64_t stream_ids_[2] = {0, 0};
  std::string partial_[2];
  ProcessSupervisor::LineFn on_line_;
  ProcessSupervisor::ExitFn on_exit_;
  OutputCollector* collector_;
};

// One epoll thread reading every child's pipes, so a chatty function never blocks on a
// full pipe while nobody is looking.
class OutputCollector {
 public:
  OutputCollector() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + strerror(errno));
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
      throw std::runtime_error(std::string("pipe2: ") + strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;  // stream id 0 = the wake-up pipe
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_[0], &ev);
    thread_ = std::thread([this] { loop(); });
  }
  ~OutputCollector() {
    stopping_ = true;
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
    ::close(wake_[0]);
    ::close(wake_[1]);
    ::close(epfd_);
  }

  uint64_t add(const std::shared_ptr<ProcessImpl>& p, int index) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t id = next_id_++;
    streams_[id] = {p, index};
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = id;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, p->fds_[index], &ev);
    return id;
  }

  // Called with the process's out_mu_ held, before its fd is closed.
  void remove(uint64_t id, int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    streams_.erase(id);
  }

 private:
  void loop() {
    epoll_event events[64];
    while (!stopping_) {
      int n = ::epoll_wait(epfd_, events, 64, -1);
      for (int i = 0; i < n; ++i) {
        uint64_t id = events[i].data.u64;
        if (id == 0) continue;
        std::shared_ptr<ProcessImpl> p;
        int index = 0;
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = streams_.find(id);
          if (it == streams_.end()) continue;
          p = it->second.first.lock();
          index = it->second.second;
        }
        if (!p) continue;
        std::lock_guard<std::mutex> lock(p->out_mu_);
        if (p->stream_ids_[index] == id) p->read_locked(index);
      }
    }
  }

  int epfd_;
  int wake_[2];
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::pair<std::weak_ptr<ProcessImpl>, int>> streams_;
  std::thread thread_;
};

ProcessImpl::~ProcessImpl() {
  std::lock_guard<std::mutex> lock(out_mu_);
  for (int i = 0; i < 2; ++i) {
    if (fds_[i] >= 0) {
      collector_->remove(stream_ids_[i], fds_[i]);
      ::close(fds_[i]);
      fds_[i] = -1;
    }
  }
}

void ProcessImpl::read_locked(int i) {
  char buf[65536];
  while (fds_[i] >= 0) {
    ssize_t n = ::read(fds_[i], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {  // EOF or a real error: this stream is over
      collector_->remove(stream_ids_[i], fds_[i]);
      ::close(fds_[i]);
      fds_[i] = -1;
      stream_ids_[i] = 0;
      return;
    }
    std::string& part = partial_[i];
    part.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (;;) {
      size_t nl = part.find('\n', start);
      if (nl == std::string::npos) break;
      on_line_(std::string_view(part).substr(start, nl - start), i == 1);
      start = nl + 1;
    }
    part.erase(0, start);
    while (part.size() >= kMaxLineBytes) {
      on_line_(std::string_view(part).substr(0, kMaxLineBytes), i == 1);
      part.erase(0, kMaxLineBytes);
    }
  }
}

void ProcessImpl::drain_output() {
  std::lock_guard<std::mutex> lock(out_mu_);
  for (int i = 0; i < 2; ++i) {
    read_locked(i);
    if (!partial_[i].empty()) {
      on_line_(partial_[i], i == 1);
      partial_[i].clear();
    }
  }
}

int64_t ProcessImpl::peak_rss_kib() const {
  if (exited_.load()) return 0;
  // POSIX read: the process may be exiting right now, and libstdc++'s filebuf throws when
  // read() fails with ESRCH.
  int fd = ::open(("/proc/" + std::to_string(pid_) + "/status").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* hwm = std::strstr(buf, "VmHWM:");
  return hwm ? std::strtoll(hwm + 6, nullptr, 10) : 0;
}

}  // namespace

struct ProcessSupervisor::Impl {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  OutputCollector collector;
  mutable std::mutex mu;
  std::condition_variable all_reaped;
  std::unordered_map<int, std::weak_ptr<ProcessImpl>> live;
  std::thread thread;

  std::shared_ptr<Process> spawn_on_io_thread(const SpawnSpec& spec, LineFn on_line, ExitFn on_exit);
  void reaped(const std::shared_ptr<ProcessImpl>& p);
};

ProcessSupervisor::ProcessSupervisor() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

ProcessSupervisor::~ProcessSupervisor() {
  std::vector<std::shared_ptr<ProcessImpl>> victims;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& [pid, weak] : impl_->live)
      if (auto p = weak.lock()) victims.push_back(p);
  }
  for (auto& p : victims) p->kill();
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->all_reaped.wait_for(lock, std::chrono::seconds(5), [this] { return impl_->live.empty(); });
  }
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

size_t ProcessSupervisor::running() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->live.size();
}

std::shared_ptr<Process> ProcessSupervisor::spawn(const SpawnSpec& spec, LineFn on_line,
                                                  ExitFn on_exit) {
  // Spawn from the supervisor's own long-lived thread: PR_SET_PDEATHSIG fires when the
  // *thread* that forked the child exits, and request threads come and go.
  std::promise<std::shared_ptr<Process>> result;
  auto future = result.get_future();
  boost::asio::post(impl_->ioc, [&] {
    try {
      result.set_value(impl_->spawn_on_io_thread(spec, std::move(on_line), std::move(on_exit)));
    } catch (...) {
      result.set_exception(std::current_exception());
    }
  });
  return future.get();
}

std::shared_ptr<Process> ProcessSupervisor::Impl::spawn_on_io_thread(const SpawnSpec& spec,
                                                                     LineFn on_line,
                                                                     ExitFn on_exit) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + strerror(errno));
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    throw std::runtime_error(std::string("pipe2: ") + strerror(errno));
  }
  auto p = std::make_shared<ProcessImpl>(std::move(on_line), std::move(on_exit), &collector);
  p->fds_[0] = out[0];
  p->fds_[1] = err[0];
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  ::fcntl(err[0], F_SETFL, O_NONBLOCK);

  bp::environment env;
  for (const auto& [k, v] : spec.env) env[k] = v;

  const pid_t parent = ::getpid();
  const int out_w = out[1], err_w = err[1];
  const std::vector<int> join_fds = spec.join_cgroup_fds;
  const std::vector<int> inherit_fds = spec.inherit_fds;
  // Runs in the child between fork and exec: async-signal-safe calls only.
  auto child_setup = [parent, out_w, err_w, join_fds, inherit_fds](auto&) {
    for (int fd : join_fds)
      if (::write(fd, "0", 1) != 1) ::_exit(125);  // "0": the writing process itself
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the emulator died before we got here
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the emulator blocks SIGINT/SIGTERM
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(out_w, 1);
    ::dup2(err_w, 2);
    // Nothing else of the emulator's (sockets of other environments, the database)
    // may leak into a function: mark every other descriptor close-on-exec.
    ::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
    for (int fd : inherit_fds) ::fcntl(fd, F_SETFD, 0);
  };

  // The handler owns the process until it is reaped, so a caller may drop its handle right
  // after kill() (a dropped bp::child would kill and reap the child itself, and on_exit
  // would never run). Boost may also call the handler from inside the bp::child
  // constructor below, when the child has already exited: reaped() then runs later, once
  // child_ and pid_ are set.
  auto exit_handler = [this, p](int, const std::error_code&) {
    boost::asio::post(ioc, [this, p] { reaped(p); });
  };

  try {
    p->child_ = std::make_unique<bp::child>(
        bp::exe = spec.executable.string(), bp::args = spec.args, env,
        bp::start_dir = spec.working_dir.string(), bp::std_in < bp::null, ioc,
        bp::on_exit = exit_handler, bp::extend::on_exec_setup = child_setup);
  } catch (const std::exception& e) {
    ::close(out[1]);
    ::close(err[1]);
    throw std::runtime_error("cannot start " + spec.executable.string() + ": " + e.what());
  }
  ::close(out[1]);
  ::close(err[1]);
  p->pid_ = p->child_->id();
  {
    std::lock_guard<std::mutex> lock(mu);
    live[p->pid_] = p;
  }
  {
    std::lock_guard<std::mutex> lock(p->out_mu_);
    p->stream_ids_[0] = collector.add(p, 0);
    p->stream_ids_[1] = collector.add(p, 1);
  }
  return p;
}

void ProcessSupervisor::Impl::reaped(const std::shared_ptr<ProcessImpl>& p) {
  int raw = p->child_->native_exit_code();
  ExitStatus status;
  if (raw == -1) {  // waitpid failed: the status is lost, report it as killed
    status.signaled = true;
    status.code = SIGKILL;
  } else if (WIFSIGNALED(raw)) {
    status.signaled = true;
    status.code = WTERMSIG(raw);
  } else {
    status.code = WEXITSTATUS(raw);
  }
  // Whatever it started dies with it; then its last words are collected.
  ::kill(-p->pid_, SIGKILL);
  p->exited_.store(true);
  p->drain_output();
  if (p->on_exit_) p->on_exit_(status);
  {
    std::lock_guard<std::mutex> lock(mu);
    live.erase(p->pid_);
  }
  all_reaped.notify_all();
}

}  // namespace coldlab::core
