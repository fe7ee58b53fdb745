// `coldlab calibrate`: how long cold starts and warm invocations take through the live
// emulator, per function and memory size, beside published Lambda figures.
//
// For each function and memory size it sets MemorySize, forces --cold cold starts (each
// after retiring the function's environment with an UpdateFunctionConfiguration that
// changes only the Description, and waiting until that environment has ended, so no
// teardown overlaps the next start), then sends --warm invocations to the last one. It
// prints Init, first-invoke and warm figures (median and spread), with --reference the
// published figure and the ratio beside each. The emulator runs in-process and logs
// everything to --db as one run of kind "calibration" whose summary_json holds the table,
// so `kind: replay` workloads and the reports can use it.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "emulator.h"

namespace coldlab::calibrate {

struct CalibrateOptions {
  std::vector<std::string> functions = {"kdd-python", "kdd-java"};
  std::vector<int> memory = {256, 512, 1024};
  int cold = 5;
  int warm = 20;
  std::string event = R"({"features": [0, 232, 19206]})";
  std::string reference;  // a CSV (reference.h); empty: none
  EmulatorOptions emulator;
};

void add_calibrate_options(CLI::App& cmd, CalibrateOptions& o);

// Returns the process exit status: 0, 1 when a measurement failed (an invocation that
// failed, or a start that should have been cold and was not), 2 for bad options.
int run_calibrate_command(const CalibrateOptions& o, const std::string& command_line);

}  // namespace coldlab::calibrate
