#include "kdd/train_command.h"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "kdd/model_artifact.h"
#include "kdd/trainer.h"

namespace coldlab::kdd {

namespace {

using nlohmann::json;
constexpr const char* kSynthetic = "synthetic";

double percent(std::size_t part, std::size_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0;
}

void print_missing(const MissingValues& m) {
  if (m.rows == 0) {
    std::printf("  missing values: none\n");
    return;
  }
  std::printf("  missing values: duration %zu, src_bytes %zu, dst_bytes %zu; %zu rows dropped\n", m.duration,
              m.src_bytes, m.dst_bytes, m.rows);
}

void print_row(const char* name, const Features& v) {
  std::printf("  %-8s %12.6g %12.6g %12.6g\n", name, v[0], v[1], v[2]);
}

void print_result(const TrainingResult& r, const TrainCommandOptions& o) {
  const Model& m = r.model;
  const json& weights = m.training["class_weights"];
  std::printf("Split: stratified by label, seed %llu, test fraction %g\n",
              static_cast<unsigned long long>(o.seed), o.test_fraction);
  std::printf("  train %zu records (%zu anomalies), test %zu records (%zu anomalies)\n", r.train_size,
              r.train_anomalies, r.test_size, r.test_anomalies);
  std::printf("\nStandardisation of log(x + 0.1), fitted on the training split:\n");
  std::printf("  %-8s %12s %12s %12s\n", "", "duration", "src_bytes", "dst_bytes");
  print_row("mean", m.mean);
  print_row("std", m.std_dev);
  std::printf(
      "\nLogistic regression: Newton's method (IRLS), L2 %g, balanced class weights "
      "(normal %.4g, anomaly %.4g)\n",
      m.training["l2"].get<double>(), weights["normal"].get<double>(), weights["anomaly"].get<double>());
  std::printf("  %s after %d iterations\n", r.converged ? "converged" : "DID NOT CONVERGE", r.iterations);
  print_row("weights", m.weights);
  std::printf("  %-8s %12.6g\n", "bias", m.bias);
  std::printf("  threshold %.6g (maximum F1 on the training split: %.4f)\n", m.threshold, r.train.f1());
  for (const std::string& note : r.notes) std::printf("  note: %s\n", note.c_str());

  const Confusion& c = r.test;
  std::printf("\nTest split (%zu records, %zu anomalies), confusion matrix:\n", r.test_size,
              r.test_anomalies);
  std::printf("  %-16s %18s %18s\n", "", "predicted normal", "predicted anomaly");
  std::printf("  %-16s %18zu %18zu\n", "actual normal", c.tn, c.fp);
  std::printf("  %-16s %18zu %18zu\n", "actual anomaly", c.fn, c.tp);
  std::printf("  precision %.4f   recall %.4f   F1 %.4f   accuracy %.6f\n", c.precision(), c.recall(), c.f1(),
              c.accuracy());
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

int train_or_throw(const TrainCommandOptions& o) {
  const bool synthetic = o.data == kSynthetic;
  if (synthetic && o.input_scale != "raw") {
    throw std::invalid_argument("--input-scale is for a CSV given with --data; the synthetic data is raw");
  }
  if (!synthetic && o.synthetic_shape_given) {
    throw std::invalid_argument("--records and --anomalies are for --data synthetic; a CSV has its own");
  }

  std::printf("coldlab train: the KDD Cup 99 \"http\" anomaly detector (logistic regression)\n\n");
  Dataset data;
  TrainOptions options;
  options.split_seed = o.seed;
  options.test_fraction = o.test_fraction;
  options.synthetic = synthetic;
  if (synthetic) {
    data = generate_synthetic(o.seed, o.records, o.anomalies);
    options.data_source = "synthetic, seed " + std::to_string(o.seed);
    std::printf(
        "Data: SYNTHETIC, made by coldlab's seeded generator (seed %llu); not the real KDD Cup 99 data.\n",
        static_cast<unsigned long long>(o.seed));
    std::printf("  Give the real \"http\" subset as a CSV with --data to train on it.\n");
  } else {
    const InputScale scale = o.input_scale == "log" ? InputScale::kLog : InputScale::kRaw;
    data = load_csv(o.data, scale);
    options.data_source = o.data;
    std::printf("Data: %s (CSV, %s values%s)\n", o.data.c_str(), o.input_scale.c_str(),
                scale == InputScale::kLog ? ", converted back to raw as exp(v) - 0.1" : "");
  }
  std::size_t anomalies = 0;
  for (const Record& r : data.records) anomalies += r.label == 1;
  std::printf("  %zu records, %zu anomalies (%.2f%%)\n", data.records.size(), anomalies,
              percent(anomalies, data.records.size()));
  print_missing(data.missing);
  if (!o.write_data.empty()) {
    write_csv(o.write_data, data.records);
    std::printf("  data set written to %s\n", o.write_data.c_str());
  }
  std::printf("\n");

  const TrainingResult result = train(data, options);
  print_result(result, o);

  const std::filesystem::path dir = o.out_dir;
  std::filesystem::create_directories(dir);
  const auto model_zip = dir / "model.zip", split = dir / "test-split.csv",
             train_split = dir / "train-split.csv", report = dir / "training-report.json";
  write_model_zip(model_zip.string(), result.model);
  write_test_split(split.string(), result);
  write_train_split(train_split.string(), result);
  write_text(report, training_report(result).dump(2) + "\n");
  std::printf("\nWrote %s\n      %s\n      %s\n      %s\n", model_zip.c_str(), split.c_str(),
              train_split.c_str(), report.c_str());
  return 0;
}

}  // namespace

void add_train_options(CLI::App& cmd, TrainCommandOptions& o) {
  cmd.add_option("--data", o.data,
                 "\"synthetic\" (seeded, shaped like KDD99 http) or a CSV: "
                 "duration,src_bytes,dst_bytes,label")
      ->capture_default_str();
  cmd.add_option("--input-scale", o.input_scale,
                 "Values in the CSV: raw, or log (already log(x + 0.1), as the ODDS/sklearn copies)")
      ->capture_default_str()
      ->check(CLI::IsMember({"raw", "log"}));
  cmd.add_option("--seed", o.seed, "Seed of the synthetic data and of the train/test split")
      ->capture_default_str();
  cmd.add_option("--records", o.records, "Synthetic records")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--anomalies", o.anomalies, "Synthetic anomalies among them")->capture_default_str();
  cmd.add_option("--test-fraction", o.test_fraction, "Share of each class held out for the test split")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--out-dir", o.out_dir,
                 "Where model.zip, test-split.csv, train-split.csv and training-report.json go")
      ->capture_default_str();
  cmd.add_option("--write-data", o.write_data, "Also write the data set (raw values) to this CSV");
  cmd.callback(
      [&cmd, &o] { o.synthetic_shape_given = cmd.count("--records") + cmd.count("--anomalies") > 0; });
}

int run_train(const TrainCommandOptions& o) {
  try {
    return train_or_throw(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "coldlab train: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace coldlab::kdd
