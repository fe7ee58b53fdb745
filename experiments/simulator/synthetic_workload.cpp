#include "synthetic_workload.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <queue>
#include <set>

#include "distribution_yaml.h"
#include "yaml_errors.h"

namespace coldlab::sim {
namespace {

struct Process {
  enum class Kind { kPoisson, kFixed, kList } kind = Kind::kPoisson;
  double rate = 0;                 // poisson, per second
  int64_t interval_us = 0, offset_us = 0;  // fixed
  std::vector<int64_t> times_us;   // list, sorted
};

// Streams the merged arrivals of every function: one pending arrival per function in a
// heap, so memory is O(functions) and each arrival O(log functions).
class SyntheticArrivals : public ArrivalSource {
 public:
  SyntheticArrivals(std::vector<Process> processes, int64_t duration_us, uint64_t seed,
                    const std::vector<SimFunction>& functions)
      : processes_(std::move(processes)), duration_us_(duration_us), position_(processes_.size(), 0) {
    for (size_t i = 0; i < processes_.size(); ++i) {
      rng_.push_back(Rng::stream(seed, "arrivals/" + functions[i].name));
      schedule(static_cast<uint32_t>(i), 0, true);
    }
  }

  bool next(Arrival& out) override {
    if (heap_.empty()) return false;
    const auto [at, f] = heap_.front();
    out = {at, f};
    // The function's next arrival takes its place at the top and sinks: one pass down
    // the heap instead of a pop and a push.
    const int64_t following = next_after(f, at, false);
    if (following >= 0) {
      heap_.front() = {following, f};
      sink_top();
    } else {
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      heap_.pop_back();
    }
    return true;
  }

 private:
  void schedule(uint32_t f, int64_t last_us, bool first) {
    const int64_t at = next_after(f, last_us, first);
    if (at >= 0) {
      heap_.emplace_back(at, f);
      std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
    }
  }

  // The min-heap's top moved later: restore the order below it.
  void sink_top() {
    const size_t n = heap_.size();
    size_t i = 0;
    const auto moving = heap_[0];
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap_[child + 1] < heap_[child]) ++child;
      if (!(heap_[child] < moving)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = moving;
  }

  // When function f's next request arrives after one at last_us; -1 when it does not
  // (past the workload's end, or its list is used up).
  int64_t next_after(uint32_t f, int64_t last_us, bool first) {
    const Process& p = processes_[f];
    int64_t at = -1;
    switch (p.kind) {
      case Process::Kind::kPoisson:
        at = (first ? 0 : last_us) + static_cast<int64_t>(std::llround(rng_[f].exponential(1.0 / p.rate) * 1e6));
        break;
      case Process::Kind::kFixed:
        at = p.offset_us + p.interval_us * position_[f]++;
        break;
      case Process::Kind::kList:
        if (position_[f] < p.times_us.size()) at = p.times_us[position_[f]++];
        break;
    }
    return at >= 0 && at < duration_us_ ? at : -1;
  }

