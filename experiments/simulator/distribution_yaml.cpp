#include "distribution_yaml.h"

#include <map>
#include <stdexcept>
#include <vector>

#include "yaml_errors.h"

namespace coldlab::sim {

Distribution parse_distribution(const YAML::Node& node, const std::filesystem::path& file, const std::string& key) {
  try {
    if (node.IsScalar()) return Distribution::constant(as_number(node, file, key));
    if (!node.IsMap()) throw yaml_error(file, node, key, "must be a distribution, e.g. {dist: exponential, mean: 0.5}");
    const std::string dist = require_string(node, "dist", file, key);
    if (dist == "constant") {
      allow_keys(node, {"dist", "value"}, file, key);
      return Distribution::constant(require_number(node, "value", file, key));
    }
    if (dist == "exponential") {
      allow_keys(node, {"dist", "mean"}, file, key);
      return Distribution::exponential(require_number(node, "mean", file, key));
    }
    if (dist == "lognormal") {
      allow_keys(node, {"dist", "mu", "sigma", "mean", "sd"}, file, key);
      if (node["mu"] || node["sigma"]) {
        if (node["mean"] || node["sd"]) throw yaml_error(file, node, key, "give mu and sigma, or mean and sd, not both");
        return Distribution::lognormal(require_number(node, "mu", file, key), require_number(node, "sigma", file, key));
      }
      return Distribution::lognormal_from_moments(require_number(node, "mean", file, key),
                                                  require_number(node, "sd", file, key));
    }
    if (dist == "empirical") {
      allow_keys(node, {"dist", "values"}, file, key);
      const YAML::Node values = node["values"];
      if (!values || !values.IsSequence()) throw yaml_error(file, node, join_key(key, "values"), "must be a list of seconds");
      std::vector<double> v;
      for (size_t i = 0; i < values.size(); ++i)
        v.push_back(as_number(values[i], file, join_key(key, "values") + "[" + std::to_string(i) + "]"));
      return Distribution::empirical(std::move(v));
    }
    if (dist == "percentiles") {
      allow_keys(node, {"dist", "points"}, file, key);
      const YAML::Node points = node["points"];
      if (!points || !points.IsMap())
        throw yaml_error(file, node, join_key(key, "points"), "must map percents to seconds, e.g. {0: 0.1, 100: 2}");
      std::map<double, double> by_rank;
      for (const auto& item : points) {
        const double percent = as_number(item.first, file, join_key(key, "points"));
        if (!(percent >= 0 && percent <= 100))
          throw yaml_error(file, item.first, join_key(key, "points"), "a percent must be in [0, 100]");
        by_rank[percent / 100] = as_number(item.second, file, join_key(key, "points"));
      }
      return Distribution::percentiles({by_rank.begin(), by_rank.end()});
    }
    throw yaml_error(file, node["dist"], join_key(key, "dist"),
                     "unknown distribution '" + dist + "' (constant, exponential, lognormal, empirical, percentiles)");
  } catch (const std::invalid_argument& e) {
    throw yaml_error(file, node, key, e.what());
  }
}

}  // namespace coldlab::sim
