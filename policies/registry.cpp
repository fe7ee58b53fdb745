#include "registry.h"

namespace coldlab::policies {
namespace {

template <typename Entry>
std::string known_names(const std::vector<Entry>& table) {
  std::string names;
  for (const auto& e : table) names += (names.empty() ? "" : ", ") + e.name;
  return names;
}

template <typename Entry>
auto make_from(const std::vector<Entry>& table, const std::string& spec_text, const char* what) {
  PolicySpec spec = PolicySpec::parse(spec_text);
  for (const auto& e : table) {
    if (e.name != spec.name()) continue;
    auto policy = e.make(spec);
    spec.reject_unknown();
    return policy;
  }
  throw SpecError(std::string("unknown ") + what + " policy \"" + spec.name() +
                  "\"; known: " + known_names(table));
}

template <typename Entry>
std::vector<PolicyDescription> describe(const std::vector<Entry>& table) {
  std::vector<PolicyDescription> out;
  for (const auto& e : table) out.push_back({e.name, e.summary});
  return out;
}

}  // namespace

std::unique_ptr<KeepAlivePolicy> make_keep_alive(const std::string& spec_text) {
  return make_from(keep_alive_registry(), spec_text, "keep-alive");
}

std::unique_ptr<ScaleOutPolicy> make_scale_out(const std::string& spec_text) {
  return make_from(scale_out_registry(), spec_text, "scale-out");
}

std::vector<PolicyDescription> keep_alive_policies() { return describe(keep_alive_registry()); }
std::vector<PolicyDescription> scale_out_policies() { return describe(scale_out_registry()); }

}  // namespace coldlab::policies
