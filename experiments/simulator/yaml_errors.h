// Reading workload files with errors that name the file, the line and the key:
// "w.yaml:7: functions[0].warm.mean: must be > 0". Every workload reader uses these, so
// all of them refuse bad input the same way (WorkloadError, workload.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <yaml-cpp/yaml.h>

#include "workload.h"

namespace coldlab::sim {

// "FILE:LINE: KEY: reason" (the line of `node`, 1-based; without it when unknown).
WorkloadError yaml_error(const std::filesystem::path& file, const YAML::Node& node, const std::string& key,
                         const std::string& reason);

// `parent.key` joined for messages ("functions[0]" + "warm" -> "functions[0].warm").
std::string join_key(const std::string& parent, const std::string& key);

// Refuses keys of the map `node` not in `allowed` (a typo must not be silently ignored).
void allow_keys(const YAML::Node& node, std::initializer_list<const char*> allowed, const std::filesystem::path& file,
                const std::string& key);

// node[name] as a string or a finite number; throws when missing or of another type.
std::string require_string(const YAML::Node& node, const char* name, const std::filesystem::path& file,
                           const std::string& key);
double require_number(const YAML::Node& node, const char* name, const std::filesystem::path& file,
                      const std::string& key);
double as_number(const YAML::Node& node, const std::filesystem::path& file, const std::string& key);

// A duration: a number of seconds or Taurus's forms ("90s", "3m", "1h30m", "1d").
int64_t parse_duration_us(const YAML::Node& node, const std::filesystem::path& file, const std::string& key);

}  // namespace coldlab::sim
