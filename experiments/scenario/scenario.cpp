#include "scenario/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

namespace coldlab::scenario {

namespace fs = std::filesystem;

namespace {

// ordered_json keeps a body's keys in file order: the event reads as the user wrote it.
using Json = nlohmann::ordered_json;
using FunctionCheck = std::function<bool(const std::string&)>;

constexpr int64_t kMinMemoryMb = 128;
constexpr int64_t kMaxMemoryMb = 10240;

// A value in the file and where it is, for messages: its dotted/indexed key and a 1-based
// line. A mapping's values are placed at their key's line, since yaml-cpp marks an empty
// value at the token after it.
struct Field {
  YAML::Node node;
  std::string key;
  int line = 1;
};

std::string join(const std::vector<std::string>& names, const std::string& separator = ", ") {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : separator) + name;
  return out;
}

std::string child_key(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "." + name;
}

int line_of(const YAML::Node& node, int fallback) {
  const int line = node.Mark().line;
  return line >= 0 ? line + 1 : fallback;
}

std::string describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "empty";
  return "'" + node.Scalar() + "'";
}

std::string strip_json_prefix(const std::string& message) {
  // nlohmann's messages start with "[json.exception.parse_error.101] ": noise for users.
  const size_t end = message.find("] ");
  return end == std::string::npos ? message : message.substr(end + 2);
}

// A mapping's accepted keys. Ignored keys are Taurus's, kept so a Taurus file loads, with
// the warning to give; refused ones have a better reason than "unknown key".
struct Keys {
  std::vector<std::string> known;
  std::map<std::string, std::string> ignored = {};
  std::map<std::string, std::string> refused = {};
};
using Fields = std::map<std::string, Field>;

const Field* find(const Fields& fields, const std::string& name) {
  const auto it = fields.find(name);
  return it == fields.end() ? nullptr : &it->second;
}

constexpr const char* kOpenLoopOnly =
    "does not apply to an `at:` stage (an open-loop stage sends one scenario loop at each time)";

// The keys a network model's distribution reads.
struct DistInfo {
  const char* name;
  NetworkModel::Dist dist;
  std::vector<std::string> params;
};
const std::vector<DistInfo> kDists = {
    {"none", NetworkModel::Dist::kNone, {}},
    {"constant", NetworkModel::Dist::kConstant, {"value", "median"}},
    {"lognormal", NetworkModel::Dist::kLognormal, {"median", "p99"}},
    {"uniform", NetworkModel::Dist::kUniform, {"min", "max"}},
    {"exponential", NetworkModel::Dist::kExponential, {"mean"}},
};

class Parser {
 public:
  Parser(const fs::path& path, const FunctionCheck& function_exists)
      : file_(path.string()), base_dir_(path.parent_path()), function_exists_(function_exists) {}

  // `network:` on its own (the command line's --network).
  NetworkModel network(const YAML::Node& root) { return read_network({root, "network", 1}); }

  ScenarioFile parse(const YAML::Node& root) {
    ScenarioFile out;
    const Field top{root, "", 1};
    if (!root.IsMap()) fail(top, "must be a mapping with execution:, scenarios: and coldlab:");
    const Fields fields = this->fields(top, {{"execution", "scenarios", "coldlab"},
                                             {{"settings", "settings"},
                                              {"reporting", "reporting modules"},
                                              {"modules", "modules"},
                                              {"services", "services"},
                                              {"included-configs", "included-configs"},
                                              {"provisioning", "provisioning"}}});
    if (const Field* coldlab = find(fields, "coldlab")) read_coldlab(*coldlab, out);

    const Field* scenarios = find(fields, "scenarios");
    if (scenarios == nullptr) fail({root, "scenarios", 1}, "missing (the requests the stages send)");
    for (const auto& [name, value] : entries(*scenarios)) {
      out.scenarios.emplace(name, read_scenario(name, value, out.targets.empty()));
    }
    if (out.scenarios.empty()) fail(*scenarios, "defines no scenario");

    const Field* execution = find(fields, "execution");
    if (execution == nullptr) fail({root, "execution", 1}, "missing (the stages to run)");
    for (const Field& entry : items(*execution)) out.execution.push_back(read_stage(entry, out.scenarios));
    if (out.execution.empty()) fail(*execution, "must list at least one stage");

    out.path = file_;
    out.warnings = std::move(warnings_);
    return out;
  }

