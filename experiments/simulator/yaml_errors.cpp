#include "yaml_errors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "scenario/scenario.h"

namespace coldlab::sim {

WorkloadError yaml_error(const std::filesystem::path& file, const YAML::Node& node, const std::string& key,
                         const std::string& reason) {
  std::string where = file.string();
  if (node.IsDefined() && node.Mark().line >= 0) where += ":" + std::to_string(node.Mark().line + 1);
  return WorkloadError(where + ": " + (key.empty() ? "" : key + ": ") + reason);
}

std::string join_key(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

void allow_keys(const YAML::Node& node, std::initializer_list<const char*> allowed, const std::filesystem::path& file,
                const std::string& key) {
  if (!node.IsMap()) throw yaml_error(file, node, key, "must be a map");
  for (const auto& item : node) {
    const std::string name = item.first.as<std::string>();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return name == a; })) {
      std::string known;
      for (const char* a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      throw yaml_error(file, item.first, join_key(key, name), "unknown key (known: " + known + ")");
    }
  }
}

std::string require_string(const YAML::Node& node, const char* name, const std::filesystem::path& file,
                           const std::string& key) {
  const YAML::Node value = node[name];
  if (!value) throw yaml_error(file, node, join_key(key, name), "is required");
  if (!value.IsScalar()) throw yaml_error(file, value, join_key(key, name), "must be a string");
  return value.as<std::string>();
}

double as_number(const YAML::Node& node, const std::filesystem::path& file, const std::string& key) {
  if (!node.IsScalar()) throw yaml_error(file, node, key, "must be a number");
  const std::string text = node.as<std::string>();
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw yaml_error(file, node, key, "'" + text + "' is not a number");
}

double require_number(const YAML::Node& node, const char* name, const std::filesystem::path& file,
                      const std::string& key) {
  const YAML::Node value = node[name];
  if (!value) throw yaml_error(file, node, join_key(key, name), "is required");
  return as_number(value, file, join_key(key, name));
}

int64_t parse_duration_us(const YAML::Node& node, const std::filesystem::path& file, const std::string& key) {
  if (!node.IsScalar()) throw yaml_error(file, node, key, "must be a duration (seconds, or 90s, 3m, 1h, 1d)");
  try {
    return scenario::parse_duration_us(node.as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw yaml_error(file, node, key, e.what());
  }
}

}  // namespace coldlab::sim
