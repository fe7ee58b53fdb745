#include "sweep.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <map>
#include <sstream>
#include <thread>

#include "registry.h"
#include "simulation.h"
#include "workload.h"

namespace coldlab::sim {

std::vector<SweepPoint> sweep_points(const std::vector<std::string>& keep_alives, const std::vector<int64_t>& budgets) {
  const std::vector<int64_t> grid_budgets = budgets.empty() ? std::vector<int64_t>{0} : budgets;
  // Policies compare by their canonical names: "fixed:ttl=600" is the baseline too.
  const std::string baseline = policies::make_keep_alive(kBaselineKeepAlive)->name();
  bool has_baseline = false;
  for (const std::string& k : keep_alives) has_baseline |= policies::make_keep_alive(k)->name() == baseline;
  std::vector<SweepPoint> points;
  for (int64_t budget : grid_budgets) {
    for (const std::string& k : keep_alives) points.push_back({k, budget, false});
    if (!has_baseline) points.push_back({kBaselineKeepAlive, budget, true});
  }
  return points;
}

std::vector<Summary> run_sweep(const std::vector<SweepPoint>& points, const SweepOptions& options) {
  std::vector<Summary> out(points.size());
  std::vector<std::exception_ptr> errors(points.size());
  std::atomic<size_t> next{0}, done{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < points.size();) {
      try {
        Workload w = load_workload(options.workload, options.seed);
        SimulationOptions so;
        so.keep_alive = points[i].keep_alive;
        so.scale_out = options.scale_out;
        so.memory_budget_mb = points[i].memory_budget_mb;
        so.seed = options.seed;
        out[i] = simulate(w, so);
        out[i].workload = options.workload.string();
      } catch (...) {
        errors[i] = std::current_exception();
      }
      if (options.progress) options.progress(++done, points.size());
    }
  };
  const unsigned jobs = std::max(1u, std::min<unsigned>(options.jobs, static_cast<unsigned>(points.size())));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

void normalise_to_baseline(std::vector<Summary>& summaries) {
  const std::string baseline = policies::make_keep_alive(kBaselineKeepAlive)->name();
  std::map<int64_t, double> wasted;  // by budget
  for (const Summary& s : summaries)
    if (s.keep_alive == baseline) wasted[s.memory_budget_mb] = s.wasted_memory_gb_s;
  for (Summary& s : summaries) {
    auto it = wasted.find(s.memory_budget_mb);
    if (it == wasted.end()) continue;
    s.wasted_memory_pct_of_fixed_10m = it->second > 0 ? 100 * s.wasted_memory_gb_s / it->second : 0;
  }
}

namespace {

struct Column {
  const char* name;
  std::function<std::string(const Summary&)> value;
};

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

const std::vector<Column>& columns() {
  static const std::vector<Column> cols = {
      {"keep_alive", [](const Summary& s) { return s.keep_alive; }},
      {"memory_budget_mb", [](const Summary& s) { return std::to_string(s.memory_budget_mb); }},
      {"invocations", [](const Summary& s) { return std::to_string(s.invocations); }},
      {"cold_starts", [](const Summary& s) { return std::to_string(s.cold_starts); }},
      {"cold_pct", [](const Summary& s) { return fixed(100 * s.cold_fraction, 4); }},
      {"p75_app_cold_pct", [](const Summary& s) { return fixed(s.p75_app_cold_pct, 4); }},
      {"wasted_memory_gb_s", [](const Summary& s) { return fixed(s.wasted_memory_gb_s, 1); }},
      {"wasted_pct_of_fixed_10m",
       [](const Summary& s) {
         return s.wasted_memory_pct_of_fixed_10m < 0 ? std::string() : fixed(s.wasted_memory_pct_of_fixed_10m, 2);
       }},
      {"avg_envs", [](const Summary& s) { return fixed(s.avg_envs, 3); }},
      {"avg_busy", [](const Summary& s) { return fixed(s.avg_busy, 3); }},
      {"rejected_pct", [](const Summary& s) { return fixed(100 * s.rejected_fraction, 4); }},
      {"mean_lifespan_s", [](const Summary& s) { return fixed(s.mean_lifespan_s, 1); }},
  };
  return cols;
}

std::string csv_cell(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string sweep_csv(const std::vector<Summary>& summaries) {
  std::ostringstream out;
  for (size_t i = 0; i < columns().size(); ++i) out << (i ? "," : "") << columns()[i].name;
  out << "\n";
  for (const Summary& s : summaries) {
    for (size_t i = 0; i < columns().size(); ++i) out << (i ? "," : "") << csv_cell(columns()[i].value(s));
    out << "\n";
  }
  return out.str();
}

std::string sweep_markdown(const std::vector<Summary>& summaries) {
  std::ostringstream out;
  out << "|";
  for (const Column& c : columns()) out << " " << c.name << " |";
  out << "\n|";
  for (size_t i = 0; i < columns().size(); ++i) out << (i == 0 ? "---|" : "---:|");
  out << "\n";
  for (const Summary& s : summaries) {
    out << "|";
    for (const Column& c : columns()) out << " " << c.value(s) << " |";
    out << "\n";
  }
  return out.str();
}

}  // namespace coldlab::sim
