// Random numbers for the simulator, the same on every machine.
//
// std::mt19937_64 is specified bit for bit by the standard, but the std:: distributions are
// not (libstdc++ and libc++ draw differently), so the simulator turns raw 64-bit words into
// uniforms, exponentials and normals itself: a seed then gives the same simulation
// whatever the compiler, the library or the number of cores.
//
// Streams: every source of randomness (a function's arrivals, its service times, a trace's
// sampling) has its own generator, seeded from the run's seed and a stream name, so adding
// a function or a key to a workload does not shift the draws of the others.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

namespace coldlab::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // A generator for one named stream of the run seeded `seed`.
  static Rng stream(uint64_t seed, std::string_view name);

  uint64_t next() { return engine_(); }
  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe under log().
  double uniform_open0() { return 1.0 - uniform(); }
  // Uniform integer in [0, n), n > 0 (Lemire's method, unbiased).
  uint64_t below(uint64_t n);
  double exponential(double mean);
  double normal(double mean, double sd);

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace coldlab::sim
