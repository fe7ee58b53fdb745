// `kind: azure2019` workloads on small hand-written traces: which functions are kept, when
// their invocations arrive, what they cost, and errors that point at the file's line.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "azure_trace.h"
#include "azure_workload.h"
#include "temp_dir.h"
#include "trace_synth.h"

namespace {

using namespace coldlab::sim;
using coldlab::testing::TempDir;
using Json = nlohmann::json;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kDay = 1440 * kMinute;

struct Fn {
  std::string owner = "owner0001";
  std::string app;
  std::string function;
  std::map<int, int> counts;  // minute (1..1440) -> invocations, on day 1
  std::string durations = "100,10,50,400,50,60,80,100,120,300,400";  // Average..percentile_Average_100
  std::map<int, std::map<int, int>> later_days = {};                 // day -> minute -> invocations
};

// A trace folder written as CSV text, and the workload file beside it.
class Trace {
 public:
  explicit Trace(const std::vector<Fn>& functions, const std::map<std::string, double>& app_memory = {},
                 int days = 1) {
    std::filesystem::create_directory(dir_.path("trace"));
    for (int day = 1; day <= days; ++day) {
      std::string inv = "HashOwner,HashApp,HashFunction,Trigger";
      for (int m = 1; m <= 1440; ++m) inv += "," + std::to_string(m);
      inv += "\n";
      for (const Fn& f : functions) {
        const std::map<int, int>& counts = day == 1                  ? f.counts
                                           : f.later_days.count(day) ? f.later_days.at(day)
                                                                     : empty_;
        inv += f.owner + "," + f.app + "," + f.function + ",http";
        for (int m = 1; m <= 1440; ++m) inv += "," + std::to_string(counts.count(m) ? counts.at(m) : 0);
        inv += "\n";
      }
      dir_.file("trace/" + invocations_file_name(day), inv);
      std::string dur =
          "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_"
          "Average_1,"
          "percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,"
          "percentile_Average_100\n";
      for (const Fn& f : functions) {
        if (!f.durations.empty()) dur += f.owner + "," + f.app + "," + f.function + "," + f.durations + "\n";
      }
      dir_.file("trace/" + durations_file_name(day), dur);
      std::string mem =
          "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,"
          "AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_"
          "pct95,"
          "AverageAllocatedMb_pct99,AverageAllocatedMb_pct100\n";
      std::set<std::string> listed;
      for (const Fn& f : functions) {
        if (listed.insert(f.app).second && (app_memory.empty() || app_memory.count(f.app))) {
          const double mb = app_memory.empty() ? 200 : app_memory.at(f.app);
          mem += f.owner + "," + f.app + ",100," + std::to_string(mb) + ",1,1,1,1,1,1,1,1\n";
        }
      }
      if (day <= 12) dir_.file("trace/" + memory_file_name(day), mem);
    }
  }

  // Loads a workload file made of `kind`, `trace` and `keys` (from line 3 on).
  Workload load(const std::string& keys, uint64_t seed = 1) const {
    const std::string path = dir_.file("w.yaml", "kind: azure2019\ntrace: trace\n" + keys);
    return load_azure_workload(YAML::LoadFile(path), path, seed);
  }

  std::string error(const std::string& keys) const {
    try {
      load(keys);
    } catch (const WorkloadError& e) {
      return e.what();
    }
    FAIL("the workload loaded");
    return "";
  }

  std::string file(const std::string& name, const std::string& text) const { return dir_.file(name, text); }

