// `coldlab run SCENARIO.yaml`: every combination of the scenario's sweep in turn, each
// against a fresh in-process emulator (or, with --endpoint, any Lambda-compatible
// endpoint, in real time), one `runs` row per combination; then the report.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "emulator.h"

namespace coldlab::driver {

struct RunCommandOptions {
  std::string scenario;
  std::string endpoint;               // empty: an emulator in-process
  std::string out = "coldlab-report"; // the report's folder
  std::vector<int> memory;            // overrides the file's memory sweep
  std::vector<std::string> runtimes;  // only these labels of the file's runtimes/functions
  bool report = true;
  bool plots = true;
  std::string progress = "auto";      // auto, bar, lines, off
  std::string network;                // overrides the file's network model (YAML of coldlab.network.rtt)
  EmulatorOptions emulator;           // --db, --clock and every emulator option of serve
};

void add_run_options(CLI::App& cmd, RunCommandOptions& o);

// Returns the process exit status: 0, 1 (a combination failed), 2 (bad input), 130 (Ctrl-C).
int run_run_command(const RunCommandOptions& o, const std::string& command_line);

}  // namespace coldlab::driver
