// The optional network between a load driver's users and the endpoint: a delay per request
// drawn from the scenario's distribution (scenario::NetworkModel), half of it before the
// request is sent and half after the answer arrives. Deterministic for a seed.
//
// Thread-safety: sample() may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>

#include "scenario/scenario.h"

namespace coldlab::driver {

class NetworkDelay {
 public:
  NetworkDelay(const scenario::NetworkModel& model, uint64_t seed);
  bool enabled() const { return model_.dist != scenario::NetworkModel::Dist::kNone; }
  // One request's whole delay in microseconds (0 without a model).
  int64_t sample();

 private:
  scenario::NetworkModel model_;
  std::mutex mu_;
  std::mt19937_64 rng_;
};

}  // namespace coldlab::driver
