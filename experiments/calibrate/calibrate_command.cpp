#include "calibrate/calibrate_command.h"

#include <httplib.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>

#include "calibrate/reference.h"
#include "host_facts.h"
#include "serve.h"

namespace coldlab::calibrate {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// A measurement that cannot go on: reported and the command exits 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Row {
  int cold = -1;
  std::optional<double> init_ms;
  double duration_ms = 0;
  int64_t environment_id = -1;
  int memory_mb = 0;
  std::string status;
};

// The emulator's log, read as it is written (WAL: reading never blocks the writer).
class LogReader {
 public:
  explicit LogReader(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw Failure("cannot read the log " + path + ": " + sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, 5000);
  }
  ~LogReader() { sqlite3_close(db_); }
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // Rows are committed in batches, so this polls.
  Row invocation(const std::string& request_id) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      Statement s(db_,
                  "SELECT cold, init_ms, duration_ms, environment_id, memory_mb, status FROM invocations "
                  "WHERE request_id = ? AND attempt = 1");
      sqlite3_bind_text(s.p, 1, request_id.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(s.p) == SQLITE_ROW) {
        Row r;
        r.cold = sqlite3_column_int(s.p, 0);
        if (sqlite3_column_type(s.p, 1) != SQLITE_NULL) r.init_ms = sqlite3_column_double(s.p, 1);
        r.duration_ms = sqlite3_column_double(s.p, 2);
        r.environment_id = sqlite3_column_type(s.p, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(s.p, 3);
        r.memory_mb = sqlite3_column_int(s.p, 4);
        const unsigned char* status = sqlite3_column_text(s.p, 5);
        r.status = status ? reinterpret_cast<const char*>(status) : "";
        return r;
      }
      if (Clock::now() > deadline) throw Failure("invocation " + request_id + " was not logged within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void wait_ended(int64_t environment_id) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (;;) {
      Statement s(db_, "SELECT ended_at_us FROM environments WHERE id = ?");
      sqlite3_bind_int64(s.p, 1, environment_id);
      if (sqlite3_step(s.p) == SQLITE_ROW && sqlite3_column_type(s.p, 0) != SQLITE_NULL) return;
      if (Clock::now() > deadline)
        throw Failure("environment " + std::to_string(environment_id) + " was retired but had not ended after 30 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  struct Statement {
    sqlite3_stmt* p = nullptr;
    Statement(sqlite3* db, const char* sql) {
      if (sqlite3_prepare_v2(db, sql, -1, &p, nullptr) != SQLITE_OK)
        throw Failure(std::string("reading the log: ") + sqlite3_errmsg(db));
    }
    ~Statement() { sqlite3_finalize(p); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
  };
  sqlite3* db_ = nullptr;
};

class Lambda {
 public:
  explicit Lambda(int port) : client_("127.0.0.1", port) {
    client_.set_keep_alive(true);
    client_.set_read_timeout(std::chrono::seconds(300));  // a throttled JVM's cold start takes seconds
  }

  json update_configuration(const std::string& function, const json& body) {
    auto r = client_.Put(("/2015-03-31/functions/" + function + "/configuration").c_str(), body.dump(),
                         "application/json");
    if (!r) throw Failure("UpdateFunctionConfiguration " + function + ": no answer from the emulator");
    if (r->status != 200)
      throw Failure("UpdateFunctionConfiguration " + function + ": HTTP " + std::to_string(r->status) + " " + r->body);
    return json::parse(r->body);
  }

  struct Answer {
    std::string request_id;
    double client_ms = 0;
  };

  Answer invoke(const std::string& function, const std::string& payload) {
    const auto start = Clock::now();
    auto r = client_.Post(("/2015-03-31/functions/" + function + "/invocations").c_str(), payload,
                          "application/json");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!r) throw Failure("invoke " + function + ": no answer (" + httplib::to_string(r.error()) + ")");
    if (r->status != 200 || r->has_header("X-Amz-Function-Error"))
      throw Failure("invoke " + function + " failed: HTTP " + std::to_string(r->status) +
                    (r->has_header("X-Amz-Function-Error") ? " with a function error" : "") + ": " +
                    r->body.substr(0, 500));
    return {r->get_header_value("x-amzn-RequestId"), ms};
  }

 private:
  httplib::Client client_;
};

// Nearest-rank percentile of a non-empty sample.
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

json spread(const std::vector<double>& v) {
  return {{"median", percentile(v, 50)},
          {"min", *std::min_element(v.begin(), v.end())},
          {"max", *std::max_element(v.begin(), v.end())},
          {"n", v.size()}};
}

struct Cell {
  std::string function, runtime;
  int memory_mb = 0;
  std::vector<double> init_ms, first_ms, cold_client_ms, warm_ms;
};

Cell measure(Lambda& api, LogReader& log, const std::string& function, int memory_mb, const CalibrateOptions& o,
             std::optional<int64_t>& live_environment) {
  Cell cell;
  cell.function = function;
  cell.memory_mb = memory_mb;
  const json conf = api.update_configuration(function, json{{"MemorySize", memory_mb}});
  cell.runtime = conf.value("Runtime", "");
  const std::string where = function + " at " + std::to_string(memory_mb) + " MB";
  int64_t last_environment = -1;
  for (int round = 1; round <= o.cold; ++round) {
    // A new revision retires idle environments; the function does not see its Description.
    api.update_configuration(function, json{{"Description", "coldlab calibrate: " + std::to_string(memory_mb) +
                                                                " MB, cold start " + std::to_string(round)}});
    if (live_environment) log.wait_ended(*live_environment);
    live_environment.reset();
    const Lambda::Answer a = api.invoke(function, o.event);
    const Row row = log.invocation(a.request_id);
    live_environment = row.environment_id;
    const std::string what = where + ", cold start " + std::to_string(round) + " (request " + a.request_id + ")";
    if (row.status != "ok") throw Failure(what + ": logged with status " + row.status);
    if (row.cold != 1 || !row.init_ms) throw Failure(what + ": not a cold start after retiring the environment");
    cell.init_ms.push_back(*row.init_ms);
    cell.first_ms.push_back(row.duration_ms);
    cell.cold_client_ms.push_back(a.client_ms);
    last_environment = row.environment_id;
    std::fprintf(stderr, "coldlab calibrate: %s cold %d/%d: Init %.1f ms, first invoke %.2f ms, client %.1f ms\n",
                 where.c_str(), round, o.cold, *row.init_ms, row.duration_ms, a.client_ms);
  }
  for (int i = 0; i < o.warm; ++i) {
    const Lambda::Answer a = api.invoke(function, o.event);
    const Row row = log.invocation(a.request_id);
    if (row.status != "ok" || row.cold != 0 || row.environment_id != last_environment)
      throw Failure(where + ", warm invocation " + std::to_string(i + 1) + " (request " + a.request_id +
                    "): expected a warm invocation on environment " + std::to_string(last_environment));
    cell.warm_ms.push_back(row.duration_ms);
  }
  return cell;
}

std::string ms(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}

std::string with_spread(const std::vector<double>& v) {
  return ms(percentile(v, 50)) + " (" + ms(*std::min_element(v.begin(), v.end())) + "–" +
         ms(*std::max_element(v.begin(), v.end())) + ")";
}

// "4.2x" of coldlab's over the reference; "–" without a reference figure.
std::string ratio(double ours, const std::optional<double>& theirs) {
  if (!theirs || *theirs <= 0) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", ours / *theirs);
  return buf;
}

std::string figure(const std::optional<double>& v) { return v ? ms(*v) : "–"; }

void print_table(const std::vector<Cell>& cells, const std::optional<Reference>& ref, const CalibrateOptions& o) {
  if (ref) {
    std::printf("| function (runtime) | memory | Init ms | reference | ratio | first invoke ms | reference | ratio "
                "| warm ms p50 / p99 | reference | ratio |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  } else {
    std::printf("| function (runtime) | memory | Init ms | first invoke ms | warm ms p50 / p99 |\n"
                "|---|---|---|---|---|\n");
  }
  for (const Cell& c : cells) {
    const std::string warm = o.warm > 0 ? ms(percentile(c.warm_ms, 50)) + " / " + ms(percentile(c.warm_ms, 99)) : "–";
    const std::string name = c.function + " (" + c.runtime + ")";
    if (!ref) {
      std::printf("| %s | %d MB | %s | %s | %s |\n", name.c_str(), c.memory_mb, with_spread(c.init_ms).c_str(),
                  with_spread(c.first_ms).c_str(), warm.c_str());
      continue;
    }
    static const ReferenceRow kNone;
    const ReferenceRow* found = ref->find(c.runtime, c.memory_mb);
    const ReferenceRow& r = found ? *found : kNone;
    const std::string label = found ? " " + r.runtime : "";
    const std::optional<double>&init = r.init_ms, &first = r.first_invoke_ms, &warm_ref = r.warm_ms;
    std::printf("| %s | %d MB | %s | %s%s | %s | %s | %s | %s | %s | %s | %s |\n", name.c_str(), c.memory_mb,
                with_spread(c.init_ms).c_str(), figure(init).c_str(), label.c_str(),
                ratio(percentile(c.init_ms, 50), init).c_str(), with_spread(c.first_ms).c_str(),
                figure(first).c_str(), ratio(percentile(c.first_ms, 50), first).c_str(), warm.c_str(),
                figure(warm_ref).c_str(),
                o.warm > 0 ? ratio(percentile(c.warm_ms, 50), warm_ref).c_str() : "–");
  }
  std::printf("\nMedian (min–max) over %d cold starts per row; first invoke = the cold invocation's duration after "
              "Init; warm: %d invocations on the last cold start's environment.\n",
              o.cold, o.warm);
  if (ref) {
    std::printf("Reference: %s\n", ref->file.string().c_str());
    for (const std::string& note : ref->notes) std::printf("  %s\n", note.c_str());
  }
}

json summary(const std::vector<Cell>& cells, const std::optional<Reference>& ref, const CalibrateOptions& o) {
  json rows = json::array();
  for (const Cell& c : cells) {
    json row = {{"function", c.function},        {"runtime", c.runtime},
                {"memory_mb", c.memory_mb},       {"init_ms", spread(c.init_ms)},
                {"first_invoke_ms", spread(c.first_ms)}, {"cold_client_ms", spread(c.cold_client_ms)}};
    if (!c.warm_ms.empty())
      row["warm_ms"] = {{"p50", percentile(c.warm_ms, 50)}, {"p99", percentile(c.warm_ms, 99)}, {"n", c.warm_ms.size()}};
    if (ref) {
      if (const ReferenceRow* r = ref->find(c.runtime, c.memory_mb)) {
        json theirs = {{"runtime", r->runtime}};
        if (r->init_ms) theirs["init_ms"] = *r->init_ms;
        if (r->first_invoke_ms) theirs["first_invoke_ms"] = *r->first_invoke_ms;
        if (r->warm_ms) theirs["warm_ms"] = *r->warm_ms;
        row["reference"] = theirs;
      }
    }
    rows.push_back(row);
  }
  json s = {{"cold_starts", o.cold}, {"warm_invocations", o.warm}, {"event", o.event}, {"cells", rows}};
  if (ref) s["reference_file"] = ref->file.string();
  return s;
}

}  // namespace

void add_calibrate_options(CLI::App& cmd, CalibrateOptions& o) {
  cmd.add_option("--functions", o.functions, "Functions to measure (names in the template)")
      ->delimiter(',')->capture_default_str();
  cmd.add_option("--memory", o.memory, "Memory sizes, MB")->delimiter(',')->capture_default_str()
      ->check(CLI::Range(128, 10240));
  cmd.add_option("--cold", o.cold, "Cold starts per function and memory size")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd.add_option("--warm", o.warm, "Warm invocations per function and memory size, after the cold starts")
      ->capture_default_str()->check(CLI::Range(0, 10000000));
  cmd.add_option("--event", o.event, "The event every invocation sends")->capture_default_str();
  cmd.add_option("--reference", o.reference,
                 "Published figures to compare with, a CSV (e.g. experiments/calibration/lambda-perf-2026-08-22.csv)");
  cmd.add_option("--db", o.emulator.db, "SQLite log the calibration run goes to")->capture_default_str();
  cmd.add_option("--log-dir", o.emulator.log_dir,
                 "Function output, one file per environment (default: DB.function-logs, capped at 16 MB each)");
  add_emulator_options(cmd, o.emulator);
}

int run_calibrate_command(const CalibrateOptions& options, const std::string& command_line) {
  std::optional<Reference> ref;
  if (!options.reference.empty()) {
    try {
      ref = load_reference(options.reference);
    } catch (const ReferenceError& e) {
      std::fprintf(stderr, "coldlab calibrate: %s\n", e.what());
      return 2;
    }
  }
  EmulatorOptions e = options.emulator;
  e.port = 0;
  e.quiet = true;
  if (e.log_dir.empty()) {  // the functions' output beside the log, not among the figures
    e.log_dir = e.db + ".function-logs";
    e.log_cap_bytes = 16 << 20;
  }
  e.run.kind = "calibration";
  e.run.label = "calibrate";
  e.run.parameters_json = json{{"functions", options.functions},
                               {"memory_mb", options.memory},
                               {"cold", options.cold},
                               {"warm", options.warm},
                               {"event", options.event},
                               {"reference", options.reference}}
                              .dump();
  std::unique_ptr<Emulator> emulator;
  try {
    emulator = Emulator::start(e, command_line);
  } catch (const EmulatorError& err) {
    std::fprintf(stderr, "coldlab calibrate: %s\n", err.what());
    return err.exit_status();
  }
  const json host = host_facts();
  std::printf("coldlab calibrate: run %lld in %s\ncommand: %s\nmachine: %s; %s; %s cpus (%s)\nemulator: %s\n\n",
              static_cast<long long>(emulator->run_id()), e.db.c_str(), command_line.c_str(),
              host.value("os", "?").c_str(), host.value("kernel", "?").c_str(), host["cpus"].dump().c_str(),
              host.value("cpu_model", "?").c_str(), emulator->describe().c_str());
  std::fflush(stdout);

  std::vector<Cell> cells;
  log::RunEnd end;
  int status = 0;
  try {
    LogReader log(e.db);
    Lambda api(emulator->port());
    for (const std::string& function : options.functions) {
      std::optional<int64_t> live;
      for (int memory_mb : options.memory) cells.push_back(measure(api, log, function, memory_mb, options, live));
    }
  } catch (const std::exception& err) {
    std::fprintf(stderr, "coldlab calibrate: %s\n", err.what());
    end.status = "failed";
    end.warnings = err.what();
    status = 1;
  }
  if (!cells.empty()) {
    print_table(cells, ref, options);
    end.summary_json = summary(cells, ref, options).dump();
  }
  emulator->stop(end);
  return status;
}

}  // namespace coldlab::calibrate