 private:
  [[noreturn]] void fail(const Field& field, const std::string& reason) const {
    throw ScenarioError(file_ + ":" + std::to_string(field.line) + ": " +
                        (field.key.empty() ? "(file)" : field.key) + ": " + reason);
  }

  // A mapping's entries in file order. yaml-cpp keeps repeated keys and finds the first,
  // while other YAML readers keep the last: refuse rather than guess.
  std::vector<std::pair<std::string, Field>> entries(const Field& map) const {
    if (!map.node.IsMap()) fail(map, "must be a mapping, not " + describe(map.node));
    std::vector<std::pair<std::string, Field>> out;
    std::set<std::string> seen;
    for (const auto& entry : map.node) {
      const int line = line_of(entry.first, map.line);
      if (!entry.first.IsScalar()) fail({entry.first, map.key, line}, "keys must be names");
      const std::string& name = entry.first.Scalar();
      Field value{entry.second, child_key(map.key, name), line};
      if (!seen.insert(name).second) fail(value, "appears twice");
      out.emplace_back(name, std::move(value));
    }
    return out;
  }

  Fields fields(const Field& map, const Keys& keys) {
    Fields out;
    for (auto& [name, value] : entries(map)) {
      if (std::find(keys.known.begin(), keys.known.end(), name) != keys.known.end()) {
        out.emplace(name, std::move(value));
      } else if (const auto ignored = keys.ignored.find(name); ignored != keys.ignored.end()) {
        warnings_.push_back(file_ + ":" + std::to_string(value.line) + ": " + value.key +
                            ": ignored: coldlab does not use Taurus's " + ignored->second);
      } else if (const auto refused = keys.refused.find(name); refused != keys.refused.end()) {
        fail(value, refused->second);
      } else {
        fail(value, "unknown key (known: " + join(keys.known) + ")");
      }
    }
    return out;
  }

  std::vector<Field> items(const Field& list) const {
    if (!list.node.IsSequence()) fail(list, "must be a list, not " + describe(list.node));
    std::vector<Field> out;
    for (const YAML::Node& item : list.node) {
      out.push_back({item, list.key + "[" + std::to_string(out.size()) + "]", line_of(item, list.line)});
    }
    return out;
  }

  // A swept setting: one value, or a non-empty list of them.
  std::vector<Field> one_or_many(const Field& field) const {
    if (!field.node.IsSequence()) return {field};
    std::vector<Field> out = items(field);
    if (out.empty()) fail(field, "an empty list sweeps nothing (leave the key out for the default)");
    return out;
  }

  std::string text(const Field& field) const {
    if (!field.node.IsScalar()) fail(field, "must be a string, not " + describe(field.node));
    if (field.node.Scalar().empty()) fail(field, "must not be empty");
    return field.node.Scalar();
  }

  int64_t integer(const Field& field, int64_t min, int64_t max = std::numeric_limits<int>::max()) const {
    const std::string& scalar = field.node.IsScalar() ? field.node.Scalar() : "";
    int64_t value = 0;
    const auto [end, error] = std::from_chars(scalar.data(), scalar.data() + scalar.size(), value);
    if (scalar.empty() || error != std::errc() || end != scalar.data() + scalar.size()) {
      fail(field, "must be an integer, not " + describe(field.node));
    }
    if (value < min) fail(field, "must be at least " + std::to_string(min));
    if (value > max) fail(field, "must be at most " + std::to_string(max));
    return value;
  }

  int64_t duration(const Field& field) const {
    if (!field.node.IsScalar()) fail(field, "must be a duration, not " + describe(field.node));
    try {
      return parse_duration_us(field.node.Scalar());
    } catch (const std::invalid_argument& e) {
      fail(field, e.what());
    }
  }

  std::string function(const Field& field) const {
    std::string name = text(field);
    if (function_exists_ && !function_exists_(name)) fail(field, "unknown function '" + name + "'");
    return name;
  }

