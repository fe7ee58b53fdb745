// Reading request bodies without trusting their size.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>

namespace coldlab::api {

// Reads the whole body from `reader`, keeping at most `keep` bytes in `out` but counting
// all of them: an oversized payload is measured and refused without being held in memory.
// Returns the full size, or nullopt when the body ended before its declared length (the
// sender closed the connection or died mid-request): httplib then hands over what did
// arrive, which must never be taken for the whole message.
std::optional<size_t> read_body(const httplib::ContentReader& reader, std::string& out, size_t keep);

}  // namespace coldlab::api
