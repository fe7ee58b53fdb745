// `coldlab trace synth`: the synthetic trace has the trace's files and formats, and the
// published marginal distributions (Shahrad et al., ATC'20 §3) within the noise of a few
// thousand apps drawn with a fixed seed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "azure_trace.h"
#include "temp_dir.h"
#include "trace_command.h"
#include "trace_synth.h"

namespace {

using namespace coldlab::sim;
using coldlab::testing::TempDir;
namespace fs = std::filesystem;

std::vector<InvocationRow> read_invocations(const fs::path& path) {
  InvocationReader reader(path);
  std::vector<InvocationRow> rows;
  InvocationRow row;
  while (reader.next(row)) rows.push_back(row);
  return rows;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

double fraction(size_t part, size_t whole) { return static_cast<double>(part) / static_cast<double>(whole); }

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

// Day 1 of a 3000-app synthetic trace, seed 11.
struct Day {
  TempDir dir;
  std::vector<InvocationRow> invocations;
  std::vector<DurationRow> durations;
  std::vector<MemoryRow> memory;

  Day() {
    synthesize_trace(dir.path("trace"), {1, 3000, 11});
    const fs::path trace = dir.path("trace");
    invocations = read_invocations(trace / invocations_file_name(1));
    durations = read_durations(trace / durations_file_name(1));
    memory = read_memory(trace / memory_file_name(1));
  }
};

}  // namespace

TEST_CASE("trace synth: writes the trace's files for each day, memory only for days 1 to 12", "[simulator]") {
  TempDir dir;
  const SynthSummary summary = synthesize_trace(dir.path("t"), {14, 20, 3});
  CHECK(summary.apps == 20);
  CHECK(summary.files.size() == 14 * 2 + 12);
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path("t"))) files += entry.is_regular_file();
  CHECK(files == 40);
  for (int day = 1; day <= 14; ++day) {
    CHECK(fs::exists(fs::path(dir.path("t")) / invocations_file_name(day)));
    CHECK(fs::exists(fs::path(dir.path("t")) / durations_file_name(day)));
  }
  CHECK(fs::exists(fs::path(dir.path("t")) / memory_file_name(12)));

  // Every function is listed every day under the same hashes, 64 hex digits.
  const auto d1 = read_invocations(fs::path(dir.path("t")) / invocations_file_name(1));
  const auto d14 = read_invocations(fs::path(dir.path("t")) / invocations_file_name(14));
  REQUIRE(d1.size() == static_cast<size_t>(summary.functions));
  REQUIRE(d14.size() == d1.size());
  for (size_t i = 0; i < d1.size(); ++i) {
    CHECK(d14[i].function == d1[i].function);
    CHECK(d1[i].owner.size() == 64);
    CHECK(d1[i].app.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(d1[i].app.size() == 64);
  }
}

