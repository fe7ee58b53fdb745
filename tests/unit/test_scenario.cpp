#include <catch2/catch.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "scenario/scenario.h"
#include "temp_dir.h"

using coldlab::scenario::Combination;
using coldlab::scenario::combinations;
using coldlab::scenario::load;
using coldlab::scenario::NetworkModel;
using coldlab::scenario::parse;
using coldlab::scenario::parse_duration_us;
using coldlab::scenario::ScenarioError;
using coldlab::scenario::ScenarioFile;
using coldlab::testing::TempDir;

namespace {

constexpr int64_t kSecond = 1000000;
constexpr int64_t kMinute = 60 * kSecond;

const std::string kDurationHelp = " (use 90s, 3m, 1h, 1h30m, 500ms or seconds)";

// A scenario `s` with one request to `echo`, at lines 4-7 after a three-line execution.
const std::string kOneStage =
    "execution:\n"
    "- scenario: s\n"
    "  hold-for: 1m\n";
const std::string kScenarioS =
    "scenarios:\n"
    "  s:\n"
    "    requests:\n"
    "    - function: echo\n";

// The message parsing `yaml` as "s.yaml" gives; fails the test if it parses.
std::string error_of(const std::string& yaml,
                     const std::function<bool(const std::string&)>& function_exists = {}) {
  try {
    parse(yaml, "s.yaml", function_exists);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  FAIL("the scenario parsed, but a ScenarioError was expected:\n" << yaml);
  return "";
}

std::string duration_error(const std::string& text) {
  try {
    parse_duration_us(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  FAIL("'" << text << "' parsed as a duration");
  return "";
}

std::vector<std::string> labels(const std::vector<Combination>& all) {
  std::vector<std::string> out;
  for (const Combination& c : all) out.push_back(c.label);
  return out;
}

std::string study_file(const std::string& name) {
  return std::string(COLDLAB_SOURCE_DIR) + "/experiments/" + name;
}

// What both study files share: the request, the functions and the sweep.
void check_study_common(const ScenarioFile& file) {
  REQUIRE(file.scenarios.size() == 1);
  const auto& predict = file.scenarios.at("predict");
  CHECK(predict.name == "predict");
  CHECK(predict.think_time_us == 0);
  REQUIRE(predict.requests.size() == 1);
  CHECK(predict.requests[0].label == "predict");
  CHECK(predict.requests[0].function.empty());
  CHECK(predict.requests[0].payload == R"({"features":[0,215,45076]})");

  REQUIRE(file.targets.size() == 2);
  CHECK(file.targets[0].runtime == "python");
  CHECK(file.targets[0].function == "kdd-python");
  CHECK(file.targets[1].runtime == "java");
  CHECK(file.targets[1].function == "kdd-java");
  CHECK(file.memory_mb == std::vector<int>{256, 512, 1024});
  CHECK(file.keep_alive == std::vector<std::string>{"study"});
  CHECK(file.scale_out == std::vector<std::string>{"lambda"});
  CHECK(file.network.dist == NetworkModel::Dist::kNone);
  CHECK(file.warnings.empty());

  const std::vector<Combination> all = combinations(file);
  CHECK(labels(all) == std::vector<std::string>{"python 256 MB", "python 512 MB", "python 1024 MB",
                                                "java 256 MB", "java 512 MB", "java 1024 MB"});
  REQUIRE(all.size() == 6);
  CHECK(all[0].index == 1);
  CHECK(all[5].index == 6);
  CHECK(all[4].target.function == "kdd-java");
  CHECK(all[4].memory_mb == 512);
  CHECK(all[4].keep_alive == "study");
  CHECK(all[4].scale_out == "lambda");
}

}  // namespace

// --- durations ------------------------------------------------------------------------

TEST_CASE("scenario: durations in Taurus's forms", "[scenario]") {
  CHECK(parse_duration_us("500ms") == 500000);
  CHECK(parse_duration_us("90s") == 90 * kSecond);
  CHECK(parse_duration_us("3m") == 3 * kMinute);
  CHECK(parse_duration_us("1h") == 60 * kMinute);
  CHECK(parse_duration_us("1d") == 24 * 60 * kMinute);
  CHECK(parse_duration_us("1h30m") == 90 * kMinute);
  CHECK(parse_duration_us("2m30s") == 150 * kSecond);
  CHECK(parse_duration_us("1d2h3m4s5ms") == ((((24 + 2) * 60 + 3) * 60 + 4) * int64_t{1000} + 5) * 1000);
  CHECK(parse_duration_us("1.5s") == 1500 * 1000);
  CHECK(parse_duration_us("0.5m") == 30 * kSecond);
  CHECK(parse_duration_us("0m") == 0);
}

TEST_CASE("scenario: a plain number is seconds, and whitespace around is fine", "[scenario]") {
  CHECK(parse_duration_us("90") == 90 * kSecond);
  CHECK(parse_duration_us("1.5") == 1500 * 1000);
  CHECK(parse_duration_us("0") == 0);
  CHECK(parse_duration_us("  3m\t") == 3 * kMinute);
  CHECK(parse_duration_us(" 7 ") == 7 * kSecond);
}

TEST_CASE("scenario: bad durations are refused with the reason", "[scenario]") {
  for (const std::string bad :
       {"",     "  ",      "3x",  "m",  "ms",  "1.5.2", "1.",  ".5",  "1m30", "30m1h",
        "1m1m", "500ms1s", "1 h", "1H", "1e3", "3 m",   "inf", "nan", "+1s",  "1h,30m"}) {
    INFO("'" << bad << "'");
    CHECK(duration_error(bad) == "bad duration '" + bad + "'" + kDurationHelp);
  }
  CHECK(duration_error("-1s") == "bad duration '-1s': cannot be negative");
  CHECK(duration_error("-5") == "bad duration '-5': cannot be negative");
  CHECK(duration_error("999999999999d") == "bad duration '999999999999d': too long");
}

// --- the study's files ----------------------------------------------------------------

TEST_CASE("scenario: the study's Scenario 1 is one open-loop stage at 0, 6, 16, 31, 61 min", "[scenario]") {
  const ScenarioFile file = load(study_file("scenario1-idle-gaps.yaml"));
  CHECK(file.path == study_file("scenario1-idle-gaps.yaml"));
  REQUIRE(file.execution.size() == 1);
  const auto& stage = file.execution[0];
  CHECK(stage.scenario == "predict");
  CHECK(stage.at_us == std::vector<int64_t>{0, 6 * kMinute, 16 * kMinute, 31 * kMinute, 61 * kMinute});
  CHECK(stage.concurrency == 1);
  CHECK(stage.ramp_up_us == 0);
  CHECK(stage.steps == 0);
  CHECK(stage.hold_for_us == 0);
  CHECK_FALSE(stage.iterations);
  CHECK_FALSE(stage.think_time_us);
  check_study_common(file);
}

TEST_CASE("scenario: the study's Scenario 2 ramps to 9 users in 3 steps, then 18", "[scenario]") {
  const ScenarioFile file = load(study_file("scenario2-parallel-users.yaml"));
  REQUIRE(file.execution.size() == 2);
  const auto& ramp = file.execution[0];
  CHECK(ramp.scenario == "predict");
  CHECK(ramp.concurrency == 9);
  CHECK(ramp.ramp_up_us == 3 * kMinute);
  CHECK(ramp.steps == 3);
  CHECK(ramp.hold_for_us == 1 * kMinute);
  CHECK(ramp.at_us.empty());
  CHECK_FALSE(ramp.iterations);

  const auto& jump = file.execution[1];
  CHECK(jump.scenario == "predict");
  CHECK(jump.concurrency == 18);
  CHECK(jump.ramp_up_us == 0);
  CHECK(jump.steps == 0);
  CHECK(jump.hold_for_us == 1 * kMinute);
  CHECK(jump.at_us.empty());
  CHECK(jump.line > ramp.line);
  check_study_common(file);
}

TEST_CASE("scenario: the study's files accept every built-in function they name", "[scenario]") {
  std::set<std::string> asked;
  const auto exists = [&](const std::string& name) {
    asked.insert(name);
    return name == "kdd-python" || name == "kdd-java";
  };
  load(study_file("scenario1-idle-gaps.yaml"), exists);
  load(study_file("scenario2-parallel-users.yaml"), exists);
  CHECK(asked == std::set<std::string>{"kdd-python", "kdd-java"});
}

// --- what a file says -----------------------------------------------------------------

TEST_CASE("scenario: stages keep their lines, iterations and think-time", "[scenario]") {
  const ScenarioFile file = parse(
      "execution:\n"
      "- scenario: s\n"
      "  iterations: 5\n"
      "  think-time: 2s\n"
      "- scenario: s\n"
      "  ramp-up: 30s\n"
      "  hold-for: 0\n"
      "  concurrency: 4\n"
      "- scenario: s\n"
      "  think-time: 1s\n"
      "  coldlab: {at: [0s, 10s, 10s]}\n"
      "scenarios:\n"
      "  s:\n"
      "    think-time: 500ms\n"
      "    requests:\n"
      "    - function: echo\n",
      "s.yaml");
  REQUIRE(file.execution.size() == 3);
  CHECK(file.execution[0].line == 2);
  CHECK(file.execution[0].iterations == 5);
  CHECK(file.execution[0].hold_for_us == 0);
  CHECK(file.execution[0].think_time_us == 2 * kSecond);
  CHECK(file.execution[1].line == 5);
  CHECK(file.execution[1].ramp_up_us == 30 * kSecond);
  CHECK(file.execution[1].concurrency == 4);
  CHECK_FALSE(file.execution[1].think_time_us);
  CHECK(file.execution[2].line == 9);
  CHECK(file.execution[2].think_time_us == 1 * kSecond);
  CHECK(file.execution[2].at_us == std::vector<int64_t>{0, 10 * kSecond, 10 * kSecond});
  CHECK(file.scenarios.at("s").think_time_us == 500 * 1000);
  CHECK(file.seed == 1);
}

TEST_CASE("scenario: requests' labels, functions, think-time and default payload", "[scenario]") {
  const ScenarioFile file = parse(kOneStage +
                                      "scenarios:\n"
                                      "  s:\n"
                                      "    requests:\n"
                                      "    - function: echo\n"
                                      "    - function: spin\n"
                                      "      label: burn\n"
                                      "      think-time: 3s\n"
                                      "    - label: swept\n"
                                      "    - {}\n"
                                      "coldlab:\n"
                                      "  functions: [echo-python]\n",
                                  "s.yaml");
  const auto& requests = file.scenarios.at("s").requests;
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].label == "echo");
  CHECK(requests[0].function == "echo");
  CHECK(requests[0].payload == "{}");
  CHECK_FALSE(requests[0].think_time_us);
  CHECK(requests[1].label == "burn");
  CHECK(requests[1].function == "spin");
  CHECK(requests[1].think_time_us == 3 * kSecond);
  CHECK(requests[2].label == "swept");
  CHECK(requests[2].function.empty());
  CHECK(requests[3].label == "request");
  CHECK(requests[3].function.empty());
}

TEST_CASE("scenario: an inline body becomes JSON with YAML's types and key order", "[scenario]") {
  const ScenarioFile file = parse(kOneStage +
                                      "scenarios:\n"
                                      "  s:\n"
                                      "    requests:\n"
                                      "    - function: echo\n"
                                      "      body:\n"
                                      "        zeta: 1\n"
                                      "        alpha: [-2, 1.5, +3, 2e3, true, False, null, ~, yes]\n"
                                      "        quoted: ['7', \"true\", '']\n"
                                      "        text: hello world\n"
                                      "        nested: {empty: {}, list: [], big: 123456789012345678901}\n"
                                      "    - function: echo\n"
                                      "      body: [1, two]\n"
                                      "    - function: echo\n"
                                      "      body: '{\"already\": \"json\"}'\n"
                                      "    - function: echo\n"
                                      "      body: 42\n",
                                  "s.yaml");
  const auto& requests = file.scenarios.at("s").requests;
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].payload == R"({"zeta":1,"alpha":[-2,1.5,3,2000.0,true,false,null,null,"yes"],)"
                               R"("quoted":["7","true",""],"text":"hello world",)"
                               R"("nested":{"empty":{},"list":[],"big":1.2345678901234568e+20}})");
  CHECK(requests[1].payload == R"([1,"two"])");
  CHECK(requests[2].payload == R"({"already": "json"})");
  CHECK(requests[3].payload == "42");
}

