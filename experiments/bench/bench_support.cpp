#include "bench/bench_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace coldlab::bench {
namespace {

std::string file_field(const char* path, const char* key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    auto value = line.substr(line.find(':') + 1);
    return value.substr(std::min(value.find_first_not_of(" \t"), value.size()));
  }
  return "?";
}

}  // namespace

ServeChild start_serve(const std::string& coldlab, const std::string& db, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {coldlab, "serve", "--port", "0", "--db", db};
  argv.insert(argv.end(), args.begin(), args.end());
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  ServeChild s;
  s.pid = fork();
  if (s.pid == 0) {
    dup2(out[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    std::vector<char*> c;
    for (auto& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    execv(c[0], c.data());
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char ch;
  while (read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  close(out[0]);
  auto colon = line.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("coldlab serve did not start: " + coldlab);
  s.port = std::stoi(line.substr(colon + 1));
  return s;
}

void stop_serve(ServeChild& s) {
  if (s.pid <= 0) return;
  kill(s.pid, SIGTERM);
  int status;
  waitpid(s.pid, &status, 0);
  s.pid = -1;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

std::string command_line(int argc, char** argv) {
  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
  return cmd;
}

std::string describe_machine() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ", " + std::to_string(std::thread::hardware_concurrency()) + " cpus (" +
         file_field("/proc/cpuinfo", "model name") + "), " + file_field("/proc/meminfo", "MemTotal") + " MemTotal";
}

}  // namespace coldlab::bench
