#include "api/http_body.h"

#include <algorithm>

namespace coldlab::api {

std::optional<size_t> read_body(const httplib::ContentReader& reader, std::string& out, size_t keep) {
  size_t total = 0;
  const bool complete = reader([&](const char* data, size_t len) {
    total += len;
    if (out.size() < keep) out.append(data, std::min(len, keep - out.size()));
    return true;
  });
  if (!complete) return std::nullopt;
  return total;
}

}  // namespace coldlab::api
