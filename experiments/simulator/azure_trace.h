// The CSV files of the Azure Functions 2019 trace (Azure/AzurePublicDataset,
// AzureFunctionsDataset2019.md, revision 2), read and written with the published names and
// headers, so that coldlab, faascache-sim, dslab and In-Vitro read the same files:
//
//   invocations_per_function_md.anon.dNN.csv      HashOwner,HashApp,HashFunction,Trigger,1,...,1440
//       invocations of a function in each minute of day NN
//   function_durations_percentiles.anon.dNN.csv   HashOwner,HashApp,HashFunction,Average,Count,
//       Minimum,Maximum,percentile_Average_{0,1,25,50,75,99,100}     (milliseconds, no Init)
//   app_memory_percentiles.anon.dNN.csv           HashOwner,HashApp,SampleCount,AverageAllocatedMb,
//       AverageAllocatedMb_pct{1,5,25,50,75,95,99,100}                (MB, per application)
//
// Days are 1..14; the trace has memory files for days 1..12 only.
//
// Reading is strict about the format, because a silently misread column skews every result
// computed from it: the header must be the published one, every row must have all its
// columns, hashes and triggers must not be empty, counts (the minutes, Count, SampleCount)
// must be whole decimals >= 0 and the other values finite decimals. A refused file throws
// TraceError naming the file, the line and the column. Fields are never quoted in the
// trace, so none are here. A line may end in "\r\n".
//
// The values themselves are passed on as they are: the real trace has negative durations
// (clock skew in Azure's collectors), and rows repeating a function or an app, which each
// use of the trace handles its own way (azure_workload.h).
//
// A day's invocation file is ~46,000 rows of 1,444 columns (~150 MB): InvocationReader
// streams it a row at a time. The other two files are small and are read whole.
//
// Thread-safety: readers and writers are single-threaded objects; distinct objects are
// independent.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace coldlab::sim {

constexpr int kTraceDays = 14;
constexpr int kTraceMemoryDays = 12;
constexpr int kMinutesPerDay = 1440;

class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The published file names of `day` (1..14; 1..12 for memory). Throws std::invalid_argument
// for a day the trace does not have.
std::string invocations_file_name(int day);
std::string durations_file_name(int day);
std::string memory_file_name(int day);

struct InvocationRow {
  std::string owner, app, function;
  std::string trigger;  // http, timer, event, queue, storage, orchestration or others
  std::array<uint32_t, kMinutesPerDay> counts{};  // [0] is the column "1"

  uint64_t total() const;
};

// The ranks of DurationRow::percentiles and MemoryRow::percentiles, as fractions.
inline constexpr std::array<double, 7> kDurationRanks = {0, 0.01, 0.25, 0.5, 0.75, 0.99, 1};
inline constexpr std::array<double, 8> kMemoryRanks = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1};

// Milliseconds. The percentiles are those of 30-second averages, weighted by count, and
// Count may disagree with the invocation file's sums (the trace's notes).
struct DurationRow {
  std::string owner, app, function;
  double average = 0;
  uint64_t count = 0;
  double minimum = 0, maximum = 0;
  std::array<double, kDurationRanks.size()> percentiles{};
};

// Committed memory of an application, MB.
struct MemoryRow {
  std::string owner, app;
  uint64_t sample_count = 0;
  double average = 0;
  std::array<double, kMemoryRanks.size()> percentiles{};
};

class CsvReader;  // azure_trace.cpp
class CsvWriter;

// Streams an invocation file. The constructor opens it and checks the header; both it and
// next() throw TraceError.
class InvocationReader {
 public:
  explicit InvocationReader(const std::filesystem::path& file);
  ~InvocationReader();
  InvocationReader(const InvocationReader&) = delete;
  InvocationReader& operator=(const InvocationReader&) = delete;

  // Reads the next row into `row`; false at the end of the file.
  bool next(InvocationRow& row);

 private:
  std::unique_ptr<CsvReader> csv_;
};

// Whole files, rows in file order. Throw TraceError.
std::vector<DurationRow> read_durations(const std::filesystem::path& file);
std::vector<MemoryRow> read_memory(const std::filesystem::path& file);

// Writes an invocation file a row at a time: the constructor creates (or truncates) it and
// writes the header. Numbers are written so that the same rows give the same bytes on any
// machine. Throws TraceError when the file cannot be written; close() reports a failed
// flush, which the destructor cannot.
class InvocationWriter {
 public:
  explicit InvocationWriter(const std::filesystem::path& file);
  ~InvocationWriter();
  InvocationWriter(const InvocationWriter&) = delete;
  InvocationWriter& operator=(const InvocationWriter&) = delete;

  void write(const InvocationRow& row);
  void close();

 private:
  std::unique_ptr<CsvWriter> csv_;
  std::string line_;
};

// Durations and memory values are written in fixed notation rounded to 0.001 (a
// microsecond; a kilobyte), trailing zeros dropped. Throw TraceError.
void write_durations(const std::filesystem::path& file, const std::vector<DurationRow>& rows);
void write_memory(const std::filesystem::path& file, const std::vector<MemoryRow>& rows);

}  // namespace coldlab::sim
