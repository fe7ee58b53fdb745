// The native `hog` function: allocates event.mb MiB, touching every page so that it is
// really resident, then frees it and answers. Under a memory limit smaller than that the
// kernel OOM-kills it, which is what it is for.
//
// Event:  {"mb": N}   N an integer, 0 <= N <= 10240
// Answer: {"mb": N}
// Anything else is answered with an InvalidEvent error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <nlohmann/json.hpp>

#include "lambda_runtime.h"

namespace {

using coldlab::runtime::Invocation;
using coldlab::runtime::Outcome;
using nlohmann::json;

constexpr uint64_t kMaxMb = 10240;  // Lambda's largest MemorySize
constexpr std::size_t kChunk = std::size_t{1} << 20;
constexpr std::size_t kPage = 4096;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using Chunk = std::unique_ptr<char, FreeDeleter>;

// Allocates `mb` MiB one MiB at a time and writes one byte in every page of each, through
// a volatile pointer so the writes (and so the memory) cannot be optimised away. The
// process grows a page at a time. Everything is freed on return.
void hog(uint64_t mb) {
  std::vector<Chunk> chunks;
  chunks.reserve(mb);
  for (uint64_t i = 0; i < mb; ++i) {
    Chunk chunk(static_cast<char*>(std::malloc(kChunk)));
    if (!chunk) throw std::bad_alloc();
    volatile char* bytes = chunk.get();
    for (std::size_t offset = 0; offset < kChunk; offset += kPage)
      bytes[offset] = static_cast<char>(i + offset / kPage + 1);
    chunks.push_back(std::move(chunk));
  }
  chunks.clear();
#if defined(__GLIBC__)
  malloc_trim(0);  // give it back to the kernel, so a warm instance does not stay big
#endif
}

// The MiB count the event asks for, or an error message saying what is wrong.
std::optional<uint64_t> parse_mb(const std::string& payload, std::string& error) {
  json event;
  try {
    event = json::parse(payload);
  } catch (const json::parse_error& e) {
    error = std::string("the event is not valid JSON: ") + e.what();
    return std::nullopt;
  }
  if (!event.is_object()) {
    error = "the event must be a JSON object like {\"mb\": 100}, not a " +
            std::string(event.type_name());
    return std::nullopt;
  }
  const auto it = event.find("mb");
  if (it == event.end()) {
    error = "the event has no \"mb\": give the MiB to allocate, like {\"mb\": 100}";
    return std::nullopt;
  }
  std::optional<uint64_t> mb;
  if (it->is_number_unsigned()) mb = it->get<uint64_t>();
  else if (it->is_number_integer() && it->get<int64_t>() >= 0) mb = it->get<uint64_t>();
  if (!mb || *mb > kMaxMb) {
    error = "\"mb\" must be an integer from 0 to " + std::to_string(kMaxMb) + ", got " +
            it->dump();
    return std::nullopt;
  }
  return mb;
}

Outcome handle(const Invocation& invocation) {
  std::string error;
  const auto mb = parse_mb(invocation.payload, error);
  if (!mb) return Outcome::failure("InvalidEvent", error);
  hog(*mb);
  return Outcome::success(json{{"mb", *mb}}.dump());
}

}  // namespace

int main() { return coldlab::runtime::run(handle); }
