// `coldlab trace`: tools for files in the Azure Functions 2019 trace's format.
//   coldlab trace synth --out DIR [--days 1] [--apps 1000] [--seed 1]
//       writes a synthetic trace (trace_synth.h) that `kind: azure2019` workloads read
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "trace_synth.h"

namespace coldlab::sim {

struct TraceCommandOptions {
  std::string out;
  SynthOptions synth;
  CLI::App* synth_command = nullptr;  // set by add_trace_options
};

// Adds the subcommands of `trace` to `cmd` (one of them is required).
void add_trace_options(CLI::App& cmd, TraceCommandOptions& o);

// Runs the subcommand given; returns the process exit status. A summary goes to stdout,
// errors to stderr.
int run_trace_command(const TraceCommandOptions& o);

}  // namespace coldlab::sim
