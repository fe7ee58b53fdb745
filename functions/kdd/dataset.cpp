#include "kdd/dataset.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string_view>

namespace coldlab::kdd {

namespace {

// ---------------------------------------------------------------------------------------
// The synthetic generator.
//
// Why these distributions. The real "http" subset (as the ODDS copy shows it) looks like
// this: almost every connection has duration 0; requests (src_bytes) are a few hundred
// bytes; responses (dst_bytes) are hundreds to tens of thousands of bytes; most anomalies
// are "back" denial-of-service requests with very large src_bytes, the rest are odd
// connections (long, with little or no answer). Each class is drawn as a mixture of
// log-normals, so in the model's log(x + 0.1) space each component is roughly Gaussian and
// a linear boundary (logistic regression) is the right kind of model, but the components
// overlap so that it cannot be perfect:
//
//   normal (all but `anomalies` records)
//     duration   0 with probability 0.95, else ceil(LN(median 2 s, sigma 1.0))
//     src_bytes  99%: round(LN(240, 0.30)), a GET;  1%: round(LN(1500, 0.8)), an upload
//     dst_bytes  0 with probability 0.03 (no answer), else round(LN(3000, 1.2))
//   anomaly
//     75% flood  duration 0 w.p. 0.8 else ceil(LN(5 s, 1.0)); src round(LN(20000, 1.0));
//                dst round(LN(1500, 1.2))
//     15% slow   duration 0 w.p. 0.2 else ceil(LN(60 s, 1.0)); src round(LN(400, 0.6));
//                dst 0 w.p. 0.5 else round(LN(300, 1.0))
//     10% mimic  drawn exactly as a normal record
//
// The uploads overlap the floods' lower tail and cost precision; the mimics, and the slow
// connections that happen to be short, cost recall. The trainer (balanced class weights,
// threshold at the training split's best F1) reaches precision ~0.85 and recall ~0.72 on
// the test split: learnable, not trivial. LN(m, s) is exp(log m + s * N(0, 1)).
//
// Why it is the same everywhere. std::mt19937_64's output sequence is fixed by the C++
// standard, but the std:: distributions are not (libstdc++ and libc++ differ), so uniforms
// are made here from the top 53 bits and normals by Box-Muller. log/exp/cos may differ in
// the last bit between C libraries; every value is then rounded to a whole number of
// seconds or bytes (as KDD's are), which absorbs that unless a value falls within ~1e-13
// of a rounding boundary. The draws happen in a fixed order, record by record.

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1), from the top 53 bits (all a double holds).
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  bool chance(double p) { return uniform() < p; }

  // Standard normal by Box-Muller (the cosine half only; speed does not matter here).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log(u1) is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }

 private:
  std::mt19937_64 engine_;
};

// Every conditional below draws its condition first and then only the branch it takes;
// no expression draws twice, so the order of draws is fixed by the code, not the compiler.

double seconds(Random& r, double p_zero, double median, double sigma) {
  if (r.chance(p_zero)) return 0;
  return std::ceil(r.lognormal(median, sigma));
}

double bytes(Random& r, double median, double sigma) { return std::round(r.lognormal(median, sigma)); }

Record normal_connection(Random& r) {
  Record rec;
  rec.duration = seconds(r, 0.95, 2, 1.0);
  const bool upload = r.chance(0.01);
  rec.src_bytes = upload ? bytes(r, 1500, 0.8) : bytes(r, 240, 0.30);
  const bool no_answer = r.chance(0.03);
  rec.dst_bytes = no_answer ? 0 : bytes(r, 3000, 1.2);
  return rec;
}

Record anomalous_connection(Random& r) {
  Record rec;
  const double kind = r.uniform();
  if (kind < 0.75) {  // flood
    rec.duration = seconds(r, 0.8, 5, 1.0);
    rec.src_bytes = bytes(r, 20000, 1.0);
    rec.dst_bytes = bytes(r, 1500, 1.2);
  } else if (kind < 0.90) {  // slow
    rec.duration = seconds(r, 0.2, 60, 1.0);
    rec.src_bytes = bytes(r, 400, 0.6);
    const bool no_answer = r.chance(0.5);
    rec.dst_bytes = no_answer ? 0 : bytes(r, 300, 1.0);
  } else {  // mimic
    rec = normal_connection(r);
  }
  rec.label = 1;
  return rec;
}

// ---------------------------------------------------------------------------------------
// The CSV reader.

constexpr std::string_view kHeader = "duration,src_bytes,dst_bytes,label";
constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

class LineError {
 public:
  LineError(const std::string& path, std::size_t line) : prefix_(path + ":" + std::to_string(line) + ": ") {}
  [[noreturn]] void raise(const std::string& problem) const { throw std::runtime_error(prefix_ + problem); }

 private:
  std::string prefix_;
};