  std::vector<Process> processes_;
  int64_t duration_us_;
  std::vector<size_t> position_;
  std::vector<Rng> rng_;
  std::vector<std::pair<int64_t, uint32_t>> heap_;  // a min-heap of (time, function)
};

Process parse_process(const YAML::Node& node, const std::filesystem::path& file, const std::string& key) {
  if (!node || !node.IsMap()) throw yaml_error(file, node, key, "must be a map with a `process`");
  const std::string process = require_string(node, "process", file, key);
  Process p;
  if (process == "poisson") {
    allow_keys(node, {"process", "rate"}, file, key);
    p.kind = Process::Kind::kPoisson;
    p.rate = require_number(node, "rate", file, key);
    if (!(p.rate > 0)) throw yaml_error(file, node["rate"], key + ".rate", "must be > 0 (requests per second)");
  } else if (process == "fixed") {
    allow_keys(node, {"process", "interval", "offset"}, file, key);
    p.kind = Process::Kind::kFixed;
    const double interval = require_number(node, "interval", file, key);
    if (!(interval > 0)) throw yaml_error(file, node["interval"], key + ".interval", "must be > 0 (seconds)");
    p.interval_us = static_cast<int64_t>(std::llround(interval * 1e6));
    if (p.interval_us <= 0) throw yaml_error(file, node["interval"], key + ".interval", "must be at least 1 us");
    if (node["offset"]) {
      const double offset = require_number(node, "offset", file, key);
      if (!(offset >= 0)) throw yaml_error(file, node["offset"], key + ".offset", "must be >= 0 (seconds)");
      p.offset_us = static_cast<int64_t>(std::llround(offset * 1e6));
    }
  } else if (process == "list") {
    allow_keys(node, {"process", "times"}, file, key);
    p.kind = Process::Kind::kList;
    const YAML::Node times = node["times"];
    if (!times || !times.IsSequence() || times.size() == 0)
      throw yaml_error(file, times ? times : node, key + ".times", "must be a non-empty list of seconds");
    for (size_t i = 0; i < times.size(); ++i) {
      const std::string k = key + ".times[" + std::to_string(i) + "]";
      const double t = as_number(times[i], file, k);
      if (!(t >= 0)) throw yaml_error(file, times[i], k, "must be >= 0 (seconds)");
      p.times_us.push_back(static_cast<int64_t>(std::llround(t * 1e6)));
    }
    std::sort(p.times_us.begin(), p.times_us.end());
  } else {
    throw yaml_error(file, node["process"], key + ".process",
                     "unknown process '" + process + "' (poisson, fixed or list)");
  }
  return p;
}

}  // namespace

Workload load_synthetic_workload(const YAML::Node& root, const std::filesystem::path& file, uint64_t seed) {
  allow_keys(root, {"kind", "duration", "functions"}, file, "");
  Workload w;
  w.kind = "synthetic";
  w.file = file;
  if (!root["duration"]) throw yaml_error(file, root, "duration", "is required (simulated seconds)");
  w.duration_us = parse_duration_us(root["duration"], file, "duration");
  if (w.duration_us <= 0) throw yaml_error(file, root["duration"], "duration", "must be > 0");
  const YAML::Node functions = root["functions"];
  if (!functions || !functions.IsSequence() || functions.size() == 0)
    throw yaml_error(file, functions ? functions : root, "functions", "must be a non-empty list");
  std::vector<Process> processes;
  std::set<std::string> names;
  nlohmann::ordered_json described = nlohmann::ordered_json::array();
  for (size_t i = 0; i < functions.size(); ++i) {
    const YAML::Node f = functions[i];
    const std::string key = "functions[" + std::to_string(i) + "]";
    if (!f.IsMap()) throw yaml_error(file, f, key, "must be a map");
    allow_keys(f, {"name", "app", "memory_mb", "arrivals", "warm", "cold", "init"}, file, key);
    SimFunction fn;
    fn.name = require_string(f, "name", file, key);
    if (!names.insert(fn.name).second) throw yaml_error(file, f["name"], key + ".name", "'" + fn.name + "' is listed twice");
    fn.app = f["app"] ? require_string(f, "app", file, key) : fn.name;
    const double memory = f["memory_mb"] ? require_number(f, "memory_mb", file, key) : 128;
    if (!(memory >= 1 && memory <= 1e7) || memory != std::floor(memory))
      throw yaml_error(file, f["memory_mb"], key + ".memory_mb", "must be a whole number of MB >= 1");
    fn.memory_mb = static_cast<int>(memory);
    if (!f["arrivals"]) throw yaml_error(file, f, key + ".arrivals", "is required");
    processes.push_back(parse_process(f["arrivals"], file, key + ".arrivals"));
    if (!f["warm"]) throw yaml_error(file, f, key + ".warm", "is required");
    fn.warm = parse_distribution(f["warm"], file, key + ".warm");
    if (f["init"]) fn.init = parse_distribution(f["init"], file, key + ".init");
    if (f["cold"]) {
      if (fn.init) throw yaml_error(file, f["cold"], key + ".cold", "give either cold or init, not both");
      fn.cold = parse_distribution(f["cold"], file, key + ".cold");
    } else if (!fn.init) {
      throw yaml_error(file, f, key + ".cold", "is required (or init: cold = init + a warm draw)");
    } else {
      fn.cold = fn.warm;
    }
    described.push_back({{"name", fn.name},
                         {"app", fn.app},
                         {"memory_mb", fn.memory_mb},
                         {"warm", fn.warm.describe()},
                         {fn.init ? "init" : "cold", fn.init ? fn.init->describe() : fn.cold.describe()}});
    w.functions.push_back(std::move(fn));
  }
  w.arrivals = std::make_unique<SyntheticArrivals>(std::move(processes), w.duration_us, seed, w.functions);
  nlohmann::ordered_json params;
  params["kind"] = "synthetic";
  params["duration_s"] = static_cast<double>(w.duration_us) / 1e6;
  params["seed"] = seed;
  params["functions"] = described;
  w.parameters_json = params.dump();
  return w;
}

}  // namespace coldlab::sim