 private:
  TempDir dir_;
  const std::map<int, int> empty_;
};

std::vector<Arrival> arrivals(Workload& w) {
  std::vector<Arrival> out;
  Arrival a;
  while (w.arrivals->next(a)) out.push_back(a);
  return out;
}

// (function name, minute from the start) -> arrivals.
std::map<std::pair<std::string, int64_t>, int> per_minute(const Workload& w, const std::vector<Arrival>& as) {
  std::map<std::pair<std::string, int64_t>, int> out;
  for (const Arrival& a : as) ++out[{w.functions[a.function].name, a.at_us / kMinute}];
  return out;
}

const SimFunction& named(const Workload& w, const std::string& name) {
  for (const SimFunction& f : w.functions) {
    if (f.name == name) return f;
  }
  FAIL("no function " + name);
  return w.functions.front();
}

std::vector<std::string> names(const Workload& w) {
  std::vector<std::string> out;
  for (const SimFunction& f : w.functions) out.push_back(f.name);
  return out;
}

const std::vector<Fn> kThree = {
    {"owner0001", "app00001", "fun00001", {{1, 3}, {2, 1}, {1440, 5}}},
    {"owner0001", "app00001", "fun00002", {{1, 2}}},
    {"owner0002", "app00002", "fun00003", {{700, 10}}},
};

}  // namespace

TEST_CASE("azure2019 workload: every invocation of the trace arrives in its minute, for each function",
          "[simulator]") {
  const Trace trace(kThree);
  const std::string spread = GENERATE(as<std::string>{}, "equidistant", "uniform");
  Workload w = trace.load("spread: " + spread + "\n");
  CHECK(w.kind == "azure2019");
  CHECK(w.duration_us == kDay);
  CHECK(names(w) == std::vector<std::string>{"app00001/fun00001", "app00001/fun00002", "app00002/fun00003"});
  CHECK(w.functions[0].app == "app00001");
  const std::vector<Arrival> as = arrivals(w);
  CHECK(as.size() == 21);
  const std::map<std::pair<std::string, int64_t>, int> expected = {{{"app00001/fun00001", 0}, 3},
                                                                   {{"app00001/fun00001", 1}, 1},
                                                                   {{"app00001/fun00001", 1439}, 5},
                                                                   {{"app00001/fun00002", 0}, 2},
                                                                   {{"app00002/fun00003", 699}, 10}};
  CHECK(per_minute(w, as) == expected);
  for (size_t i = 1; i < as.size(); ++i) {
    CHECK(std::make_pair(as[i - 1].at_us, as[i - 1].function) <= std::make_pair(as[i].at_us, as[i].function));
  }
}

TEST_CASE(
    "azure2019 workload: equidistant spreading spaces a minute's n invocations 60/n seconds apart after a "
    "phase",
    "[simulator]") {
  const Trace trace({{"o", "app1", "fun1", {{3, 4}, {10, 4}}},
                     {"o", "app1", "fun2", {{1, 1}, {2, 1}}},
                     {"o", "app1", "fun3", {{1, 1}, {2, 1}}}});
  Workload w = trace.load("spread: equidistant\n");
  std::map<std::string, std::vector<int64_t>> times;
  for (const Arrival& a : arrivals(w)) times[w.functions[a.function].name].push_back(a.at_us);
  const std::vector<int64_t>& f1 = times["app1/fun1"];
  REQUIRE(f1.size() == 8);
  const int64_t phase = f1[0] - 2 * kMinute;
  CHECK(phase >= 0);
  CHECK(phase < 15 * kSecond);
  for (int i = 0; i < 4; ++i) {
    CHECK(f1[i] - (2 * kMinute + phase + i * 15 * kSecond) <= 1);
    CHECK(f1[i] - (2 * kMinute + phase + i * 15 * kSecond) >= -1);
    CHECK(f1[4 + i] - f1[i] == 7 * kMinute);  // the same phase in every minute
  }
  // Functions invoked once a minute do not all fire at the minute's start.
  REQUIRE(times["app1/fun2"].size() == 2);
  CHECK(times["app1/fun2"][0] != times["app1/fun3"][0]);
  CHECK(times["app1/fun2"][1] - times["app1/fun2"][0] == kMinute);
}

