#include "kdd/model.h"

#include <cmath>
#include <stdexcept>

namespace coldlab::kdd {

namespace {

using nlohmann::json;

[[noreturn]] void invalid(const std::string& problem) { throw std::runtime_error("model.json: " + problem); }

double finite_number(const json& j, const std::string& what) {
  // nlohmann treats booleans as their own type, so true is refused here as it should be.
  if (!j.is_number()) invalid(what + " must be a number, found " + j.dump());
  const double v = j.get<double>();
  if (!std::isfinite(v)) invalid(what + " must be finite");
  return v;
}

const json& member(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) invalid(std::string("\"") + key + "\" is missing");
  return *it;
}

Features three_numbers(const json& j, const char* key) {
  const json& a = member(j, key);
  if (!a.is_array() || a.size() != kFeatureCount) {
    invalid(std::string("\"") + key + "\" must be an array of " + std::to_string(kFeatureCount) +
            " numbers, found " + a.dump());
  }
  Features out{};
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    out[i] = finite_number(a[i], std::string("\"") + key + "\"[" + std::to_string(i) + "]");
  }
  return out;
}

std::string expect_string(const json& j, const char* key, const std::string& expected) {
  const json& v = member(j, key);
  if (!v.is_string() || v.get<std::string>() != expected) {
    invalid(std::string("\"") + key + "\" must be \"" + expected + "\", found " + v.dump());
  }
  return expected;
}

}  // namespace

double sigmoid(double s) {
  // exp of a large positive number overflows to inf; each branch only ever takes exp of a
  // non-positive number, so the result is in [0, 1] for any finite s.
  if (s >= 0) return 1 / (1 + std::exp(-s));
  const double e = std::exp(s);
  return e / (1 + e);
}

double Model::predict_probability(const Features& raw) const {
  // The order of operations is part of the contract with the other runtimes: see model.h.
  Features z{};
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    z[i] = (std::log(raw[i] + 0.1) - mean[i]) / std_dev[i];
  }
  double s = bias;
  s += weights[0] * z[0];
  s += weights[1] * z[1];
  s += weights[2] * z[2];
  return sigmoid(s);
}

json Model::to_json() const {
  json names = json::array();
  for (const char* name : kFeatureNames) names.push_back(name);
  return json{{"format", kModelFormat}, {"features", names},      {"transform", kModelTransform},
              {"mean", mean},           {"std", std_dev},         {"weights", weights},
              {"bias", bias},           {"threshold", threshold}, {"training", training}};
}

Model Model::from_json(const json& j) {
  if (!j.is_object()) invalid("must be a JSON object, found " + std::string(j.type_name()));
  expect_string(j, "format", kModelFormat);
  json names = json::array();
  for (const char* name : kFeatureNames) names.push_back(name);
  if (member(j, "features") != names) {
    invalid("\"features\" must be " + names.dump() + ", found " + member(j, "features").dump());
  }
  expect_string(j, "transform", kModelTransform);

  Model m;
  m.mean = three_numbers(j, "mean");
  m.std_dev = three_numbers(j, "std");
  for (std::size_t i = 0; i < kFeatureCount; ++i) {
    if (!(m.std_dev[i] > 0)) {
      invalid("\"std\"[" + std::to_string(i) + "] must be > 0 (it divides), found " +
              member(j, "std")[i].dump());
    }
  }
  m.weights = three_numbers(j, "weights");
  m.bias = finite_number(member(j, "bias"), "\"bias\"");
  m.threshold = finite_number(member(j, "threshold"), "\"threshold\"");
  if (m.threshold < 0 || m.threshold > 1) {
    invalid("\"threshold\" must be in [0, 1], found " + member(j, "threshold").dump());
  }
  if (const auto it = j.find("training"); it != j.end()) m.training = *it;
  return m;
}

Features features_of(const Record& r) { return {r.duration, r.src_bytes, r.dst_bytes}; }

}  // namespace coldlab::kdd
