#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace coldlab::sim {

void MetricsRecorder::advance(int64_t now_us) {
  if (now_us <= now_) return;
  const int64_t dt = now_us - now_;
  envs_us_ += static_cast<__int128>(envs_) * dt;
  busy_us_ += static_cast<__int128>(busy_) * dt;
  idle_mb_us_ += static_cast<__int128>(idle_mb_) * dt;
  now_ = now_us;
}

void MetricsRecorder::env_started(int memory_mb, int64_t now_us) {
  advance(now_us);
  ++envs_;
  ++environments_;
  idle_mb_ += memory_mb;
}

void MetricsRecorder::env_busy(int memory_mb, int64_t now_us) {
  advance(now_us);
  ++busy_;
  idle_mb_ -= memory_mb;
}

void MetricsRecorder::env_idle(int memory_mb, int64_t now_us) {
  advance(now_us);
  --busy_;
  idle_mb_ += memory_mb;
}

void MetricsRecorder::env_ended(int memory_mb, bool busy, int64_t started_us, int64_t now_us) {
  advance(now_us);
  --envs_;
  if (busy) {
    --busy_;
  } else {
    idle_mb_ -= memory_mb;
  }
  ++ended_;
  lifespan_us_ += now_us - started_us;
}

void MetricsRecorder::request_ran(size_t app, bool cold, double latency_s) {
  ++ran_;
  ++app_ran_[app];
  if (cold) {
    ++cold_;
    ++app_cold_[app];
  }
  latency_s_ += latency_s;
}

Summary MetricsRecorder::finish(int64_t end_us, int64_t invocations,
                                const std::vector<std::pair<int, int64_t>>& alive) {
  advance(end_us);
  Summary s;
  s.invocations = invocations;
  s.cold_starts = cold_;
  s.rejected = rejected_;
  s.queued = queued_;
  s.pings = pings_;
  s.environments = environments_;
  s.cold_fraction = ran_ > 0 ? static_cast<double>(cold_) / static_cast<double>(ran_) : 0;
  s.rejected_fraction = invocations > 0 ? static_cast<double>(rejected_) / static_cast<double>(invocations) : 0;
  s.mean_latency_s = ran_ > 0 ? latency_s_ / static_cast<double>(ran_) : 0;
  s.span_s = static_cast<double>(end_us) / 1e6;
  if (end_us > 0) {
    const double span = static_cast<double>(end_us);
    s.avg_envs = static_cast<double>(envs_us_) / span;
    s.avg_busy = static_cast<double>(busy_us_) / span;
    s.avg_idle = s.avg_envs - s.avg_busy;
  }
  s.wasted_memory_gb_s = static_cast<double>(idle_mb_us_) / 1024.0 / 1e6;

  __int128 lifespan = lifespan_us_;
  for (const auto& [mb, started] : alive) lifespan += end_us - started;
  const int64_t counted = ended_ + static_cast<int64_t>(alive.size());
  s.mean_lifespan_s = counted > 0 ? static_cast<double>(lifespan) / static_cast<double>(counted) / 1e6 : 0;

  std::vector<double> pct;
  for (size_t a = 0; a < app_ran_.size(); ++a)
    if (app_ran_[a] > 0) pct.push_back(100.0 * static_cast<double>(app_cold_[a]) / static_cast<double>(app_ran_[a]));
  s.apps = static_cast<int64_t>(pct.size());
  if (!pct.empty()) {
    std::sort(pct.begin(), pct.end());
    const double rank = 0.75 * static_cast<double>(pct.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(rank));
    const size_t hi = std::min(lo + 1, pct.size() - 1);
    s.p75_app_cold_pct = pct[lo] + (rank - static_cast<double>(lo)) * (pct[hi] - pct[lo]);
  }
  return s;
}

namespace {

nlohmann::ordered_json to_json(const Summary& s) {
  nlohmann::ordered_json j;
  j["workload"] = s.workload;
  j["keep_alive"] = s.keep_alive;
  j["scale_out"] = s.scale_out;
  j["memory_budget_mb"] = s.memory_budget_mb;
  j["seed"] = s.seed;
  j["invocations"] = s.invocations;
  j["cold_starts"] = s.cold_starts;
  j["cold_fraction"] = s.cold_fraction;
  j["p75_app_cold_pct"] = s.p75_app_cold_pct;
  j["apps"] = s.apps;
  j["wasted_memory_gb_s"] = s.wasted_memory_gb_s;
  if (s.wasted_memory_pct_of_fixed_10m >= 0) j["wasted_memory_pct_of_fixed_10m"] = s.wasted_memory_pct_of_fixed_10m;
  j["avg_envs"] = s.avg_envs;
  j["avg_busy"] = s.avg_busy;
  j["avg_idle"] = s.avg_idle;
  j["rejected"] = s.rejected;
  j["rejected_fraction"] = s.rejected_fraction;
  j["queued"] = s.queued;
  j["pings"] = s.pings;
  j["environments"] = s.environments;
  j["mean_lifespan_s"] = s.mean_lifespan_s;
  j["mean_latency_s"] = s.mean_latency_s;
  j["span_s"] = s.span_s;
  j["wall_s"] = s.wall_s;
  return j;
}

}  // namespace

std::string summary_json(const Summary& s) { return to_json(s).dump(); }

Summary summary_from_json(const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    Summary s;
    s.workload = j.at("workload").get<std::string>();
    s.keep_alive = j.at("keep_alive").get<std::string>();
    s.scale_out = j.at("scale_out").get<std::string>();
    s.memory_budget_mb = j.at("memory_budget_mb").get<int64_t>();
    s.seed = j.at("seed").get<uint64_t>();
    s.invocations = j.at("invocations").get<int64_t>();
    s.cold_starts = j.at("cold_starts").get<int64_t>();
    s.cold_fraction = j.at("cold_fraction").get<double>();
    s.p75_app_cold_pct = j.at("p75_app_cold_pct").get<double>();
    s.apps = j.at("apps").get<int64_t>();
    s.wasted_memory_gb_s = j.at("wasted_memory_gb_s").get<double>();
    s.wasted_memory_pct_of_fixed_10m = j.value("wasted_memory_pct_of_fixed_10m", -1.0);
    s.avg_envs = j.at("avg_envs").get<double>();
    s.avg_busy = j.at("avg_busy").get<double>();
    s.avg_idle = j.at("avg_idle").get<double>();
    s.rejected = j.at("rejected").get<int64_t>();
    s.rejected_fraction = j.at("rejected_fraction").get<double>();
    s.queued = j.at("queued").get<int64_t>();
    s.pings = j.at("pings").get<int64_t>();
    s.environments = j.at("environments").get<int64_t>();
    s.mean_lifespan_s = j.at("mean_lifespan_s").get<double>();
    s.mean_latency_s = j.at("mean_latency_s").get<double>();
    s.span_s = j.at("span_s").get<double>();
    s.wall_s = j.at("wall_s").get<double>();
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("not a simulation summary: ") + e.what());
  }
}

std::string summary_table(const Summary& s) {
  std::ostringstream out;
  out << "| Metric | Value |\n|---|---:|\n";
  const nlohmann::ordered_json j = to_json(s);  // named: items() of a temporary would dangle
  for (const auto& [key, value] : j.items()) {
    out << "| " << key << " | ";
    if (value.is_number_float()) {
      out << std::setprecision(6) << value.get<double>();
    } else if (value.is_string()) {
      out << value.get<std::string>();
    } else {
      out << value.dump();
    }
    out << " |\n";
  }
  return out.str();
}

}  // namespace coldlab::sim
