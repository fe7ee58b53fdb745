// Hybrid Histogram: Azure Functions' keep-alive and pre-warm policy.
//
// Contract, per function f, following coldstart.md §2.2's algorithm:
//   - on each request (on_request), when f has run before, the idle time
//     IT = max(0, t - end of f's previous execution) goes into f's histogram (bins of
//     `bin`, `range` wide) or, at IT >= range, into its out-of-bound (OOB) count;
//   - when an environment of f goes idle at e (on_idle), with n = ITs seen:
//       n < min_its                     STANDARD: keep until e + range, no pre-warm
//       OOB / n >= oob                  FORECAST: p = forecast IT; unload now, pre-warm at
//                                       e + 0.85p, keep that one until e + 1.15p
//       CV of the bin counts < cv       STANDARD
//       otherwise                       HIST: head = the `head` percentile's bin, rounded
//                                       down; tail = the `tail` percentile's bin, rounded
//                                       up; head = 0: keep until e + (1 + margin) tail;
//                                       else unload now, pre-warm at e + (1 - margin) head,
//                                       keep that one until e + (1 + margin) tail.
// A percentile's bin is the first whose cumulative count reaches that fraction of the
// in-range ITs. CV = population std / mean of all range/bin counts. Parameters and
// defaults: range=4h, bin=1m, head=0.05, tail=0.99, margin=0.1, cv=2, min_its=10, oob=0.5,
// alpha=0.5 (the forecaster's). Under a memory budget the seam's default LRU victims apply.
//
// Source: Shahrad et al., "Serverless in the Wild", USENIX ATC'20, §4.2 (arXiv:2003.03423),
// with the parameters as dslab-faas implements them (HEAD 0.05, TAIL 0.99, hist_margin
// 0.1, cv_thr 2, oob_thr 0.5, arima_margin 0.15); coldstart.md §2.2.
//
// Deviations:
//   - ARIMA is replaced by simple exponential smoothing over the whole IT series:
//     level = alpha * IT + (1 - alpha) * level, starting at the first IT; p = level. It is
//     the forecast of an ARIMA(0,1,1) model with theta = alpha - 1 fixed rather than fitted
//     (the authors refit pmdarima's auto_arima on every invocation), costs two numbers per
//     function, and needs no library. The window margin stays 0.15 (dslab's arima_margin).
//   - min_its (default 10) is not published; one re-implementation pre-registers 10.
//   - State is per function, not per application (coldlab has no applications).
//   - Windows apply per environment, as in dslab: each environment of f that goes idle is
//     kept or unloaded-and-pre-warmed by itself, so k concurrent environments pre-warm k.
//   - A pre-warm the seam has scheduled cannot be cancelled: when a request arrives during
//     the pre-warm window it starts cold, and the pre-warm still loads an environment that
//     waits until its keep-until (the paper's single instance per app would just reload).
//   - CV uses the population std; dslab divides by bins - 1, a factor sqrt(240/239).
#include <algorithm>
#include <cmath>
#include <map>

#include "keep_alive/factories.h"

namespace coldlab::policies {
namespace {

constexpr double kForecastMargin = 0.15;

struct Params {
  TimeUs range_us = 240 * kMinuteUs;
  TimeUs bin_us = kMinuteUs;
  double head = 0.05;
  double tail = 0.99;
  double margin = 0.1;
  double cv = 2;
  int64_t min_its = 10;
  double oob = 0.5;
  double alpha = 0.5;
};

class HybridHistogram : public KeepAlivePolicy {
 public:
  explicit HybridHistogram(const Params& p) : p_(p), bins_(static_cast<size_t>(p.range_us / p.bin_us)) {}

  std::string name() const override {
    using keep_alive::format_number;
    return "hybrid-histogram:range=" + format_duration(p_.range_us) + ",bin=" + format_duration(p_.bin_us) +
           ",head=" + format_number(p_.head) + ",tail=" + format_number(p_.tail) +
           ",margin=" + format_number(p_.margin) + ",cv=" + format_number(p_.cv) +
           ",min_its=" + std::to_string(p_.min_its) + ",oob=" + format_number(p_.oob) +
           ",alpha=" + format_number(p_.alpha);
  }

  void on_request(const std::string& function, const Pool& /*pool*/, TimeUs now) override {
    auto it = fns_.find(function);
    if (it == fns_.end() || !it->second.ran) return;
    record(it->second, std::max<TimeUs>(0, now - it->second.last_end));
  }