  void read_coldlab(const Field& coldlab, ScenarioFile& out) {
    const Fields fields = this->fields(
        coldlab, {{"runtimes", "functions", "memory", "keep-alive", "scale-out", "network", "seed"}});
    const Field* runtimes = find(fields, "runtimes");
    const Field* functions = find(fields, "functions");
    if (runtimes != nullptr && functions != nullptr) {
      fail(*functions, "give runtimes or functions, not both");
    }
    if (runtimes != nullptr) {
      for (const auto& [label, value] : entries(*runtimes)) out.targets.push_back({label, function(value)});
      if (out.targets.empty()) fail(*runtimes, "must name at least one runtime");
    }
    if (functions != nullptr) {
      for (const Field& item : items(*functions)) {
        const std::string name = function(item);
        out.targets.push_back({name, name});
      }
      if (out.targets.empty()) fail(*functions, "must name at least one function");
    }
    if (const Field* memory = find(fields, "memory")) {
      for (const Field& item : one_or_many(*memory)) {
        const int64_t mb = integer(item, std::numeric_limits<int>::min());
        if (mb < kMinMemoryMb || mb > kMaxMemoryMb) {
          fail(item, "must be between 128 and 10240 MB (Lambda's range), not " + std::to_string(mb));
        }
        out.memory_mb.push_back(static_cast<int>(mb));
      }
    }
    if (const Field* keep_alive = find(fields, "keep-alive")) {
      for (const Field& item : one_or_many(*keep_alive)) out.keep_alive.push_back(text(item));
    }
    if (const Field* scale_out = find(fields, "scale-out")) {
      for (const Field& item : one_or_many(*scale_out)) out.scale_out.push_back(text(item));
    }
    if (const Field* network = find(fields, "network")) out.network = read_network(*network);
    if (const Field* seed = find(fields, "seed")) {
      out.seed = static_cast<uint64_t>(integer(*seed, 0, std::numeric_limits<int64_t>::max()));
    }
  }

  NetworkModel read_network(const Field& network) {
    const Fields outer = fields(network, {{"rtt"}});
    const Field* rtt_field = find(outer, "rtt");
    if (rtt_field == nullptr) return {};
    const Field& rtt = *rtt_field;
    const Fields params = fields(rtt, {{"dist", "median", "p99", "min", "max", "value", "mean"}});

    std::vector<std::string> dist_names;
    for (const DistInfo& info : kDists) dist_names.emplace_back(info.name);
    const Field* dist_field = find(params, "dist");
    if (dist_field == nullptr) fail(rtt, "missing dist (" + join(dist_names) + ")");
    const std::string dist_name = text(*dist_field);
    const auto info =
        std::find_if(kDists.begin(), kDists.end(), [&](const DistInfo& d) { return dist_name == d.name; });
    if (info == kDists.end()) {
      fail(*dist_field, "unknown dist '" + dist_name + "' (known: " + join(dist_names) + ")");
    }
    for (const auto& [name, field] : params) {
      if (name != "dist" && std::find(info->params.begin(), info->params.end(), name) == info->params.end()) {
        fail(field, "does not apply to dist " + dist_name +
                        (info->params.empty() ? "" : " (it takes " + join(info->params) + ")"));
      }
    }
    // Every parameter present is one this distribution takes; now check the needed ones are there.
    const auto need = [&](const std::string& name) -> const Field& {
      const Field* field = find(params, name);
      if (field == nullptr) fail(rtt, dist_name + " needs " + join(info->params, " and "));
      return *field;
    };

    NetworkModel model;
    model.dist = info->dist;
    switch (model.dist) {
      case NetworkModel::Dist::kNone:
        break;
      case NetworkModel::Dist::kConstant: {
        const Field* value = find(params, "value");
        const Field* median = find(params, "median");
        if (value != nullptr && median != nullptr) fail(*median, "give value or median, not both");
        if (value == nullptr && median == nullptr) fail(rtt, "constant needs value (or median)");
        model.median_us = duration(value != nullptr ? *value : *median);
        break;
      }
      case NetworkModel::Dist::kLognormal: {
        const Field& median = need("median");
        const Field& p99 = need("p99");
        model.median_us = duration(median);
        model.p99_us = duration(p99);
        if (model.median_us <= 0) fail(median, "must be greater than 0 for lognormal");
        if (model.p99_us <= model.median_us) fail(p99, "must be greater than median for lognormal");
        break;
      }
      case NetworkModel::Dist::kUniform: {
        model.min_us = duration(need("min"));
        model.max_us = duration(need("max"));
        if (model.min_us > model.max_us) fail(need("max"), "must be at least min for uniform");
        break;
      }
      case NetworkModel::Dist::kExponential: {
        const Field& mean = need("mean");
        model.median_us = duration(mean);
        if (model.median_us <= 0) fail(mean, "must be greater than 0 for exponential");
        break;
      }
    }
    return model;
  }

