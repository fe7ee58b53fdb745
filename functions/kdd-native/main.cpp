// The native `kdd-native` function: the study's KDD Cup 99 anomaly detector as a C++
// custom runtime. It does what the Python and Java versions do, the study's three steps:
// at init (the cold start) it opens the model zip and reads model.json; per event it
// standardises the features and runs the logistic regression (kdd/model.h).
//
// Model:  $MODEL_ARTIFACT (absolute, or relative to $LAMBDA_TASK_ROOT), else
//         $LAMBDA_TASK_ROOT/model.zip. Missing or corrupt: init error Runtime.ModelLoadError.
// Event:  {"features": [duration, src_bytes, dst_bytes]}  -> {"probability": p, "label": 0|1}
//         {"instances": [[d, s, b], ...]}  -> {"predictions": [{"probability": p, "label": 0|1}, ...]}
// Anything else: an InvalidEvent error, with the same message text as every other runtime
// (the messages below are part of the contract; change them everywhere or nowhere).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kdd/model.h"
#include "kdd/model_artifact.h"
#include "lambda_runtime.h"

namespace {

using coldlab::kdd::Features;
using coldlab::kdd::Model;
using coldlab::runtime::Invocation;
using coldlab::runtime::Outcome;
using nlohmann::json;
using nlohmann::ordered_json;  // answers keep the contract's key order

constexpr const char* kNotAnObject = "the event must be a JSON object with \"features\" or \"instances\"";
constexpr const char* kNotExactlyOne = "the event must have exactly one of \"features\" or \"instances\"";
constexpr const char* kBadFeatures =
    "\"features\" must be an array of 3 numbers [duration, src_bytes, dst_bytes]";
constexpr const char* kBadInstances =
    "\"instances\" must be an array of [duration, src_bytes, dst_bytes] arrays";
constexpr const char* kBadInstance = " must be an array of 3 numbers [duration, src_bytes, dst_bytes]";
constexpr const char* kBadValue = "feature values must be finite and >= 0";

// Thrown by the parsers below; becomes the InvalidEvent error.
struct InvalidEvent {
  std::string message;
};

// The three raw values of `j`, or nullopt if it is not an array of exactly 3 numbers.
// Booleans are not numbers (nlohmann::json keeps them apart).
std::optional<Features> three_numbers(const json& j) {
  if (!j.is_array() || j.size() != 3) return std::nullopt;
  Features f{};
  for (std::size_t i = 0; i < 3; ++i) {
    if (!j[i].is_number()) return std::nullopt;
    f[i] = j[i].get<double>();  // an integer too big for a double's precision rounds, as in JSON
  }
  return f;
}

bool valid_values(const Features& f) {
  for (double v : f) {
    if (!std::isfinite(v) || v < 0) return false;
  }
  return true;
}

ordered_json prediction(const Model& model, const Features& raw) {
  const double p = model.predict_probability(raw);
  return ordered_json{{"probability", p}, {"label", model.label(p)}};
}

ordered_json answer(const Model& model, const std::string& payload) {
  json event;
  try {
    event = json::parse(payload);
  } catch (const json::out_of_range&) {
    // nlohmann::json refuses a number beyond a double's range (1e400) while parsing;
    // Python reads it as infinity and answers this, so this runtime does too.
    throw InvalidEvent{kBadValue};
  } catch (const json::exception&) {
    throw InvalidEvent{kNotAnObject};
  }
  if (!event.is_object()) throw InvalidEvent{kNotAnObject};
  const auto features = event.find("features");
  const auto instances = event.find("instances");
  if ((features == event.end()) == (instances == event.end())) throw InvalidEvent{kNotExactlyOne};

  if (features != event.end()) {
    const auto raw = three_numbers(*features);
    if (!raw) throw InvalidEvent{kBadFeatures};
    if (!valid_values(*raw)) throw InvalidEvent{kBadValue};
    return prediction(model, *raw);
  }

  if (!instances->is_array()) throw InvalidEvent{kBadInstances};
  ordered_json predictions = ordered_json::array();
  for (std::size_t k = 0; k < instances->size(); ++k) {
    const auto raw = three_numbers((*instances)[k]);
    if (!raw) throw InvalidEvent{"instance " + std::to_string(k) + kBadInstance};
    if (!valid_values(*raw)) throw InvalidEvent{"instance " + std::to_string(k) + ": " + kBadValue};
    predictions.push_back(prediction(model, *raw));
  }
  return ordered_json{{"predictions", std::move(predictions)}};
}

std::string model_path() {
  const char* root_env = std::getenv("LAMBDA_TASK_ROOT");
  const std::string root = root_env && *root_env ? root_env : ".";
  const char* artifact = std::getenv("MODEL_ARTIFACT");
  if (!artifact || !*artifact) return root + "/model.zip";
  if (artifact[0] == '/') return artifact;
  return root + "/" + artifact;
}

}  // namespace

int main() {
  // Init: the study's step 1, unzipping the model, is part of the cold start.
  const std::string path = model_path();
  Model model;
  try {
    model = coldlab::kdd::read_model_zip(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kdd-native: %s\n", e.what());
    coldlab::runtime::report_init_error("Runtime.ModelLoadError", e.what());
    return 1;
  }

  return coldlab::runtime::run([&model](const Invocation& invocation) {
    try {
      return Outcome::success(answer(model, invocation.payload).dump());
    } catch (const InvalidEvent& e) {
      return Outcome::failure("InvalidEvent", e.message);
    }
  });
}
