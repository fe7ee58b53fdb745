#include "config/sam_template.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

namespace coldlab::config {

namespace fs = std::filesystem;

namespace {

using NameSet = std::set<std::string, std::less<>>;
using Properties = std::map<std::string, YAML::Node>;

constexpr std::string_view kServerlessFunction = "AWS::Serverless::Function";
constexpr std::string_view kLambdaFunction = "AWS::Lambda::Function";

const NameSet kTemplateSections = {"AWSTemplateFormatVersion",
                                   "Transform",
                                   "Description",
                                   "Globals",
                                   "Resources",
                                   "Parameters",
                                   "Outputs",
                                   "Metadata",
                                   "Conditions",
                                   "Mappings"};

// The properties coldlab reads. The code location is CodeUri for SAM and Code for plain
// CloudFormation; FunctionName in Globals would give every function the same name.
const NameSet kServerlessProperties = {"FunctionName", "CodeUri", "Handler",     "Runtime",
                                       "MemorySize",   "Timeout", "Environment", "Description"};
const NameSet kLambdaProperties = {"FunctionName", "Code",    "Handler",     "Runtime",
                                   "MemorySize",   "Timeout", "Environment", "Description"};
const NameSet kGlobalProperties = {"CodeUri", "Handler",     "Runtime",    "MemorySize",
                                   "Timeout", "Environment", "Description"};


constexpr const char* kSupportedRuntimes =
    "provided, provided.al2, provided.al2023, python3.8 ... python3.14, java11, java17, java21";

constexpr size_t kMaxFunctionName = 64;
constexpr size_t kMaxHandler = 128;

// "<file>: resource <id>: property <name>: ", leaving out the parts that are empty.
std::string where(const std::string& file, const std::string& resource = "",
                  const std::string& property = "") {
  std::string out = file;
  if (!resource.empty()) out += ": resource " + resource;
  if (!property.empty()) out += ": property " + property;
  return out + ": ";
}

std::string in_quotes(const std::string& text) { return "\"" + text + "\""; }

std::string describe(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "no value";
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Lambda's FunctionName rule for CreateFunction: [a-zA-Z0-9-_]+, at most 64 characters.
bool is_valid_function_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxFunctionName &&
         std::all_of(name.begin(), name.end(), [](char c) { return is_word_char(c) || c == '-'; });
}

// Lambda's rule for environment variable keys: [a-zA-Z]([a-zA-Z0-9_])+
bool is_valid_variable_name(const std::string& key) {
  return key.size() >= 2 && std::isalpha(static_cast<unsigned char>(key[0])) &&
         std::all_of(key.begin(), key.end(), is_word_char);
}

bool has_space(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// Python handlers are split at the last dot, as Lambda's python runtime does: the module
// part may itself contain dots or slashes ("pkg/mod.handler", "pkg.mod.handler").
bool is_python_handler(const std::string& handler) {
  const size_t dot = handler.rfind('.');
  return dot != std::string::npos && dot > 0 && dot + 1 < handler.size();
}

// Lambda's Java handler forms: package.Class::method, or package.Class for a class
// implementing RequestHandler / RequestStreamHandler.
bool is_java_handler(const std::string& handler) {
  const size_t colons = handler.find("::");
  const std::string cls = handler.substr(0, colons);
  if (cls.empty() || cls.front() == '.' || cls.back() == '.') return false;
  if (colons == std::string::npos) return true;
  const std::string method = handler.substr(colons + 2);
  return !method.empty() && method.find_first_of(".:") == std::string::npos;
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// CloudFormation intrinsics appear either as a local YAML tag (!Ref, !Sub, ...) or as a
// one-key map whose key is Ref or Fn::<name>. Returns the intrinsic's name, if any.
std::optional<std::string> intrinsic_name(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  if (tag.size() > 1 && tag[0] == '!') return tag;
  if (node.IsMap() && node.size() == 1) {
    const std::string key = node.begin()->first.Scalar();
    if (key == "Ref" || key.rfind("Fn::", 0) == 0) return key;
  }
  return std::nullopt;
}

YAML::Node parse(const fs::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    throw TemplateError(where(name) + "is a folder, not a template file");
  }
  std::ifstream in(file);
  if (!in) throw TemplateError(where(name) + "cannot read: " + std::strerror(errno));
  try {
    return YAML::Load(in);
  } catch (const YAML::Exception& e) {
    throw TemplateError(where(name) + "line " + std::to_string(e.mark.line + 1) + ", column " +
                        std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

// yaml-cpp keeps every copy of a repeated key and finds the first, while SAM's parser
// keeps the last: refuse rather than silently read a different value than SAM would.
void refuse_duplicate_keys(const YAML::Node& node, const std::string& file) {
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) refuse_duplicate_keys(item, file);
  }
  if (!node.IsMap()) return;
  std::set<std::string> seen;
  for (const auto& entry : node) {
    if (!seen.insert(entry.first.Scalar()).second) {
      throw TemplateError(where(file) + "line " + std::to_string(entry.first.Mark().line + 1) +
                          ": key " + entry.first.Scalar() + " appears twice in the same map");
    }
    refuse_duplicate_keys(entry.second, file);
  }
}

// Returns the properties in `known`; each other one gets a warning that starts with `place`.
Properties known_properties(const YAML::Node& properties, const NameSet& known,
                            const std::string& place, std::vector<std::string>& warnings) {
  Properties out;
  for (const auto& entry : properties) {
    const std::string& property = entry.first.Scalar();
    if (known.count(property) != 0) {
      out.emplace(property, entry.second);
    } else {
      warnings.push_back(place + "property " + property + ": not supported by coldlab; ignored");
    }
  }
  return out;
}

void warn_unknown_sections(const YAML::Node& root, const std::string& file,
                           std::vector<std::string>& warnings) {
  for (const auto& entry : root) {
    const std::string& key = entry.first.Scalar();
    if (kTemplateSections.count(key) == 0) {
      warnings.push_back(where(file) + "top-level key " + key +
                         " is not a template section; ignored");
    }
  }
}

// The Globals.Function properties coldlab reads. The others are reported once here rather
// than once per function.
Properties global_function_properties(const YAML::Node& root, const std::string& file,
                                      std::vector<std::string>& warnings) {
  const YAML::Node globals = root["Globals"];
  if (!globals) return {};
  if (!globals.IsMap()) throw TemplateError(where(file) + "Globals must be a map");
  const YAML::Node function = globals["Function"];
  if (!function) return {};
  if (!function.IsMap()) throw TemplateError(where(file) + "Globals.Function must be a map");
  return known_properties(function, kGlobalProperties,
                          where(file) + "Globals.Function: ", warnings);
}

// A property's value for one function, and whether it came from Globals.Function (so
// that an error can say where to look).
struct Value {
  std::string property;
  YAML::Node node;
  bool from_globals = false;
};

// Reads one function resource. Every error names the file, the resource and the property.
class FunctionReader {
 public:
  FunctionReader(std::string file, fs::path template_dir, std::string id, std::string code_property,
                 Properties own, const Properties& globals)
      : file_(std::move(file)),
        template_dir_(std::move(template_dir)),
        id_(std::move(id)),
        code_property_(std::move(code_property)),
        own_(std::move(own)),
        globals_(globals) {}

  FunctionConfig read() const {
    FunctionConfig fn;
    fn.name = function_name();
    fn.runtime = runtime();
    fn.kind = *runtime_kind(fn.runtime);
    fn.code_dir = code_dir(fn.kind);
    fn.handler = handler(fn.kind);
    fn.memory_mb = integer("MemorySize", fn.memory_mb, validate_memory_size);
    fn.timeout_s = integer("Timeout", fn.timeout_s, validate_timeout);
    fn.environment = environment();
    if (auto description = find("Description")) fn.description = scalar(*description);
    return fn;
  }

 private:
  // The function's own value wins over the Globals one.
  std::optional<Value> find(const std::string& property) const {
    if (auto it = own_.find(property); it != own_.end()) return Value{property, it->second, false};
    if (auto it = globals_.find(property); it != globals_.end()) {
      return Value{property, it->second, true};
    }
    return std::nullopt;
  }

  [[noreturn]] void fail(const std::string& property, const std::string& what) const {
    throw TemplateError(where(file_, id_, property) + what);
  }

  [[noreturn]] void fail(const Value& value, const std::string& what) const {
    fail(value.property, value.from_globals ? what + " (set in Globals.Function)" : what);
  }

  void refuse_intrinsics(const Value& value, const YAML::Node& node) const {
    if (auto name = intrinsic_name(node)) {
      fail(value,
           "intrinsic functions are not supported (found " + *name + "); write the value itself");
    }
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) refuse_intrinsics(value, item);
    }
    if (node.IsMap()) {
      for (const auto& entry : node) refuse_intrinsics(value, entry.second);
    }
  }

  std::string scalar(const Value& value) const {
    refuse_intrinsics(value, value.node);
    if (!value.node.IsScalar()) fail(value, "expected a single value, got " + describe(value.node));
    return value.node.Scalar();
  }

  std::string function_name() const {
    const auto value = find("FunctionName");
    const std::string name = value ? scalar(*value) : id_;
    if (!is_valid_function_name(name)) {
      fail("FunctionName", "function name " + in_quotes(name) +
                               " is not valid: Lambda allows 1-64 letters, digits, '-' and '_'");
    }
    return name;
  }

  std::string runtime() const {
    const auto value = find("Runtime");
    if (!value) fail("Runtime", std::string("missing; supported runtimes: ") + kSupportedRuntimes);
    std::string runtime = scalar(*value);
    if (!runtime_kind(runtime)) {
      fail(*value, "runtime " + in_quotes(runtime) +
                       " is not supported; supported runtimes: " + kSupportedRuntimes);
    }
    return runtime;
  }

  fs::path code_dir(RuntimeKind kind) const {
    const auto value = find(code_property_);
    if (!value) fail(code_property_, "missing; point it at the function's code folder");
    refuse_intrinsics(*value, value->node);
    const std::string uri = value->node.IsMap() ? "" : scalar(*value);
    if (value->node.IsMap() || uri.rfind("s3://", 0) == 0) {
      fail(*value, "only local code paths are supported (not S3 locations or inline code)");
    }
    if (uri.empty()) fail(*value, "empty; point it at the function's code folder");
    std::error_code ec;
    const fs::path dir = fs::weakly_canonical(template_dir_ / uri, ec);
    if (ec) fail(*value, "cannot resolve " + in_quotes(uri) + ": " + ec.message());
    if (lowercase(dir.extension().string()) == ".zip") {
      fail(*value, "zip archives are not supported yet; point " + code_property_ +
                       " at the unzipped folder");
    }
    if (!fs::is_directory(dir, ec)) {
      fail(*value, "code folder " + dir.string() +
                       (fs::exists(dir, ec) ? " is not a folder" : " does not exist"));
    }
    if (kind == RuntimeKind::kProvided) check_bootstrap(*value, dir);
    return dir;
  }

  // Lambda starts a provided runtime by executing `bootstrap`; better to say now that it
  // cannot than to fail every cold start.
  void check_bootstrap(const Value& value, const fs::path& dir) const {
    const fs::path bootstrap = dir / "bootstrap";
    std::error_code ec;
    if (!fs::is_regular_file(bootstrap, ec)) {
      fail(value, "provided runtimes need an executable file named bootstrap in " + dir.string() +
                      "; there is none");
    }
    if (::access(bootstrap.c_str(), X_OK) != 0) {
      fail(value, bootstrap.string() + " is not executable (chmod +x it)");
    }
  }

  std::string handler(RuntimeKind kind) const {
    const auto value = find("Handler");
    if (!value) {
      if (kind == RuntimeKind::kPython) {
        fail("Handler", "missing; python runtimes need module.function, e.g. app.handler");
      }
      if (kind == RuntimeKind::kJava) {
        fail("Handler", "missing; java runtimes need package.Class::method, e.g. example.Handler::handleRequest");
      }
      return "";
    }
    std::string handler = scalar(*value);
    if (handler.empty() || handler.size() > kMaxHandler || has_space(handler)) {
      fail(*value, "handler " + in_quotes(handler) + " must be 1-128 characters without spaces");
    }
    if (kind == RuntimeKind::kPython && !is_python_handler(handler)) {
      fail(*value, "handler " + in_quotes(handler) +
                       " is not module.function (e.g. app.handler or pkg/mod.handler)");
    }
    if (kind == RuntimeKind::kJava && !is_java_handler(handler)) {
      fail(*value, "handler " + in_quotes(handler) +
                       " is not package.Class::method or package.Class (e.g. example.Handler::handleRequest)");
    }
    return handler;
  }

  int integer(const std::string& property, int fallback,
              std::optional<std::string> (*validate)(long long)) const {
    const auto value = find(property);
    if (!value) return fallback;
    const std::string text = scalar(*value);
    long long number = 0;
    const char* last = text.data() + text.size();
    auto [end, ec] = std::from_chars(text.data(), last, number);
    if (ec == std::errc::result_out_of_range) fail(*value, in_quotes(text) + " is out of range");
    if (ec != std::errc() || end != last) {
      fail(*value, "expected an integer, got " + in_quotes(text));
    }
    if (auto error = validate(number)) fail(*value, *error);
    return static_cast<int>(number);
  }

  // Globals variables first, then the function's own, which win key by key.
  std::map<std::string, std::string> environment() const {
    std::map<std::string, std::string> merged;
    if (auto it = globals_.find("Environment"); it != globals_.end()) {
      merged = variables(Value{"Environment", it->second, true});
    }
    if (auto it = own_.find("Environment"); it != own_.end()) {
      for (auto& [key, text] : variables(Value{"Environment", it->second, false})) {
        merged[key] = std::move(text);
      }
    }
    return merged;
  }

  std::map<std::string, std::string> variables(const Value& environment) const {
    refuse_intrinsics(environment, environment.node);
    const YAML::Node& node = environment.node;
    if (!node.IsMap() || node.size() != 1 || !node["Variables"] || !node["Variables"].IsMap()) {
      fail(environment, "expected Variables: followed by a map of names to values");
    }
    std::map<std::string, std::string> out;
    for (const auto& entry : node["Variables"]) {
      const std::string& key = entry.first.Scalar();
      check_variable(environment, key, entry.second);
      out[key] = entry.second.Scalar();
    }
    return out;
  }

  void check_variable(const Value& environment, const std::string& key,
                      const YAML::Node& text) const {
    if (is_reserved_variable(key)) {
      fail(environment, "variable " + key + " is reserved by Lambda and cannot be set");
    }
    if (!is_valid_variable_name(key)) {
      fail(environment, "variable name " + in_quotes(key) +
                            " is not valid: Lambda requires [a-zA-Z][a-zA-Z0-9_]+");
    }
    if (!text.IsScalar()) {
      fail(environment,
           "variable " + key + " has " + describe(text) + "; write KEY: \"\" for an empty value");
    }
  }

  const std::string file_;
  const fs::path template_dir_;
  const std::string id_;
  const std::string code_property_;
  const Properties own_;
  const Properties& globals_;
};

struct FunctionType {
  const char* code_property;
  const NameSet* properties;
  bool takes_globals;
};

std::optional<FunctionType> function_type(const std::string& type) {
  if (type == kServerlessFunction) return FunctionType{"CodeUri", &kServerlessProperties, true};
  if (type == kLambdaFunction) return FunctionType{"Code", &kLambdaProperties, false};
  return std::nullopt;
}

std::string resource_type(const std::string& file, const std::string& id,
                          const YAML::Node& resource) {
  // A missing key yields an invalid node, on which yaml-cpp throws for anything but bool.
  if (!resource.IsMap() || !resource["Type"] || !resource["Type"].IsScalar()) {
    throw TemplateError(where(file, id) + "expected a map with a Type");
  }
  return resource["Type"].Scalar();
}

YAML::Node resource_properties(const std::string& file, const std::string& id,
                               const YAML::Node& resource) {
  const YAML::Node properties = resource["Properties"];
  if (properties && !properties.IsMap()) {
    throw TemplateError(where(file, id) + "Properties must be a map");
  }
  return properties;
}

}  // namespace

LoadedTemplate load_sam_template(const fs::path& file) {
  const std::string name = file.string();
  const YAML::Node root = parse(file);
  if (!root.IsMap()) throw TemplateError(where(name) + "expected a map with a Resources section");
  refuse_duplicate_keys(root, name);

  LoadedTemplate loaded;
  warn_unknown_sections(root, name, loaded.warnings);
  const Properties globals = global_function_properties(root, name, loaded.warnings);
  const Properties no_globals;
  const YAML::Node resources = root["Resources"];
  if (resources && !resources.IsMap()) throw TemplateError(where(name) + "Resources must be a map");

  const fs::path template_dir = fs::absolute(file).parent_path();
  std::map<std::string, std::string> resource_of;  // function name -> logical id
  for (const auto& entry : resources) {
    const std::string& id = entry.first.Scalar();
    const std::string type = resource_type(name, id, entry.second);
    const auto function = function_type(type);
    if (!function) {
      loaded.warnings.push_back(where(name, id) + "type " + type + " is not emulated; skipped");
      continue;
    }
    Properties own = known_properties(resource_properties(name, id, entry.second),
                                      *function->properties, where(name, id), loaded.warnings);
    FunctionReader reader(name, template_dir, id, function->code_property, std::move(own),
                          function->takes_globals ? globals : no_globals);
    FunctionConfig config = reader.read();
    if (auto [it, added] = resource_of.emplace(config.name, id); !added) {
      throw TemplateError(where(name, id, "FunctionName") + "function name " + config.name +
                          " is already used by resource " + it->second);
    }
    loaded.functions.push_back(std::move(config));
  }
  if (loaded.functions.empty()) {
    throw TemplateError(where(name) +
                        "no AWS::Serverless::Function or AWS::Lambda::Function resources");
  }
  return loaded;
}

}  // namespace coldlab::config