  Scenario read_scenario(const std::string& name, const Field& field, bool function_required) {
    const Fields fields = this->fields(field, {{"think-time", "requests"}});
    Scenario scenario;
    scenario.name = name;
    if (const Field* think = find(fields, "think-time")) scenario.think_time_us = duration(*think);
    const Field* requests = find(fields, "requests");
    if (requests == nullptr) fail(field, "has no requests");
    for (const Field& item : items(*requests)) {
      scenario.requests.push_back(read_request(item, function_required));
    }
    if (scenario.requests.empty()) fail(*requests, "has no requests");
    return scenario;
  }

  Request read_request(const Field& item, bool function_required) {
    const std::string http =
        "coldlab invokes a Lambda function, not a URL: name it with function: (or sweep "
        "coldlab.runtimes/functions)";
    const Fields fields = this->fields(item, {{"label", "function", "body", "body-file", "think-time"},
                                              {},
                                              {{"url", http}, {"method", http}, {"headers", http}}});
    Request request;
    if (const Field* name = find(fields, "function")) {
      request.function = function(*name);
    } else if (function_required) {
      fail(item, "names no function, and coldlab: has no runtimes: or functions: to supply one");
    }
    if (const Field* label = find(fields, "label")) {
      request.label = text(*label);
    } else {
      request.label = request.function.empty() ? "request" : request.function;
    }
    if (const Field* think = find(fields, "think-time")) request.think_time_us = duration(*think);

    const Field* body = find(fields, "body");
    const Field* body_file = find(fields, "body-file");
    if (body != nullptr && body_file != nullptr) fail(*body_file, "give body or body-file, not both");
    if (body != nullptr) {
      request.payload = payload(*body);
    } else if (body_file != nullptr) {
      request.payload = read_body_file(*body_file);
    } else {
      request.payload = "{}";
    }
    return request;
  }

  std::string payload(const Field& body) const {
    if (body.node.IsMap() || body.node.IsSequence()) return to_json(body).dump();
    if (body.node.IsNull()) return "null";
    check_json(body, body.node.Scalar(), "");
    return body.node.Scalar();
  }