TEST_CASE("scenario: body-file is read relative to the scenario file", "[scenario]") {
  TempDir dir;
  dir.file("event.json", "{\"features\": [1, 2, 3]}\n");
  const std::string path = dir.file("s.yaml", kOneStage + kScenarioS + "      body-file: event.json\n");
  const ScenarioFile file = load(path);
  CHECK(file.scenarios.at("s").requests[0].payload == "{\"features\": [1, 2, 3]}\n");

  // parse() anchors body-file at the path it is given, too.
  const ScenarioFile parsed =
      parse(kOneStage + kScenarioS + "      body-file: event.json\n", dir.path("elsewhere.yaml"));
  CHECK(parsed.scenarios.at("s").requests[0].payload == "{\"features\": [1, 2, 3]}\n");
}

TEST_CASE("scenario: coldlab settings: functions, one memory size, seed, network models", "[scenario]") {
  const auto coldlab = [](const std::string& settings) {
    return parse(kOneStage + kScenarioS + "coldlab:\n" + settings, "s.yaml");
  };
  const ScenarioFile functions = coldlab(
      "  functions: [echo, spin]\n"
      "  memory: 2048\n"
      "  keep-alive: [fixed:ttl=10m, lru]\n"
      "  scale-out: [lambda, max-instances:n=2]\n"
      "  seed: 42\n");
  REQUIRE(functions.targets.size() == 2);
  CHECK(functions.targets[1].runtime == "spin");
  CHECK(functions.targets[1].function == "spin");
  CHECK(functions.memory_mb == std::vector<int>{2048});
  CHECK(functions.keep_alive == std::vector<std::string>{"fixed:ttl=10m", "lru"});
  CHECK(functions.seed == 42);

  const NetworkModel lognormal =
      coldlab("  network: {rtt: {dist: lognormal, median: 180ms, p99: 400ms}}\n").network;
  CHECK(lognormal.dist == NetworkModel::Dist::kLognormal);
  CHECK(lognormal.median_us == 180000);
  CHECK(lognormal.p99_us == 400000);

  const NetworkModel constant = coldlab("  network: {rtt: {dist: constant, value: 20ms}}\n").network;
  CHECK(constant.dist == NetworkModel::Dist::kConstant);
  CHECK(constant.median_us == 20000);
  CHECK(coldlab("  network: {rtt: {dist: constant, median: 1s}}\n").network.median_us == kSecond);

  const NetworkModel uniform = coldlab("  network: {rtt: {dist: uniform, min: 10ms, max: 10ms}}\n").network;
  CHECK(uniform.dist == NetworkModel::Dist::kUniform);
  CHECK(uniform.min_us == 10000);
  CHECK(uniform.max_us == 10000);

  const NetworkModel exponential = coldlab("  network: {rtt: {dist: exponential, mean: 0.05}}\n").network;
  CHECK(exponential.dist == NetworkModel::Dist::kExponential);
  CHECK(exponential.median_us == 50000);

  CHECK(coldlab("  network: {rtt: {dist: none}}\n").network.dist == NetworkModel::Dist::kNone);
}

