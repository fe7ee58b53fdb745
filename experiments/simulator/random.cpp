#include "random.h"

#include <cmath>

namespace coldlab::sim {

Rng Rng::stream(uint64_t seed, std::string_view name) {
  // FNV-1a of the name, mixed with the seed by SplitMix64's finaliser: nearby seeds and
  // similar names still give unrelated streams.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  uint64_t z = seed ^ h;
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return Rng(z);
}

uint64_t Rng::below(uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = -n % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double Rng::exponential(double mean) { return -mean * std::log(uniform_open0()); }

double Rng::normal(double mean, double sd) {
  // Marsaglia's polar method; the second value of each pair is kept for the next call.
  if (has_spare_) {
    has_spare_ = false;
    return mean + sd * spare_;
  }
  double u, v, s;
  do {
    u = 2 * uniform() - 1;
    v = 2 * uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  const double f = std::sqrt(-2 * std::log(s) / s);
  spare_ = v * f;
  has_spare_ = true;
  return mean + sd * u * f;
}

}  // namespace coldlab::sim
