#include "azure_trace.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string_view>
#include <system_error>

namespace coldlab::sim {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string>& invocations_header() {
  static const std::vector<std::string> header = [] {
    std::vector<std::string> h = {"HashOwner", "HashApp", "HashFunction", "Trigger"};
    for (int minute = 1; minute <= kMinutesPerDay; ++minute) h.push_back(std::to_string(minute));
    return h;
  }();
  return header;
}

// clang-format off
const std::vector<std::string> kDurationsHeader = {
    "HashOwner",             "HashApp",               "HashFunction",          "Average",
    "Count",                 "Minimum",               "Maximum",               "percentile_Average_0",
    "percentile_Average_1",  "percentile_Average_25", "percentile_Average_50", "percentile_Average_75",
    "percentile_Average_99", "percentile_Average_100"};

const std::vector<std::string> kMemoryHeader = {
    "HashOwner",                "HashApp",                  "SampleCount",
    "AverageAllocatedMb",       "AverageAllocatedMb_pct1",  "AverageAllocatedMb_pct5",
    "AverageAllocatedMb_pct25", "AverageAllocatedMb_pct50", "AverageAllocatedMb_pct75",
    "AverageAllocatedMb_pct95", "AverageAllocatedMb_pct99", "AverageAllocatedMb_pct100"};
// clang-format on

std::string day_file_name(const char* prefix, int day, int last_day) {
  if (day < 1 || day > last_day) {
    throw std::invalid_argument("the trace has no day " + std::to_string(day) + " of " + prefix +
                                " (days 1.." + std::to_string(last_day) + ")");
  }
  return std::string(prefix) + ".anon.d" + (day < 10 ? "0" : "") + std::to_string(day) + ".csv";
}

std::string join_header(const std::vector<std::string>& header) {
  std::string line;
  for (const std::string& name : header) line += (line.empty() ? "" : ",") + name;
  return line;
}

}  // namespace

std::string invocations_file_name(int day) {
  return day_file_name("invocations_per_function_md", day, kTraceDays);
}
std::string durations_file_name(int day) {
  return day_file_name("function_durations_percentiles", day, kTraceDays);
}
std::string memory_file_name(int day) {
  return day_file_name("app_memory_percentiles", day, kTraceMemoryDays);
}

uint64_t InvocationRow::total() const { return std::accumulate(counts.begin(), counts.end(), uint64_t{0}); }

// One CSV file of the trace, a row at a time, with the checks every family shares.
class CsvReader {
 public:
  CsvReader(const fs::path& file, const std::vector<std::string>& header) : file_(file), header_(header) {
    in_.open(file, std::ios::binary);
    if (!in_) throw TraceError(file_.string() + ": cannot open: " + std::strerror(errno));
    if (!read_line()) {
      line_no_ = 1;  // where the header should be
      fail_line("empty file, expected the header " + header_[0] + "," + header_[1] + ",...");
    }
    split();
    if (fields_.size() != header_.size()) {
      fail_line("the header has " + std::to_string(fields_.size()) + " columns, expected " +
                std::to_string(header_.size()) + " (is this the right file?)");
    }
    for (size_t c = 0; c < header_.size(); ++c) {
      if (fields_[c] != header_[c]) fail(c, "the header says '" + std::string(fields_[c]) + "'");
    }
  }

  // Moves to the next row; false at the end of the file.
  bool next() {
    if (!read_line()) return false;
    if (line_.empty()) fail_line("empty line, expected " + std::to_string(header_.size()) + " columns");
    split();
    if (fields_.size() != header_.size()) {
      fail_line(std::to_string(fields_.size()) + " columns, expected " + std::to_string(header_.size()));
    }
    return true;
  }

  std::string text(size_t c) const {
    if (fields_[c].empty()) fail(c, "empty");
    return std::string(fields_[c]);
  }

  template <typename T>
  T whole(size_t c) const {
    const std::string_view f = fields_[c];
    T value = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
    if (ec == std::errc::result_out_of_range) fail(c, "'" + std::string(f) + "' is too large");
    if (ec != std::errc() || end != f.data() + f.size() || f.empty()) {
      fail(c, "'" + std::string(f) + "' is not a whole number >= 0");
    }
    return value;
  }

  double number(size_t c) const {
    const std::string_view f = fields_[c];
    double value = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
    if (ec != std::errc() || end != f.data() + f.size() || f.empty()) {
      fail(c, "'" + std::string(f) + "' is not a number");
    }
    if (!std::isfinite(value)) fail(c, "'" + std::string(f) + "' is not a finite number");
    return value;
  }

 private:
  bool read_line() {
    if (!std::getline(in_, line_)) {
      if (in_.bad()) throw TraceError(file_.string() + ": read error after line " + std::to_string(line_no_));
      return false;
    }
    ++line_no_;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    return true;
  }

