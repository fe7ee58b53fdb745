#include "kdd/trainer.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>

namespace coldlab::kdd {

namespace {

using nlohmann::json;
constexpr std::size_t kParams = kFeatureCount + 1;  // bias first, then the weights
using Vector = std::array<double, kParams>;
using Matrix = std::array<Vector, kParams>;

// ---------------------------------------------------------------------------------------
// The split.

// Uniform in [0, n) without the bias of a plain modulo, and without std::
// distributions, whose results differ between standard libraries.
uint64_t below(std::mt19937_64& engine, uint64_t n) {
  const uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % n + 1) % n;  // largest multiple of n, minus 1
  uint64_t x;
  do {
    x = engine();
  } while (x > limit);
  return x % n;
}

// Marks the test rows: for each class, a seeded Fisher-Yates shuffle of its rows, of
// which the first round(fraction * count) are the test split.
std::vector<bool> stratified_test_rows(const std::vector<Record>& rows, double fraction, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<bool> test(rows.size(), false);
  for (int label : {0, 1}) {
    std::vector<std::size_t> of_class;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].label == label) of_class.push_back(i);
    }
    for (std::size_t i = of_class.size(); i > 1; --i) {
      std::swap(of_class[i - 1], of_class[below(engine, i)]);
    }
    const auto count =
        static_cast<std::size_t>(std::floor(fraction * static_cast<double>(of_class.size()) + 0.5));
    for (std::size_t k = 0; k < count; ++k) test[of_class[k]] = true;
  }
  return test;
}

// ---------------------------------------------------------------------------------------
// The fit: weighted, L2-penalised logistic regression on standardised features.

struct Problem {
  std::vector<std::array<double, kFeatureCount>> z;  // standardised log features
  std::vector<int> y;
  std::vector<double> weight;  // the class weight of each row
  double weight_sum = 0;
  double l2 = 0;
};

double score(const Vector& beta, const std::array<double, kFeatureCount>& z) {
  double s = beta[0];
  for (std::size_t j = 0; j < kFeatureCount; ++j) s += beta[j + 1] * z[j];
  return s;
}

double penalty(const Vector& beta, double l2) {
  double sum = 0;
  for (std::size_t j = 1; j < kParams; ++j) sum += beta[j] * beta[j];
  return 0.5 * l2 * sum;
}

// Mean weighted log loss plus penalty. -log p(y|s) = log(1 + exp(-|s|)) + max(s, 0) - y s,
// which never overflows.
double loss(const Problem& p, const Vector& beta) {
  double sum = 0;
  for (std::size_t i = 0; i < p.y.size(); ++i) {
    const double s = score(beta, p.z[i]);
    sum += p.weight[i] * (std::log1p(std::exp(-std::fabs(s))) + std::max(s, 0.0) - p.y[i] * s);
  }
  return sum / p.weight_sum + penalty(beta, p.l2);
}

