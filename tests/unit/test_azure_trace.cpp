// The Azure Functions 2019 trace's CSV files: the published names and headers, rows read
// back as written, and malformed files refused at their file, line and column.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "azure_trace.h"
#include "temp_dir.h"

namespace {

using namespace coldlab::sim;
using coldlab::testing::TempDir;

std::string invocations_header() {
  std::string h = "HashOwner,HashApp,HashFunction,Trigger";
  for (int m = 1; m <= 1440; ++m) h += "," + std::to_string(m);
  return h;
}

// A row of an invocation file: `counts` maps minutes (1..1440) to invocations, others 0.
std::string invocation_line(const std::string& ids, const std::map<int, std::string>& counts) {
  std::string line = ids;
  for (int m = 1; m <= 1440; ++m) line += "," + (counts.count(m) ? counts.at(m) : "0");
  return line;
}

const std::string kDurationsHeader =
    "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,"
    "percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,"
    "percentile_Average_100";
const std::string kMemoryHeader =
    "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,"
    "AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,"
    "AverageAllocatedMb_pct99,AverageAllocatedMb_pct100";

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::vector<InvocationRow> read_invocations(const std::string& path) {
  InvocationReader reader(path);
  std::vector<InvocationRow> rows;
  InvocationRow row;
  while (reader.next(row)) rows.push_back(row);
  return rows;
}

std::string invocations_error(const std::string& text) {
  TempDir dir;
  const std::string path = dir.file("invocations_per_function_md.anon.d01.csv", text);
  try {
    read_invocations(path);
  } catch (const TraceError& e) {
    return e.what();
  }
  FAIL("the file was accepted");
  return "";
}

std::string durations_error(const std::string& text) {
  TempDir dir;
  const std::string path = dir.file("function_durations_percentiles.anon.d01.csv", text);
  try {
    read_durations(path);
  } catch (const TraceError& e) {
    return e.what();
  }
  FAIL("the file was accepted");
  return "";
}

}  // namespace

TEST_CASE("azure trace: trace file names are the published ones, memory for days 1 to 12 only",
          "[simulator]") {
  CHECK(invocations_file_name(1) == "invocations_per_function_md.anon.d01.csv");
  CHECK(invocations_file_name(14) == "invocations_per_function_md.anon.d14.csv");
  CHECK(durations_file_name(9) == "function_durations_percentiles.anon.d09.csv");
  CHECK(memory_file_name(12) == "app_memory_percentiles.anon.d12.csv");
  CHECK_THROWS_AS(memory_file_name(13), std::invalid_argument);
  CHECK_THROWS_AS(invocations_file_name(0), std::invalid_argument);
  CHECK_THROWS_AS(durations_file_name(15), std::invalid_argument);
}

TEST_CASE("azure trace: the invocation reader returns each row's counts by minute", "[simulator]") {
  TempDir dir;
  const std::string path = dir.file(
      "invocations_per_function_md.anon.d01.csv",
      invocations_header() + "\n" + invocation_line("o1,a1,f1,http", {{1, "3"}, {2, "1"}, {1440, "70000"}}) +
          "\n" + invocation_line("o1,a1,f2,timer", {{60, "1"}}) + "\n");
  const std::vector<InvocationRow> rows = read_invocations(path);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].owner == "o1");
  CHECK(rows[0].app == "a1");
  CHECK(rows[0].function == "f1");
  CHECK(rows[0].trigger == "http");
  CHECK(rows[0].counts[0] == 3);
  CHECK(rows[0].counts[1] == 1);
  CHECK(rows[0].counts[2] == 0);
  CHECK(rows[0].counts[1439] == 70000);
  CHECK(rows[0].total() == 70004);
  CHECK(rows[1].trigger == "timer");
  CHECK(rows[1].counts[59] == 1);
  CHECK(rows[1].total() == 1);
}

TEST_CASE("azure trace: a trace file with Windows line ends and no final newline reads the same",
          "[simulator]") {
  TempDir dir;
  const std::string path =
      dir.file("invocations_per_function_md.anon.d02.csv",
               invocations_header() + "\r\n" + invocation_line("o,a,f,queue", {{5, "2"}}));
  const std::vector<InvocationRow> rows = read_invocations(path);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].trigger == "queue");
  CHECK(rows[0].counts[4] == 2);
}