  std::string read_body_file(const Field& field) const {
    const fs::path file = base_dir_ / text(field);
    std::error_code ec;
    if (fs::is_directory(file, ec)) fail(field, "'" + file.string() + "' is a folder, not a file");
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(field, "cannot read '" + file.string() + "': " + std::strerror(errno));
    const std::string contents{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    check_json(field, contents, "'" + file.string() + "' ");
    return contents;
  }

  // Lambda refuses a payload that is not JSON (InvalidRequestContentException).
  void check_json(const Field& field, const std::string& text, const std::string& what) const {
    try {
      [[maybe_unused]] const Json parsed = Json::parse(text);
    } catch (const Json::parse_error& e) {
      fail(field, what + "is not valid JSON: " + strip_json_prefix(e.what()));
    }
  }

  Json to_json(const Field& field) const {
    if (field.node.IsMap()) {
      Json object = Json::object();
      for (const auto& [name, value] : entries(field)) object[name] = to_json(value);
      return object;
    }
    if (field.node.IsSequence()) {
      Json array = Json::array();
      for (const Field& item : items(field)) array.push_back(to_json(item));
      return array;
    }
    if (field.node.IsNull()) return nullptr;
    return scalar_json(field.node);
  }

  // YAML 1.2's core schema for plain scalars: decimal integers, floats, true/false; quoted
  // or tagged scalars stay strings. (yaml-cpp's own as<bool> would also turn "yes"/"on"
  // into booleans, as YAML 1.1 did.)
  static Json scalar_json(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    if (node.Tag() != "?") return text;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    // from_chars takes no '+' but would take "inf" and "nan", which JSON has no numbers for.
    const std::string_view number = !text.empty() && text[0] == '+' ? std::string_view(text).substr(1) : text;
    const bool numeric = !number.empty() && number[0] != '+' &&
                         number.find_first_not_of("0123456789.eE+-") == std::string_view::npos;
    if (!numeric) return text;
    const char* last = number.data() + number.size();
    int64_t integer = 0;
    if (const auto r = std::from_chars(number.data(), last, integer); r.ec == std::errc() && r.ptr == last) {
      return integer;
    }
    double real = 0;  // also integers too large for int64
    if (const auto r = std::from_chars(number.data(), last, real); r.ec == std::errc() && r.ptr == last) {
      return real;
    }
    return text;
  }

  Stage read_stage(const Field& entry, const std::map<std::string, Scenario>& scenarios) {
    // Taurus files name their executor (jmeter, locust, ...) on each entry; coldlab is its own.
    const Fields fields = this->fields(entry, {{"scenario", "concurrency", "ramp-up", "steps", "hold-for",
                                                "iterations", "think-time", "coldlab"},
                                               {{"executor", "executor (coldlab drives the requests itself)"}}});
    Stage stage;
    stage.line = entry.line;
    const Field* scenario = find(fields, "scenario");
    if (scenario == nullptr) fail(entry, "missing scenario (the name of one of scenarios:)");
    stage.scenario = text(*scenario);
    if (scenarios.count(stage.scenario) == 0) {
      std::vector<std::string> names;
      for (const auto& [name, unused] : scenarios) names.push_back(name);
      fail(*scenario, "no scenario '" + stage.scenario + "' in scenarios: (known: " + join(names) + ")");
    }
    if (const Field* think = find(fields, "think-time")) stage.think_time_us = duration(*think);

    if (const Field* coldlab = find(fields, "coldlab")) {
      const Fields extensions = this->fields(*coldlab, {{"at"}});
      if (const Field* at = find(extensions, "at")) {
        for (const Field& item : items(*at)) {
          const int64_t time = duration(item);
          // Equal times are allowed: loops sent together, a burst.
          if (!stage.at_us.empty() && time < stage.at_us.back()) {
            fail(item, "times must be in ascending order ('" + item.node.Scalar() +
                           "' is earlier than the one before)");
          }
          stage.at_us.push_back(time);
        }
        if (stage.at_us.empty()) fail(*at, "must list at least one time");
      }
    }
    if (!stage.at_us.empty()) {
      for (const char* closed_loop : {"concurrency", "ramp-up", "steps", "hold-for", "iterations"}) {
        if (const Field* field = find(fields, closed_loop)) fail(*field, kOpenLoopOnly);
      }
      return stage;
    }

    if (const Field* concurrency = find(fields, "concurrency")) {
      stage.concurrency = static_cast<int>(integer(*concurrency, 1));
    }
    if (const Field* ramp_up = find(fields, "ramp-up")) stage.ramp_up_us = duration(*ramp_up);
    if (const Field* steps = find(fields, "steps")) stage.steps = static_cast<int>(integer(*steps, 0));
    if (const Field* iterations = find(fields, "iterations")) {
      stage.iterations = integer(*iterations, 1, std::numeric_limits<int64_t>::max());
    }
    const Field* hold_for = find(fields, "hold-for");
    if (hold_for != nullptr) stage.hold_for_us = duration(*hold_for);
    if (!stage.iterations) {
      if (hold_for == nullptr) {
        fail(entry, "a closed-loop stage needs hold-for or iterations, or it never ends");
      }
      if (stage.hold_for_us == 0 && stage.ramp_up_us == 0) {
        fail(*hold_for, "0 with no ramp-up or iterations: the stage would send nothing");
      }
    }
    return stage;
  }

  std::string file_;
  fs::path base_dir_;
  const FunctionCheck& function_exists_;
  std::vector<std::string> warnings_;
};

}  // namespace

