#include "distribution.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace coldlab::sim {

Distribution Distribution::constant(double value) {
  if (!(value >= 0)) throw std::invalid_argument("a constant must be >= 0");
  return Distribution(Kind::kConstant, value, 0);
}

Distribution Distribution::exponential(double mean) {
  if (!(mean > 0)) throw std::invalid_argument("an exponential's mean must be > 0");
  return Distribution(Kind::kExponential, mean, 0);
}

Distribution Distribution::lognormal(double mu, double sigma) {
  if (!std::isfinite(mu)) throw std::invalid_argument("a log-normal's mu must be a finite number");
  if (!(sigma >= 0) || !std::isfinite(sigma)) throw std::invalid_argument("a log-normal's sigma must be >= 0");
  return Distribution(Kind::kLogNormal, mu, sigma);
}

Distribution Distribution::lognormal_from_moments(double mean, double sd) {
  if (!(mean > 0)) throw std::invalid_argument("a log-normal's mean must be > 0");
  if (!(sd >= 0)) throw std::invalid_argument("a log-normal's sd must be >= 0");
  const double sigma2 = std::log1p((sd * sd) / (mean * mean));
  return lognormal(std::log(mean) - sigma2 / 2, std::sqrt(sigma2));
}

Distribution Distribution::empirical(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("an empirical distribution needs at least one value");
  std::vector<std::pair<double, double>> points;
  points.reserve(values.size());
  for (double v : values) {
    if (!(v >= 0) || !std::isfinite(v)) throw std::invalid_argument("empirical values must be finite and >= 0");
    points.emplace_back(static_cast<double>(points.size()), v);
  }
  Distribution d(Kind::kEmpirical, 0, 0);
  d.points_ = std::make_shared<const std::vector<std::pair<double, double>>>(std::move(points));
  return d;
}

Distribution Distribution::percentiles(std::vector<std::pair<double, double>> points) {
  if (points.empty()) throw std::invalid_argument("percentiles need at least one point");
  for (size_t i = 0; i < points.size(); ++i) {
    const auto [q, v] = points[i];
    if (!(q >= 0 && q <= 1)) throw std::invalid_argument("a percentile's rank must be in [0, 1]");
    if (!(v >= 0) || !std::isfinite(v)) throw std::invalid_argument("a percentile's value must be finite and >= 0");
    if (i > 0 && !(q > points[i - 1].first)) throw std::invalid_argument("percentile ranks must increase");
    if (i > 0 && v < points[i - 1].second) throw std::invalid_argument("percentile values must not decrease");
  }
  Distribution d(Kind::kPercentiles, 0, 0);
  d.points_ = std::make_shared<const std::vector<std::pair<double, double>>>(std::move(points));
  return d;
}

double Distribution::sample(Rng& rng) const {
  switch (kind_) {
    case Kind::kConstant:
      return a_;
    case Kind::kExponential:
      return rng.exponential(a_);
    case Kind::kLogNormal:
      return std::exp(rng.normal(a_, b_));
    case Kind::kEmpirical:
      return (*points_)[rng.below(points_->size())].second;
    case Kind::kPercentiles: {
      const auto& p = *points_;
      const double u = rng.uniform();
      if (u <= p.front().first) return p.front().second;
      if (u >= p.back().first) return p.back().second;
      auto hi = std::upper_bound(p.begin(), p.end(), u,
                                 [](double x, const std::pair<double, double>& point) { return x < point.first; });
      auto lo = hi - 1;
      const double f = (u - lo->first) / (hi->first - lo->first);
      return lo->second + f * (hi->second - lo->second);
    }
  }
  return 0;
}

double Distribution::mean() const {
  switch (kind_) {
    case Kind::kConstant:
    case Kind::kExponential:
      return a_;
    case Kind::kLogNormal:
      return std::exp(a_ + b_ * b_ / 2);
    case Kind::kEmpirical: {
      double sum = 0;
      for (const auto& [i, v] : *points_) sum += v;
      return sum / static_cast<double>(points_->size());
    }
    case Kind::kPercentiles: {
      // The mass below the first and above the last point sits on them.
      const auto& p = *points_;
      double m = p.front().first * p.front().second + (1 - p.back().first) * p.back().second;
      for (size_t i = 1; i < p.size(); ++i)
        m += (p[i].first - p[i - 1].first) * (p[i].second + p[i - 1].second) / 2;
      return m;
    }
  }
  return 0;
}

std::string Distribution::describe() const {
  std::ostringstream out;
  out.precision(6);
  switch (kind_) {
    case Kind::kConstant:
      out << "constant(" << a_ << ")";
      break;
    case Kind::kExponential:
      out << "exponential(mean=" << a_ << ")";
      break;
    case Kind::kLogNormal:
      out << "lognormal(mu=" << a_ << ",sigma=" << b_ << ")";
      break;
    case Kind::kEmpirical:
      out << "empirical(" << points_->size() << " values)";
      break;
    case Kind::kPercentiles:
      out << "percentiles(" << points_->size() << " points)";
      break;
  }
  return out.str();
}

}  // namespace coldlab::sim
