// `kind: azure2019` workloads: the Azure Functions 2019 trace (azure_trace.h) replayed as
// arrivals, with the choices faascache-sim and dslab-faas make as keys (coldstart.md §1.1).
//
//   kind: azure2019
//   trace: azure/          # the folder of the trace's CSV files, relative to this file
//   days: 1                # or 1-3, or [1, 2, 5] (increasing): listed days follow one another
//                          # in simulated time, 86400 s each (default 1)
//   duration: 2h           # optional: stop earlier (seconds, or 90s, 30m, 2h, 1d)
//   sample: {mode: all}    # (default) or {mode: random, count: N},
//                          # or {mode: representative, count: N}: N/4 from each quartile
//   min_invocations: 2     # over the listed days (default 2, faascache's "sum > 1")
//   spread: equidistant    # or uniform, or poisson: a minute's invocations in the minute
//   warm: percentiles      # or average, or lognormal: the warm service time
//   init: {dist: constant, value: 1.0}      # (default; a distribution, distribution_yaml.h)
//         {runtimes: {python: {share: 0.6, init: DIST}, java: {share: 0.4, init: DIST}}}
//   memory: trace          # (default) or MB for every function
//   memory_default: 256    # optional, MB: functions of apps the memory file lacks
//
// Which functions. The first listed day describes them: a function is eligible when the
// first day's duration file lists it with usable durations (Average and percentiles >= 0,
// percentiles not decreasing; the real trace has negative ones), when (with memory: trace)
// the first day's memory file lists its app or memory_default is given, and when the
// listed days' invocation files count at least min_invocations invocations of it, over the
// whole days even when `duration` stops earlier. Functions are told apart by (HashOwner,
// HashApp, HashFunction); a row repeating one already read in the same file is skipped,
// as pandas' drop_duplicates does for faascache. `sample` then draws, with the seed, from
// the eligible functions in (HashApp, HashFunction, HashOwner) order:
//   random          `count` of them, all equally likely;
//   representative  FaasCache's sample: the eligible functions ranked by invocations (ties
//                   by hash) are cut into four quarters of equal size, count/4 drawn from
//                   each (count a multiple of 4). FaasCache cuts at the quartile values,
//                   whose bounds belong to two quarters; ranks make each function one's.
//
// Arrivals. Minute m of the k-th listed day starts at ((k-1)*1440 + m)*60 s. A minute's n
// invocations of a function are placed:
//   equidistant  at m + (i + phase)*60/n s, i = 0..n-1, with a phase in [0, 1) drawn once
//                per function: faascache's even spacing, except that rare functions do not
//                all fire at second 0 of their minutes;
//   uniform      at n uniform random times in the minute (dslab's BucketUniform);
//   poisson      by a Poisson process of rate n/60 per second, restarted each minute: the
//                count varies around n (Poisson(n)). A Poisson process *conditioned* on n
//                arrivals in the minute is exactly `uniform`, so this is the other choice:
//                the trace's counts are treated as rates, not as facts.
// Arrivals come in time order, ties by function index. The source holds one minute of
// arrivals and, for the current day, the kept functions' 1,440 counts (it re-reads each
// day's invocation file when the day starts).
//
// Service times, from the first day's duration file (milliseconds, in seconds here):
//   percentiles  Distribution::percentiles over (0, p0), (0.01, p1), (0.25, p25),
//                (0.5, p50), (0.75, p75), (0.99, p99), (1, p100), interpolated (dslab's
//                default draws from the same points, as steps);
//   average      the constant Average (faascache's warm time);
//   lognormal    dslab-faas's per-function fit: mu = ln p50, sigma = sqrt(2 ln(Average/p50)),
//                so the median and the mean are the trace's; sigma = 0 when Average <= p50
//                (no log-normal has a mean below its median); p50 = 0 takes Average as the
//                median (both 0: a constant 0).
// A cold invocation costs a warm draw plus an Init draw (SimFunction::init): the trace's
// durations exclude Init. With `runtimes`, each app draws a runtime with probability
// share / (sum of shares); all of an app's functions share it. SimFunction::cold is the
// warm distribution (it is not used when init is set).
//
// Memory. `trace`: ceil(AverageAllocatedMb of the app / the number of the app's functions
// in the first day's duration file), at least 1 MB: faascache's split (its divisor counts
// the app's functions in the duration file, not those kept). `memory: MB` gives every
// function MB; memory_default gives MB to the functions of apps the memory file lacks.
//
// Names: "HashApp[:8]/HashFunction[:8]", longer prefixes when two kept functions would
// share a name. The app is HashApp (HashOwner/HashApp if two owners' apps share a hash).
//
// Randomness: the sample, each function's arrivals and each app's runtime have their own
// streams (Rng::stream), so one seed gives one workload, and dropping a function from the
// sample leaves the arrivals of the others as they were.
//
// parameters_json holds the keys as resolved (trace as an absolute path, days, duration_s,
// sample, min_invocations, spread, warm, init, memory, memory_default, seed) and what was
// kept: functions, apps, eligible_functions, trace_invocations (the kept functions'
// invocations in the files over the whole days) and skipped_rows (repeated,
// unusable_durations).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>

#include "workload.h"

namespace coldlab::sim {

// Builds the workload of the parsed file `root` (read from `file`). Throws WorkloadError:
// "FILE:LINE: KEY: reason" for the YAML, the CSV file's own "FILE:LINE: column N (NAME):
// reason" for the trace.
Workload load_azure_workload(const YAML::Node& root, const std::filesystem::path& file, uint64_t seed);

}  // namespace coldlab::sim
