#include "azure_workload.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "azure_trace.h"
#include "distribution_yaml.h"
#include "random.h"
#include "yaml_errors.h"

namespace coldlab::sim {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMinuteUs = 60'000'000;
constexpr int64_t kDayUs = kMinuteUs * kMinutesPerDay;

enum class Spread { kEquidistant, kUniform, kPoisson };
enum class Warm { kPercentiles, kAverage, kLogNormal };

struct Runtime {
  std::string name;  // empty: `init` is one distribution for every app
  double share = 1;
  Distribution init;
};

struct Settings {
  fs::path trace;
  std::vector<int> days;
  int64_t duration_us = 0;
  std::string sample_mode = "all";
  int64_t sample_count = 0;
  int64_t min_invocations = 2;
  std::string spread_name = "equidistant";
  Spread spread = Spread::kEquidistant;
  std::string warm_name = "percentiles";
  Warm warm = Warm::kPercentiles;
  std::vector<Runtime> runtimes;  // by name
  std::optional<int> memory_mb;   // empty: from the trace
  std::optional<int> memory_default;
};

// A function the first day's duration file describes.
struct Candidate {
  DurationRow trace;
  uint64_t invocations = 0;  // over the listed days
  int memory_mb = 0;
};

std::string function_key(const std::string& owner, const std::string& app, const std::string& function) {
  return owner + ',' + app + ',' + function;  // the trace's fields have no commas
}

std::optional<int64_t> whole_number(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

int64_t as_whole(const YAML::Node& node, const fs::path& file, const std::string& key, int64_t min) {
  const std::optional<int64_t> value = node.IsScalar() ? whole_number(node.Scalar()) : std::nullopt;
  if (!value) throw yaml_error(file, node, key, "must be a whole number");
  if (*value < min) throw yaml_error(file, node, key, "must be >= " + std::to_string(min));
  return *value;
}

int as_megabytes(const YAML::Node& node, const fs::path& file, const std::string& key) {
  const int64_t mb = as_whole(node, file, key, 1);
  if (mb > 10'000'000) throw yaml_error(file, node, key, "must be at most 10000000 (MB)");
  return static_cast<int>(mb);
}

std::vector<int> parse_days(const YAML::Node& node, const fs::path& file) {
  const std::string form = "must be a day 1..14, a range like 1-3, or a list of days";
  std::vector<int> days;
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      days.push_back(static_cast<int>(as_whole(node[i], file, "days[" + std::to_string(i) + "]", 1)));
    }
  } else if (node.IsScalar() && node.Scalar().find('-') != std::string::npos) {
    const std::string& text = node.Scalar();
    const size_t dash = text.find('-');
    const auto first = whole_number(std::string_view(text).substr(0, dash));
    const auto last = whole_number(std::string_view(text).substr(dash + 1));
    if (!first || !last || *first > *last || *first < 1 || *last > kTraceDays) {
      throw yaml_error(file, node, "days", "'" + text + "' " + form);
    }
    for (int64_t d = *first; d <= *last; ++d) days.push_back(static_cast<int>(d));
  } else if (node.IsScalar()) {
    days.push_back(static_cast<int>(as_whole(node, file, "days", 1)));
  }
  if (days.empty()) throw yaml_error(file, node, "days", form);
  for (size_t i = 0; i < days.size(); ++i) {
    if (days[i] > kTraceDays) {
      throw yaml_error(file, node, "days", "the trace has days 1..14, not " + std::to_string(days[i]));
    }
    if (i > 0 && days[i] <= days[i - 1]) throw yaml_error(file, node, "days", "must increase");
  }
  return days;
}

std::string one_of(const YAML::Node& map, const std::string& parent, const char* name,
                   std::initializer_list<const char*> choices, const fs::path& file) {
  const std::string value = require_string(map, name, file, parent);
  std::string known;
  for (const char* c : choices) {
    if (value == c) return value;
    known += (known.empty() ? "" : ", ") + std::string(c);
  }
  throw yaml_error(file, map[name], join_key(parent, name), "unknown value '" + value + "' (" + known + ")");
}

