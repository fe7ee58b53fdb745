#include "core/standby_process.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace coldlab::core {

// Where the process's output and exit go: held while it waits, delivered once bound,
// dropped if become() fails.
struct StandbyProcess::Relay {
  enum class State { kWaiting, kBound, kDiscard };
  std::mutex mu;
  State state = State::kWaiting;
  ProcessSupervisor::LineFn on_line;
  ProcessSupervisor::ExitFn on_exit;
  std::vector<std::pair<std::string, bool>> held_lines;
  std::optional<ExitStatus> held_exit;

  void line(std::string_view text, bool from_stderr) {
    std::lock_guard<std::mutex> lock(mu);
    // Delivered under the lock, so lines stay in order with those bind() flushes.
    if (state == State::kBound) on_line(text, from_stderr);
    if (state == State::kWaiting) held_lines.emplace_back(std::string(text), from_stderr);
  }
  void exit(ExitStatus status) {
    ProcessSupervisor::ExitFn fn;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (state == State::kWaiting) held_exit = status;
      if (state != State::kBound) return;
      fn = on_exit;
    }
    fn(status);
  }
  void bind(ProcessSupervisor::LineFn line_fn, ProcessSupervisor::ExitFn exit_fn) {
    std::optional<ExitStatus> exited;
    {
      std::lock_guard<std::mutex> lock(mu);
      state = State::kBound;
      on_line = std::move(line_fn);
      on_exit = std::move(exit_fn);
      for (const auto& [text, err] : held_lines) on_line(text, err);
      held_lines.clear();
      exited = held_exit;
    }
    if (exited) on_exit(*exited);
  }
  void discard() {
    std::lock_guard<std::mutex> lock(mu);
    state = State::kDiscard;
    held_lines.clear();
  }
};

namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// exe \0 cwd \0 N \0 arg1 \0 ... argN \0 KEY=VALUE \0 ...
std::string encode(const SpawnSpec& spec) {
  std::string out;
  auto put = [&out](const std::string& s) {
    out += s;
    out.push_back('\0');
  };
  put(spec.executable.string());
  put(spec.working_dir.empty() ? std::string("/") : spec.working_dir.string());
  put(std::to_string(spec.args.size()));
  for (const auto& a : spec.args) put(a);
  for (const auto& [k, v] : spec.env) put(k + "=" + v);
  return out;
}

}  // namespace

std::unique_ptr<StandbyProcess> StandbyProcess::start(ProcessSupervisor& supervisor, const std::filesystem::path& stub,
                                                      const std::vector<int>& join_cgroup_fds) {
  // A socket rather than a pipe for the spec: send() can refuse with EPIPE instead of
  // raising SIGPIPE when the stub has died.
  int spec[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, spec) != 0)
    throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) {
    ::close(spec[0]);
    ::close(spec[1]);
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
  SpawnSpec s;
  s.executable = stub;
  s.args = {std::to_string(spec[1]), std::to_string(status[1])};
  s.working_dir = "/";
  s.join_cgroup_fds = join_cgroup_fds;
  s.inherit_fds = {spec[1], status[1]};
  auto relay = std::make_shared<Relay>();
  std::shared_ptr<Process> process;
  try {
    process = supervisor.spawn(
        s, [relay](std::string_view line, bool err) { relay->line(line, err); },
        [relay](ExitStatus st) { relay->exit(st); });
  } catch (...) {
    for (int fd : {spec[0], spec[1], status[0], status[1]}) ::close(fd);
    throw;
  }
  ::close(spec[1]);
  ::close(status[1]);
  return std::unique_ptr<StandbyProcess>(new StandbyProcess(std::move(process), std::move(relay), spec[0], status[0]));
}

StandbyProcess::StandbyProcess(std::shared_ptr<Process> process, std::shared_ptr<Relay> relay, int spec_fd,
                               int status_fd)
    : process_(std::move(process)), relay_(std::move(relay)), spec_fd_(spec_fd), status_fd_(status_fd) {}

StandbyProcess::~StandbyProcess() {
  bool used;
  {
    std::lock_guard<std::mutex> lock(relay_->mu);
    used = used_;
  }
  if (!used) {
    relay_->discard();
    process_->kill();
  }
  close_fd(spec_fd_);
  close_fd(status_fd_);
}

bool StandbyProcess::alive() const {
  std::lock_guard<std::mutex> lock(relay_->mu);
  return !used_ && relay_->state == Relay::State::kWaiting && !relay_->held_exit;
}

int StandbyProcess::pid() const { return process_->pid(); }

std::shared_ptr<Process> StandbyProcess::become(const SpawnSpec& spec, ProcessSupervisor::LineFn on_line,
                                                ProcessSupervisor::ExitFn on_exit) {
  {
    std::lock_guard<std::mutex> lock(relay_->mu);  // alive() reads used_ from other threads
    if (used_) throw std::logic_error("StandbyProcess::become called twice");
    used_ = true;
    if (relay_->held_exit) {
      relay_->state = Relay::State::kDiscard;
      throw StandbyGone("the standby process " + std::to_string(pid()) + " has died");
    }
  }
  const std::string text = encode(spec);
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n = ::send(spec_fd_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      relay_->discard();
      process_->kill();
      throw StandbyGone("the standby process " + std::to_string(pid()) + " has died (" + std::strerror(errno) + ")");
    }
    sent += static_cast<size_t>(n);
  }
  close_fd(spec_fd_);  // end of spec: the stub execs now

  int error = 0;
  size_t got = 0;
  while (got < sizeof error) {
    ssize_t n = ::read(status_fd_, reinterpret_cast<char*>(&error) + got, sizeof error - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close_fd(status_fd_);
  if (got == sizeof error) {
    relay_->discard();  // the stub exits 127 on its own; its end is nobody's business
    throw std::runtime_error("cannot start " + spec.executable.string() + ": " + std::strerror(error));
  }
  // End of file: exec'd (or killed on the way, which its exit will tell).
  relay_->bind(std::move(on_line), std::move(on_exit));
  return process_;
}

}  // namespace coldlab::core
