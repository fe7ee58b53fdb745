// Policies by name. Adding a policy is one file defining its factory and one line in
// registry.cpp's tables.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "keep_alive/keep_alive_policy.h"
#include "policy_spec.h"
#include "scale_out/scale_out_policy.h"

namespace coldlab::policies {

// Both throw SpecError for an unknown name (listing the known ones) or bad parameters.
std::unique_ptr<KeepAlivePolicy> make_keep_alive(const std::string& spec_text);
std::unique_ptr<ScaleOutPolicy> make_scale_out(const std::string& spec_text);

struct PolicyDescription {
  std::string name;
  std::string summary;  // one line: what it does and its parameters with defaults
};
std::vector<PolicyDescription> keep_alive_policies();
std::vector<PolicyDescription> scale_out_policies();

// The tables behind the functions above, one line per policy: registry_keep_alive.cpp
// and registry_scale_out.cpp. A factory reads its parameters from the spec; the caller
// then rejects any key the factory did not ask for.
using KeepAliveFactory = std::function<std::unique_ptr<KeepAlivePolicy>(PolicySpec&)>;
using ScaleOutFactory = std::function<std::unique_ptr<ScaleOutPolicy>(PolicySpec&)>;
struct KeepAliveEntry {
  std::string name;
  std::string summary;
  KeepAliveFactory make;
};
struct ScaleOutEntry {
  std::string name;
  std::string summary;
  ScaleOutFactory make;
};
const std::vector<KeepAliveEntry>& keep_alive_registry();
const std::vector<ScaleOutEntry>& scale_out_registry();

}  // namespace coldlab::policies
