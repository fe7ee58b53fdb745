// The KDD Cup 99 "http" data the study trained on: three connection features and a label.
//
// Two sources give the same in-memory shape:
//   - generate_synthetic(): a seeded generator of data shaped like the real subset
//     (567,498 records, 2,211 anomalies), because the real file cannot be downloaded here;
//   - load_csv(): a CSV a user exported from a public copy of the real data.
// Features are always held RAW (seconds, bytes); the model's log(x + 0.1) transform is
// applied at training and inference time, never to stored data.
//
// A missing value is held as NaN. Only load_csv() produces them; the trainer counts and
// drops those rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace coldlab::kdd {

inline constexpr std::size_t kFeatureCount = 3;
// Column names, in file and model order.
inline constexpr const char* kFeatureNames[kFeatureCount] = {"duration", "src_bytes", "dst_bytes"};

struct Record {
  double duration = 0;   // seconds
  double src_bytes = 0;  // bytes from the client
  double dst_bytes = 0;  // bytes from the server
  int label = 0;         // 0 normal, 1 anomaly
};

// Missing values per feature column, and how many rows have at least one.
struct MissingValues {
  std::size_t duration = 0, src_bytes = 0, dst_bytes = 0;
  std::size_t rows = 0;
};

struct Dataset {
  std::vector<Record> records;
  MissingValues missing;
};

// The real subset's shape, the generator's defaults.
inline constexpr std::size_t kKddHttpRecords = 567'498;
inline constexpr std::size_t kKddHttpAnomalies = 2'211;

// Deterministic: the same (seed, records, anomalies) gives the same records, in the same
// order, on any conforming C++ implementation (see dataset.cpp for what that rests on).
// Throws std::invalid_argument if anomalies > records.
Dataset generate_synthetic(uint64_t seed, std::size_t records = kKddHttpRecords,
                           std::size_t anomalies = kKddHttpAnomalies);

// How the feature values in a CSV are scaled. kLog is the ODDS/scikit-learn copy, already
// transformed with log(x + 0.1); load_csv() converts it back to raw as max(exp(v) - 0.1, 0).
enum class InputScale { kRaw, kLog };

// Reads `path`: a header line "duration,src_bytes,dst_bytes,label" (names exactly so,
// surrounding whitespace allowed), then one record per line; blank lines are skipped and
// CRLF line ends accepted. Label is 0 or 1. An empty field, "?" or NaN is a missing value.
// Anything else malformed (wrong field count, not a number, infinite, label not 0/1, a
// negative raw value) throws std::runtime_error naming the file and line number.
Dataset load_csv(const std::string& path, InputScale scale = InputScale::kRaw);

// Writes records in the format load_csv() reads (raw scale); values printed %.17g so they
// read back as the same doubles. Throws std::runtime_error on an I/O failure.
void write_csv(const std::string& path, const std::vector<Record>& records);

}  // namespace coldlab::kdd