TEST_CASE("azure trace: the duration and memory readers return the published columns in order",
          "[simulator]") {
  TempDir dir;
  const std::string durations = dir.file(
      "function_durations_percentiles.anon.d01.csv",
      kDurationsHeader + "\no,a,f,80.5,12,-3,400,10,11,50,75.25,90,300,399\no,a,g,0,1,0,0,0,0,0,0,0,0,0\n");
  const std::vector<DurationRow> d = read_durations(durations);
  REQUIRE(d.size() == 2);
  CHECK(d[0].function == "f");
  CHECK(d[0].average == 80.5);
  CHECK(d[0].count == 12);
  CHECK(d[0].minimum == -3);  // the real trace has negative durations: passed on as they are
  CHECK(d[0].maximum == 400);
  CHECK(d[0].percentiles == std::array<double, 7>{10, 11, 50, 75.25, 90, 300, 399});
  CHECK(d[1].function == "g");

  const std::string memory = dir.file("app_memory_percentiles.anon.d01.csv",
                                      kMemoryHeader + "\no,a,17280,142.5,100,101,120,140,150,170,180,200\n");
  const std::vector<MemoryRow> m = read_memory(memory);
  REQUIRE(m.size() == 1);
  CHECK(m[0].owner == "o");
  CHECK(m[0].app == "a");
  CHECK(m[0].sample_count == 17280);
  CHECK(m[0].average == 142.5);
  CHECK(m[0].percentiles == std::array<double, 8>{100, 101, 120, 140, 150, 170, 180, 200});
}

TEST_CASE("azure trace: a wrong header is refused naming the file and the column", "[simulator]") {
  std::string header = kDurationsHeader;
  header.replace(header.find("percentile_Average_1,"), 21, "percentile_Average_5,");
  const std::string e = durations_error(header + "\n");
  CHECK_THAT(
      e, Catch::Contains("function_durations_percentiles.anon.d01.csv:1: column 9 (percentile_Average_1): "
                         "the header says 'percentile_Average_5'"));

  const std::string short_header = invocations_header().substr(0, invocations_header().rfind(','));
  CHECK_THAT(invocations_error(short_header + "\n"),
             Catch::Contains(
                 "invocations_per_function_md.anon.d01.csv:1: the header has 1443 columns, expected 1444"));
  CHECK_THAT(invocations_error(""), Catch::Contains(".csv:1: empty file"));
  CHECK_THAT(durations_error(kMemoryHeader + "\n"),
             Catch::Contains(":1: the header has 12 columns, expected 14"));
}

TEST_CASE("azure trace: a row with a missing or extra column is refused naming its line", "[simulator]") {
  const std::string good = invocation_line("o,a,f,http", {});
  const std::string missing = good.substr(0, good.rfind(','));
  CHECK_THAT(invocations_error(invocations_header() + "\n" + good + "\n" + missing + "\n"),
             Catch::Contains("invocations_per_function_md.anon.d01.csv:3: 1443 columns, expected 1444"));
  CHECK_THAT(durations_error(kDurationsHeader + "\no,a,f,1,1,1,1,1,1,1,1,1,1,1,1\n"),
             Catch::Contains(".csv:2: 15 columns, expected 14"));
  CHECK_THAT(durations_error(kDurationsHeader + "\n\n"),
             Catch::Contains(".csv:2: empty line, expected 14 columns"));
}

TEST_CASE("azure trace: a value that is not a number is refused naming the file, the line and the column",
          "[simulator]") {
  const std::string header = invocations_header() + "\n";
  CHECK_THAT(
      invocations_error(header + invocation_line("o,a,f,http", {{17, "x"}}) + "\n"),
      Catch::Contains("invocations_per_function_md.anon.d01.csv:2: column 21 (minute 17): 'x' is not a whole "
                      "number >= 0"));
  CHECK_THAT(invocations_error(header + invocation_line("o,a,f,http", {{1, "1.5"}}) + "\n"),
             Catch::Contains(":2: column 5 (minute 1): '1.5' is not a whole number >= 0"));
  CHECK_THAT(invocations_error(header + invocation_line("o,a,f,http", {{1440, "-1"}}) + "\n"),
             Catch::Contains(":2: column 1444 (minute 1440): '-1' is not a whole number >= 0"));
  CHECK_THAT(invocations_error(header + invocation_line("o,a,f,http", {{2, "99999999999"}}) + "\n"),
             Catch::Contains(":2: column 6 (minute 2): '99999999999' is too large"));
  CHECK_THAT(invocations_error(header + invocation_line("o,a,f,http", {{3, ""}}) + "\n"),
             Catch::Contains(":2: column 7 (minute 3): '' is not a whole number >= 0"));
  CHECK_THAT(invocations_error(header + invocation_line("o,,f,http", {}) + "\n"),
             Catch::Contains(":2: column 2 (HashApp): empty"));

  CHECK_THAT(
      durations_error(kDurationsHeader + "\no,a,f,1,abc,1,1,1,1,1,1,1,1,1\n"),
      Catch::Contains("function_durations_percentiles.anon.d01.csv:2: column 5 (Count): 'abc' is not a whole "
                      "number >= 0"));
  CHECK_THAT(
      durations_error(kDurationsHeader + "\no,a,f,1,1,1,1,1,1,1,1,1,1,1\no,a,g,1,1,1,1,1,1,1,nan,1,1,1\n"),
      Catch::Contains(":3: column 11 (percentile_Average_50): 'nan' is not a finite number"));
  CHECK_THAT(durations_error(kDurationsHeader + "\no,a,f,1ms,1,1,1,1,1,1,1,1,1,1\n"),
             Catch::Contains(":2: column 4 (Average): '1ms' is not a number"));

  TempDir dir;
  const std::string memory =
      dir.file("app_memory_percentiles.anon.d03.csv", kMemoryHeader + "\no,a,10,1,1,1,1,1,1,1,1,MB\n");
  CHECK_THROWS_WITH(read_memory(memory),
                    Catch::Contains("app_memory_percentiles.anon.d03.csv:2: column 12 "
                                    "(AverageAllocatedMb_pct100): 'MB' is not a number"));
}

