// coldlab-exec-stub SPEC_FD STATUS_FD: a process started before it is needed (see
// standby_process.h). It waits until SPEC_FD delivers what to run, then becomes that program
// with execve: same pid, same process group, same cgroup, same stdout and stderr.
//
// SPEC_FD carries NUL-terminated strings up to end of file: the executable, the working
// directory, the argument count N in decimal, N arguments (after argv[0], which is the
// executable), then the environment as KEY=VALUE entries. STATUS_FD is close-on-exec: a
// successful exec closes it unwritten; otherwise the stub writes errno (an int) to it and
// exits 127. End of file on SPEC_FD before a complete spec means "never mind": exit 0.
//
// Kept free of the C++ library at run time (no allocation beyond one buffer, no
// iostreams), so that the exec it performs costs what a plain exec costs.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace {

constexpr size_t kMaxSpecBytes = 16 << 20;  // a function's whole environment fits, with room

int parse_fd(const char* text) {
  char* end = nullptr;
  long v = strtol(text, &end, 10);
  return (end == text || *end != '\0' || v < 3 || v > 1 << 20) ? -1 : static_cast<int>(v);
}

[[noreturn]] void fail(int status_fd, int error) {
  (void)!write(status_fd, &error, sizeof error);
  _exit(127);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const int spec_fd = parse_fd(argv[1]);
  const int status_fd = parse_fd(argv[2]);
  if (spec_fd < 0 || status_fd < 0) return 2;
  fcntl(status_fd, F_SETFD, FD_CLOEXEC);

  char* buf = static_cast<char*>(malloc(kMaxSpecBytes));
  if (!buf) fail(status_fd, ENOMEM);
  size_t len = 0;
  for (;;) {
    ssize_t n = read(spec_fd, buf + len, kMaxSpecBytes - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(status_fd, errno);
    if (n == 0) break;
    len += static_cast<size_t>(n);
    if (len == kMaxSpecBytes - 1) fail(status_fd, E2BIG);
  }
  close(spec_fd);
  buf[len] = '\0';

  // Split into strings; the count tells arguments from environment.
  size_t count = 0;
  for (size_t i = 0; i < len; i += strlen(buf + i) + 1) ++count;
  if (count < 3) _exit(0);  // the emulator let go of this standby
  char** strings = static_cast<char**>(malloc((count + 2) * sizeof(char*)));
  if (!strings) fail(status_fd, ENOMEM);
  size_t k = 0;
  for (size_t i = 0; i < len; i += strlen(buf + i) + 1) strings[k++] = buf + i;
  const char* exe = strings[0];
  const char* cwd = strings[1];
  char* end = nullptr;
  const long nargs = strtol(strings[2], &end, 10);
  if (*end != '\0' || nargs < 0 || static_cast<size_t>(nargs) + 3 > count) fail(status_fd, EINVAL);

  // argv = exe, args...; then envp = the rest. Both need a NULL after them: shift the
  // environment up by one slot to make room for argv's.
  char** args = strings + 2;  // args[0] overwrites the count
  args[0] = const_cast<char*>(exe);
  const size_t env_begin = 3 + static_cast<size_t>(nargs);
  char** envp = strings + env_begin + 1;
  for (size_t i = count; i > env_begin; --i) strings[i] = strings[i - 1];
  strings[count + 1] = nullptr;
  args[nargs + 1] = nullptr;

  if (chdir(cwd) != 0) fail(status_fd, errno);
  execve(exe, args, envp);
  fail(status_fd, errno);
}
