// `coldlab serve`: the emulator as a long-running server, until SIGINT or SIGTERM.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "emulator.h"

namespace coldlab {

using ServeOptions = EmulatorOptions;

// The options `serve` and `run` share: everything about the emulator itself.
void add_emulator_options(CLI::App& cmd, EmulatorOptions& o);
// add_emulator_options plus where it listens and its log (serve only).
void add_serve_options(CLI::App& cmd, ServeOptions& o);

// Returns the process exit status.
int run_serve(const ServeOptions& o, const std::string& command_line);

}  // namespace coldlab
