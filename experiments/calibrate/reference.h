// Published cold-start figures to hold coldlab's against (`coldlab calibrate --reference`).
//
// A reference is a small CSV, '#' lines first saying where the figures come from and when:
//
//   runtime,memory_mb,init_ms,first_invoke_ms,warm_ms
//   python3.12,512,83,1.9,
//
// One row per Lambda runtime identifier and memory size; a figure may be empty (not
// published). experiments/calibration/ ships lambda-perf's.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace coldlab::calibrate {

struct ReferenceRow {
  std::string runtime;  // a Lambda runtime identifier: python3.12, java17, provided.al2023, ...
  int memory_mb = 0;
  std::optional<double> init_ms, first_invoke_ms, warm_ms;
};

struct Reference {
  std::filesystem::path file;
  std::vector<std::string> notes;  // the '#' lines, without the '#'
  std::vector<ReferenceRow> rows;

  // The row for `runtime` at `memory_mb`: the same runtime if the file has it, else the
  // same family (python3.11 is compared with the file's python3.x closest to it), else
  // none.
  const ReferenceRow* find(const std::string& runtime, int memory_mb) const;
};

// Thrown with "FILE:LINE: reason".
class ReferenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Reference load_reference(const std::filesystem::path& file);

}  // namespace coldlab::calibrate
