// Builders the policy tests share: an environment and a function as a test writes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "pool.h"

namespace coldlab::policies::testing {

// An environment of `function` with `active` requests in it, last used at `last_used_us`.
inline EnvInfo env(int64_t id, const std::string& function, int active, TimeUs last_used_us,
                   int memory_mb = 128) {
  EnvInfo e;
  e.id = id;
  e.function = function;
  e.memory_mb = memory_mb;
  e.created_us = 0;
  e.last_used_us = last_used_us;
  e.active = active;
  return e;
}

inline FunctionInfo function(const std::string& name, std::optional<int> reserved = std::nullopt) {
  FunctionInfo f;
  f.name = name;
  f.reserved_concurrency = reserved;
  return f;
}

}  // namespace coldlab::policies::testing