TEST_CASE("azure trace: a missing trace file is refused naming it", "[simulator]") {
  TempDir dir;
  CHECK_THROWS_WITH(InvocationReader(dir.path("invocations_per_function_md.anon.d05.csv")),
                    Catch::Contains("invocations_per_function_md.anon.d05.csv: cannot open"));
  CHECK_THROWS_AS(read_durations(dir.path("nothing.csv")), TraceError);
}

TEST_CASE("azure trace: written trace files have the published headers and read back to the same rows",
          "[simulator]") {
  TempDir dir;
  InvocationRow row;
  row.owner = "o1";
  row.app = "a1";
  row.function = "f1";
  row.trigger = "timer";
  row.counts[0] = 7;
  row.counts[1439] = 4000000000u;
  const std::string invocations = dir.path("invocations_per_function_md.anon.d01.csv");
  InvocationWriter writer(invocations);
  writer.write(row);
  writer.close();
  CHECK(first_line(invocations) == invocations_header());
  const std::vector<InvocationRow> back = read_invocations(invocations);
  REQUIRE(back.size() == 1);
  CHECK(back[0].owner == "o1");
  CHECK(back[0].trigger == "timer");
  CHECK(back[0].counts == row.counts);

  DurationRow d;
  d.owner = "o1";
  d.app = "a1";
  d.function = "f1";
  d.average = 80;
  d.count = 7;
  d.minimum = 1.00049;
  d.maximum = 123456.789;
  d.percentiles = {1.5, 2, 3, 4, 5, 6, 7.0004};
  const std::string durations = dir.path("function_durations_percentiles.anon.d01.csv");
  write_durations(durations, {d});
  CHECK(first_line(durations) == kDurationsHeader);
  std::ifstream in(durations);
  std::string header, line;
  std::getline(in, header);
  std::getline(in, line);
  CHECK(line == "o1,a1,f1,80,7,1,123456.789,1.5,2,3,4,5,6,7");  // to 0.001 ms, no trailing zeros
  const std::vector<DurationRow> d_back = read_durations(durations);
  REQUIRE(d_back.size() == 1);
  CHECK(d_back[0].count == 7);
  CHECK(d_back[0].maximum == 123456.789);
  CHECK(d_back[0].percentiles[0] == 1.5);

  MemoryRow m;
  m.owner = "o1";
  m.app = "a1";
  m.sample_count = 17280;
  m.average = 139.6259;
  m.percentiles = {100, 101, 120, 140, 150, 170, 180, 200};
  const std::string memory = dir.path("app_memory_percentiles.anon.d01.csv");
  write_memory(memory, {m});
  CHECK(first_line(memory) == kMemoryHeader);
  const std::vector<MemoryRow> m_back = read_memory(memory);
  REQUIRE(m_back.size() == 1);
  CHECK(m_back[0].sample_count == 17280);
  CHECK(m_back[0].average == 139.626);
}

TEST_CASE("azure trace: the writer refuses a hash that would break the CSV row", "[simulator]") {
  TempDir dir;
  InvocationWriter writer(dir.path("invocations_per_function_md.anon.d01.csv"));
  InvocationRow row;
  row.owner = "o";
  row.app = "a,b";
  row.function = "f";
  row.trigger = "http";
  CHECK_THROWS_AS(writer.write(row), std::invalid_argument);
  row.app = "a";
  row.trigger = "";
  CHECK_THROWS_AS(writer.write(row), std::invalid_argument);
}
