// The model artifact: a zip archive (libzip) holding one entry, `model.json`, the
// Model's JSON form (model.h). A zip because the study shipped its model as one; every
// runtime opens it at init, the step that makes the model part of the cold start.
#pragma once

#include <string>

#include "kdd/model.h"

namespace coldlab::kdd {

inline constexpr const char* kModelEntry = "model.json";

// Writes `path` (replacing it) holding only model.json. The entry's timestamp is fixed,
// so the same model gives the same bytes. Throws std::runtime_error on failure.
void write_model_zip(const std::string& path, const Model& model);

// Reads and validates the model in `path`. Throws std::runtime_error with a message
// starting "model artifact <path>: " and saying what is wrong: missing or unreadable
// file, not a zip, no model.json, model.json not JSON, or a model Model::from_json refuses.
Model read_model_zip(const std::string& path);

}  // namespace coldlab::kdd