TEST_CASE("azure2019 workload: poisson spreading keeps each minute's rate, not its count", "[simulator]") {
  std::map<int, int> every_minute;
  for (int m = 1; m <= 1440; ++m) every_minute[m] = 60;
  const Trace trace({{"o", "app1", "fun1", every_minute}});
  Workload w = trace.load("spread: poisson\n");
  const std::vector<Arrival> as = arrivals(w);
  CHECK(std::abs(static_cast<double>(as.size()) - 86400) < 5 * std::sqrt(86400.0));
  std::set<int> counts;
  for (const auto& [key, n] : per_minute(w, as)) counts.insert(n);
  CHECK(counts.size() > 10);  // Poisson(60) counts
  CHECK(std::is_sorted(as.begin(), as.end(),
                       [](const Arrival& a, const Arrival& b) { return a.at_us < b.at_us; }));
}

TEST_CASE("azure2019 workload: listed days follow one another and duration stops them early", "[simulator]") {
  Fn f{"o", "app1", "fun1", {{1, 2}, {2, 1}}};
  f.later_days = {{2, {{1, 4}}}, {3, {{1440, 3}}}};
  const Trace trace({f}, {}, 3);

  Workload two = trace.load("days: 1-2\n");
  CHECK(two.duration_us == 2 * kDay);
  std::map<std::pair<std::string, int64_t>, int> expected = {
      {{"app1/fun1", 0}, 2}, {{"app1/fun1", 1}, 1}, {{"app1/fun1", 1440}, 4}};
  CHECK(per_minute(two, arrivals(two)) == expected);

  Workload gap = trace.load("days: [1, 3]\n");
  expected = {{{"app1/fun1", 0}, 2}, {{"app1/fun1", 1}, 1}, {{"app1/fun1", 2879}, 3}};
  CHECK(per_minute(gap, arrivals(gap)) == expected);

  Workload cut = trace.load("days: 1-3\nduration: 90\n");
  CHECK(cut.duration_us == 90 * kSecond);
  const std::vector<Arrival> as = arrivals(cut);
  REQUIRE(as.size() >= 2);
  CHECK(per_minute(cut, as).at({"app1/fun1", 0}) == 2);
  for (const Arrival& a : as) CHECK(a.at_us < 90 * kSecond);

  Workload hour = trace.load("days: 2\nduration: 1h\n");
  CHECK(hour.duration_us == 3600 * kSecond);
  expected = {{{"app1/fun1", 0}, 4}};
  CHECK(per_minute(hour, arrivals(hour)) == expected);
}

TEST_CASE("azure2019 workload: functions are kept as faascache keeps them", "[simulator]") {
  Fn no_durations{"o", "app2", "fun4", {{1, 5}}};
  no_durations.durations = "";
  Fn negative{"o", "app2", "fun5", {{1, 5}}};
  negative.durations = "-5,3,-10,20,-1,1,2,3,4,5,6";
  const Trace trace({{"o", "app1", "fun1", {{1, 2}}},
                     {"o", "app1", "fun2", {{1, 1}}},
                     {"o", "app3", "fun3", {{1, 9}}},
                     no_durations,
                     negative},
                    {{"app1", 100}, {"app2", 100}});
  Workload w = trace.load("");
  // fun2 is invoked once (faascache keeps sum > 1), fun3's app has no memory, fun4 no
  // durations, fun5 negative ones.
  CHECK(names(w) == std::vector<std::string>{"app1/fun1"});
  const Json p = Json::parse(w.parameters_json);
  CHECK(p["eligible_functions"] == 1);
  CHECK(p["skipped_rows"]["unusable_durations"] == 1);

  Workload once = trace.load("min_invocations: 1\n");
  CHECK(names(once) == std::vector<std::string>{"app1/fun1", "app1/fun2"});

  Workload fallback = trace.load("memory_default: 300\n");
  CHECK(names(fallback) == std::vector<std::string>{"app1/fun1", "app3/fun3"});
  CHECK(named(fallback, "app3/fun3").memory_mb == 300);
}

