// Reading request bodies without trusting their size.
#pragma once

#include <httplib.h>

#include <string>

namespace coldlab::api {

// Reads the whole body from `reader`, keeping at most `keep` bytes in `out` but counting
// all of them: an oversized payload is measured and refused without being held in memory.
// Returns the full size.
size_t read_body(const httplib::ContentReader& reader, std::string& out, size_t keep);

}  // namespace coldlab::api