TEST_CASE("trace synth: synthetic apps have the published functions per app, rates, triggers and memory",
          "[simulator]") {
  const Day day;
  std::map<std::string, int> functions;
  std::map<std::string, uint64_t> invocations;
  std::map<std::string, std::set<std::string>> triggers;
  for (const InvocationRow& r : day.invocations) {
    ++functions[r.app];
    invocations[r.app] += r.total();
    triggers[r.app].insert(r.trigger);
  }
  const size_t apps = functions.size();
  REQUIRE(apps == 3000);
  const auto apps_where = [&](auto pred) {
    size_t n = 0;
    for (const auto& [app, value] : invocations) n += pred(app) ? 1 : 0;
    return fraction(n, apps);
  };
  // 54% of apps have one function, 95% at most 10.
  CHECK(apps_where([&](const std::string& a) { return functions[a] == 1; }) == Approx(0.54).margin(0.03));
  CHECK(apps_where([&](const std::string& a) { return functions[a] <= 10; }) == Approx(0.95).margin(0.015));
  // 45% of apps are invoked at most once an hour, 81% at most once a minute.
  CHECK(apps_where([&](const std::string& a) { return invocations[a] <= 24; }) == Approx(0.45).margin(0.035));
  CHECK(apps_where([&](const std::string& a) { return invocations[a] <= 1440; }) ==
        Approx(0.81).margin(0.03));
  // The 18.6% most popular apps make 99.6% of the invocations.
  std::vector<uint64_t> totals;
  for (const auto& [app, n] : invocations) totals.push_back(n);
  std::sort(totals.rbegin(), totals.rend());
  uint64_t all = 0, top = 0;
  for (size_t i = 0; i < totals.size(); ++i) {
    all += totals[i];
    if (i < static_cast<size_t>(std::lround(0.186 * static_cast<double>(apps)))) top += totals[i];
  }
  CHECK(static_cast<double>(top) / static_cast<double>(all) > 0.99);
  // 64% of apps have an http trigger, 29% a timer.
  CHECK(apps_where([&](const std::string& a) { return triggers[a].count("http") > 0; }) ==
        Approx(0.64).margin(0.035));
  CHECK(apps_where([&](const std::string& a) { return triggers[a].count("timer") > 0; }) ==
        Approx(0.29).margin(0.035));

  // Memory: Burr XII(11.652, 0.221, 107.083), whose median is 139.6 MB and 90th percentile
  // 261.9 MB; only apps invoked on the day are in the file.
  std::vector<double> mb;
  for (const MemoryRow& m : day.memory) mb.push_back(m.average);
  CHECK(day.memory.size() ==
        static_cast<size_t>(std::count_if(totals.begin(), totals.end(), [](uint64_t n) { return n > 0; })));
  CHECK(quantile(mb, 0.5) == Approx(139.6).margin(6));
  CHECK(quantile(mb, 0.9) == Approx(261.9).margin(20));
  for (const MemoryRow& m : day.memory) {
    CHECK(std::is_sorted(m.percentiles.begin(), m.percentiles.end()));
    CHECK(m.sample_count > 0);
  }
}

TEST_CASE("trace synth: synthetic durations have log-normal averages and percentiles consistent with them",
          "[simulator]") {
  const Day day;
  std::map<std::string, uint64_t> totals;
  for (const InvocationRow& r : day.invocations) totals[r.function] = r.total();
  // One row per function invoked on the day, Count its invocations.
  CHECK(day.durations.size() ==
        static_cast<size_t>(
            std::count_if(totals.begin(), totals.end(), [](const auto& t) { return t.second > 0; })));
  std::vector<double> logs;
  for (const DurationRow& d : day.durations) {
    REQUIRE(totals.count(d.function) == 1);
    CHECK(d.count == totals[d.function]);
    CHECK(std::is_sorted(d.percentiles.begin(), d.percentiles.end()));
    CHECK(d.minimum <= d.percentiles.front());
    CHECK(d.percentiles.back() <= d.maximum);
    CHECK(d.percentiles.front() <= d.average);
    CHECK(d.average <= d.percentiles.back());
    if (d.average > 0) logs.push_back(std::log(d.average / 1000));
  }
  // The averages, in seconds: log-normal with log-mean -0.38 and sigma 2.36.
  REQUIRE(logs.size() > 5000);
  double mean = 0, var = 0;
  for (double x : logs) mean += x;
  mean /= static_cast<double>(logs.size());
  for (double x : logs) var += (x - mean) * (x - mean);
  const double sd = std::sqrt(var / static_cast<double>(logs.size()));
  CHECK(mean == Approx(-0.38).margin(0.1));
  CHECK(sd == Approx(2.36).margin(0.08));
}

TEST_CASE("trace synth: synthetic timer functions fire at a fixed period", "[simulator]") {
  const Day day;
  size_t timers = 0, sub_minute = 0, hourly_or_slower = 0;
  for (const InvocationRow& r : day.invocations) {
    if (r.trigger != "timer") continue;
    ++timers;
    std::vector<int> minutes;
    std::set<uint32_t> counts;
    for (int m = 0; m < kMinutesPerDay; ++m) {
      if (r.counts[m] == 0) continue;
      minutes.push_back(m);
      counts.insert(r.counts[m]);
    }
    REQUIRE(!minutes.empty());  // every period is at most a day
    CHECK(counts.size() == 1);
    std::set<int> gaps;
    for (size_t i = 1; i < minutes.size(); ++i) gaps.insert(minutes[i] - minutes[i - 1]);
    CHECK(gaps.size() <= 1);
    sub_minute += *counts.begin() > 1;
    hourly_or_slower += gaps.empty() || *gaps.begin() >= 60;
  }
  CHECK(timers > 1000);
  CHECK(sub_minute > 10);
  CHECK(hourly_or_slower > 10);
}

