// JSON text of a document that may hold untrusted bytes: a payload's, a function name's, a
// header's, a function's output or a runtime's error post. nlohmann's dump() throws on
// invalid UTF-8 (dependencies.md), which an HTTP handler turns into a 500 with an empty
// body; here such bytes become U+FFFD instead, so every body coldlab builds stays valid JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace coldlab::core {

inline std::string json_text(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace coldlab::core
