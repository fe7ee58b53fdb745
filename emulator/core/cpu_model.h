// The CPU side of the resource model as the command line sets it (docs/resources.md):
// the CFS period over which an environment's share of a CPU (MemorySize / 1,769) is
// enforced, and how much CPU on-demand Init gets.
#pragma once

#include <cstdint>
#include <string>

namespace coldlab::core {

// --init-cpu: "burst" (Init gets 2 vCPUs, as reported for on-demand Init on Lambda),
// "burst:vcpus=N", "throttled" (the memory's share) or "unthrottled" (no limit).
// Returns vCPUs for Init: 0 for throttled, -1 for unthrottled. Throws
// policies::SpecError naming the value and what was expected.
double parse_init_cpu(const std::string& spec);

// --cpu-period: a duration with a unit, "20ms", "0.1s" or "20000us", from 1 ms to 1 s
// (what the kernel takes). Throws policies::SpecError.
int64_t parse_cpu_period_us(const std::string& text);

}  // namespace coldlab::core
