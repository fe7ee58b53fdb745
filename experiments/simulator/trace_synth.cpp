#include "trace_synth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

#include "azure_trace.h"
#include "random.h"

namespace coldlab::sim {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Functions per app: 1 with probability 0.54, else 1 + floor(U^(-1/alpha)), a discrete
// Pareto tail whose alpha puts 95% of all apps at <= 10 functions: P(tail >= 10) = 0.109.
constexpr double kSingleFunctionShare = 0.54;
constexpr double kFunctionTailAlpha = 0.96377;
constexpr int kMaxFunctions = 100;

// log10 of an app's invocations per day: P(<= 24) = 0.45, P(<= 1440) = 0.81.
constexpr double kRateLog10Mean = 1.60286;
constexpr double kRateLog10Sd = 1.77185;
constexpr double kMaxRatePerDay = 1e8;  // ~70,000 a minute, about the trace's busiest function
constexpr double kWeightLogSd = 1.5;

constexpr double kDurationLogMean = -0.38;  // seconds
constexpr double kDurationLogSd = 2.36;

constexpr double kBurrC = 11.652, kBurrK = 0.221, kBurrLambda = 107.083;

// Per-function trigger shares; http and timer solved numerically for 64% and 29% of apps
// under the functions-per-app distribution above.
struct TriggerShare {
  const char* name;
  double share;
};
constexpr std::array<TriggerShare, 7> kTriggers = {{
    {"http", 0.4758},
    {"timer", 0.1540},
    {"queue", 0.3702 * 15.2 / 29.3},
    {"orchestration", 0.3702 * 6.9 / 29.3},
    {"storage", 0.3702 * 2.8 / 29.3},
    {"event", 0.3702 * 2.2 / 29.3},
    {"others", 0.3702 * 2.2 / 29.3},
}};

constexpr std::array<int, 18> kTimerPeriods = {1,   2,   5,   10,   15,   20,   30,    60,    120,
                                               300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400};

// Standard normal quantiles of the ranks the trace reports; the 0th and 100th percentiles
// of a function's day are taken at 0.1% and 99.9%, Minimum and Maximum at 0.01%, 99.99%.
constexpr std::array<double, 7> kDurationZ = {-3.0902, -2.3263, -0.6745, 0, 0.6745, 2.3263, 3.0902};
constexpr double kExtremeZ = 3.719;
constexpr std::array<double, 8> kMemoryZ = {-2.3263, -1.6449, -0.6745, 0, 0.6745, 1.6449, 2.3263, 3.0902};

struct FunctionModel {
  std::string hash;
  const char* trigger = "http";
  double rate = 0;  // invocations per day
  int period = 0;   // timer: seconds between firings
  int offset = 0;   // timer: seconds from the trace's start to the first firing
  double average_ms = 0;
  double log_sd = 0;  // of one invocation's duration
};

struct AppModel {
  std::string owner, hash;
  double amplitude = 0;  // of the daily cycle
  double memory_mb = 0;
  double memory_log_sd = 0;
  std::vector<FunctionModel> functions;
};

std::string hex_hash(Rng rng) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int word = 0; word < 4; ++word) {
    const uint64_t bits = rng.next();
    for (int shift = 60; shift >= 0; shift -= 4) out += kDigits[(bits >> shift) & 15];
  }
  return out;
}

std::string app_stream(uint64_t app) { return "synth/app/" + std::to_string(app); }
std::string function_stream(uint64_t app, size_t function) {
  return app_stream(app) + "/function/" + std::to_string(function);
}

int timer_period(double rate_per_day) {
  const double target = std::log(std::clamp(86400 / rate_per_day, 1.0, 86400.0));
  return *std::min_element(kTimerPeriods.begin(), kTimerPeriods.end(), [&](int a, int b) {
    return std::abs(std::log(a) - target) < std::abs(std::log(b) - target);
  });
}