std::vector<Runtime> parse_init(const YAML::Node& node, const fs::path& file) {
  if (!(node.IsMap() && node["runtimes"])) return {{"", 1, parse_distribution(node, file, "init")}};
  allow_keys(node, {"runtimes"}, file, "init");
  const YAML::Node runtimes = node["runtimes"];
  if (!runtimes.IsMap() || runtimes.size() == 0) {
    throw yaml_error(file, runtimes, "init.runtimes", "must map runtime names to {share: S, init: DIST}");
  }
  std::vector<Runtime> out;
  for (const auto& item : runtimes) {
    const std::string key = "init.runtimes." + item.first.Scalar();
    const YAML::Node runtime = item.second;
    allow_keys(runtime, {"share", "init"}, file, key);
    const double share = require_number(runtime, "share", file, key);
    if (!(share > 0)) throw yaml_error(file, runtime["share"], key + ".share", "must be > 0");
    if (!runtime["init"]) throw yaml_error(file, item.first, key + ".init", "is required (a distribution)");
    out.push_back({item.first.Scalar(), share, parse_distribution(runtime["init"], file, key + ".init")});
  }
  std::sort(out.begin(), out.end(), [](const Runtime& a, const Runtime& b) { return a.name < b.name; });
  return out;
}

Settings read_settings(const YAML::Node& root, const fs::path& file) {
  allow_keys(root,
             {"kind", "trace", "days", "duration", "sample", "min_invocations", "spread", "warm", "init",
              "memory", "memory_default"},
             file, "");
  Settings s;
  s.trace = fs::absolute(file.parent_path() / require_string(root, "trace", file, "")).lexically_normal();
  if (!fs::is_directory(s.trace)) {
    throw yaml_error(file, root["trace"], "trace", "'" + s.trace.string() + "' is not a folder");
  }
  s.days = root["days"] ? parse_days(root["days"], file) : std::vector<int>{1};
  const int64_t days_us = kDayUs * static_cast<int64_t>(s.days.size());
  s.duration_us = days_us;
  if (root["duration"]) {
    s.duration_us = parse_duration_us(root["duration"], file, "duration");
    if (s.duration_us <= 0) throw yaml_error(file, root["duration"], "duration", "must be > 0");
    if (s.duration_us > days_us) {
      throw yaml_error(file, root["duration"], "duration",
                       "is longer than the " + std::to_string(s.days.size()) + " day(s) listed in days");
    }
  }
  if (const YAML::Node sample = root["sample"]) {
    allow_keys(sample, {"mode", "count"}, file, "sample");
    s.sample_mode = one_of(sample, "sample", "mode", {"all", "random", "representative"}, file);
    if (s.sample_mode == "all") {
      if (sample["count"])
        throw yaml_error(file, sample["count"], "sample.count", "does not apply to mode: all");
    } else {
      if (!sample["count"])
        throw yaml_error(file, sample, "sample.count", "is required with mode: " + s.sample_mode);
      s.sample_count = as_whole(sample["count"], file, "sample.count", 1);
      if (s.sample_mode == "representative" && s.sample_count % 4 != 0) {
        throw yaml_error(file, sample["count"], "sample.count",
                         "must be a multiple of 4 (count/4 functions from each quartile of invocations)");
      }
    }
  }
  if (root["min_invocations"])
    s.min_invocations = as_whole(root["min_invocations"], file, "min_invocations", 0);
  if (root["spread"]) {
    s.spread_name = one_of(root, "", "spread", {"equidistant", "uniform", "poisson"}, file);
    s.spread = s.spread_name == "uniform"   ? Spread::kUniform
               : s.spread_name == "poisson" ? Spread::kPoisson
                                            : Spread::kEquidistant;
  }
  if (root["warm"]) {
    s.warm_name = one_of(root, "", "warm", {"percentiles", "average", "lognormal"}, file);
    s.warm = s.warm_name == "average"     ? Warm::kAverage
             : s.warm_name == "lognormal" ? Warm::kLogNormal
                                          : Warm::kPercentiles;
  }
  s.runtimes = root["init"] ? parse_init(root["init"], file)
                            : std::vector<Runtime>{{"", 1, Distribution::constant(1)}};
  if (const YAML::Node memory = root["memory"];
      memory && !(memory.IsScalar() && memory.Scalar() == "trace")) {
    if (!memory.IsScalar() || !whole_number(memory.Scalar())) {
      throw yaml_error(file, memory, "memory", "must be `trace` or a whole number of MB");
    }
    s.memory_mb = as_megabytes(memory, file, "memory");
  }
  if (root["memory_default"]) {
    if (s.memory_mb)
      throw yaml_error(file, root["memory_default"], "memory_default", "only applies to memory: trace");
    s.memory_default = as_megabytes(root["memory_default"], file, "memory_default");
  }
  if (!s.memory_mb && s.days.front() > kTraceMemoryDays) {
    throw yaml_error(file, root["memory"] ? root["memory"] : root["days"], root["memory"] ? "memory" : "days",
                     "memory comes from the trace, which has no memory file for day " +
                         std::to_string(s.days.front()) + " (only days 1..12): give memory: MB");
  }
  for (int day : s.days) {
    for (const std::string& name : {invocations_file_name(day), durations_file_name(day)}) {
      if (!fs::exists(s.trace / name))
        throw yaml_error(file, root["trace"], "trace", "no " + name + " in " + s.trace.string());
    }
  }
  if (!s.memory_mb && !fs::exists(s.trace / memory_file_name(s.days.front()))) {
    throw yaml_error(file, root["trace"], "trace",
                     "no " + memory_file_name(s.days.front()) + " in " + s.trace.string());
  }
  return s;
}

