// Test support: runs the real build/bin/coldlab on a free loopback port, and helpers to
// query its SQLite log and to run the real AWS clients (Debian's /usr/bin/aws and boto3
// under /usr/bin/python3) against it.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace coldlab::testing {

class ColdlabServer {
 public:
  // Starts `coldlab serve --port 0` with the test functions' template (unless `args`
  // names another) and a fresh database in a temporary folder; waits until it listens.
  explicit ColdlabServer(std::vector<std::string> args = {});
  // Stops it (SIGTERM, then SIGKILL after 20 s) if still running; removes the folder.
  ~ColdlabServer();
  ColdlabServer(const ColdlabServer&) = delete;
  ColdlabServer& operator=(const ColdlabServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& db() const { return db_; }
  const std::filesystem::path& dir() const { return dir_; }

  // SIGTERM and wait; returns the exit status (or 128+signal).
  int stop();
  // What coldlab wrote to stderr so far.
  std::string stderr_text() const;

 private:
  std::filesystem::path dir_, db_;
  pid_t pid_ = -1;
  int port_ = 0;
};

using Rows = std::vector<std::map<std::string, std::string>>;
// Runs `sql` on a read-only connection; NULLs read as "NULL".
Rows query(const std::filesystem::path& db, const std::string& sql);
// Polls `sql` until it returns at least `count` rows or 10 s pass (the log is written in batches).
Rows wait_rows(const std::filesystem::path& db, const std::string& sql, size_t count);

struct CommandResult {
  int status = -1;
  std::string out;  // stdout and stderr together
};
// Runs a shell command with dummy AWS credentials in the environment.
CommandResult run(const std::string& command);

// POST /2015-03-31/functions/{function}/invocations with `body`.
httplib::Result invoke(httplib::Client& c, const std::string& function, const std::string& body);

// Runs `n` invokes at once, each on its own connection. Each answer is the response, or
// nullopt if the request failed at the HTTP level.
std::vector<std::optional<httplib::Response>> invoke_parallel(int port, int n, const std::string& function,
                                                              const std::string& body);

// Is a process with this pid still alive (and not a zombie)?
bool process_alive(pid_t pid);

std::filesystem::path binary_dir();
std::filesystem::path source_dir();

// A fresh folder under the system's temporary one for one test (a `coldlab run` or
// `coldlab simulate` and its files), removed with everything in it when the test ends.
struct Scratch {
  std::filesystem::path dir;
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::filesystem::path db() const { return dir / "runs.db"; }
};

}  // namespace coldlab::testing