std::vector<AppModel> make_apps(const SynthOptions& options) {
  std::vector<AppModel> apps;
  uint64_t owners = 0;
  for (int i = 0; i < options.apps; ++i) {
    Rng rng = Rng::stream(options.seed, app_stream(i));
    AppModel app;
    // Owners (subscriptions) often hold a few apps: 30% of apps share the previous one's.
    if (i == 0 || rng.uniform() >= 0.3) ++owners;
    app.owner = hex_hash(Rng::stream(options.seed, "synth/owner/" + std::to_string(owners)));
    app.hash = hex_hash(Rng::stream(options.seed, app_stream(i) + "/hash"));
    size_t functions = 1;
    if (rng.uniform() >= kSingleFunctionShare) {
      const double tail = std::floor(std::pow(rng.uniform_open0(), -1 / kFunctionTailAlpha));
      functions = 1 + static_cast<size_t>(std::min(tail, double{kMaxFunctions - 1}));
    }
    const double rate = std::min(std::pow(10, rng.normal(kRateLog10Mean, kRateLog10Sd)), kMaxRatePerDay);
    app.amplitude = 0.5 * rng.uniform();
    app.memory_mb = kBurrLambda * std::pow(std::pow(rng.uniform_open0(), -1 / kBurrK) - 1, 1 / kBurrC);
    app.memory_log_sd = 0.05 + 0.25 * rng.uniform();

    std::vector<double> weights;
    for (size_t j = 0; j < functions; ++j) {
      Rng frng = Rng::stream(options.seed, function_stream(i, j));
      FunctionModel& f = app.functions.emplace_back();
      f.hash = hex_hash(Rng::stream(options.seed, function_stream(i, j) + "/hash"));
      double u = frng.uniform();
      for (const TriggerShare& t : kTriggers) {
        f.trigger = t.name;
        if ((u -= t.share) < 0) break;
      }
      weights.push_back(std::exp(frng.normal(0, kWeightLogSd)));
      f.offset = static_cast<int>(frng.below(86400));  // reduced below modulo the period
      f.average_ms = 1000 * std::exp(frng.normal(kDurationLogMean, kDurationLogSd));
      f.log_sd = 0.1 + 0.9 * frng.uniform();
    }
    double weight_sum = 0;
    for (double w : weights) weight_sum += w;
    for (size_t j = 0; j < functions; ++j) {
      FunctionModel& f = app.functions[j];
      f.rate = rate * weights[j] / weight_sum;
      if (std::string_view(f.trigger) == "timer") {
        f.period = timer_period(f.rate);
        f.offset %= f.period;
      }
    }
    apps.push_back(std::move(app));
  }
  return apps;
}

// Poisson draws from raw uniforms, so counts are the same on every machine: Knuth's
// product of uniforms for small means, Hörmann's PTRS (transformed rejection, as in
// NumPy) for large ones.
uint32_t poisson(Rng& rng, double mean) {
  if (mean < 10) {
    const double limit = std::exp(-mean);
    uint32_t k = 0;
    for (double p = rng.uniform(); p > limit; p *= rng.uniform()) ++k;
    return k;
  }
  const double slam = std::sqrt(mean), loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = rng.uniform() - 0.5, v = rng.uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<uint32_t>(k);
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <=
        -mean + k * loglam - std::lgamma(k + 1)) {
      return static_cast<uint32_t>(k);
    }
  }
}

// Firings of a timer in [0, t) seconds from the trace's start.
int64_t timer_firings_before(const FunctionModel& f, int64_t t) {
  return t > f.offset ? (t - f.offset + f.period - 1) / f.period : 0;
}

void fill_counts(const FunctionModel& f, const AppModel& app, int day, uint64_t seed,
                 const std::string& stream, const std::array<double, kMinutesPerDay>& cycle,
                 InvocationRow& row) {
  const int64_t day_start = int64_t{day - 1} * kMinutesPerDay * 60;
  if (f.period > 0) {
    for (int m = 0; m < kMinutesPerDay; ++m) {
      const int64_t start = day_start + m * 60;
      row.counts[m] =
          static_cast<uint32_t>(timer_firings_before(f, start + 60) - timer_firings_before(f, start));
    }
    return;
  }
  Rng rng = Rng::stream(seed, stream + "/day/" + std::to_string(day));
  const double per_minute = f.rate / kMinutesPerDay;
  for (int m = 0; m < kMinutesPerDay; ++m)
    row.counts[m] = poisson(rng, per_minute * (1 + app.amplitude * cycle[m]));
}