int64_t parse_duration_us(const std::string& text) {
  struct Unit {
    std::string_view name;
    long double us;
  };
  // Largest first: the parts of "1h30m" must come in this order, each at most once.
  static constexpr Unit kUnits[] = {{"d", 86400e6L}, {"h", 3600e6L}, {"m", 60e6L}, {"s", 1e6L}, {"ms", 1e3L}};
  const std::string bad = "bad duration '" + text + "'";
  const auto refuse = [&] {
    return std::invalid_argument(bad + " (use 90s, 3m, 1h, 1h30m, 500ms or seconds)");
  };

  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw refuse();
  const std::string_view rest =
      std::string_view(text).substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  if (rest[0] == '-') throw std::invalid_argument(bad + ": cannot be negative");

  long double us = 0;
  size_t pos = 0;
  size_t next_unit = 0;  // the index of the largest unit still allowed
  while (pos < rest.size()) {
    // A number: digits, optionally a dot and more digits.
    const size_t number_start = pos;
    const auto skip_digits = [&] {
      const size_t start = pos;
      while (pos < rest.size() && rest[pos] >= '0' && rest[pos] <= '9') ++pos;
      return pos > start;
    };
    if (!skip_digits()) throw refuse();
    if (pos < rest.size() && rest[pos] == '.') {
      ++pos;
      if (!skip_digits()) throw refuse();
    }
    const long double value = std::stold(std::string(rest.substr(number_start, pos - number_start)));

    const size_t unit_start = pos;
    while (pos < rest.size() && rest[pos] >= 'a' && rest[pos] <= 'z') ++pos;
    const std::string_view unit = rest.substr(unit_start, pos - unit_start);
    if (unit.empty()) {
      // A number alone is seconds; "1m30" is refused rather than guessed.
      if (number_start != 0 || pos != rest.size()) throw refuse();
      us = value * 1e6L;
      break;
    }
    const auto found = std::find_if(std::begin(kUnits) + next_unit, std::end(kUnits),
                                    [&](const Unit& u) { return u.name == unit; });
    if (found == std::end(kUnits)) throw refuse();
    next_unit = static_cast<size_t>(found - std::begin(kUnits)) + 1;
    us += value * found->us;
  }
  if (us >= static_cast<long double>(std::numeric_limits<int64_t>::max())) {
    throw std::invalid_argument(bad + ": too long");
  }
  return std::llround(us);
}

std::vector<Combination> combinations(const ScenarioFile& file) {
  const std::vector<Target> targets = file.targets.empty() ? std::vector<Target>{Target{}} : file.targets;
  std::vector<std::optional<int>> memory(file.memory_mb.begin(), file.memory_mb.end());
  if (memory.empty()) memory.push_back(std::nullopt);
  const auto or_default = [](const std::vector<std::string>& values) {
    return values.empty() ? std::vector<std::string>{""} : values;
  };
  const std::vector<std::string> keep_alive = or_default(file.keep_alive);
  const std::vector<std::string> scale_out = or_default(file.scale_out);

  std::vector<Combination> out;
  for (const Target& target : targets) {
    for (const std::optional<int>& mb : memory) {
      for (const std::string& keep : keep_alive) {
        for (const std::string& scale : scale_out) {
          std::vector<std::string> parts;
          if (!target.runtime.empty()) parts.push_back(target.runtime);
          if (mb) parts.push_back(std::to_string(*mb) + " MB");
          if (keep_alive.size() > 1) parts.push_back("keep-alive=" + keep);
          if (scale_out.size() > 1) parts.push_back("scale-out=" + scale);
          // Without targets or sweeps there is one run; a report still needs a name for it.
          const std::string label = parts.empty() ? "default" : join(parts, " ");
          const int index = static_cast<int>(out.size()) + 1;
          out.push_back({index, target, mb, keep, scale, label});
        }
      }
    }
  }
  return out;
}

ScenarioFile parse(const std::string& text, const fs::path& path, const FunctionCheck& function_exists) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(path.string() + ":" + std::to_string(std::max(e.mark.line + 1, 1)) +
                        ": (file): YAML syntax error: " + e.msg);
  }
  return Parser(path, function_exists).parse(root);
}

NetworkModel parse_network(const std::string& rtt, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load("rtt: " + rtt);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(source + ":1: network: not YAML: " + e.msg);
  }
  return Parser(source, {}).network(root);
}

ScenarioFile load(const fs::path& path, const FunctionCheck& function_exists) {
  const std::string where = path.string() + ":1: (file): ";
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw ScenarioError(where + "is a folder, not a scenario file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(where + "cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path, function_exists);
}

}  // namespace coldlab::scenario
