// Service-time distributions of the simulator's workloads, in seconds.
//
//   constant     value
//   exponential  mean
//   lognormal    mu, sigma of the log of the value (or built from a mean and a standard deviation)
//   empirical    a list of observed values, drawn uniformly (SimFaaS's empirical process)
//   percentiles  (q, value) points, 0 <= q <= 1 increasing; a draw takes a uniform u and
//                interpolates the value linearly between the points around u (the Azure
//                trace's duration percentiles; dslab's "piecewise" sampling). A draw below the
//                first point or above the last takes that point's value.
//
// Every draw is >= 0. Distributions are immutable values; copies share their data.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "random.h"

namespace coldlab::sim {

class Distribution {
 public:
  enum class Kind { kConstant, kExponential, kLogNormal, kEmpirical, kPercentiles };

  Distribution() : Distribution(Kind::kConstant, 0, 0) {}
  static Distribution constant(double value);
  static Distribution exponential(double mean);
  static Distribution lognormal(double mu, double sigma);
  // The log-normal with this mean and standard deviation (both > 0).
  static Distribution lognormal_from_moments(double mean, double sd);
  static Distribution empirical(std::vector<double> values);           // non-empty, >= 0
  static Distribution percentiles(std::vector<std::pair<double, double>> points);  // see above

  Kind kind() const { return kind_; }
  double sample(Rng& rng) const;
  double mean() const;
  // E.g. "exponential(mean=0.5)", for run parameters and error messages.
  std::string describe() const;

 private:
  Distribution(Kind kind, double a, double b) : kind_(kind), a_(a), b_(b) {}
  Kind kind_;
  double a_, b_;  // constant: value; exponential: mean; lognormal: mu, sigma
  std::shared_ptr<const std::vector<std::pair<double, double>>> points_;  // empirical: (i, v); percentiles
};

}  // namespace coldlab::sim
