#include "calibrate/reference.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace coldlab::calibrate {
namespace {

const char* const kColumns[] = {"runtime", "memory_mb", "init_ms", "first_invoke_ms", "warm_ms"};

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) cells.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// "python3.11" -> ("python", 3.11); "java17" -> ("java", 17); "provided.al2023" -> ("provided", 2023).
std::pair<std::string, double> family(const std::string& runtime) {
  size_t i = 0;
  while (i < runtime.size() && std::isalpha(static_cast<unsigned char>(runtime[i]))) ++i;
  std::string digits;
  for (size_t j = i; j < runtime.size(); ++j)
    if (std::isdigit(static_cast<unsigned char>(runtime[j])) || (runtime[j] == '.' && !digits.empty()))
      digits += runtime[j];
  return {runtime.substr(0, i), digits.empty() ? 0 : std::atof(digits.c_str())};
}

}  // namespace

const ReferenceRow* Reference::find(const std::string& runtime, int memory_mb) const {
  const ReferenceRow* best = nullptr;
  double best_distance = 0;
  const auto [name, version] = family(runtime);
  for (const ReferenceRow& row : rows) {
    if (row.memory_mb != memory_mb) continue;
    if (row.runtime == runtime) return &row;
    const auto [row_name, row_version] = family(row.runtime);
    if (row_name != name) continue;
    const double distance = std::fabs(row_version - version);
    if (!best || distance < best_distance) {
      best = &row;
      best_distance = distance;
    }
  }
  return best;
}

Reference load_reference(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw ReferenceError(file.string() + ": cannot read the reference file");
  Reference ref;
  ref.file = file;
  std::string line;
  int number = 0;
  bool header = false;
  const auto fail = [&](const std::string& why) {
    return ReferenceError(file.string() + ":" + std::to_string(number) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++number;
    const std::string text = trim(line);
    if (text.empty()) continue;
    if (text[0] == '#') {
      ref.notes.push_back(trim(text.substr(1)));
      continue;
    }
    const std::vector<std::string> cells = split(text);
    if (!header) {
      if (cells != std::vector<std::string>(std::begin(kColumns), std::end(kColumns)))
        throw fail("the header must be runtime,memory_mb,init_ms,first_invoke_ms,warm_ms");
      header = true;
      continue;
    }
    if (cells.size() != 5) throw fail("expected 5 fields, found " + std::to_string(cells.size()));
    ReferenceRow row;
    row.runtime = cells[0];
    if (row.runtime.empty()) throw fail("runtime is empty");
    char* end = nullptr;
    const long mb = std::strtol(cells[1].c_str(), &end, 10);
    if (cells[1].empty() || *end != '\0' || mb < 128 || mb > 10240)
      throw fail("memory_mb must be a whole number of MB from 128 to 10240, not '" + cells[1] + "'");
    row.memory_mb = static_cast<int>(mb);
    std::optional<double>* figures[] = {&row.init_ms, &row.first_invoke_ms, &row.warm_ms};
    for (int i = 0; i < 3; ++i) {
      const std::string& cell = cells[static_cast<size_t>(i) + 2];
      if (cell.empty()) continue;
      const double value = std::strtod(cell.c_str(), &end);
      if (*end != '\0' || !std::isfinite(value) || value < 0)
        throw fail(std::string(kColumns[i + 2]) + " must be a number of ms >= 0 or empty, not '" + cell + "'");
      *figures[i] = value;
    }
    for (const ReferenceRow& other : ref.rows)
      if (other.runtime == row.runtime && other.memory_mb == row.memory_mb)
        throw fail(row.runtime + " at " + std::to_string(row.memory_mb) + " MB is given twice");
    ref.rows.push_back(row);
  }
  if (!header) throw fail("no header line (runtime,memory_mb,init_ms,first_invoke_ms,warm_ms)");
  if (ref.rows.empty()) throw fail("no figures after the header");
  return ref;
}

}  // namespace coldlab::calibrate