TEST_CASE("scenario: combinations: targets slowest, then memory, keep-alive, scale-out", "[scenario]") {
  ScenarioFile file;
  file.targets = {{"python", "kdd-python"}, {"java", "kdd-java"}};
  file.memory_mb = {256, 512};
  file.keep_alive = {"study", "lru"};
  file.scale_out = {"lambda"};
  const std::vector<Combination> all = combinations(file);
  CHECK(labels(all) ==
        std::vector<std::string>{"python 256 MB keep-alive=study", "python 256 MB keep-alive=lru",
                                 "python 512 MB keep-alive=study", "python 512 MB keep-alive=lru",
                                 "java 256 MB keep-alive=study", "java 256 MB keep-alive=lru",
                                 "java 512 MB keep-alive=study", "java 512 MB keep-alive=lru"});
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].index == static_cast<int>(i) + 1);
  CHECK(all[3].keep_alive == "lru");
  CHECK(all[3].scale_out == "lambda");
  CHECK(all[3].memory_mb == 512);

  file.memory_mb.clear();
  file.keep_alive = {"study"};
  file.scale_out = {"lambda", "per-env-concurrency"};
  CHECK(labels(combinations(file)) ==
        std::vector<std::string>{"python scale-out=lambda", "python scale-out=per-env-concurrency",
                                 "java scale-out=lambda", "java scale-out=per-env-concurrency"});
  CHECK_FALSE(combinations(file)[0].memory_mb);
}

