#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kdd/dataset.h"
#include "kdd/model_artifact.h"
#include "kdd/trainer.h"
#include "temp_dir.h"

using Catch::Matchers::Contains;
using coldlab::kdd::Confusion;
using coldlab::kdd::Dataset;
using coldlab::kdd::Features;
using coldlab::kdd::generate_synthetic;
using coldlab::kdd::Model;
using coldlab::kdd::Record;
using coldlab::kdd::train;
using coldlab::kdd::TrainingResult;
using coldlab::kdd::TrainOptions;
using nlohmann::json;

using coldlab::testing::TempDir;

namespace {

TrainOptions options(uint64_t seed = 1999) {
  TrainOptions o;
  o.split_seed = seed;
  o.data_source = "synthetic, seed " + std::to_string(seed);
  o.synthetic = true;
  return o;
}

struct SplitRow {
  Features raw{};
  int label = 0;
  double probability = 0;
  int prediction = 0;
};

// test-split.csv as a runtime's checker reads it: the printed text, parsed back.
std::vector<SplitRow> read_split(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "duration,src_bytes,dst_bytes,label,probability,prediction");
  std::vector<SplitRow> rows;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string f[6];
    for (auto& field : f) std::getline(fields, field, ',');
    SplitRow r;
    for (int i = 0; i < 3; ++i) r.raw[i] = std::strtod(f[i].c_str(), nullptr);
    r.label = std::stoi(f[3]);
    r.probability = std::strtod(f[4].c_str(), nullptr);
    r.prediction = std::stoi(f[5]);
    rows.push_back(r);
  }
  return rows;
}

// Recomputes every prediction of the split with `model` from the printed values, checks
// it is bit-identical to the printed one, and returns the confusion matrix of the file.
Confusion check_split(const Model& model, const std::vector<SplitRow>& rows) {
  Confusion c;
  std::size_t differ = 0;
  for (const SplitRow& r : rows) {
    const double p = model.predict_probability(r.raw);
    differ += p != r.probability || model.label(p) != r.prediction;
    c.add(r.label, r.prediction);
  }
  CHECK(differ == 0);
  return c;
}

void check_same(const Confusion& a, const Confusion& b) {
  CHECK(a.tp == b.tp);
  CHECK(a.fp == b.fp);
  CHECK(a.tn == b.tn);
  CHECK(a.fn == b.fn);
}

void check_report(const json& report, const Confusion& c) {
  CHECK(report["confusion_matrix"]["tp"] == c.tp);
  CHECK(report["confusion_matrix"]["fp"] == c.fp);
  CHECK(report["confusion_matrix"]["tn"] == c.tn);
  CHECK(report["confusion_matrix"]["fn"] == c.fn);
  CHECK(report["precision"].get<double>() == c.precision());
  CHECK(report["recall"].get<double>() == c.recall());
  CHECK(report["f1"].get<double>() == c.f1());
}

}  // namespace

TEST_CASE("kdd trainer: synthetic data is learned well but not perfectly", "[kdd]") {
  // A quarter of the full set at the same anomaly rate, to keep the suite quick.
  const Dataset data = generate_synthetic(1999, 141875, 553);
  const TrainingResult r = train(data, options());
  CHECK(r.converged);
  CHECK(r.iterations < 25);
  CHECK(r.records == 141875);
  // Stratified: round(0.2 * n) of each class.
  CHECK(r.test_anomalies == 111);
  CHECK(r.test_size - r.test_anomalies == 28264);
  CHECK(r.train_size + r.test_size == r.records);
  CAPTURE(r.test.tp, r.test.fp, r.test.tn, r.test.fn);
  CHECK(r.test.precision() > 0.6);
  CHECK(r.test.precision() < 0.98);
  CHECK(r.test.recall() > 0.6);
  CHECK(r.test.recall() < 0.98);
  // Larger requests and longer connections point to an anomaly, as in the data.
  CHECK(r.model.weights[0] > 0);
  CHECK(r.model.weights[1] > 0);
  for (int j = 0; j < 3; ++j) CHECK(r.model.std_dev[j] > 0);
  CHECK(r.model.training["synthetic"] == true);
  CHECK(r.model.training["test_confusion_matrix"] == r.test.to_json());
}

TEST_CASE("kdd trainer: the reported confusion matrix agrees with test-split.csv", "[kdd]") {
  TempDir dir;
  const TrainingResult r = train(generate_synthetic(7, 30000, 300), options(7));
  const std::string split = dir.path("test-split.csv");
  write_test_split(split, r);
  const auto rows = read_split(split);
  REQUIRE(rows.size() == r.test_size);
  // The model as the runtimes get it: through the artifact.
  const std::string zip = dir.path("model.zip");
  write_model_zip(zip, r.model);
  const Confusion from_file = check_split(coldlab::kdd::read_model_zip(zip), rows);
  check_same(from_file, r.test);
  check_report(training_report(r), from_file);
}