// Durations a service time can be drawn from: the real trace has negative ones.
bool usable(const DurationRow& d) {
  if (!(d.average >= 0) || !(d.percentiles[0] >= 0)) return false;
  return std::is_sorted(d.percentiles.begin(), d.percentiles.end());
}

Distribution warm_time(const DurationRow& d, Warm model) {
  switch (model) {
    case Warm::kPercentiles: {
      std::vector<std::pair<double, double>> points;
      for (size_t i = 0; i < d.percentiles.size(); ++i)
        points.emplace_back(kDurationRanks[i], d.percentiles[i] / 1000);
      return Distribution::percentiles(std::move(points));
    }
    case Warm::kAverage:
      return Distribution::constant(d.average / 1000);
    case Warm::kLogNormal: {
      const double mean = d.average / 1000;
      const double median = d.percentiles[3] > 0 ? d.percentiles[3] / 1000 : mean;
      if (median == 0) return Distribution::constant(0);
      return Distribution::lognormal(std::log(median),
                                     mean > median ? std::sqrt(2 * std::log(mean / median)) : 0);
    }
  }
  return {};
}

struct Invoked {
  uint64_t total = 0;  // over the days read so far
  size_t day = 0;      // index into Settings::days of the last row read
};

// The invocations of each function over the days; `repeated_rows` counts the rows skipped.
std::unordered_map<std::string, Invoked> count_invocations(const Settings& s, uint64_t& repeated_rows) {
  std::unordered_map<std::string, Invoked> out;
  InvocationRow row;
  for (size_t d = 0; d < s.days.size(); ++d) {
    InvocationReader reader(s.trace / invocations_file_name(s.days[d]));
    while (reader.next(row)) {
      const auto [it, first] = out.try_emplace(function_key(row.owner, row.app, row.function), Invoked{0, d});
      if (!first && it->second.day == d) {
        ++repeated_rows;
        continue;
      }
      it->second = {it->second.total + row.total(), d};
    }
  }
  return out;
}

// Streams the arrivals, a minute at a time (see the header).
class TraceArrivals final : public ArrivalSource {
 public:
  TraceArrivals(std::vector<fs::path> day_files, std::unordered_map<std::string, uint32_t> index,
                Spread spread, std::vector<Rng> rngs, std::vector<double> phases, int64_t end_us)
      : day_files_(std::move(day_files)),
        index_(std::move(index)),
        spread_(spread),
        rngs_(std::move(rngs)),
        phases_(std::move(phases)),
        end_us_(end_us),
        counts_(index_.size()) {}