TEST_CASE("scenario: without targets or sweeps there is one combination", "[scenario]") {
  const ScenarioFile file = parse(kOneStage + kScenarioS, "s.yaml");
  const std::vector<Combination> all = combinations(file);
  REQUIRE(all.size() == 1);
  CHECK(all[0].index == 1);
  CHECK(all[0].target.runtime.empty());
  CHECK(all[0].target.function.empty());
  CHECK_FALSE(all[0].memory_mb);
  CHECK(all[0].keep_alive.empty());
  CHECK(all[0].scale_out.empty());
  CHECK(all[0].label == "default");
}

TEST_CASE("scenario: Taurus's top-level settings are ignored with a warning", "[scenario]") {
  const ScenarioFile file = parse(
      "settings:\n"
      "  artifacts-dir: /tmp\n"
      "reporting:\n"
      "- module: final-stats\n" +
          kOneStage + kScenarioS +
          "modules: {jmeter: {version: 5.4}}\n"
          "services: []\n"
          "included-configs: [other.yml]\n"
          "provisioning: local\n",
      "s.yaml");
  CHECK(file.warnings == std::vector<std::string>{
                             "s.yaml:1: settings: ignored: coldlab does not use Taurus's settings",
                             "s.yaml:3: reporting: ignored: coldlab does not use Taurus's reporting modules",
                             "s.yaml:12: modules: ignored: coldlab does not use Taurus's modules",
                             "s.yaml:13: services: ignored: coldlab does not use Taurus's services",
                             "s.yaml:14: included-configs: ignored: coldlab does not use Taurus's "
                             "included-configs",
                             "s.yaml:15: provisioning: ignored: coldlab does not use Taurus's provisioning"});
  CHECK(file.execution.size() == 1);
}

// --- refusals: file and syntax --------------------------------------------------------