TEST_CASE("azure2019 workload: memory from the trace is the app's average split over its functions",
          "[simulator]") {
  const Trace trace(
      {{"o", "app1", "fun1", {{1, 2}}}, {"o", "app1", "fun2", {{1, 1}}}, {"o", "app2", "fun3", {{1, 2}}}},
      {{"app1", 301}, {"app2", 0.5}});
  Workload w = trace.load("");
  // app1 lists two functions in the duration file: ceil(301 / 2), although fun2 (invoked
  // once) is not kept.
  CHECK(named(w, "app1/fun1").memory_mb == 151);
  CHECK(named(w, "app2/fun3").memory_mb == 1);
  Workload fixed = trace.load("memory: 512\n");
  CHECK(named(fixed, "app1/fun1").memory_mb == 512);
  CHECK(named(fixed, "app2/fun3").memory_mb == 512);
}

TEST_CASE(
    "azure2019 workload: representative sampling takes count/4 functions from each quarter of invocations",
    "[simulator]") {
  std::vector<Fn> fns;
  for (int i = 0; i < 16; ++i) {
    const std::string id = std::to_string(10 + i);
    fns.push_back({"o", "app" + id, "fun" + id, {{1, 2 + i}}});  // fun10 .. fun25: 2 .. 17 invocations
  }
  const Trace trace(fns);
  const uint64_t seed = GENERATE(1, 2, 3, 4, 5);
  Workload w = trace.load("sample: {mode: representative, count: 8}\n", seed);
  REQUIRE(w.functions.size() == 8);
  std::map<int, int> per_quarter;
  for (const SimFunction& f : w.functions)
    ++per_quarter[(std::stoi(f.name.substr(f.name.size() - 2)) - 10) / 4];
  CHECK(per_quarter == std::map<int, int>{{0, 2}, {1, 2}, {2, 2}, {3, 2}});
  const Json p = Json::parse(w.parameters_json);
  CHECK(p["sample"] == Json{{"mode", "representative"}, {"count", 8}});
  CHECK(p["eligible_functions"] == 16);
}

TEST_CASE("azure2019 workload: random sampling keeps count functions, the same ones for the same seed",
          "[simulator]") {
  std::vector<Fn> fns;
  for (int i = 0; i < 16; ++i) fns.push_back({"o", "app" + std::to_string(10 + i), "fun", {{1, 2}}});
  const Trace trace(fns);
  const std::vector<std::string> first = names(trace.load("sample: {mode: random, count: 5}\n", 7));
  CHECK(first.size() == 5);
  CHECK(names(trace.load("sample: {mode: random, count: 5}\n", 7)) == first);
  std::set<std::vector<std::string>> samples;
  for (uint64_t seed = 1; seed <= 5; ++seed)
    samples.insert(names(trace.load("sample: {mode: random, count: 5}\n", seed)));
  CHECK(samples.size() > 1);
}

TEST_CASE("azure2019 workload: warm service times follow the chosen model, in seconds", "[simulator]") {
  Fn skewed{"o", "app1", "fun1", {{1, 2}}};
  skewed.durations = "300,10,50,4000,100,120,150,200,250,2000,4000";  // Average 300 ms, p50 200 ms
  Fn flat{"o", "app1", "fun2", {{1, 2}}};
  flat.durations = "150,10,100,300,100,100,150,200,250,280,300";  // Average below the median
  const Trace trace({skewed, flat});

  Workload percentiles = trace.load("");
  const Distribution& p = named(percentiles, "app1/fun1").warm;
  CHECK(p.kind() == Distribution::Kind::kPercentiles);
  // The trapezoids between (0, 0.1), (0.01, 0.12), (0.25, 0.15), (0.5, 0.2), (0.75, 0.25),
  // (0.99, 2), (1, 4) seconds.
  CHECK(p.mean() ==
        Approx(0.01 * 0.11 + 0.24 * 0.135 + 0.25 * 0.175 + 0.25 * 0.225 + 0.24 * 1.125 + 0.01 * 3));

  Workload average = trace.load("warm: average\n");
  CHECK(named(average, "app1/fun1").warm.describe() == "constant(0.3)");

  Workload lognormal = trace.load("warm: lognormal\n");
  const Distribution& l = named(lognormal, "app1/fun1").warm;
  CHECK(l.kind() == Distribution::Kind::kLogNormal);
  CHECK(l.mean() == Approx(0.3));  // the trace's Average, around its median of 0.2 s
  CHECK(named(lognormal, "app1/fun2").warm.describe() == "lognormal(mu=" + [] {
    std::ostringstream o;
    o.precision(6);
    o << std::log(0.2);
    return o.str();
  }() + ",sigma=0)");
}