  bool next(Arrival& out) override {
    while (position_ == minute_.size()) {
      if (!fill_next_minute()) return false;
    }
    out = minute_[position_++];
    return true;
  }

 private:
  bool fill_next_minute() {
    minute_.clear();
    position_ = 0;
    const int64_t start_us = next_minute_ * kMinuteUs;
    if (next_minute_ == static_cast<int64_t>(day_files_.size()) * kMinutesPerDay || start_us >= end_us_)
      return false;
    const int m = static_cast<int>(next_minute_ % kMinutesPerDay);
    if (m == 0) load_day(day_files_[next_minute_ / kMinutesPerDay]);
    ++next_minute_;
    for (uint32_t f = 0; f < counts_.size(); ++f) {
      const uint32_t n = counts_[f][m];
      switch (spread_) {
        case Spread::kEquidistant:
          for (uint32_t i = 0; i < n; ++i) add(start_us, (i + phases_[f]) * 60 / n, f);
          break;
        case Spread::kUniform:
          for (uint32_t i = 0; i < n; ++i) add(start_us, rngs_[f].uniform() * 60, f);
          break;
        case Spread::kPoisson:
          if (n == 0) break;
          for (double t = rngs_[f].exponential(60.0 / n); t < 60; t += rngs_[f].exponential(60.0 / n)) {
            add(start_us, t, f);
          }
          break;
      }
    }
    // By time, then function: one integer each (the offset in the minute above the
    // function), which sorts several times faster than the pairs would.
    std::sort(keys_.begin(), keys_.end());
    for (const uint64_t key : keys_)
      minute_.push_back({start_us + static_cast<int64_t>(key >> 32), static_cast<uint32_t>(key)});
    keys_.clear();
    return true;
  }

  // `seconds` into the minute; rounding must not carry it into the next minute.
  void add(int64_t start_us, double seconds, uint32_t f) {
    const int64_t offset_us = std::min(static_cast<int64_t>(seconds * 1e6), kMinuteUs - 1);
    if (start_us + offset_us < end_us_) keys_.push_back(static_cast<uint64_t>(offset_us) << 32 | f);
  }

  void load_day(const fs::path& file) {
    for (auto& counts : counts_) counts.fill(0);
    std::vector<bool> seen(counts_.size(), false);
    try {
      InvocationReader reader(file);
      InvocationRow row;
      while (reader.next(row)) {
        const auto it = index_.find(function_key(row.owner, row.app, row.function));
        if (it == index_.end() || seen[it->second]) continue;
        seen[it->second] = true;
        counts_[it->second] = row.counts;
      }
    } catch (const TraceError& e) {
      throw WorkloadError(e.what());  // the file changed after the workload was loaded
    }
  }

  std::vector<fs::path> day_files_;
  std::unordered_map<std::string, uint32_t> index_;  // function key -> function index
  Spread spread_;
  std::vector<Rng> rngs_;       // uniform, poisson: per function
  std::vector<double> phases_;  // equidistant: per function
  int64_t end_us_;
  std::vector<std::array<uint32_t, kMinutesPerDay>> counts_;  // of the current day
  int64_t next_minute_ = 0;                                   // from the start of the first day
  std::vector<Arrival> minute_;
  std::vector<uint64_t> keys_;  // the minute being filled: offset_us << 32 | function
  size_t position_ = 0;
};

// Partial Fisher-Yates: `count` of `pool`, in draw order.
std::vector<size_t> draw(std::vector<size_t> pool, size_t count, Rng& rng) {
  for (size_t i = 0; i < count; ++i) std::swap(pool[i], pool[i + rng.below(pool.size() - i)]);
  pool.resize(count);
  return pool;
}

std::vector<std::string> function_names(const std::vector<const DurationRow*>& kept) {
  for (size_t length : {8, 16, 32, 64}) {
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (const DurationRow* c : kept) {
      names.push_back(c->app.substr(0, length) + "/" + c->function.substr(0, length));
      if (!seen.insert(names.back()).second) break;
    }
    if (names.size() == kept.size() && seen.size() == kept.size()) return names;
  }
  // The same app and function hashes under two owners: only the owner tells them apart.
  std::vector<std::string> names;
  for (const DurationRow* c : kept) names.push_back(c->owner + "/" + c->app + "/" + c->function);
  return names;
}

}  // namespace