// A field's value: NaN if missing, else a finite number (anything else throws).
double parse_number(std::string_view raw_field, const char* column, const LineError& error) {
  const std::string_view field = trim(raw_field);
  if (field.empty() || field == "?" || equals_ignoring_case(field, "nan")) return kMissing;
  std::string_view digits = field;
  if (digits.front() == '+') digits.remove_prefix(1);  // from_chars refuses a leading '+'
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::invalid_argument || end != digits.data() + digits.size()) {
    error.raise(std::string(column) + " is not a number: \"" + std::string(field) + "\"");
  }
  // from_chars also reads "inf" and "nan(...)"; NaN in any spelling means missing.
  if (ec == std::errc() && std::isnan(value)) return kMissing;
  if (ec == std::errc::result_out_of_range) {
    error.raise(std::string(column) + " is out of the range of a double: \"" + std::string(field) + "\"");
  }
  if (std::isinf(value)) {
    error.raise(std::string(column) + " is not a finite number: \"" + std::string(field) + "\"");
  }
  return value;
}

double parse_feature(std::string_view field, const char* column, InputScale scale, const LineError& error) {
  const double v = parse_number(field, column, error);
  if (std::isnan(v)) return v;
  if (scale == InputScale::kLog) {
    // The inverse of log(x + 0.1); a value below log(0.1) can only be rounding noise.
    return std::max(std::exp(v) - 0.1, 0.0);
  }
  if (v < 0) {
    char shown[32];
    std::snprintf(shown, sizeof shown, "%g", v);
    error.raise(std::string(column) + " is negative (" + shown +
                "), but raw values are >= 0. If the file holds log(x + 0.1) values, as the "
                "ODDS and scikit-learn copies of the data do, use --input-scale log");
  }
  return v + 0.0;  // -0 becomes 0, so it prints as 0
}

int parse_label(std::string_view field, const LineError& error) {
  const double v = parse_number(field, "label", error);
  if (std::isnan(v)) error.raise("label is missing; it must be 0 or 1");
  if (v != 0 && v != 1) error.raise("label must be 0 or 1, found \"" + std::string(trim(field)) + "\"");
  return v == 1 ? 1 : 0;
}

void count_missing(const Record& r, MissingValues& m) {
  const bool d = std::isnan(r.duration), s = std::isnan(r.src_bytes), b = std::isnan(r.dst_bytes);
  m.duration += d;
  m.src_bytes += s;
  m.dst_bytes += b;
  m.rows += (d || s || b);
}

}  // namespace

Dataset generate_synthetic(uint64_t seed, std::size_t records, std::size_t anomalies) {
  if (anomalies > records) {
    throw std::invalid_argument("cannot make " + std::to_string(anomalies) + " anomalies in " +
                                std::to_string(records) + " records");
  }
  Random r(seed);
  Dataset data;
  data.records.reserve(records);
  // Selection sampling (Knuth's Algorithm S): record i is an anomaly with probability
  // (anomalies still to place) / (records still to make), which places exactly `anomalies`,
  // spread uniformly, in one pass.
  std::size_t to_place = anomalies;
  for (std::size_t i = 0; i < records; ++i) {
    const bool anomaly = static_cast<double>(records - i) * r.uniform() < static_cast<double>(to_place);
    if (anomaly) {
      --to_place;
      data.records.push_back(anomalous_connection(r));
    } else {
      data.records.push_back(normal_connection(r));
    }
  }
  return data;
}

Dataset load_csv(const std::string& path, InputScale scale) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open data file " + path + ": " + std::strerror(errno));

  Dataset data;
  std::string line;
  std::size_t number = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (number == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
    if (trim(text).empty()) continue;
    const LineError error(path, number);
    const auto fields = split(text);

    if (!header_seen) {
      bool ok = fields.size() == 4;
      for (std::size_t i = 0; ok && i < 4; ++i) {
        ok = trim(fields[i]) == (i < 3 ? std::string_view(kFeatureNames[i]) : "label");
      }
      if (!ok) {
        error.raise("the first line must be the header \"" + std::string(kHeader) +
                    "\" (those columns, in that order), found \"" + std::string(text) + "\"");
      }
      header_seen = true;
      continue;
    }

    if (fields.size() != 4) {
      error.raise("expected 4 fields (" + std::string(kHeader) + "), found " + std::to_string(fields.size()));
    }
    Record r;
    r.duration = parse_feature(fields[0], "duration", scale, error);
    r.src_bytes = parse_feature(fields[1], "src_bytes", scale, error);
    r.dst_bytes = parse_feature(fields[2], "dst_bytes", scale, error);
    r.label = parse_label(fields[3], error);
    count_missing(r, data.missing);
    data.records.push_back(r);
  }
  if (in.bad()) throw std::runtime_error("error reading data file " + path);
  if (!header_seen) {
    throw std::runtime_error(path + ": the file is empty; expected the header \"" + std::string(kHeader) +
                             "\" and then one record per line");
  }
  return data;
}

void write_csv(const std::string& path, const std::vector<Record>& records) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  std::fprintf(f, "%s\n", std::string(kHeader).c_str());
  for (const auto& r : records) {
    std::fprintf(f, "%.17g,%.17g,%.17g,%d\n", r.duration, r.src_bytes, r.dst_bytes, r.label);
  }
  const bool failed = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || failed) throw std::runtime_error("error writing " + path);
}

}  // namespace coldlab::kdd