TEST_CASE("scenario: an unreadable file is refused", "[scenario]") {
  TempDir dir;
  const std::string missing = dir.path("missing.yaml");
  CHECK_THROWS_WITH(load(missing), missing + ":1: (file): cannot read: No such file or directory");
  CHECK_THROWS_WITH(load(dir.path("")), Catch::Contains(":1: (file): is a folder, not a scenario file"));
}

TEST_CASE("scenario: YAML syntax errors are refused at yaml-cpp's line", "[scenario]") {
  CHECK(error_of("execution: [a, b\nscenarios: x\n") ==
        "s.yaml:2: (file): YAML syntax error: end of sequence flow not found");
  CHECK(error_of("execution:\n- scenario: s\n  hold-for: 1m\n bad: x\n") ==
        "s.yaml:4: (file): YAML syntax error: end of sequence not found");
  CHECK(error_of("- just\n- a list\n") ==
        "s.yaml:1: (file): must be a mapping with execution:, scenarios: and coldlab:");
  CHECK(error_of("") == "s.yaml:1: (file): must be a mapping with execution:, scenarios: and coldlab:");
}

TEST_CASE("scenario: unknown and repeated keys are refused, with the known ones", "[scenario]") {
  CHECK(error_of("executions:\n") ==
        "s.yaml:1: executions: unknown key (known: execution, scenarios, coldlab)");
  CHECK(error_of(kOneStage + "  hold_for: 1m\n" + kScenarioS) ==
        "s.yaml:4: execution[0].hold_for: unknown key (known: scenario, concurrency, ramp-up, steps, "
        "hold-for, iterations, think-time, coldlab)");
  CHECK(error_of(kOneStage + "  coldlab: {at: [0s], every: 5m}\n" + kScenarioS) ==
        "s.yaml:4: execution[0].coldlab.every: unknown key (known: at)");
  CHECK(error_of(kOneStage + kScenarioS + "    headers-x: 1\n" + "coldlab: {}\n") ==
        "s.yaml:8: scenarios.s.headers-x: unknown key (known: think-time, requests)");
  CHECK(error_of(kOneStage + kScenarioS + "      timeout: 5s\n") ==
        "s.yaml:8: scenarios.s.requests[0].timeout: unknown key (known: label, function, body, "
        "body-file, think-time)");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  memroy: 512\n") ==
        "s.yaml:9: coldlab.memroy: unknown key (known: runtimes, functions, memory, keep-alive, "
        "scale-out, network, seed)");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  network: {latency: 1s}\n") ==
        "s.yaml:9: coldlab.network.latency: unknown key (known: rtt)");
  CHECK(error_of(kOneStage + "  hold-for: 2m\n" + kScenarioS) ==
        "s.yaml:4: execution[0].hold-for: appears twice");
  CHECK(error_of(kOneStage + kScenarioS + "      body: {a: 1, a: 2}\n") ==
        "s.yaml:8: scenarios.s.requests[0].body.a: appears twice");
}

TEST_CASE("scenario: a request names a function, not a URL", "[scenario]") {
  const std::string reason =
      "coldlab invokes a Lambda function, not a URL: name it with function: (or sweep "
      "coldlab.runtimes/functions)";
  CHECK(error_of(kOneStage + kScenarioS + "      url: http://localhost/predict\n") ==
        "s.yaml:8: scenarios.s.requests[0].url: " + reason);
  CHECK(error_of(kOneStage + kScenarioS + "      method: POST\n") ==
        "s.yaml:8: scenarios.s.requests[0].method: " + reason);
  CHECK(error_of(kOneStage + "scenarios:\n  s:\n    requests:\n    - http://localhost/\n") ==
        "s.yaml:7: scenarios.s.requests[0]: must be a mapping, not 'http://localhost/'");
}

// --- refusals: types and values -------------------------------------------------------

TEST_CASE("scenario: wrong types are refused", "[scenario]") {
  CHECK(error_of("execution:\n  scenario: s\n" + kScenarioS) ==
        "s.yaml:1: execution: must be a list, not a mapping");
  CHECK(error_of(kOneStage + "scenarios: [s]\n") == "s.yaml:4: scenarios: must be a mapping, not a list");
  CHECK(error_of(kOneStage + "  concurrency: [1]\n" + kScenarioS) ==
        "s.yaml:4: execution[0].concurrency: must be an integer, not a list");
  CHECK(error_of(kOneStage + "  concurrency: 2.5\n" + kScenarioS) ==
        "s.yaml:4: execution[0].concurrency: must be an integer, not '2.5'");
  CHECK(error_of(kOneStage + "  ramp-up: {m: 3}\n" + kScenarioS) ==
        "s.yaml:4: execution[0].ramp-up: must be a duration, not a mapping");
  CHECK(error_of("execution:\n- scenario: [s]\n  hold-for: 1m\n" + kScenarioS) ==
        "s.yaml:2: execution[0].scenario: must be a string, not a list");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  keep-alive: {fixed: 10m}\n") ==
        "s.yaml:9: coldlab.keep-alive: must be a string, not a mapping");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  runtimes: [kdd-python]\n") ==
        "s.yaml:9: coldlab.runtimes: must be a mapping, not a list");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  seed: -1\n") ==
        "s.yaml:9: coldlab.seed: must be at least 0");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  seed: one\n") ==
        "s.yaml:9: coldlab.seed: must be an integer, not 'one'");
}

