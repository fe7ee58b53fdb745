// The functions coldlab serves and their current configuration. A configuration update
// bumps the function's revision; environments remember the revision they were started
// with, so the dispatcher can retire the ones that no longer match (as Lambda does:
// "when you update a function, Lambda creates new execution environments").
//
// Thread-safety: all methods may be called from any thread. Readers get copies.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/function_config.h"

namespace coldlab::core {

struct FunctionState {
  config::FunctionConfig config;
  uint64_t revision = 1;         // bumped on every configuration update
  std::string revision_id;       // Lambda's RevisionId (a UUID), new on every update
  int64_t last_modified_us = 0;
  int64_t code_size = 0;         // bytes in the code folder, as CodeSize reports
};

class FunctionRegistry {
 public:
  FunctionRegistry(std::vector<config::FunctionConfig> functions, int64_t now_us);

  std::optional<FunctionState> find(const std::string& name) const;
  std::vector<FunctionState> list() const;  // sorted by name, as ListFunctions returns them

  // Applies `change` to a copy of the function's configuration; if `change` returns an
  // error message, nothing changes and the message is returned. Otherwise the new state
  // is stored with a new revision and returned. nullopt + empty error: no such function.
  struct UpdateResult {
    std::optional<FunctionState> state;
    std::string error;
  };
  UpdateResult update(const std::string& name,
                      const std::function<std::string(config::FunctionConfig&)>& change,
                      int64_t now_us);

 private:
  mutable std::mutex mu_;
  std::map<std::string, FunctionState> functions_;
};

// A random (version 4) UUID, the format of Lambda's request and revision ids.
std::string new_uuid();

}  // namespace coldlab::core