  void split() {
    fields_.clear();
    std::string_view rest = line_;
    for (;;) {
      const size_t comma = rest.find(',');
      fields_.push_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }

  [[noreturn]] void fail_line(const std::string& reason) const {
    throw TraceError(file_.string() + ":" + std::to_string(line_no_) + ": " + reason);
  }

  // The minute columns are named by number only: say so, or "column 9 (5)" reads as a typo.
  [[noreturn]] void fail(size_t c, const std::string& reason) const {
    const std::string& name = header_[c];
    const bool minute = name.find_first_not_of("0123456789") == std::string::npos;
    fail_line("column " + std::to_string(c + 1) + " (" + (minute ? "minute " : "") + name + "): " + reason);
  }

  fs::path file_;
  const std::vector<std::string>& header_;
  std::ifstream in_;
  std::string line_;
  std::vector<std::string_view> fields_;
  int line_no_ = 0;
};

InvocationReader::InvocationReader(const fs::path& file)
    : csv_(std::make_unique<CsvReader>(file, invocations_header())) {}

InvocationReader::~InvocationReader() = default;

bool InvocationReader::next(InvocationRow& row) {
  if (!csv_->next()) return false;
  row.owner = csv_->text(0);
  row.app = csv_->text(1);
  row.function = csv_->text(2);
  row.trigger = csv_->text(3);
  for (int m = 0; m < kMinutesPerDay; ++m) row.counts[m] = csv_->whole<uint32_t>(4 + m);
  return true;
}

std::vector<DurationRow> read_durations(const fs::path& file) {
  CsvReader csv(file, kDurationsHeader);
  std::vector<DurationRow> rows;
  while (csv.next()) {
    DurationRow& row = rows.emplace_back();
    row.owner = csv.text(0);
    row.app = csv.text(1);
    row.function = csv.text(2);
    row.average = csv.number(3);
    row.count = csv.whole<uint64_t>(4);
    row.minimum = csv.number(5);
    row.maximum = csv.number(6);
    for (size_t i = 0; i < row.percentiles.size(); ++i) row.percentiles[i] = csv.number(7 + i);
  }
  return rows;
}

std::vector<MemoryRow> read_memory(const fs::path& file) {
  CsvReader csv(file, kMemoryHeader);
  std::vector<MemoryRow> rows;
  while (csv.next()) {
    MemoryRow& row = rows.emplace_back();
    row.owner = csv.text(0);
    row.app = csv.text(1);
    row.sample_count = csv.whole<uint64_t>(2);
    row.average = csv.number(3);
    for (size_t i = 0; i < row.percentiles.size(); ++i) row.percentiles[i] = csv.number(4 + i);
  }
  return rows;
}

namespace {

// A hash or trigger that would break the row it is written in.
void append_text(std::string& line, const std::string& text, const char* column) {
  if (text.empty() || text.find_first_of(",\r\n") != std::string::npos) {
    throw std::invalid_argument(std::string(column) + " '" + text +
                                "' cannot be written to the trace: empty, or has a comma or a line break");
  }
  line += text;
}

void append_whole(std::string& line, uint64_t value) {
  char buf[24];
  line.append(buf, std::to_chars(buf, buf + sizeof buf, value).ptr);
}

// Fixed notation to 0.001, as printf would but independent of the locale; trailing zeros
// dropped so that whole values read "80", like the trace's.
void append_number(std::string& line, double value) {
  if (!std::isfinite(value)) throw std::invalid_argument("a trace value must be a finite number");
  char buf[400];  // the largest double in fixed notation has 309 digits
  char* end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, 3).ptr;
  while (end[-1] == '0') --end;
  if (end[-1] == '.') --end;
  std::string_view text(buf, end - buf);
  if (text == "-0") text = "0";
  line += text;
}

}  // namespace

// A trace CSV file being written: the header, then whole lines.
class CsvWriter {
 public:
  CsvWriter(const fs::path& file, const std::vector<std::string>& header) : file_(file) {
    out_.open(file, std::ios::binary | std::ios::trunc);
    if (!out_) throw TraceError(file_.string() + ": cannot create: " + std::strerror(errno));
    write(join_header(header) + "\n");
  }
  void write(const std::string& line) {
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    if (!out_) throw TraceError(file_.string() + ": cannot write");
  }
  void close() {
    out_.close();
    if (!out_) throw TraceError(file_.string() + ": cannot write");
  }

 private:
  fs::path file_;
  std::ofstream out_;
};

InvocationWriter::InvocationWriter(const fs::path& file)
    : csv_(std::make_unique<CsvWriter>(file, invocations_header())) {}

InvocationWriter::~InvocationWriter() = default;

void InvocationWriter::write(const InvocationRow& row) {
  line_.clear();
  append_text(line_, row.owner, "HashOwner");
  line_ += ',';
  append_text(line_, row.app, "HashApp");
  line_ += ',';
  append_text(line_, row.function, "HashFunction");
  line_ += ',';
  append_text(line_, row.trigger, "Trigger");
  for (uint32_t count : row.counts) {
    line_ += ',';
    append_whole(line_, count);
  }
  line_ += '\n';
  csv_->write(line_);
}

void InvocationWriter::close() { csv_->close(); }

void write_durations(const fs::path& file, const std::vector<DurationRow>& rows) {
  CsvWriter csv(file, kDurationsHeader);
  std::string line;
  for (const DurationRow& row : rows) {
    line.clear();
    append_text(line, row.owner, "HashOwner");
    line += ',';
    append_text(line, row.app, "HashApp");
    line += ',';
    append_text(line, row.function, "HashFunction");
    line += ',';
    append_number(line, row.average);
    line += ',';
    append_whole(line, row.count);
    line += ',';
    append_number(line, row.minimum);
    line += ',';
    append_number(line, row.maximum);
    for (double p : row.percentiles) {
      line += ',';
      append_number(line, p);
    }
    line += '\n';
    csv.write(line);
  }
  csv.close();
}

void write_memory(const fs::path& file, const std::vector<MemoryRow>& rows) {
  CsvWriter csv(file, kMemoryHeader);
  std::string line;
  for (const MemoryRow& row : rows) {
    line.clear();
    append_text(line, row.owner, "HashOwner");
    line += ',';
    append_text(line, row.app, "HashApp");
    line += ',';
    append_whole(line, row.sample_count);
    line += ',';
    append_number(line, row.average);
    for (double p : row.percentiles) {
      line += ',';
      append_number(line, p);
    }
    line += '\n';
    csv.write(line);
  }
  csv.close();
}

}  // namespace coldlab::sim