TEST_CASE("kdd trainer: train-split.csv holds the training split, disjoint from the test split", "[kdd]") {
  TempDir dir;
  const Dataset data = generate_synthetic(7, 30000, 300);
  const TrainingResult r = train(data, options(7));
  const std::string path = dir.path("train-split.csv");
  coldlab::kdd::write_train_split(path, r);
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "duration,src_bytes,dst_bytes,label");
  std::vector<SplitRow> rows;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string f[4];
    for (auto& field : f) std::getline(fields, field, ',');
    SplitRow row;
    for (int i = 0; i < 3; ++i) row.raw[i] = std::strtod(f[i].c_str(), nullptr);
    row.label = std::stoi(f[3]);
    rows.push_back(row);
  }
  REQUIRE(rows.size() == r.train_size);
  size_t anomalies = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    anomalies += rows[i].label == 1;
    CHECK(rows[i].raw == r.train_rows[i].raw);  // %.17g reads back as the same double
    CHECK(rows[i].label == r.train_rows[i].label);
  }
  CHECK(anomalies == r.train_anomalies);
  // With the test split, every record once (synthetic data has no missing values).
  CHECK(r.train_size + r.test_size == data.records.size());
}

TEST_CASE("kdd trainer: the same seed gives the same model", "[kdd]") {
  const Dataset data = generate_synthetic(5, 20000, 200);
  const TrainingResult a = train(data, options(5));
  const TrainingResult b = train(data, options(5));
  const TrainingResult c = train(data, options(6));
  CHECK(a.model.to_json() == b.model.to_json());
  CHECK(a.model.weights != c.model.weights);  // another split, another fit
}

TEST_CASE("kdd trainer: rows with a missing value are counted and dropped", "[kdd]") {
  Dataset data = generate_synthetic(9, 5000, 100);
  const double nan = std::nan("");
  data.records[0].duration = nan;
  data.records[1].src_bytes = nan;
  data.records[1].dst_bytes = nan;
  data.records[2].dst_bytes = nan;
  const TrainingResult r = train(data, options(9));
  CHECK(r.missing.rows == 3);
  CHECK(r.missing.duration == 1);
  CHECK(r.missing.src_bytes == 1);
  CHECK(r.missing.dst_bytes == 2);
  CHECK(r.records == 4997);
  CHECK(r.train_size + r.test_size == 4997);
  CHECK(r.model.training["missing_values"]["rows_dropped"] == 3);
  for (int j = 0; j < 3; ++j) CHECK(std::isfinite(r.model.mean[j]));
}

TEST_CASE("kdd trainer: separable data gives finite weights and a perfect split", "[kdd]") {
  Dataset data;
  for (int i = 0; i < 400; ++i) {
    const bool anomaly = i % 10 == 0;
    data.records.push_back(Record{0, anomaly ? 50000.0 + i : 200.0 + i % 7, 3000, anomaly ? 1 : 0});
  }
  const TrainingResult r = train(data, options(1));
  CHECK(r.converged);
  for (int j = 0; j < 3; ++j) CHECK(std::isfinite(r.model.weights[j]));
  CHECK(std::isfinite(r.model.bias));
  CHECK(r.test.fp == 0);
  CHECK(r.test.fn == 0);
  // duration and dst_bytes are constant here: std 1 (never 0) and a note saying so.
  CHECK(r.model.std_dev[0] == 1);
  CHECK(r.model.std_dev[2] == 1);
  CHECK(r.notes.size() == 2);
}

TEST_CASE("kdd trainer: unusable data or options are refused", "[kdd]") {
  CHECK_THROWS_WITH(train(generate_synthetic(1, 1000, 0), options()),
                    Contains("both normal records and anomalies"));
  TrainOptions o = options();
  o.test_fraction = 1;
  CHECK_THROWS_WITH(train(generate_synthetic(1, 1000, 10), o), Contains("test fraction"));
}

TEST_CASE("kdd trainer: the built artifact agrees with its test split and report", "[kdd]") {
  // Made by the build (target kdd_model): what every runtime is checked against.
  const std::string dir = COLDLAB_BINARY_DIR "/functions/kdd/";
  INFO("built by the kdd_model target; build the project first");
  REQUIRE(std::filesystem::exists(dir + "model.zip"));
  const Model model = coldlab::kdd::read_model_zip(dir + "model.zip");
  const auto rows = read_split(dir + "test-split.csv");
  const Confusion c = check_split(model, rows);
  std::ifstream report_file(dir + "training-report.json");
  const json report = json::parse(report_file);
  check_report(report, c);
  CHECK(report["threshold"].get<double>() == model.threshold);
  CHECK(report["test_size"] == rows.size());
  CHECK(model.training["synthetic"] == true);
  CHECK(c.precision() > 0.6);
  CHECK(c.recall() > 0.6);
}