// Solves a x = b for a symmetric positive definite 4x4 system (Gaussian elimination with
// partial pivoting: tiny, and robust if the Hessian is badly scaled).
Vector solve(Matrix a, Vector b) {
  for (std::size_t col = 0; col < kParams; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < kParams; ++r) {
      if (std::fabs(a[r][col]) > std::fabs(a[pivot][col])) pivot = r;
    }
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    if (a[col][col] == 0) throw std::runtime_error("training failed: the Hessian is singular");
    for (std::size_t r = col + 1; r < kParams; ++r) {
      const double f = a[r][col] / a[col][col];
      for (std::size_t c = col; c < kParams; ++c) a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  Vector x{};
  for (std::size_t k = kParams; k-- > 0;) {
    double sum = b[k];
    for (std::size_t c = k + 1; c < kParams; ++c) sum -= a[k][c] * x[c];
    x[k] = sum / a[k][k];
  }
  return x;
}

struct Fit {
  Vector beta{};
  int iterations = 0;
  bool converged = false;
};

Fit newton(const Problem& p, int max_iterations) {
  Fit fit;
  double current = loss(p, fit.beta);
  for (int it = 1; it <= max_iterations; ++it) {
    fit.iterations = it;
    Vector gradient{};
    Matrix hessian{};
    for (std::size_t i = 0; i < p.y.size(); ++i) {
      const double prob = sigmoid(score(fit.beta, p.z[i]));
      const std::array<double, kParams> x = {1, p.z[i][0], p.z[i][1], p.z[i][2]};
      const double g = p.weight[i] * (prob - p.y[i]);
      const double h = p.weight[i] * prob * (1 - prob);
      for (std::size_t a = 0; a < kParams; ++a) {
        gradient[a] += g * x[a];
        for (std::size_t b = 0; b <= a; ++b) hessian[a][b] += h * x[a] * x[b];
      }
    }
    // Only the lower triangle was summed; scale it and mirror it.
    for (std::size_t a = 0; a < kParams; ++a) {
      gradient[a] /= p.weight_sum;
      for (std::size_t b = 0; b <= a; ++b) {
        hessian[a][b] /= p.weight_sum;
        hessian[b][a] = hessian[a][b];
      }
    }
    for (std::size_t j = 1; j < kParams; ++j) {
      gradient[j] += p.l2 * fit.beta[j];
      hessian[j][j] += p.l2;
    }
    const Vector step = solve(hessian, gradient);

    // Newton's full step can overshoot far from the optimum; halve it until the loss
    // does not rise.
    double t = 1;
    Vector next{};
    double next_loss = current;
    for (int halvings = 0; halvings < 40; ++halvings, t /= 2) {
      for (std::size_t a = 0; a < kParams; ++a) next[a] = fit.beta[a] - t * step[a];
      next_loss = loss(p, next);
      if (next_loss <= current) break;
    }
    if (!(next_loss <= current)) {
      // No step lowers the loss: at the optimum to within rounding.
      double largest_step = 0;
      for (double v : step) largest_step = std::max(largest_step, std::fabs(v));
      fit.converged = largest_step < 1e-6;
      break;
    }
    double largest = 0;
    for (std::size_t a = 0; a < kParams; ++a) largest = std::max(largest, std::fabs(next[a] - fit.beta[a]));
    fit.beta = next;
    current = next_loss;
    // Newton converges quadratically: once a step moves nothing by 1e-10, the next would
    // be at rounding level.
    if (largest < 1e-10) {
      fit.converged = true;
      break;
    }
  }
  return fit;
}

// ---------------------------------------------------------------------------------------
// The threshold: the one with the best F1 on the training split.

double best_f1_threshold(const std::vector<double>& probability, const std::vector<int>& label) {
  std::vector<std::size_t> order(probability.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return probability[a] > probability[b]; });
  const auto positives = static_cast<std::size_t>(std::count(label.begin(), label.end(), 1));
  std::size_t tp = 0, flagged = 0;
  double best_f1 = -1, threshold = 1;
  std::size_t k = 0;
  while (k < order.size()) {
    // Everything with probability >= this group's value is flagged.
    const double value = probability[order[k]];
    while (k < order.size() && probability[order[k]] == value) {
      tp += label[order[k]] == 1;
      ++flagged;
      ++k;
    }
    const double f1 = 2.0 * static_cast<double>(tp) / static_cast<double>(flagged + positives);
    if (f1 > best_f1) {  // strictly: on a tie the higher threshold (fewer alarms) wins
      best_f1 = f1;
      threshold = value;
      if (k < order.size()) {
        const double below = probability[order[k]];
        const double mid = value / 2 + below / 2;
        if (mid > below && mid <= value) threshold = mid;
      }
    }
  }
  return threshold;
}

std::string format17(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

}  // namespace

void Confusion::add(int label, int prediction) {
  if (label == 1) {
    prediction == 1 ? ++tp : ++fn;
  } else {
    prediction == 1 ? ++fp : ++tn;
  }
}

double Confusion::precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0; }
double Confusion::recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0; }
double Confusion::f1() const { return tp ? 2.0 * double(tp) / double(2 * tp + fp + fn) : 0; }
double Confusion::accuracy() const {
  const std::size_t n = tp + fp + tn + fn;
  return n ? double(tp + tn) / double(n) : 0;
}
json Confusion::to_json() const { return {{"tp", tp}, {"fp", fp}, {"tn", tn}, {"fn", fn}}; }

