#include "workload.h"

#include <fstream>
#include <yaml-cpp/yaml.h>

#include "azure_workload.h"
#include "replay_workload.h"
#include "synthetic_workload.h"
#include "yaml_errors.h"

namespace coldlab::sim {

Workload load_workload(const std::filesystem::path& file, uint64_t seed) {
  std::ifstream in(file);
  if (!in) throw WorkloadError(file.string() + ": cannot read the workload file");
  YAML::Node root;
  try {
    root = YAML::Load(in);
  } catch (const YAML::Exception& e) {
    throw WorkloadError(file.string() + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) throw yaml_error(file, root, "", "a workload file is a map with a `kind`");
  const std::string kind = require_string(root, "kind", file, "");
  if (kind == "synthetic") return load_synthetic_workload(root, file, seed);
  if (kind == "replay") return load_replay_workload(root, file, seed);
  if (kind == "azure2019") return load_azure_workload(root, file, seed);
  throw yaml_error(file, root["kind"], "kind", "unknown kind '" + kind + "' (synthetic, azure2019 or replay)");
}

}  // namespace coldlab::sim