TEST_CASE("scenario: bad durations are refused at their key", "[scenario]") {
  CHECK(error_of(kOneStage + "  ramp-up: 3x\n" + kScenarioS) ==
        "s.yaml:4: execution[0].ramp-up: bad duration '3x'" + kDurationHelp);
  CHECK(error_of("execution:\n- scenario: s\n  hold-for: -1m\n" + kScenarioS) ==
        "s.yaml:3: execution[0].hold-for: bad duration '-1m': cannot be negative");
  CHECK(
      error_of(kOneStage + "scenarios:\n  s:\n    think-time: soon\n    requests:\n    - function: echo\n") ==
      "s.yaml:6: scenarios.s.think-time: bad duration 'soon'" + kDurationHelp);
  CHECK(error_of(kOneStage + kScenarioS + "      think-time: 1m1h\n") ==
        "s.yaml:8: scenarios.s.requests[0].think-time: bad duration '1m1h'" + kDurationHelp);
  CHECK(error_of("execution:\n- scenario: s\n  coldlab:\n    at: [0m,\n      5x]\n" + kScenarioS) ==
        "s.yaml:5: execution[0].coldlab.at[1]: bad duration '5x'" + kDurationHelp);
}

TEST_CASE("scenario: counts must make sense", "[scenario]") {
  CHECK(error_of(kOneStage + "  concurrency: 0\n" + kScenarioS) ==
        "s.yaml:4: execution[0].concurrency: must be at least 1");
  CHECK(error_of(kOneStage + "  steps: -1\n" + kScenarioS) ==
        "s.yaml:4: execution[0].steps: must be at least 0");
  CHECK(error_of(kOneStage + "  iterations: 0\n" + kScenarioS) ==
        "s.yaml:4: execution[0].iterations: must be at least 1");
  CHECK(error_of(kOneStage + "  concurrency: 3000000000\n" + kScenarioS) ==
        "s.yaml:4: execution[0].concurrency: must be at most 2147483647");
}

TEST_CASE("scenario: memory must be within Lambda's 128-10240 MB", "[scenario]") {
  const std::string range = "must be between 128 and 10240 MB (Lambda's range), not ";
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  memory: 64\n") ==
        "s.yaml:9: coldlab.memory: " + range + "64");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  memory: [256, 512, 10241]\n") ==
        "s.yaml:9: coldlab.memory[2]: " + range + "10241");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  memory:\n  - 128\n  - 0\n") ==
        "s.yaml:11: coldlab.memory[1]: " + range + "0");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  memory: [512MB]\n") ==
        "s.yaml:9: coldlab.memory[0]: must be an integer, not '512MB'");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  memory: []\n") ==
        "s.yaml:9: coldlab.memory: an empty list sweeps nothing (leave the key out for the default)");
  CHECK(parse(kOneStage + kScenarioS + "coldlab:\n  memory: [128, 10240]\n", "s.yaml").memory_mb ==
        std::vector<int>{128, 10240});
}

TEST_CASE("scenario: policy specs must be non-empty strings", "[scenario]") {
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  keep-alive:\n") ==
        "s.yaml:9: coldlab.keep-alive: must be a string, not empty");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  scale-out: [lambda, '']\n") ==
        "s.yaml:9: coldlab.scale-out[1]: must not be empty");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  keep-alive: []\n") ==
        "s.yaml:9: coldlab.keep-alive: an empty list sweeps nothing (leave the key out for the default)");
}

// --- refusals: structure --------------------------------------------------------------

TEST_CASE("scenario: execution must list stages that name a defined scenario", "[scenario]") {
  CHECK(error_of("execution: []\n" + kScenarioS) == "s.yaml:1: execution: must list at least one stage");
  CHECK(error_of(kScenarioS) == "s.yaml:1: execution: missing (the stages to run)");
  CHECK(error_of(kOneStage) == "s.yaml:1: scenarios: missing (the requests the stages send)");
  CHECK(error_of(kOneStage + "- scenario: other\n  hold-for: 1m\n" + kScenarioS) ==
        "s.yaml:4: execution[1].scenario: no scenario 'other' in scenarios: (known: s)");
  CHECK(error_of(kOneStage + "- hold-for: 1m\n" + kScenarioS) ==
        "s.yaml:4: execution[1]: missing scenario (the name of one of scenarios:)");
}