TrainingResult train(const Dataset& data, const TrainOptions& options) {
  if (!(options.test_fraction > 0 && options.test_fraction < 1)) {
    throw std::invalid_argument("the test fraction must be between 0 and 1 (exclusive), got " +
                                format17(options.test_fraction));
  }
  TrainingResult result;

  // Missing values: counted by the loader, dropped here.
  std::vector<Record> rows;
  rows.reserve(data.records.size());
  for (const Record& r : data.records) {
    if (std::isnan(r.duration) || std::isnan(r.src_bytes) || std::isnan(r.dst_bytes)) {
      ++result.missing.rows;
      result.missing.duration += std::isnan(r.duration);
      result.missing.src_bytes += std::isnan(r.src_bytes);
      result.missing.dst_bytes += std::isnan(r.dst_bytes);
    } else {
      rows.push_back(r);
      result.anomalies += r.label == 1;
    }
  }
  result.records = rows.size();

  const std::vector<bool> is_test = stratified_test_rows(rows, options.test_fraction, options.split_seed);
  std::vector<const Record*> train_rows, test_rows;
  for (std::size_t i = 0; i < rows.size(); ++i) (is_test[i] ? test_rows : train_rows).push_back(&rows[i]);
  result.train_size = train_rows.size();
  result.test_size = test_rows.size();
  for (const Record* r : train_rows) result.train_anomalies += r->label == 1;
  for (const Record* r : test_rows) result.test_anomalies += r->label == 1;
  if (result.train_anomalies == 0 || result.train_anomalies == result.train_size) {
    throw std::invalid_argument("the training split must hold both normal records and anomalies (it has " +
                                std::to_string(result.train_size) + " records, " +
                                std::to_string(result.train_anomalies) + " anomalies)");
  }

  // Standardisation, fitted on the training split only.
  Model& model = result.model;
  const auto n = static_cast<double>(train_rows.size());
  std::vector<std::array<double, kFeatureCount>> logs(train_rows.size());
  for (std::size_t i = 0; i < train_rows.size(); ++i) {
    const Features raw = features_of(*train_rows[i]);
    for (std::size_t j = 0; j < kFeatureCount; ++j) logs[i][j] = std::log(raw[j] + 0.1);
  }
  for (std::size_t j = 0; j < kFeatureCount; ++j) {
    double sum = 0;
    for (const auto& x : logs) sum += x[j];
    const double mean = sum / n;
    double squares = 0;
    for (const auto& x : logs) squares += (x[j] - mean) * (x[j] - mean);
    double sd = std::sqrt(squares / n);
    // A constant column's sum is not exact, so its std comes out as rounding noise
    // (~1e-16), not 0; dividing by that would blow the feature up. Relative to the values,
    // anything below 1e-9 is that noise.
    if (!(sd > 1e-9 * (std::fabs(mean) + 1))) {
      result.notes.push_back(
          std::string(kFeatureNames[j]) +
          " is constant in the training split; its std is set to 1 and it carries no weight");
      sd = 1;
    }
    model.mean[j] = mean;
    model.std_dev[j] = sd;
  }

  // The fit, with balanced class weights.
  Problem problem;
  problem.l2 = options.l2;
  const double anomaly_weight = n / (2.0 * static_cast<double>(result.train_anomalies));
  const double normal_weight = n / (2.0 * static_cast<double>(result.train_size - result.train_anomalies));
  problem.z.resize(train_rows.size());
  for (std::size_t i = 0; i < train_rows.size(); ++i) {
    for (std::size_t j = 0; j < kFeatureCount; ++j) {
      problem.z[i][j] = (logs[i][j] - model.mean[j]) / model.std_dev[j];
    }
    problem.y.push_back(train_rows[i]->label);
    problem.weight.push_back(train_rows[i]->label == 1 ? anomaly_weight : normal_weight);
    problem.weight_sum += problem.weight.back();
  }
  const Fit fit = newton(problem, options.max_iterations);
  result.iterations = fit.iterations;
  result.converged = fit.converged;
  model.bias = fit.beta[0];
  for (std::size_t j = 0; j < kFeatureCount; ++j) model.weights[j] = fit.beta[j + 1];
  if (!fit.converged) result.notes.push_back("Newton's method did not converge; the model may be poor");

  // The threshold, from training predictions made exactly as the runtimes will.
  std::vector<double> train_probability;
  train_probability.reserve(train_rows.size());
  for (const Record* r : train_rows) train_probability.push_back(model.predict_probability(features_of(*r)));
  model.threshold = best_f1_threshold(train_probability, problem.y);
  for (std::size_t i = 0; i < train_rows.size(); ++i) {
    result.train.add(train_rows[i]->label, model.label(train_probability[i]));
  }

  result.train_rows.reserve(train_rows.size());
  for (const Record* r : train_rows) result.train_rows.push_back({features_of(*r), r->label});
  for (const Record* r : test_rows) {
    TestRow row;
    row.raw = features_of(*r);
    row.label = r->label;
    row.probability = model.predict_probability(row.raw);
    row.prediction = model.label(row.probability);
    result.test.add(row.label, row.prediction);
    result.test_rows.push_back(row);
  }

  model.training = {
      {"data", options.data_source},
      {"synthetic", options.synthetic},
      {"records", result.records},
      {"anomalies", result.anomalies},
      {"missing_values",
       {{"duration", result.missing.duration},
        {"src_bytes", result.missing.src_bytes},
        {"dst_bytes", result.missing.dst_bytes},
        {"rows_dropped", result.missing.rows}}},
      {"split", "stratified by label"},
      {"split_seed", options.split_seed},
      {"test_fraction", options.test_fraction},
      {"train_size", result.train_size},
      {"train_anomalies", result.train_anomalies},
      {"test_size", result.test_size},
      {"test_anomalies", result.test_anomalies},
      {"standardisation", "mean and population std of log(x + 0.1) on the training split"},
      {"solver", "Newton's method (IRLS) with step halving"},
      {"l2", options.l2},
      {"class_weights",
       {{"rule", "balanced: n / (2 * n_class)"}, {"normal", normal_weight}, {"anomaly", anomaly_weight}}},
      {"iterations", result.iterations},
      {"converged", result.converged},
      {"threshold_rule", "maximum F1 on the training split"},
      {"train_f1", result.train.f1()},
      {"test_confusion_matrix", result.test.to_json()},
      {"test_precision", result.test.precision()},
      {"test_recall", result.test.recall()},
      {"test_f1", result.test.f1()},
      {"test_accuracy", result.test.accuracy()},
  };
  return result;
}

