// Synthetic traces in the Azure Functions 2019 format (azure_trace.h), for trying the
// simulator without the real trace and for tests. The population follows the figures of
// "Serverless in the Wild" (Shahrad et al., ATC'20, §3):
//
//   functions per app   54% of apps have 1; 95% have <= 10 (1 + a power-law tail, <= 100)
//   app daily rate      log10(invocations/day) ~ normal(1.603, 1.772): 45% of apps are invoked
//                       at most once an hour, 81% at most once a minute, and the 18.6% most
//                       popular make >99% of the invocations; split over the app's functions
//                       by log-normal(0, 1.5) weights
//   triggers            per function, so that 64% of apps have an http function and 29% a
//                       timer (http 47.6%, timer 15.4%, the rest queue > orchestration >
//                       storage > event = others, in the paper's function proportions)
//   durations           each function's average is log-normal(-0.38, 2.36) seconds; its
//                       invocations log-normal around that average with a log-sd in
//                       [0.1, 1], from which its percentiles, Minimum and Maximum come
//   memory              each app's average is Burr XII(c 11.652, k 0.221, lambda 107.083) MB
//                       (median 140 MB), its minutes log-normal around it
//
// Counts per minute: a timer function fires every P seconds from a random offset, P the
// common timer period (1 s .. 1 day) closest to its rate; the others are Poisson with a
// daily cycle (peak at minute 720, amplitude per app up to +-50%) whose mean over the day
// is the function's rate. Every function is listed in every day's invocation file, even
// with no invocations; a day's duration file lists the functions invoked that day (Count =
// their invocations) and its memory file the apps invoked that day (days 1..12 only, as in
// the trace).
//
// Hashes are 64 hex digits drawn from the seed. Every random choice comes from a stream
// named after its app, function and day, so the same options give byte-identical files,
// and the first N apps of a run with more apps are the same N apps.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace coldlab::sim {

struct SynthOptions {
  int days = 1;  // 1..14: days 1..days are written
  int apps = 1000;
  uint64_t seed = 1;
};

struct SynthSummary {
  int apps = 0;
  int functions = 0;
  uint64_t invocations = 0;  // over all days
  std::vector<std::filesystem::path> files;
};

// Writes the trace's files into `dir` (created if missing; files of the same names are
// replaced). Throws std::invalid_argument for options out of range and TraceError when a
// file cannot be written.
SynthSummary synthesize_trace(const std::filesystem::path& dir, const SynthOptions& options);

}  // namespace coldlab::sim