DurationRow duration_row(const AppModel& app, const FunctionModel& f, uint64_t count) {
  DurationRow row;
  row.owner = app.owner;
  row.app = app.hash;
  row.function = f.hash;
  row.average = f.average_ms;
  row.count = count;
  // The median of a log-normal whose mean is the average.
  const double median = f.average_ms * std::exp(-f.log_sd * f.log_sd / 2);
  for (size_t i = 0; i < row.percentiles.size(); ++i)
    row.percentiles[i] = median * std::exp(f.log_sd * kDurationZ[i]);
  row.minimum = median * std::exp(-f.log_sd * kExtremeZ);
  row.maximum = median * std::exp(f.log_sd * kExtremeZ);
  return row;
}

MemoryRow memory_row(const AppModel& app, int active_minutes) {
  MemoryRow row;
  row.owner = app.owner;
  row.app = app.hash;
  row.sample_count = 12 * static_cast<uint64_t>(active_minutes);  // a sample every 5 s while loaded
  row.average = app.memory_mb;
  const double median = app.memory_mb * std::exp(-app.memory_log_sd * app.memory_log_sd / 2);
  for (size_t i = 0; i < row.percentiles.size(); ++i) {
    row.percentiles[i] = median * std::exp(app.memory_log_sd * kMemoryZ[i]);
  }
  return row;
}

}  // namespace

SynthSummary synthesize_trace(const fs::path& dir, const SynthOptions& options) {
  if (options.days < 1 || options.days > kTraceDays) {
    throw std::invalid_argument("days must be 1.." + std::to_string(kTraceDays));
  }
  if (options.apps < 1) throw std::invalid_argument("apps must be >= 1");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw TraceError(dir.string() + ": cannot create: " + ec.message());

  const std::vector<AppModel> apps = make_apps(options);
  std::array<double, kMinutesPerDay> cycle;
  for (int m = 0; m < kMinutesPerDay; ++m) cycle[m] = std::sin(2 * kPi * (m - 360) / kMinutesPerDay);

  SynthSummary summary;
  summary.apps = options.apps;
  for (const AppModel& app : apps) summary.functions += static_cast<int>(app.functions.size());

  InvocationRow row;
  for (int day = 1; day <= options.days; ++day) {
    std::vector<DurationRow> durations;
    std::vector<MemoryRow> memory;
    const fs::path invocations_file = dir / invocations_file_name(day);
    InvocationWriter invocations(invocations_file);
    for (size_t a = 0; a < apps.size(); ++a) {
      const AppModel& app = apps[a];
      std::array<bool, kMinutesPerDay> active{};
      for (size_t j = 0; j < app.functions.size(); ++j) {
        const FunctionModel& f = app.functions[j];
        row.owner = app.owner;
        row.app = app.hash;
        row.function = f.hash;
        row.trigger = f.trigger;
        fill_counts(f, app, day, options.seed, function_stream(a, j), cycle, row);
        invocations.write(row);
        const uint64_t total = row.total();
        if (total > 0) durations.push_back(duration_row(app, f, total));
        summary.invocations += total;
        for (int m = 0; m < kMinutesPerDay; ++m) active[m] = active[m] || row.counts[m] > 0;
      }
      const int active_minutes = static_cast<int>(std::count(active.begin(), active.end(), true));
      if (active_minutes > 0) memory.push_back(memory_row(app, active_minutes));
    }
    invocations.close();
    summary.files.push_back(invocations_file);
    summary.files.push_back(dir / durations_file_name(day));
    write_durations(summary.files.back(), durations);
    if (day <= kTraceMemoryDays) {
      summary.files.push_back(dir / memory_file_name(day));
      write_memory(summary.files.back(), memory);
    }
  }
  return summary;
}

}  // namespace coldlab::sim
