// Benchmark of the KDD inference function (docs/kdd.md) in each runtime and memory size,
// through the emulator: starts `coldlab serve --port 0` (cgroup isolation by default, so CPU
// and memory follow MemorySize), then for each runtime and memory size
//  1. sets MemorySize with UpdateFunctionConfiguration;
//  2. --cold rounds: retires the function's environment (an UpdateFunctionConfiguration that
//     changes only the Description, which the function never sees), waits until it is gone,
//     invokes once with a single-prediction event and reads the row from the SQLite log:
//     Init Duration (init_ms) and first-invoke duration (duration_ms) of a cold start;
//  3. --warm invocations on the last round's environment: duration_ms and client latency.
// It prints a table with the command line, the date and the machine, so it can be quoted.
// A benchmark, not a test: it asserts nothing, but stops with a message if an invocation fails
// or a sample that should be cold (or warm) is not.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- the emulator, as a child process ---------------------------------------------------

class Server {
 public:
  Server(const std::string& coldlab, const std::vector<std::string>& extra, const std::string& db,
         const std::filesystem::path& stderr_path)
      : stderr_path_(stderr_path) {
    std::vector<std::string> argv = {coldlab, "serve", "--port", "0", "--db", db};
    argv.insert(argv.end(), extra.begin(), extra.end());
    int out[2];
    if (pipe(out) != 0) throw BenchError("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw BenchError("fork failed");
    if (pid_ == 0) {
      dup2(out[1], 1);
      // The serve's own lines and the functions' logs; a file costs no terminal time.
      int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) dup2(err, 2);
      close(out[0]);
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      execv(c[0], c.data());
      std::fprintf(stderr, "cannot run %s: %s\n", c[0], std::strerror(errno));
      _exit(127);
    }
    close(out[1]);
    std::string line;
    char ch;
    while (read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
    close(out[0]);
    auto colon = line.rfind(':');
    if (colon == std::string::npos) {
      stop();
      throw BenchError("coldlab serve (" + coldlab + ") did not start; its stderr:\n" + read_file(stderr_path));
    }
    port_ = std::stoi(line.substr(colon + 1));
  }
  ~Server() { stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

  // "isolation: ..." from the serve's first line on stderr, e.g. "cgroup v1 (...)".
  std::string isolation_line() const {
    std::istringstream in(read_file(stderr_path_));
    std::string line;
    while (std::getline(in, line)) {
      auto p = line.find("; isolation: ");
      if (p == std::string::npos) continue;
      auto value = line.substr(p + 13);
      return value.substr(0, value.find("; keep-alive:"));
    }
    return "?";
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path stderr_path_;
};

// --- the invocation log, read while the emulator writes it --------------------------------

struct Row {
  int64_t id = 0;
  int cold = -1;
  std::optional<double> init_ms;
  double duration_ms = 0;
  int64_t latency_us = 0;
  int64_t environment_id = -1;
  int memory_mb = 0;
  std::string status;
};

class Log {
 public:
  explicit Log(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw BenchError("cannot open the log " + path + ": " + sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Log() { sqlite3_close(db_); }
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // The row of `request_id`; rows are committed in batches (within ~100 ms), so polls.
  Row invocation(const std::string& request_id) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (true) {
      Stmt s(db_,
             "SELECT id, cold, init_ms, duration_ms, latency_us, environment_id, memory_mb, status "
             "FROM invocations WHERE request_id = ? AND attempt = 1");
      sqlite3_bind_text(s.p, 1, request_id.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(s.p) == SQLITE_ROW) {
        Row r;
        r.id = sqlite3_column_int64(s.p, 0);
        r.cold = sqlite3_column_int(s.p, 1);
        if (sqlite3_column_type(s.p, 2) != SQLITE_NULL) r.init_ms = sqlite3_column_double(s.p, 2);
        r.duration_ms = sqlite3_column_double(s.p, 3);
        r.latency_us = sqlite3_column_int64(s.p, 4);
        r.environment_id = sqlite3_column_type(s.p, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(s.p, 5);
        r.memory_mb = sqlite3_column_int(s.p, 6);
        r.status = reinterpret_cast<const char*>(sqlite3_column_text(s.p, 7));
        return r;
      }
      if (Clock::now() > deadline)
        throw BenchError("invocation " + request_id + " did not appear in the log within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Waits until environment `id` has ended (its process and cgroup are gone).
  void wait_ended(int64_t id) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (true) {
      Stmt s(db_, "SELECT ended_at_us FROM environments WHERE id = ?");
      sqlite3_bind_int64(s.p, 1, id);
      if (sqlite3_step(s.p) == SQLITE_ROW && sqlite3_column_type(s.p, 0) != SQLITE_NULL) return;
      if (Clock::now() > deadline)
        throw BenchError("environment " + std::to_string(id) + " was retired but had not ended after 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::string run_isolation() {
    Stmt s(db_, "SELECT config_json FROM runs ORDER BY id DESC LIMIT 1");
    if (sqlite3_step(s.p) != SQLITE_ROW || sqlite3_column_type(s.p, 0) == SQLITE_NULL) return "?";
    auto j = json::parse(reinterpret_cast<const char*>(sqlite3_column_text(s.p, 0)), nullptr, false);
    return j.is_object() && j.contains("isolation") && j["isolation"].is_string() ? j["isolation"].get<std::string>()
                                                                                  : "?";
  }

 private:
  struct Stmt {
    sqlite3_stmt* p = nullptr;
    Stmt(sqlite3* db, const char* sql) {
      if (sqlite3_prepare_v2(db, sql, -1, &p, nullptr) != SQLITE_OK)
        throw BenchError(std::string("SQL error: ") + sqlite3_errmsg(db) + " in: " + sql);
    }
    ~Stmt() { sqlite3_finalize(p); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
  };
  sqlite3* db_ = nullptr;
};

// --- the Lambda API -------------------------------------------------------------------

class Lambda {
 public:
  explicit Lambda(int port) : cli_("127.0.0.1", port) {
    cli_.set_keep_alive(true);
    cli_.set_tcp_nodelay(true);
    cli_.set_read_timeout(std::chrono::seconds(120));  // a throttled JVM's cold start takes seconds
    cli_.set_write_timeout(std::chrono::seconds(30));
  }

  json get_configuration(const std::string& function) {
    auto r = cli_.Get(("/2015-03-31/functions/" + function + "/configuration").c_str());
    if (!r) throw BenchError("GetFunctionConfiguration " + function + ": no answer from coldlab");
    if (r->status != 200)
      throw BenchError("GetFunctionConfiguration " + function + ": HTTP " + std::to_string(r->status) + " " + r->body);
    return json::parse(r->body);
  }

  json update_configuration(const std::string& function, const json& body) {
    auto r = cli_.Put(("/2015-03-31/functions/" + function + "/configuration").c_str(), body.dump(),
                      "application/json");
    if (!r) throw BenchError("UpdateFunctionConfiguration " + function + ": no answer from coldlab");
    if (r->status != 200)
      throw BenchError("UpdateFunctionConfiguration " + function + " " + body.dump() + ": HTTP " +
                       std::to_string(r->status) + " " + r->body);
    return json::parse(r->body);
  }

  struct Result {
    std::string request_id;
    double latency_ms;
  };

  // One RequestResponse invoke; throws unless it returned a prediction.
  Result invoke(const std::string& function, const std::string& payload) {
    const std::string path = "/2015-03-31/functions/" + function + "/invocations";
    auto s = Clock::now();
    auto r = cli_.Post(path.c_str(), payload, "application/json");
    auto e = Clock::now();
    if (!r) throw BenchError("invoke " + function + ": no answer from coldlab (" + httplib::to_string(r.error()) + ")");
    if (r->status != 200 || r->has_header("X-Amz-Function-Error") || r->body.find("\"probability\"") == std::string::npos)
      throw BenchError("invoke " + function + " failed: HTTP " + std::to_string(r->status) +
                       (r->has_header("X-Amz-Function-Error") ? ", function error " + r->get_header_value("X-Amz-Function-Error") : "") +
                       ": " + r->body);
    return {r->get_header_value("x-amzn-RequestId"), std::chrono::duration<double, std::milli>(e - s).count()};
  }

 private:
  httplib::Client cli_;
};

// --- figures ---------------------------------------------------------------------------

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double median(const std::vector<double>& v) {
  if (v.empty()) return 0;
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  size_t n = s.size();
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

struct Cell {
  std::string function, runtime;
  int memory_mb = 0;
  std::vector<double> init_ms, first_ms, cold_client_ms;
  std::vector<double> warm_ms, warm_client_ms;
};

std::string file_field(const char* path, const char* key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    auto value = line.substr(line.find_first_of(":=") + 1);
    value = value.substr(std::min(value.find_first_not_of(" \t\""), value.size()));
    while (!value.empty() && (value.back() == '"' || value.back() == ' ')) value.pop_back();
    return value;
  }
  return "?";
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line.empty() ? "?" : line;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}

void print_table(const std::vector<Cell>& cells, int cold_rounds, int warm) {
  std::printf("\n| runtime | memory | Init ms, median (min–max) | first invoke ms, median (min–max) | cold client ms "
              "| warm duration p50 / p99 ms | warm client p50 / p99 ms |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& c : cells) {
    auto [imin, imax] = std::minmax_element(c.init_ms.begin(), c.init_ms.end());
    auto [fmin, fmax] = std::minmax_element(c.first_ms.begin(), c.first_ms.end());
    std::printf("| %s (%s) | %d MB | %s (%s–%s) | %s (%s–%s) | %s | %s / %s | %s / %s |\n", c.function.c_str(),
                c.runtime.c_str(), c.memory_mb, fmt(median(c.init_ms)).c_str(), fmt(*imin).c_str(),
                fmt(*imax).c_str(), fmt(median(c.first_ms)).c_str(), fmt(*fmin).c_str(), fmt(*fmax).c_str(),
                fmt(median(c.cold_client_ms)).c_str(),
                fmt(percentile(c.warm_ms, 50)).c_str(), fmt(percentile(c.warm_ms, 99)).c_str(),
                fmt(percentile(c.warm_client_ms, 50)).c_str(), fmt(percentile(c.warm_client_ms, 99)).c_str());
  }
  std::printf("\nInit, first invoke and cold client: medians (and min–max) over %d cold starts (first invoke =\n"
              "duration_ms of the cold invocation, after Init; cold client = the whole cold invoke as the client saw it).\n"
              "Warm: %d invocations on the last cold start's environment, duration_ms from the log and the\n"
              "client's round trip.\n",
              cold_rounds, warm);
}

// --- the benchmark ---------------------------------------------------------------------

Cell measure(Lambda& api, Log& log, const std::string& function, int memory_mb, int cold_rounds, int warm,
             const std::string& event, std::optional<int64_t>& live_env) {
  Cell cell;
  cell.function = function;
  cell.memory_mb = memory_mb;
  auto conf = api.update_configuration(function, json{{"MemorySize", memory_mb}});
  if (conf.value("MemorySize", 0) != memory_mb)
    throw BenchError("UpdateFunctionConfiguration " + function + " answered MemorySize " + conf["MemorySize"].dump());
  cell.runtime = conf.value("Runtime", "?");
  const std::string where = function + " at " + std::to_string(memory_mb) + " MB";

  Row last;
  for (int round = 1; round <= cold_rounds; ++round) {
    // A new revision retires the idle environments; the Description is not visible to the
    // function, so nothing it measures changes.
    api.update_configuration(function, json{{"Description", "coldlab-bench-kdd: " + std::to_string(memory_mb) +
                                                                " MB, cold round " + std::to_string(round)}});
    if (live_env) log.wait_ended(*live_env);  // no teardown overlaps the next start
    live_env.reset();
    auto res = api.invoke(function, event);
    Row row = log.invocation(res.request_id);
    live_env = row.environment_id;
    const std::string what = where + ", cold round " + std::to_string(round) + " (request " + res.request_id + ")";
    if (row.status != "ok") throw BenchError(what + ": status " + row.status + " in the log");
    if (row.cold != 1 || !row.init_ms)
      throw BenchError(what + ": expected a cold start after retiring the environment, but the log says cold = " +
                       std::to_string(row.cold));
    if (row.memory_mb != memory_mb)
      throw BenchError(what + ": ran at " + std::to_string(row.memory_mb) + " MB");
    cell.init_ms.push_back(*row.init_ms);
    cell.first_ms.push_back(row.duration_ms);
    cell.cold_client_ms.push_back(res.latency_ms);
    last = row;
    std::fprintf(stderr, "  %s round %d: Init %.1f ms, first invoke %.2f ms, client %.1f ms (environment %lld)\n",
                 where.c_str(), round, *row.init_ms, row.duration_ms, res.latency_ms,
                 static_cast<long long>(row.environment_id));
  }

  std::vector<Lambda::Result> results;
  results.reserve(static_cast<size_t>(warm));
  for (int i = 0; i < warm; ++i) results.push_back(api.invoke(function, event));
  for (size_t i = 0; i < results.size(); ++i) {
    Row row = log.invocation(results[i].request_id);
    const std::string what = where + ", warm invocation " + std::to_string(i + 1) + " (request " + results[i].request_id + ")";
    if (row.status != "ok") throw BenchError(what + ": status " + row.status + " in the log");
    if (row.cold != 0 || row.environment_id != last.environment_id)
      throw BenchError(what + ": expected a warm invocation on environment " + std::to_string(last.environment_id) +
                       ", but the log says cold = " + std::to_string(row.cold) + ", environment " +
                       std::to_string(row.environment_id));
    cell.warm_ms.push_back(row.duration_ms);
    cell.warm_client_ms.push_back(results[i].latency_ms);
  }
  std::fprintf(stderr, "  %s warm: duration p50 %.2f ms p99 %.2f ms\n", where.c_str(), percentile(cell.warm_ms, 50),
               percentile(cell.warm_ms, 99));
  return cell;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coldlab-bench-kdd: cold-start Init, first-invoke and warm durations of the KDD function per runtime "
               "and memory size, through the emulator"};
  std::string coldlab = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "coldlab").string();
  std::vector<std::string> runtimes = {"native", "python", "python-numpy", "python-torch", "java"};
  std::vector<int> memory = {256, 512, 1024};
  int cold_rounds = 5, warm = 200;
  std::string isolation = "cgroup";
  std::string init_cpu = "burst", cpu_period = "20ms";
  std::string event = R"({"features": [0, 232, 19206]})";
  app.add_option("--coldlab", coldlab, "coldlab binary")->capture_default_str();
  app.add_option("--runtimes", runtimes, "KDD variants to measure: native, python, python-numpy, python-torch, java (or kdd-...)")
      ->delimiter(',')->capture_default_str();
  app.add_option("--memory", memory, "memory sizes, MB")->delimiter(',')->capture_default_str()
      ->check(CLI::Range(128, 10240));
  app.add_option("--cold", cold_rounds, "cold starts per runtime and memory size")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--warm", warm, "warm invocations per runtime and memory size")->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_option("--isolation", isolation, "passed to coldlab serve: cgroup (CPU quota and memory limit from "
                                           "MemorySize) or none")
      ->capture_default_str()->check(CLI::IsMember({"cgroup", "none"}));
  app.add_option("--init-cpu", init_cpu, "passed to coldlab serve: CPU for Init (burst, throttled, unthrottled)")
      ->capture_default_str();
  app.add_option("--cpu-period", cpu_period, "passed to coldlab serve: the CFS period of the CPU share")
      ->capture_default_str();
  app.add_option("--event", event, "the event every invocation sends")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (auto& r : runtimes)
    if (r.rfind("kdd-", 0) != 0) r = "kdd-" + r;

  std::string cmd;
  for (int i = 0; i < argc; ++i) cmd += (i ? " " : "") + std::string(argv[i]);
  long cpus = 0;
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) cpus += line.rfind("processor", 0) == 0;
  }
  std::printf("coldlab-bench-kdd %s\ncommand: %s\ndate: %s\n", COLDLAB_VERSION, cmd.c_str(), utc_now().c_str());
  std::printf("machine: %s; kernel %s; %ld cpus (%s); %s MemTotal\n",
              file_field("/etc/os-release", "PRETTY_NAME").c_str(), first_line("/proc/sys/kernel/osrelease").c_str(),
              cpus, file_field("/proc/cpuinfo", "model name").c_str(), file_field("/proc/meminfo", "MemTotal").c_str());
  std::printf("load average at start: %s\n", first_line("/proc/loadavg").c_str());
  std::fflush(stdout);

  auto dir = std::filesystem::temp_directory_path() / ("coldlab-bench-kdd-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto db = (dir / "kdd.db").string();
  const auto serve_log = dir / "serve.log";
  std::vector<Cell> cells;
  try {
    Server server(coldlab, {"--isolation", isolation, "--init-cpu", init_cpu, "--cpu-period", cpu_period}, db,
                  serve_log);
    Log log(db);
    std::printf("isolation: %s (runs.config_json: %s)\n", server.isolation_line().c_str(), log.run_isolation().c_str());
    std::printf("event: %s; %d cold starts and %d warm invocations per runtime and memory size\n", event.c_str(),
                cold_rounds, warm);
    std::fflush(stdout);
    Lambda api(server.port());
    for (const auto& f : runtimes) {
      const json original = api.get_configuration(f);
      std::fprintf(stderr, "%s (%s):\n", f.c_str(), original.value("Runtime", "?").c_str());
      std::optional<int64_t> live_env;
      for (int m : memory) cells.push_back(measure(api, log, f, m, cold_rounds, warm, event, live_env));
      // Retire the last environment, so an idle process (a JVM's threads) does not share the CPU
      // with the next runtime's figures.
      api.update_configuration(f, json{{"MemorySize", original.value("MemorySize", 512)},
                                       {"Description", original.value("Description", "")}});
      if (live_env) log.wait_ended(*live_env);
    }
    std::printf("load average at end: %s\n", first_line("/proc/loadavg").c_str());
    print_table(cells, cold_rounds, warm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coldlab-bench-kdd: error: %s\ncoldlab-bench-kdd: the emulator's log and database are kept in %s\n",
                 e.what(), dir.c_str());
    return 1;
  }
  std::filesystem::remove_all(dir);
  return 0;
}
