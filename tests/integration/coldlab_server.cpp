#include "coldlab_server.h"

#include <signal.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace coldlab::testing {

std::filesystem::path binary_dir() { return COLDLAB_BINARY_DIR; }
std::filesystem::path source_dir() { return COLDLAB_SOURCE_DIR; }

ColdlabServer::ColdlabServer(std::vector<std::string> args) {
  char tmpl[] = "/tmp/coldlab-test-XXXXXX";
  dir_ = mkdtemp(tmpl);
  db_ = dir_ / "log.db";
  bool has_template = false;
  for (const auto& a : args) has_template |= a == "--template";
  std::vector<std::string> argv = {(binary_dir() / "bin" / "coldlab").string(), "serve", "--port", "0",
                                   "--db", db_.string()};
  if (!has_template) {
    argv.push_back("--template");
    argv.push_back((binary_dir() / "tests" / "functions" / "template.yaml").string());
  }
  argv.insert(argv.end(), args.begin(), args.end());

  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    int err = ::open((dir_ / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(err, 2);
    close(out[0]);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(out[1]);
  // The first stdout line is "coldlab listening on http://HOST:PORT".
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  auto colon = line.rfind(':');
  if (line.rfind("coldlab listening on", 0) != 0 || colon == std::string::npos)
    throw std::runtime_error("coldlab did not start: " + line + "\n" + stderr_text());
  port_ = std::stoi(line.substr(colon + 1));
}

ColdlabServer::~ColdlabServer() {
  if (pid_ > 0) stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

int ColdlabServer::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 2000; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return 128 + SIGKILL;
}

std::string ColdlabServer::stderr_text() const {
  std::ifstream in(dir_ / "stderr.txt");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Rows query(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* handle = nullptr;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    throw std::runtime_error("cannot open " + db.string());
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(handle);
    sqlite3_close(handle);
    throw std::runtime_error("bad query: " + msg);
  }
  Rows rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::map<std::string, std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      auto text = sqlite3_column_text(stmt, i);
      row[sqlite3_column_name(stmt, i)] = text ? reinterpret_cast<const char*>(text) : "NULL";
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return rows;
}

Rows wait_rows(const std::filesystem::path& db, const std::string& sql, size_t count) {
  Rows rows;
  for (int i = 0; i < 200; ++i) {
    rows = query(db, sql);
    if (rows.size() >= count) return rows;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return rows;
}

CommandResult run(const std::string& command) {
  std::string full = "AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1 "
                     "AWS_PAGER= AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null " +
                     command + " 2>&1";
  CommandResult result;
  FILE* p = popen(full.c_str(), "r");
  if (!p) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) result.out.append(buf, n);
  int status = pclose(p);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool process_alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string pid_s, comm, state;
  stat >> pid_s >> comm >> state;
  return state != "Z";
}

httplib::Result invoke(httplib::Client& c, const std::string& function, const std::string& body) {
  return c.Post(("/2015-03-31/functions/" + function + "/invocations").c_str(), body, "");
}

std::vector<std::optional<httplib::Response>> invoke_parallel(int port, int n, const std::string& function,
                                                              const std::string& body) {
  std::vector<std::optional<httplib::Response>> results(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(30);
      auto r = invoke(c, function, body);
      if (r) results[i] = *r;
    });
  for (auto& t : threads) t.join();
  return results;
}

Scratch::Scratch() {
  std::string pattern = (std::filesystem::temp_directory_path() / "coldlab-scratch-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern + " failed");
  dir = pattern;
}

Scratch::~Scratch() {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace coldlab::testing
