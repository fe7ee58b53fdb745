// The native `spin` function: burns CPU for event.iterations rounds of a fixed integer
// loop and reports how long that took, to make CPU throttling visible. coldlab gives a
// function MemorySize/1769 of a CPU, as Lambda does, so the same N takes ~6.9x longer
// at 256 MB than at 1769 MB.
//
// Event:  {"iterations": N}   N a non-negative integer; 100000000 when absent
// Answer: {"iterations": N, "elapsed_ms": <double>, "checksum": <the loop's result>}
// Anything else is answered with an InvalidEvent error.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lambda_runtime.h"

namespace {

using coldlab::runtime::Invocation;
using coldlab::runtime::Outcome;
using nlohmann::json;

constexpr uint64_t kDefaultIterations = 100'000'000;

// Written by spin(). The store is a side effect, so the compiler may not treat spin() as
// a pure function and move the call out from between the two clock readings (GCC did,
// measuring ~0 ms, when the result was only returned).
volatile uint64_t g_checksum_sink = 0;

// Exactly `iterations` rounds of xorshift64, summed. Every round depends on the one
// before and the sum is stored to a volatile and returned (and reported), so the compiler
// can neither drop the loop nor collapse it into a closed form nor move it.
[[gnu::noinline]] uint64_t spin(uint64_t iterations) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    sum += state;
  }
  g_checksum_sink = sum;
  return sum;
}

// The iteration count the event asks for, or an error message saying what is wrong.
std::optional<uint64_t> parse_iterations(const std::string& payload, std::string& error) {
  json event;
  if (payload.find_first_not_of(" \t\r\n") == std::string::npos) return kDefaultIterations;
  try {
    event = json::parse(payload);
  } catch (const json::parse_error& e) {
    error = std::string("the event is not valid JSON: ") + e.what();
    return std::nullopt;
  }
  if (event.is_null()) return kDefaultIterations;
  if (!event.is_object()) {
    error = "the event must be a JSON object like {\"iterations\": 100000000}, not a " +
            std::string(event.type_name());
    return std::nullopt;
  }
  const auto it = event.find("iterations");
  if (it == event.end()) return kDefaultIterations;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<uint64_t>();
  error = "\"iterations\" must be a non-negative integer (at most 18446744073709551615), got " +
          it->dump();
  return std::nullopt;
}

Outcome handle(const Invocation& invocation) {
  std::string error;
  const auto iterations = parse_iterations(invocation.payload, error);
  if (!iterations) return Outcome::failure("InvalidEvent", error);

  const auto start = std::chrono::steady_clock::now();
  const uint64_t checksum = spin(*iterations);
  const auto stop = std::chrono::steady_clock::now();
  const double elapsed_ms = std::chrono::duration<double, std::milli>(stop - start).count();

  return Outcome::success(
      json{{"iterations", *iterations}, {"elapsed_ms", elapsed_ms}, {"checksum", checksum}}
          .dump());
}

}  // namespace

int main() { return coldlab::runtime::run(handle); }