Workload load_azure_workload(const YAML::Node& root, const fs::path& file, uint64_t seed) {
  const Settings s = read_settings(root, file);
  const int first_day = s.days.front();

  uint64_t repeated_rows = 0, unusable = 0;
  std::unordered_map<std::string, Invoked> invoked;
  std::vector<DurationRow> durations;
  std::vector<MemoryRow> memory;
  try {
    invoked = count_invocations(s, repeated_rows);
    durations = read_durations(s.trace / durations_file_name(first_day));
    if (!s.memory_mb) memory = read_memory(s.trace / memory_file_name(first_day));
  } catch (const TraceError& e) {
    throw WorkloadError(e.what());
  }

  // The first row of each function and app wins, as with pandas' drop_duplicates.
  std::unordered_map<std::string, double> app_memory;  // "owner,app" -> AverageAllocatedMb
  for (const MemoryRow& m : memory) app_memory.try_emplace(m.owner + ',' + m.app, m.average);
  std::set<std::string> described;
  std::unordered_map<std::string, int> app_functions;  // "owner,app" -> functions in the duration file
  std::vector<Candidate> candidates;
  for (DurationRow& d : durations) {
    if (!described.insert(function_key(d.owner, d.app, d.function)).second) {
      ++repeated_rows;
      continue;
    }
    ++app_functions[d.owner + ',' + d.app];
    if (!usable(d)) {
      ++unusable;
      continue;
    }
    candidates.push_back({std::move(d)});
  }

  std::vector<size_t> eligible;
  for (size_t i = 0; i < candidates.size(); ++i) {
    Candidate& c = candidates[i];
    const DurationRow& t = c.trace;
    const auto it = invoked.find(function_key(t.owner, t.app, t.function));
    if (it == invoked.end() || it->second.total < static_cast<uint64_t>(s.min_invocations)) continue;
    c.invocations = it->second.total;
    if (s.memory_mb) {
      c.memory_mb = *s.memory_mb;
    } else if (const auto mb = app_memory.find(t.owner + ',' + t.app); mb != app_memory.end()) {
      const double share = std::ceil(mb->second / app_functions[t.owner + ',' + t.app]);
      c.memory_mb = static_cast<int>(std::clamp(share, 1.0, 1e7));
    } else if (s.memory_default) {
      c.memory_mb = *s.memory_default;
    } else {
      continue;
    }
    eligible.push_back(i);
  }
  const auto by_hash = [&](size_t a, size_t b) {
    const DurationRow &x = candidates[a].trace, &y = candidates[b].trace;
    return std::tie(x.app, x.function, x.owner) < std::tie(y.app, y.function, y.owner);
  };
  std::sort(eligible.begin(), eligible.end(), by_hash);

  std::vector<size_t> kept = eligible;
  const size_t count = static_cast<size_t>(s.sample_count);
  if (s.sample_mode != "all") {
    const YAML::Node count_node = root["sample"]["count"];
    if (count > eligible.size()) {
      throw yaml_error(
          file, count_node, "sample.count",
          std::to_string(count) + " functions asked, " + std::to_string(eligible.size()) + " eligible");
    }
    Rng rng = Rng::stream(seed, "azure2019/sample");
    if (s.sample_mode == "random") {
      kept = draw(eligible, count, rng);
    } else {
      std::vector<size_t> ranked = eligible;
      std::stable_sort(ranked.begin(), ranked.end(), [&](size_t a, size_t b) {
        return candidates[a].invocations < candidates[b].invocations;
      });
      kept.clear();
      for (size_t q = 0; q < 4; ++q) {
        const std::vector<size_t> quarter(ranked.begin() + q * ranked.size() / 4,
                                          ranked.begin() + (q + 1) * ranked.size() / 4);
        if (quarter.size() < count / 4) {
          throw yaml_error(file, count_node, "sample.count",
                           "needs " + std::to_string(count / 4) + " functions from each quarter of the " +
                               std::to_string(eligible.size()) + " eligible, ranked by invocations");
        }
        for (size_t i : draw(quarter, count / 4, rng)) kept.push_back(i);
      }
    }
    std::sort(kept.begin(), kept.end(), by_hash);
  }

  std::vector<const DurationRow*> chosen;
  for (size_t i : kept) chosen.push_back(&candidates[i].trace);
  const std::vector<std::string> names = function_names(chosen);
  std::map<std::string, std::set<std::string>> owners_of_app;
  for (const DurationRow* c : chosen) owners_of_app[c->app].insert(c->owner);

  Workload w;
  w.kind = "azure2019";
  w.file = file;
  w.duration_us = s.duration_us;
  std::unordered_map<std::string, uint32_t> index;
  std::vector<Rng> rngs;
  std::vector<double> phases;
  std::map<std::string, uint64_t> runtime_apps;
  std::set<std::string> apps;
  uint64_t trace_invocations = 0;
  double share_sum = 0;
  for (const Runtime& r : s.runtimes) share_sum += r.share;
  for (size_t i = 0; i < kept.size(); ++i) {
    const Candidate& k = candidates[kept[i]];
    const DurationRow& c = k.trace;
    SimFunction f;
    f.name = names[i];
    f.app = owners_of_app[c.app].size() > 1 ? c.owner + "/" + c.app : c.app;
    f.memory_mb = k.memory_mb;
    f.warm = warm_time(c, s.warm);
    f.cold = f.warm;
    Rng runtime_rng = Rng::stream(seed, "azure2019/runtime/" + c.owner + "/" + c.app);
    double u = runtime_rng.uniform() * share_sum;
    const Runtime* runtime = &s.runtimes.back();
    for (const Runtime& r : s.runtimes) {
      if ((u -= r.share) < 0) {
        runtime = &r;
        break;
      }
    }
    f.init = runtime->init;
    if (apps.insert(f.app).second) ++runtime_apps[runtime->name];
    trace_invocations += k.invocations;

    Rng rng = Rng::stream(seed, "azure2019/arrivals/" + c.owner + "/" + c.app + "/" + c.function);
    if (s.spread == Spread::kEquidistant) {
      phases.push_back(rng.uniform());
    } else {
      rngs.push_back(rng);
    }
    index.emplace(function_key(c.owner, c.app, c.function), static_cast<uint32_t>(i));
    w.functions.push_back(std::move(f));
  }

  std::vector<fs::path> day_files;
  for (int day : s.days) day_files.push_back(s.trace / invocations_file_name(day));
  w.arrivals = std::make_unique<TraceArrivals>(std::move(day_files), std::move(index), s.spread,
                                               std::move(rngs), std::move(phases), s.duration_us);

  nlohmann::ordered_json p;
  p["kind"] = "azure2019";
  p["trace"] = s.trace.string();
  p["days"] = s.days;
  p["duration_s"] = static_cast<double>(s.duration_us) / 1e6;
  p["sample"] = {{"mode", s.sample_mode}};
  if (s.sample_mode != "all") p["sample"]["count"] = s.sample_count;
  p["min_invocations"] = s.min_invocations;
  p["spread"] = s.spread_name;
  p["warm"] = s.warm_name;
  if (s.runtimes.front().name.empty()) {
    p["init"] = s.runtimes.front().init.describe();
  } else {
    for (const Runtime& r : s.runtimes) {
      p["init"]["runtimes"][r.name] = {
          {"share", r.share}, {"init", r.init.describe()}, {"apps", runtime_apps[r.name]}};
    }
  }
  p["memory"] = s.memory_mb ? nlohmann::ordered_json(*s.memory_mb) : nlohmann::ordered_json("trace");
  p["memory_default"] =
      s.memory_default ? nlohmann::ordered_json(*s.memory_default) : nlohmann::ordered_json();
  p["seed"] = seed;
  p["functions"] = w.functions.size();
  p["apps"] = apps.size();
  p["eligible_functions"] = eligible.size();
  p["trace_invocations"] = trace_invocations;
  p["skipped_rows"] = {{"repeated", repeated_rows}, {"unusable_durations", unusable}};
  w.parameters_json = p.dump();
  return w;
}

}  // namespace coldlab::sim