TEST_CASE("azure2019 workload: init defaults to one second and runtimes are drawn per app", "[simulator]") {
  std::vector<Fn> fns;
  for (int i = 0; i < 40; ++i) {
    const std::string app = "app" + std::to_string(10 + i / 2);
    fns.push_back({"o", app, "fun" + std::to_string(i), {{1, 2}}});
  }
  const Trace trace(fns);
  Workload plain = trace.load("");
  REQUIRE(plain.functions.front().init);
  CHECK(plain.functions.front().init->describe() == "constant(1)");

  Workload w = trace.load(
      "init:\n"
      "  runtimes:\n"
      "    python: {share: 0.5, init: {dist: constant, value: 0.25}}\n"
      "    java: {share: 0.5, init: {dist: constant, value: 2}}\n");
  std::map<std::string, std::set<std::string>> init_of_app;
  std::map<std::string, int> functions_per_init;
  for (const SimFunction& f : w.functions) {
    REQUIRE(f.init);
    init_of_app[f.app].insert(f.init->describe());
    ++functions_per_init[f.init->describe()];
  }
  for (const auto& [app, inits] : init_of_app)
    CHECK(inits.size() == 1);  // an app's functions share a runtime
  CHECK(functions_per_init.size() == 2);
  const Json p = Json::parse(w.parameters_json);
  CHECK(p["init"]["runtimes"]["java"]["apps"].get<int>() +
            p["init"]["runtimes"]["python"]["apps"].get<int>() ==
        20);
  CHECK(p["init"]["runtimes"]["python"]["init"] == "constant(0.25)");
}

TEST_CASE("azure2019 workload: function names are short hash prefixes, longer where two would collide",
          "[simulator]") {
  const Trace trace({{"o", "aaaaaaaa11111111", "ffffffff00000001", {{1, 2}}},
                     {"o", "aaaaaaaa22222222", "ffffffff00000001", {{1, 2}}}});
  CHECK(names(trace.load("")) ==
        std::vector<std::string>{"aaaaaaaa11111111/ffffffff00000001", "aaaaaaaa22222222/ffffffff00000001"});
  const Trace distinct({{"o", "aaaaaaaa11111111", "ffffffff00000001", {{1, 2}}}});
  CHECK(names(distinct.load("")) == std::vector<std::string>{"aaaaaaaa/ffffffff"});
}

