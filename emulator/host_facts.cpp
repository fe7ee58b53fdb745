#include "host_facts.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace coldlab {

namespace {
// The value after "key" and a separator in a "key: value" or key="value" text file.
std::string field(const std::string& path, const std::string& key, char sep) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    auto pos = line.find(sep);
    if (pos == std::string::npos) continue;
    std::string v = line.substr(pos + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '"')) v.erase(0, 1);
    while (!v.empty() && (v.back() == '"' || v.back() == ' ')) v.pop_back();
    return v;
  }
  return "";
}
}  // namespace

nlohmann::json host_facts() {
  utsname u{};
  uname(&u);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  long long mem_kb = 0;
  try {
    mem_kb = std::stoll(field("/proc/meminfo", "MemTotal", ':'));
  } catch (...) {
  }
  return {{"hostname", host},
          {"kernel", std::string(u.sysname) + " " + u.release},
          {"os", field("/etc/os-release", "PRETTY_NAME", '=')},
          {"cpu_model", field("/proc/cpuinfo", "model name", ':')},
          {"cpus", std::thread::hardware_concurrency()},
          {"memory_mb", mem_kb / 1024}};
}

std::filesystem::path executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

}  // namespace coldlab