  IdleDecision on_idle(const EnvInfo& env, const Pool& /*pool*/, TimeUs /*now*/) override {
    Function& f = fns_[env.function];
    if (f.counts.empty()) f.counts.assign(bins_, 0);
    const TimeUs e = env.last_used_us;
    f.last_end = f.ran ? std::max(f.last_end, e) : e;
    f.ran = true;

    const int64_t n = f.in + f.oob;
    if (n < p_.min_its) return standard(e);
    if (static_cast<double>(f.oob) >= p_.oob * static_cast<double>(n)) {
      const double p = f.level;
      return window(env.function, e, (1 - kForecastMargin) * p, (1 + kForecastMargin) * p);
    }
    if (cv(f) < p_.cv) return standard(e);
    const double head = static_cast<double>(percentile_bin(f, p_.head) * p_.bin_us);
    const double tail = static_cast<double>((percentile_bin(f, p_.tail) + 1) * p_.bin_us);
    return window(env.function, e, (1 - p_.margin) * head, (1 + p_.margin) * tail);
  }

 private:
  struct Function {
    bool ran = false;             // last_end is set
    TimeUs last_end = 0;          // when f's latest execution ended
    std::vector<int64_t> counts;  // the histogram, one count per bin
    int64_t in = 0;               // ITs in range: the sum of counts
    int64_t oob = 0;              // ITs >= range
    int64_t sum_squares = 0;      // sum of counts^2, for the CV
    double level = 0;             // the forecaster's
  };

  void record(Function& f, TimeUs it) {
    if (f.counts.empty()) f.counts.assign(bins_, 0);
    const uint64_t bin = static_cast<uint64_t>(it / p_.bin_us);
    if (bin < bins_) {
      f.sum_squares += 2 * f.counts[bin] + 1;  // (c+1)^2 - c^2
      ++f.counts[bin];
      ++f.in;
    } else {
      ++f.oob;
    }
    const double x = static_cast<double>(it);
    f.level = (f.in + f.oob == 1) ? x : p_.alpha * x + (1 - p_.alpha) * f.level;
  }

  // std / mean of the counts of all bins, from exact integer sums: sqrt(B*S2 - S^2) / S.
  double cv(const Function& f) const {
    if (f.in == 0) return 0;
    const double b = static_cast<double>(bins_), s = static_cast<double>(f.in);
    const double s2 = static_cast<double>(f.sum_squares);
    return std::sqrt(std::max(0.0, b * s2 - s * s)) / s;
  }

  // The first non-empty bin whose cumulative count reaches `fraction` of the in-range ITs.
  // The slack keeps fraction * count's rounding (0.07 * 100 = 7.000000000000001) from
  // skipping the bin that reaches it exactly.
  int64_t percentile_bin(const Function& f, double fraction) const {
    const double target = fraction * static_cast<double>(f.in) * (1 - 1e-9);
    int64_t cumulative = 0;
    for (size_t i = 0; i < f.counts.size(); ++i) {
      cumulative += f.counts[i];
      if (cumulative > 0 && static_cast<double>(cumulative) >= target) return static_cast<int64_t>(i);
    }
    return static_cast<int64_t>(f.counts.size()) - 1;
  }

  IdleDecision standard(TimeUs e) const { return IdleDecision::keep_until(e + p_.range_us); }

  // Unloaded during [e, e + load_after), loaded until e + unload_after. No pre-warm window
  // (load_after rounds to 0): just keep the environment.
  static IdleDecision window(const std::string& function, TimeUs e, double load_after, double unload_after) {
    const TimeUs load = std::llround(load_after);
    const TimeUs unload = std::llround(unload_after);
    if (load <= 0) return IdleDecision::keep_until(e + unload);
    IdleDecision d = IdleDecision::evict_now();
    Prewarm p;
    p.function = function;
    p.at_us = e + load;
    p.keep_until_us = e + std::max(load, unload);
    d.prewarm = p;
    return d;
  }

  Params p_;
  size_t bins_;
  std::map<std::string, Function> fns_;
};

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_hybrid_histogram(PolicySpec& spec) {
  Params p;
  p.range_us = spec.duration("range", p.range_us, 1);
  p.bin_us = spec.duration("bin", p.bin_us, 1);
  p.head = spec.number("head", p.head, 0, 1);
  p.tail = spec.number("tail", p.tail, 0, 1);
  p.margin = spec.number("margin", p.margin, 0, 1);
  p.cv = spec.number("cv", p.cv, 0, 1e9);
  p.min_its = spec.integer("min_its", p.min_its, 1, 1'000'000'000);
  p.oob = spec.number("oob", p.oob, 0, 1);
  p.alpha = spec.number("alpha", p.alpha, 0.001, 1);
  if (p.range_us % p.bin_us != 0 || p.range_us / p.bin_us > 100'000)
    throw SpecError("policy hybrid-histogram: range=" + format_duration(p.range_us) +
                    " must be a whole number of bins of " + format_duration(p.bin_us) + ", at most 100000");
  if (p.head > p.tail)
    throw SpecError("policy hybrid-histogram: head=" + keep_alive::format_number(p.head) +
                    " is above tail=" + keep_alive::format_number(p.tail));
  return std::make_unique<HybridHistogram>(p);
}

}  // namespace coldlab::policies
