#include "replay_workload.h"

#include <sqlite3.h>

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "yaml_errors.h"

namespace coldlab::sim {
namespace {

constexpr const char* kArrivalFilter =
    "run_id = ?1 AND attempt = 1 AND (invocation_type IS NULL OR invocation_type IN ('RequestResponse', 'Event'))";

struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close(db); }
};

struct Statement {
  sqlite3_stmt* stmt = nullptr;
  Statement(sqlite3* db, const std::string& sql, const std::string& where) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
      throw WorkloadError(where + ": " + sqlite3_errmsg(db));
  }
  ~Statement() { sqlite3_finalize(stmt); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
};

// Streams the run's arrivals from the database, ordered by time (then row id).
class ReplayArrivals : public ArrivalSource {
 public:
  ReplayArrivals(const std::filesystem::path& path, int64_t run_id, int64_t start_us,
                 std::map<std::string, uint32_t> index)
      : start_us_(start_us), index_(std::move(index)) {
    if (sqlite3_open_v2(path.c_str(), &db_.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw WorkloadError(path.string() + ": " + sqlite3_errmsg(db_.db));
    rows_ = std::make_unique<Statement>(db_.db,
                                        std::string("SELECT started_at_us, function FROM invocations WHERE ") +
                                            kArrivalFilter + " ORDER BY started_at_us, id",
                                        path.string());
    sqlite3_bind_int64(rows_->stmt, 1, run_id);
  }

  bool next(Arrival& out) override {
    if (sqlite3_step(rows_->stmt) != SQLITE_ROW) return false;
    out.at_us = std::max<int64_t>(0, sqlite3_column_int64(rows_->stmt, 0) - start_us_);
    out.function = index_.at(reinterpret_cast<const char*>(sqlite3_column_text(rows_->stmt, 1)));
    return true;
  }

 private:
  Db db_;
  std::unique_ptr<Statement> rows_;
  int64_t start_us_;
  std::map<std::string, uint32_t> index_;
};

}  // namespace

Workload load_replay_workload(const YAML::Node& root, const std::filesystem::path& file, uint64_t /*seed*/) {
  allow_keys(root, {"kind", "db", "run"}, file, "");
  std::filesystem::path path = require_string(root, "db", file, "");
  if (path.is_relative()) path = file.parent_path() / path;
  if (!std::filesystem::exists(path)) throw yaml_error(file, root["db"], "db", "no such database: " + path.string());
  Db db;
  if (sqlite3_open_v2(path.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    throw yaml_error(file, root["db"], "db", path.string() + ": " + sqlite3_errmsg(db.db));
  const std::string where = path.string();

  int64_t run_id = 0;
  if (root["run"]) {
    const double id = require_number(root, "run", file, "");
    if (id < 1 || id != static_cast<double>(static_cast<int64_t>(id))) throw yaml_error(file, root["run"], "run", "must be a run id");
    run_id = static_cast<int64_t>(id);
  } else {
    Statement latest(db.db, "SELECT MAX(id) FROM runs WHERE kind IS NULL OR kind != 'simulation'", where);
    if (sqlite3_step(latest.stmt) == SQLITE_ROW) run_id = sqlite3_column_int64(latest.stmt, 0);
    if (run_id == 0) throw yaml_error(file, root, "run", where + " holds no recorded run to replay");
  }
  Statement run(db.db, "SELECT started_at_us, ended_at_us FROM runs WHERE id = ?1", where);
  sqlite3_bind_int64(run.stmt, 1, run_id);
  if (sqlite3_step(run.stmt) != SQLITE_ROW)
    throw yaml_error(file, root["run"] ? root["run"] : root, "run", "no run " + std::to_string(run_id) + " in " + where);
  const int64_t start_us = sqlite3_column_int64(run.stmt, 0);
  const bool ended = sqlite3_column_type(run.stmt, 1) != SQLITE_NULL;
  const int64_t ended_us = sqlite3_column_int64(run.stmt, 1);

  // Functions, with their samples.
  struct Samples {
    int memory_mb = 0;
    std::vector<double> cold, warm;
  };
  std::map<std::string, Samples> functions;
  Statement rows(db.db,
                 std::string("SELECT function, memory_mb, cold, status, latency_us, init_ms, duration_ms, started_at_us "
                             "FROM invocations WHERE ") + kArrivalFilter + " ORDER BY id",
                 where);
  sqlite3_bind_int64(rows.stmt, 1, run_id);
  int64_t last_us = start_us, arrivals = 0;
  while (sqlite3_step(rows.stmt) == SQLITE_ROW) {
    Samples& s = functions[reinterpret_cast<const char*>(sqlite3_column_text(rows.stmt, 0))];
    if (s.memory_mb == 0) s.memory_mb = sqlite3_column_int(rows.stmt, 1);
    last_us = std::max<int64_t>(last_us, sqlite3_column_int64(rows.stmt, 7));
    ++arrivals;
    const std::string status = reinterpret_cast<const char*>(sqlite3_column_text(rows.stmt, 3));
    if (status != "ok") continue;
    double seconds;
    if (sqlite3_column_type(rows.stmt, 4) != SQLITE_NULL) {
      seconds = static_cast<double>(sqlite3_column_int64(rows.stmt, 4)) / 1e6;
    } else {
      seconds = (sqlite3_column_double(rows.stmt, 5) + sqlite3_column_double(rows.stmt, 6)) / 1e3;
    }
    (sqlite3_column_int(rows.stmt, 2) ? s.cold : s.warm).push_back(std::max(0.0, seconds));
  }
  if (arrivals == 0) throw yaml_error(file, root["run"] ? root["run"] : root, "run", "run " + std::to_string(run_id) + " in " + where + " has no invocations");

  Workload w;
  w.kind = "replay";
  w.file = file;
  w.duration_us = ended && ended_us > start_us ? ended_us - start_us : last_us - start_us + 1'000'000;
  w.duration_us = std::max(w.duration_us, last_us - start_us + 1);
  std::map<std::string, uint32_t> index;
  nlohmann::ordered_json described = nlohmann::ordered_json::array();
  for (auto& [name, s] : functions) {
    SimFunction f;
    f.name = name;
    f.app = name;
    f.memory_mb = s.memory_mb > 0 ? s.memory_mb : 128;
    if (s.cold.empty()) s.cold = s.warm;
    if (s.warm.empty()) s.warm = s.cold;
    f.cold = s.cold.empty() ? Distribution::constant(0) : Distribution::empirical(s.cold);
    f.warm = s.warm.empty() ? Distribution::constant(0) : Distribution::empirical(s.warm);
    described.push_back({{"name", name},
                         {"memory_mb", f.memory_mb},
                         {"cold_samples", functions[name].cold.size()},
                         {"warm_samples", functions[name].warm.size()},
                         {"cold_mean_s", f.cold.mean()},
                         {"warm_mean_s", f.warm.mean()}});
    index[name] = static_cast<uint32_t>(w.functions.size());
    w.functions.push_back(std::move(f));
  }
  w.arrivals = std::make_unique<ReplayArrivals>(path, run_id, start_us, std::move(index));
  nlohmann::ordered_json params;
  params["kind"] = "replay";
  params["db"] = path.string();
  params["run"] = run_id;
  params["arrivals"] = arrivals;
  params["duration_s"] = static_cast<double>(w.duration_us) / 1e6;
  params["functions"] = described;
  w.parameters_json = params.dump();
  return w;
}

}  // namespace coldlab::sim
