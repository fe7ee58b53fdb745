#include "isolation/thaw_guard.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

extern char** environ;

namespace coldlab::isolation {

ThawGuard::ThawGuard(const std::filesystem::path& program, const std::filesystem::path& dir) {
  int fds[2];
  // Close-on-exec on both ends: only the guard (through dup2 onto its stdin) may keep the
  // read end, and nobody but this process the write end, or end of file would never come.
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("thaw guard: pipe: ") + strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
  const std::string program_s = program.string(), dir_s = dir.string();
  char* argv[] = {const_cast<char*>(program_s.c_str()), const_cast<char*>("__thaw-on-exit"),
                  const_cast<char*>(dir_s.c_str()), nullptr};
  const int rc = posix_spawn(&pid_, program_s.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    throw std::runtime_error("thaw guard: cannot start " + program_s + ": " + strerror(rc));
  }
  write_fd_ = fds[1];
}

ThawGuard::~ThawGuard() {
  ::close(write_fd_);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

int run_thaw_guard(const std::filesystem::path& dir) {
  char buf[64];
  for (;;) {
    const ssize_t n = ::read(0, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0 && errno != EINTR) break;
  }
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().filename() != "freezer.state") continue;
    const int fd = ::open(it->path().c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;
    const ssize_t written = ::write(fd, "THAWED", 6);
    (void)written;  // a group removed meanwhile is fine
    ::close(fd);
  }
  return 0;
}

}  // namespace coldlab::isolation