TEST_CASE("trace synth: each synthetic day draws fresh Poisson counts around the same rates", "[simulator]") {
  TempDir dir;
  synthesize_trace(dir.path("t"), {2, 300, 5});
  const auto d1 = read_invocations(fs::path(dir.path("t")) / invocations_file_name(1));
  const auto d2 = read_invocations(fs::path(dir.path("t")) / invocations_file_name(2));
  REQUIRE(d1.size() == d2.size());
  size_t busy = 0;
  for (size_t i = 0; i < d1.size(); ++i) {
    const double t1 = static_cast<double>(d1[i].total()), t2 = static_cast<double>(d2[i].total());
    if (d1[i].trigger == "timer" || t1 < 1000) continue;
    ++busy;
    CHECK(d1[i].counts != d2[i].counts);
    CHECK(std::abs(t1 - t2) < 5 * std::sqrt(t1 + t2));  // two Poisson totals of one rate
  }
  CHECK(busy > 20);
}

TEST_CASE("trace synth: the same seed gives byte-identical files and another seed other files",
          "[simulator]") {
  TempDir dir;
  synthesize_trace(dir.path("a"), {2, 200, 42});
  synthesize_trace(dir.path("b"), {2, 200, 42});
  synthesize_trace(dir.path("c"), {2, 200, 43});
  for (const std::string& name : {invocations_file_name(1), durations_file_name(2), memory_file_name(2)}) {
    const std::string a = slurp(fs::path(dir.path("a")) / name);
    CHECK(a.size() > 1000);
    CHECK(a == slurp(fs::path(dir.path("b")) / name));
    CHECK(a != slurp(fs::path(dir.path("c")) / name));
  }
  // More apps add apps: the first 200 are the same ones.
  synthesize_trace(dir.path("d"), {1, 300, 42});
  const auto small = read_invocations(fs::path(dir.path("a")) / invocations_file_name(1));
  const auto large = read_invocations(fs::path(dir.path("d")) / invocations_file_name(1));
  REQUIRE(large.size() > small.size());
  for (size_t i = 0; i < small.size(); ++i) CHECK(large[i].counts == small[i].counts);
}

TEST_CASE("trace synth: the command writes the files and reports bad options", "[simulator]") {
  TempDir dir;
  CLI::App app("coldlab");
  CLI::App* trace = app.add_subcommand("trace", "trace tools");
  TraceCommandOptions options;
  add_trace_options(*trace, options);
  // CLI11 takes the arguments in reverse: trace synth --out DIR --apps 7 --seed 5.
  app.parse(std::vector<std::string>{"5", "--seed", "7", "--apps", dir.path("t"), "--out", "synth", "trace"});
  std::ostringstream out;
  auto* old = std::cout.rdbuf(out.rdbuf());
  const int rc = run_trace_command(options);
  std::cout.rdbuf(old);
  CHECK(rc == 0);
  CHECK_THAT(out.str(), Catch::Contains("wrote 7 apps"));
  CHECK(fs::exists(fs::path(dir.path("t")) / memory_file_name(1)));

  CLI::App bad("coldlab");
  TraceCommandOptions bad_options;
  add_trace_options(*bad.add_subcommand("trace", ""), bad_options);
  CHECK_THROWS_AS(
      bad.parse(std::vector<std::string>{"15", "--days", dir.path("u"), "--out", "synth", "trace"}),
      CLI::ValidationError);

  // --out names a file: the folder cannot be created.
  CLI::App blocked("coldlab");
  TraceCommandOptions blocked_options;
  add_trace_options(*blocked.add_subcommand("trace", ""), blocked_options);
  const std::string file = dir.file("plain", "x");
  blocked.parse(std::vector<std::string>{file, "--out", "synth", "trace"});
  std::ostringstream err;
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  const int blocked_rc = run_trace_command(blocked_options);
  std::cerr.rdbuf(old_err);
  CHECK(blocked_rc == 1);
  CHECK_THAT(err.str(), Catch::Contains("cannot create"));
}
