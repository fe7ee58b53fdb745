// Training as the study describes it: check for missing values, split train/test, fit
// mean standardisation on the training split, train a binary logistic regression, and
// report the confusion matrix on the test split.
//
// The choices, and why:
//   - Rows with a missing value are dropped (and counted): three features leave nothing
//     to impute from, and the real data has none.
//   - The split is stratified by label and seeded: with 0.39% anomalies a plain random
//     split would move the test split's anomaly count around by several percent.
//   - Features are log(x + 0.1), then standardised with the training split's mean and
//     population standard deviation (a constant feature gets std 1, so it is never 0).
//   - Logistic regression by Newton's method (IRLS) with step halving: four parameters,
//     converges in about ten passes. A small L2 penalty (1e-4 on the mean loss, bias not
//     penalised) keeps the weights finite even if the data are separable.
//   - Class imbalance: balanced class weights, n / (2 n_class), so both classes count
//     equally in the loss and the fit is not just "always normal". Those weights shift the
//     probabilities towards the anomaly class, so 0.5 would flag far too many normals: the
//     threshold is the one that maximises F1 on the TRAINING split (midway between the
//     two training probabilities it separates). The test split is used only to report.
//   - Test predictions are made with Model::predict_probability, the inference every
//     runtime runs, from the raw values exactly as test-split.csv prints them (%.17g
//     round-trips a double), so the runtimes can be checked against them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kdd/dataset.h"
#include "kdd/model.h"

namespace coldlab::kdd {

struct Confusion {
  std::size_t tp = 0, fp = 0, tn = 0, fn = 0;

  void add(int label, int prediction);
  // 0 when undefined (nothing predicted / nothing to find).
  double precision() const;
  double recall() const;
  double f1() const;  // 2 tp / (2 tp + fp + fn)
  double accuracy() const;
  nlohmann::json to_json() const;  // {"tp", "fp", "tn", "fn"}
};

struct TrainOptions {
  double test_fraction = 0.2;  // of each class, rounded to nearest
  uint64_t split_seed = 1999;
  double l2 = 1e-4;
  int max_iterations = 100;
  // Recorded in the model's training facts.
  std::string data_source;  // "synthetic, seed N" or the CSV path
  bool synthetic = false;
};

// A training-split row, for a learner other than this trainer (kdd-java-weka's Weka model is
// fitted on exactly these).
struct TrainRow {
  Features raw{};
  int label = 0;
};

struct TestRow {
  Features raw{};
  int label = 0;
  double probability = 0;
  int prediction = 0;
};

struct TrainingResult {
  Model model;  // its `training` holds the facts below as JSON
  MissingValues missing;
  std::size_t records = 0;  // after dropping rows with missing values
  std::size_t anomalies = 0;
  std::size_t train_size = 0, train_anomalies = 0;
  std::size_t test_size = 0, test_anomalies = 0;
  int iterations = 0;
  bool converged = false;
  std::vector<std::string> notes;  // anything odd the user should know (e.g. a constant feature)
  Confusion train, test;
  std::vector<TrainRow> train_rows;  // in data order
  std::vector<TestRow> test_rows;    // in data order
};

// Throws std::invalid_argument if the options or data cannot give a model (test_fraction
// outside (0, 1), a class missing from the training split).
TrainingResult train(const Dataset& data, const TrainOptions& options);

// test-split.csv: duration,src_bytes,dst_bytes,label,probability,prediction, all %.17g.
void write_test_split(const std::string& path, const TrainingResult& result);

// train-split.csv: duration,src_bytes,dst_bytes,label, the raw values %.17g.
void write_train_split(const std::string& path, const TrainingResult& result);

// training-report.json: {"confusion_matrix": {"tp", "fp", "tn", "fn"}, "precision",
// "recall", "f1", "accuracy", "threshold", "test_size", "test_anomalies", "training": facts}.
nlohmann::json training_report(const TrainingResult& result);

}  // namespace coldlab::kdd
