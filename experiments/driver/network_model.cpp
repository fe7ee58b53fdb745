#include "driver/network_model.h"

#include <algorithm>
#include <cmath>

namespace coldlab::driver {

NetworkDelay::NetworkDelay(const scenario::NetworkModel& model, uint64_t seed) : model_(model), rng_(seed) {}

int64_t NetworkDelay::sample() {
  using Dist = scenario::NetworkModel::Dist;
  std::lock_guard<std::mutex> lock(mu_);
  // The distributions are drawn from the generator's raw output by hand: libstdc++'s
  // std::*_distribution are not specified bit for bit, so a seed would not give the same
  // delays under another standard library.
  auto uniform01 = [&] { return (static_cast<double>(rng_() >> 11) + 0.5) * 0x1.0p-53; };
  switch (model_.dist) {
    case Dist::kNone:
      return 0;
    case Dist::kConstant:
      return model_.median_us;
    case Dist::kUniform:
      return model_.min_us + static_cast<int64_t>(uniform01() * static_cast<double>(model_.max_us - model_.min_us));
    case Dist::kExponential:
      return static_cast<int64_t>(-std::log(uniform01()) * static_cast<double>(model_.median_us));
    case Dist::kLognormal: {
      // median = e^mu; p99 = e^(mu + 2.3263 sigma).
      const double mu = std::log(static_cast<double>(model_.median_us));
      const double sigma = (std::log(static_cast<double>(model_.p99_us)) - mu) / 2.326347874;
      // Box-Muller.
      const double z = std::sqrt(-2.0 * std::log(uniform01())) * std::cos(2.0 * M_PI * uniform01());
      return static_cast<int64_t>(std::exp(mu + sigma * z));
    }
  }
  return 0;
}

}  // namespace coldlab::driver