void write_test_split(const std::string& path, const TrainingResult& result) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  std::fputs("duration,src_bytes,dst_bytes,label,probability,prediction\n", f);
  for (const TestRow& r : result.test_rows) {
    std::fprintf(f, "%.17g,%.17g,%.17g,%d,%.17g,%d\n", r.raw[0], r.raw[1], r.raw[2], r.label, r.probability,
                 r.prediction);
  }
  const bool failed = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || failed) throw std::runtime_error("error writing " + path);
}

void write_train_split(const std::string& path, const TrainingResult& result) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  std::fputs("duration,src_bytes,dst_bytes,label\n", f);
  for (const TrainRow& r : result.train_rows) {
    std::fprintf(f, "%.17g,%.17g,%.17g,%d\n", r.raw[0], r.raw[1], r.raw[2], r.label);
  }
  const bool failed = std::ferror(f) != 0;
  if (std::fclose(f) != 0 || failed) throw std::runtime_error("error writing " + path);
}

json training_report(const TrainingResult& result) {
  return {
      {"confusion_matrix", result.test.to_json()},
      {"precision", result.test.precision()},
      {"recall", result.test.recall()},
      {"f1", result.test.f1()},
      {"accuracy", result.test.accuracy()},
      {"threshold", result.model.threshold},
      {"test_size", result.test_size},
      {"test_anomalies", result.test_anomalies},
      {"training", result.model.training},
  };
}

}  // namespace coldlab::kdd
