// `coldlab train`: makes the KDD model artifact and the files that check the runtimes
// against it. The build runs it (target kdd_model) to make functions/kdd/ in the build
// folder; a user runs it by hand to train on the real data:
//   coldlab train --data http.csv --input-scale log --out-dir DIR
// It writes DIR/model.zip, DIR/test-split.csv, DIR/train-split.csv and
// DIR/training-report.json (trainer.h says what is in them) and prints what it did, saying plainly when the data is synthetic.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "kdd/dataset.h"

namespace coldlab::kdd {

struct TrainCommandOptions {
  std::string data = "synthetic";             // or the path of a CSV (dataset.h: load_csv)
  std::string input_scale = "raw";            // "raw" or "log"; only for a CSV
  uint64_t seed = 1999;                       // the generator's and the split's
  std::size_t records = kKddHttpRecords;      // synthetic only
  std::size_t anomalies = kKddHttpAnomalies;  // synthetic only
  bool synthetic_shape_given = false;         // --records or --anomalies was on the command line
  double test_fraction = 0.2;
  std::string out_dir = ".";
  std::string write_data;  // if set, the data set (raw scale) is also written here as CSV
};

// `cmd` must outlive the parse: a callback on it records which options were given.
void add_train_options(CLI::App& cmd, TrainCommandOptions& o);

// Returns the process exit status; errors go to stderr.
int run_train(const TrainCommandOptions& o);

}  // namespace coldlab::kdd
