// The study's model: binary logistic regression on mean-standardised log(x + 0.1)
// features, with a decision threshold. Its JSON form is the `model.json` of the artifact
// (model_artifact.h) that every runtime (native, Python, Java) reads.
//
// Every runtime computes a prediction with the same operations in the same order, so
// they agree to the last bit or nearly (they differ only where their log/exp do):
//   z[i] = (log(x[i] + 0.1) - mean[i]) / std[i]         i = 0, 1, 2
//   s = bias; s += w[0]*z[0]; s += w[1]*z[1]; s += w[2]*z[2]
//   p = s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s))
//   label = p >= threshold ? 1 : 0
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>

#include "kdd/dataset.h"

namespace coldlab::kdd {

inline constexpr const char* kModelFormat = "coldlab-kdd-logreg/1";
inline constexpr const char* kModelTransform = "log(x + 0.1)";

using Features = std::array<double, kFeatureCount>;  // raw: duration, src_bytes, dst_bytes

struct Model {
  Features mean{};     // of the log-transformed training features
  Features std_dev{};  // "std": population standard deviation of the same; never 0
  Features weights{};  // on the standardised features
  double bias = 0;
  double threshold = 0.5;                              // label 1 iff probability >= threshold
  nlohmann::json training = nlohmann::json::object();  // facts about how it was made

  // The probability of an anomaly for raw (untransformed) features, as above.
  double predict_probability(const Features& raw) const;
  int label(double probability) const { return probability >= threshold ? 1 : 0; }

  // {"format", "features", "transform", "mean", "std", "weights", "bias", "threshold",
  //  "training"}. Doubles print with round-trip precision.
  nlohmann::json to_json() const;
  // Checks everything inference relies on and throws std::runtime_error saying what is
  // wrong: the format string, the feature names and transform, three finite numbers in
  // each array, every std > 0, finite bias, threshold in [0, 1]. "training" is optional.
  static Model from_json(const nlohmann::json& j);
};

// The logistic function without overflow for any finite s (the form in the header).
double sigmoid(double s);

Features features_of(const Record& r);

}  // namespace coldlab::kdd