TEST_CASE(
    "azure2019 workload: a seed gives one workload, and dropping a function leaves the others' arrivals as "
    "they were",
    "[simulator]") {
  const Trace trace({{"o", "app1", "fun1", {{1, 3}, {5, 7}}},
                     {"o", "app1", "fun2", {{1, 1}}},
                     {"o", "app2", "fun3", {{2, 4}}}});
  const auto times_of = [](Workload& w, const std::string& name) {
    std::vector<int64_t> out;
    for (const Arrival& a : arrivals(w)) {
      if (w.functions[a.function].name == name) out.push_back(a.at_us);
    }
    return out;
  };
  const std::string spread = GENERATE(as<std::string>{}, "equidistant", "uniform", "poisson");
  Workload all = trace.load("spread: " + spread + "\nmin_invocations: 1\n", 9);
  Workload again = trace.load("spread: " + spread + "\nmin_invocations: 1\n", 9);
  Workload fewer = trace.load("spread: " + spread + "\n", 9);  // without fun2
  Workload other = trace.load("spread: " + spread + "\nmin_invocations: 1\n", 10);
  REQUIRE(fewer.functions.size() == 2);
  const std::vector<int64_t> fun1 = times_of(all, "app1/fun1");
  CHECK(fun1 == times_of(again, "app1/fun1"));
  CHECK(fun1 == times_of(fewer, "app1/fun1"));
  CHECK(fun1 != times_of(other, "app1/fun1"));
}

TEST_CASE("azure2019 workload: errors name the file, the line and the key", "[simulator]") {
  const Trace trace(kThree);
  CHECK_THAT(
      trace.error("spread: evenly\n"),
      Catch::Matches(".*w\\.yaml:3: spread: unknown value 'evenly' \\(equidistant, uniform, poisson\\)"));
  CHECK_THAT(trace.error("warm: median\n"), Catch::Contains("w.yaml:3: warm: unknown value 'median'"));
  CHECK_THAT(trace.error("days: 15\n"), Catch::Contains("w.yaml:3: days: the trace has days 1..14, not 15"));
  CHECK_THAT(trace.error("days: 3-1\n"),
             Catch::Contains("w.yaml:3: days: '3-1' must be a day 1..14, a range"));
  CHECK_THAT(trace.error("days: [2, 1]\n"), Catch::Contains("w.yaml:3: days: must increase"));
  CHECK_THAT(trace.error("days: 2\n"),
             Catch::Contains("w.yaml:2: trace: no invocations_per_function_md.anon.d02.csv in"));
  CHECK_THAT(trace.error("\nsample: {mode: representative, count: 6}\n"),
             Catch::Contains("w.yaml:4: sample.count: must be a multiple of 4"));
  CHECK_THAT(trace.error("sample:\n  mode: random\n"),
             Catch::Contains("w.yaml:4: sample.count: is required"));
  CHECK_THAT(trace.error("sample: {mode: random, count: 50}\n"),
             Catch::Contains("w.yaml:3: sample.count: 50 functions asked, 3 eligible"));
  CHECK_THAT(trace.error("sample: {mode: some}\n"),
             Catch::Contains("w.yaml:3: sample.mode: unknown value 'some'"));
  CHECK_THAT(trace.error("spred: uniform\n"), Catch::Contains("w.yaml:3: spred: unknown key"));
  CHECK_THAT(trace.error("min_invocations: 1.5\n"),
             Catch::Contains("w.yaml:3: min_invocations: must be a whole number"));
  CHECK_THAT(trace.error("memory: lots\n"),
             Catch::Contains("w.yaml:3: memory: must be `trace` or a whole number of MB"));
  CHECK_THAT(trace.error("memory: 0\n"), Catch::Contains("w.yaml:3: memory: must be >= 1"));
  CHECK_THAT(trace.error("memory: 256\nmemory_default: 128\n"),
             Catch::Contains("w.yaml:4: memory_default: only applies to memory: trace"));
  CHECK_THAT(trace.error("duration: 100000\n"),
             Catch::Contains("w.yaml:3: duration: is longer than the 1 day(s)"));
  CHECK_THAT(trace.error("init: {dist: exponential, mean: -1}\n"), Catch::Contains("w.yaml:3: init"));
  CHECK_THAT(trace.error("init:\n  runtimes:\n    python: {share: 0, init: 1}\n"),
             Catch::Contains("w.yaml:5: init.runtimes.python.share: must be > 0"));
  CHECK_THAT(trace.error("init:\n  runtimes:\n    python: {share: 1}\n"),
             Catch::Contains("w.yaml:5: init.runtimes.python.init: is required"));

  const std::string path = trace.file("elsewhere.yaml", "kind: azure2019\ntrace: nowhere\n");
  CHECK_THROWS_WITH(
      load_azure_workload(YAML::LoadFile(path), path, 1),
      Catch::Contains("elsewhere.yaml:2: trace: '") && Catch::Contains("nowhere' is not a folder"));
}