TEST_CASE("scenario: a scenario needs requests", "[scenario]") {
  CHECK(error_of(kOneStage + "scenarios:\n  s:\n    think-time: 1s\n") ==
        "s.yaml:5: scenarios.s: has no requests");
  CHECK(error_of(kOneStage + "scenarios:\n  s:\n    requests: []\n") ==
        "s.yaml:6: scenarios.s.requests: has no requests");
}

TEST_CASE("scenario: a closed-loop stage needs hold-for or iterations", "[scenario]") {
  CHECK(error_of("execution:\n- scenario: s\n  concurrency: 5\n  ramp-up: 1m\n" + kScenarioS) ==
        "s.yaml:2: execution[0]: a closed-loop stage needs hold-for or iterations, or it never ends");
  CHECK(error_of("execution:\n- scenario: s\n  hold-for: 0s\n" + kScenarioS) ==
        "s.yaml:3: execution[0].hold-for: 0 with no ramp-up or iterations: the stage would send nothing");
}

TEST_CASE("scenario: closed-loop settings do not apply to an at: stage", "[scenario]") {
  const std::string reason =
      "does not apply to an `at:` stage (an open-loop stage sends one scenario loop at each time)";
  for (const std::string key :
       {"concurrency: 2", "ramp-up: 1m", "steps: 2", "hold-for: 1m", "iterations: 3"}) {
    INFO(key);
    CHECK(error_of("execution:\n- scenario: s\n  coldlab: {at: [0s]}\n  " + key + "\n" + kScenarioS) ==
          "s.yaml:4: execution[0]." + key.substr(0, key.find(':')) + ": " + reason);
  }
}

TEST_CASE("scenario: at: times must ascend, and there must be some", "[scenario]") {
  CHECK(error_of("execution:\n- scenario: s\n  coldlab:\n    at: [0m, 6m, 5m]\n" + kScenarioS) ==
        "s.yaml:4: execution[0].coldlab.at[2]: times must be in ascending order ('5m' is earlier than "
        "the one before)");
  CHECK(error_of("execution:\n- scenario: s\n  coldlab:\n    at: []\n" + kScenarioS) ==
        "s.yaml:4: execution[0].coldlab.at: must list at least one time");
}

TEST_CASE("scenario: requests need a function unless the file sweeps them", "[scenario]") {
  CHECK(error_of(kOneStage + "scenarios:\n  s:\n    requests:\n    - function: echo\n    - label: x\n") ==
        "s.yaml:8: scenarios.s.requests[1]: names no function, and coldlab: has no runtimes: or "
        "functions: to supply one");
  CHECK(error_of(kOneStage + kScenarioS +
                 "coldlab:\n  runtimes: {python: kdd-python}\n  functions: [echo]\n") ==
        "s.yaml:10: coldlab.functions: give runtimes or functions, not both");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  functions: []\n") ==
        "s.yaml:9: coldlab.functions: must name at least one function");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  runtimes: {}\n") ==
        "s.yaml:9: coldlab.runtimes: must name at least one runtime");
}

TEST_CASE("scenario: unknown functions are refused when function_exists is given", "[scenario]") {
  const auto exists = [](const std::string& name) { return name == "echo" || name == "kdd-python"; };
  CHECK(
      error_of(kOneStage + kScenarioS + "coldlab:\n  runtimes:\n    python: kdd-python\n    java: kdd-jvm\n",
               exists) == "s.yaml:11: coldlab.runtimes.java: unknown function 'kdd-jvm'");
  CHECK(error_of(kOneStage + kScenarioS + "coldlab:\n  functions: [echo, nope]\n", exists) ==
        "s.yaml:9: coldlab.functions[1]: unknown function 'nope'");
  CHECK(error_of(kOneStage + "scenarios:\n  s:\n    requests:\n    - function: ech0\n", exists) ==
        "s.yaml:7: scenarios.s.requests[0].function: unknown function 'ech0'");
  CHECK(parse(kOneStage + kScenarioS, "s.yaml", exists).scenarios.at("s").requests[0].function == "echo");
}

