// Facts about the machine a run happened on, recorded with every run so that a number in
// the log can always be traced to the hardware that produced it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

namespace coldlab {

// {"hostname","kernel","os","cpu_model","cpus","memory_mb"}
nlohmann::json host_facts();

// The folder of the running executable (from /proc/self/exe).
std::filesystem::path executable_dir();

}  // namespace coldlab