TEST_CASE("azure2019 workload: memory from the trace needs a first day with a memory file", "[simulator]") {
  Fn f{"o", "app1", "fun1", {{1, 2}}};
  f.later_days = {{12, {{1, 2}}}, {13, {{1, 2}}}};
  const Trace trace({f}, {}, 13);
  CHECK_THAT(trace.error("days: 13\n"),
             Catch::Contains("w.yaml:3: days: memory comes from the trace, which has no "
                             "memory file for day 13"));
  Workload w = trace.load("days: 13\nmemory: 256\n");
  CHECK(w.functions.size() == 1);
  Workload from12 = trace.load("days: 12-13\n");
  CHECK(from12.duration_us == 2 * kDay);
}

TEST_CASE("azure2019 workload: a malformed trace file is reported at its line and column", "[simulator]") {
  const Trace trace(kThree);
  std::string inv = "HashOwner,HashApp,HashFunction,Trigger";
  for (int m = 1; m <= 1440; ++m) inv += "," + std::to_string(m);
  inv += "\no,a,f,http,x";
  for (int m = 2; m <= 1440; ++m) inv += ",0";
  trace.file("trace/" + invocations_file_name(1), inv + "\n");
  CHECK_THAT(trace.error(""),
             Catch::Contains("invocations_per_function_md.anon.d01.csv:2: column 5 (minute 1): 'x' "
                             "is not a whole number >= 0"));
}

TEST_CASE("azure2019 workload: parameters_json records the keys as resolved", "[simulator]") {
  const Trace trace(kThree);
  Workload w =
      trace.load("days: [1]\nspread: uniform\nwarm: lognormal\nmemory: 300\nmin_invocations: 3\n", 42);
  const Json p = Json::parse(w.parameters_json);
  CHECK(p["kind"] == "azure2019");
  CHECK(p["days"] == Json::array({1}));
  CHECK(p["duration_s"] == 86400.0);
  CHECK(p["sample"] == Json{{"mode", "all"}});
  CHECK(p["min_invocations"] == 3);
  CHECK(p["spread"] == "uniform");
  CHECK(p["warm"] == "lognormal");
  CHECK(p["init"] == "constant(1)");
  CHECK(p["memory"] == 300);
  CHECK(p["memory_default"].is_null());
  CHECK(p["seed"] == 42);
  CHECK(p["functions"] == 2);  // fun00002 is invoked twice
  CHECK(p["apps"] == 2);
  CHECK(p["trace_invocations"] == 19);
}

TEST_CASE("azure2019 workload: a synthetic trace loads with every minute's invocations", "[simulator]") {
  TempDir dir;
  synthesize_trace(dir.path("trace"), {1, 30, 4});
  const std::string path =
      dir.file("w.yaml", "kind: azure2019\ntrace: trace\nmin_invocations: 1\nspread: uniform\n");
  Workload w = load_azure_workload(YAML::LoadFile(path), path, 1);
  InvocationReader reader(std::filesystem::path(dir.path("trace")) / invocations_file_name(1));
  std::map<std::pair<std::string, int64_t>, int> expected;
  InvocationRow row;
  while (reader.next(row)) {
    for (int m = 0; m < 1440; ++m) {
      if (row.counts[m] > 0)
        expected[{row.app.substr(0, 8) + "/" + row.function.substr(0, 8), m}] = row.counts[m];
    }
  }
  CHECK(per_minute(w, arrivals(w)) == expected);
}