TEST_CASE("scenario: bodies must be JSON, and body-file readable", "[scenario]") {
  CHECK(error_of(kOneStage + kScenarioS + "      body: hello\n") ==
        "s.yaml:8: scenarios.s.requests[0].body: is not valid JSON: parse error at line 1, column 1: "
        "syntax error while parsing value - invalid literal; last read: 'h'");
  CHECK(error_of(kOneStage + kScenarioS + "      body: {a: 1}\n      body-file: e.json\n") ==
        "s.yaml:9: scenarios.s.requests[0].body-file: give body or body-file, not both");

  TempDir dir;
  const std::string yaml = kOneStage + kScenarioS + "      body-file: event.json\n";
  const std::string missing = dir.path("event.json");
  CHECK_THROWS_WITH(parse(yaml, dir.path("s.yaml")),
                    dir.path("s.yaml") + ":8: scenarios.s.requests[0].body-file: cannot read '" + missing +
                        "': No such file or directory");
  dir.file("event.json", "{\"features\": [1, 2,]}");
  CHECK_THROWS_WITH(parse(yaml, dir.path("s.yaml")),
                    Catch::StartsWith(dir.path("s.yaml") + ":8: scenarios.s.requests[0].body-file: '" +
                                      missing + "' is not valid JSON: parse error"));
}

TEST_CASE("scenario: network models must be consistent", "[scenario]") {
  const auto network_error = [](const std::string& rtt) {
    return error_of(kOneStage + kScenarioS + "coldlab:\n  network:\n    rtt: " + rtt + "\n");
  };
  CHECK(network_error("{dist: lognormal, median: 400ms, p99: 180ms}") ==
        "s.yaml:10: coldlab.network.rtt.p99: must be greater than median for lognormal");
  CHECK(network_error("{dist: lognormal, median: 200ms, p99: 200ms}") ==
        "s.yaml:10: coldlab.network.rtt.p99: must be greater than median for lognormal");
  CHECK(network_error("{dist: lognormal, median: 0s, p99: 200ms}") ==
        "s.yaml:10: coldlab.network.rtt.median: must be greater than 0 for lognormal");
  CHECK(network_error("{dist: lognormal, median: 180ms}") ==
        "s.yaml:10: coldlab.network.rtt: lognormal needs median and p99");
  CHECK(network_error("{dist: uniform, min: 20ms, max: 10ms}") ==
        "s.yaml:10: coldlab.network.rtt.max: must be at least min for uniform");
  CHECK(network_error("{dist: uniform, min: 20ms, median: 30ms}") ==
        "s.yaml:10: coldlab.network.rtt.median: does not apply to dist uniform (it takes min, max)");
  CHECK(network_error("{dist: constant}") ==
        "s.yaml:10: coldlab.network.rtt: constant needs value (or median)");
  CHECK(network_error("{dist: constant, value: 1s, median: 1s}") ==
        "s.yaml:10: coldlab.network.rtt.median: give value or median, not both");
  CHECK(network_error("{dist: exponential, mean: 0s}") ==
        "s.yaml:10: coldlab.network.rtt.mean: must be greater than 0 for exponential");
  CHECK(network_error("{dist: none, value: 1s}") ==
        "s.yaml:10: coldlab.network.rtt.value: does not apply to dist none");
  CHECK(network_error("{median: 180ms, p99: 400ms}") ==
        "s.yaml:10: coldlab.network.rtt: missing dist (none, constant, lognormal, uniform, exponential)");
  CHECK(network_error("{dist: pareto}") ==
        "s.yaml:10: coldlab.network.rtt.dist: unknown dist 'pareto' (known: none, constant, lognormal, "
        "uniform, exponential)");
  CHECK(network_error("{dist: uniform, min: 1x, max: 2s}") ==
        "s.yaml:10: coldlab.network.rtt.min: bad duration '1x'" + kDurationHelp);
}

TEST_CASE("scenario: a Taurus executor on a stage is accepted with a warning", "[scenario]") {
  const auto file = coldlab::scenario::parse(
      "execution:\n- executor: jmeter\n  scenario: s\n  concurrency: 2\n  hold-for: 1m\n"
      "scenarios:\n  s:\n    requests:\n    - function: echo\n",
      "t.yaml");
  REQUIRE(file.warnings.size() == 1);
  CHECK(file.warnings[0] == "t.yaml:2: execution[0].executor: ignored: coldlab does not use Taurus's executor "
                            "(coldlab drives the requests itself)");
  CHECK(file.execution[0].concurrency == 2);
}

TEST_CASE("scenario: a network model from the command line", "[scenario]") {
  const auto model = coldlab::scenario::parse_network("{dist: lognormal, median: 180ms, p99: 400ms}", "--network");
  CHECK(model.dist == NetworkModel::Dist::kLognormal);
  CHECK(model.median_us == 180000);
  CHECK(model.p99_us == 400000);
  CHECK(coldlab::scenario::parse_network("{dist: none}", "--network").dist == NetworkModel::Dist::kNone);
  CHECK_THROWS_WITH(coldlab::scenario::parse_network("{dist: lognormal, median: 400ms, p99: 180ms}", "--network"),
                    Catch::Contains("--network:1:") && Catch::Contains("greater than median"));
}
