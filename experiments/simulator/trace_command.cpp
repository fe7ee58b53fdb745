#include "trace_command.h"

#include <iostream>

#include "azure_trace.h"

namespace coldlab::sim {

void add_trace_options(CLI::App& cmd, TraceCommandOptions& o) {
  cmd.require_subcommand(1);
  CLI::App* synth =
      cmd.add_subcommand("synth", "Write a synthetic trace drawn from the trace's published distributions");
  synth->add_option("--out", o.out, "Folder for the CSV files (created)")->required();
  synth
      ->add_option("--days", o.synth.days, "Days 1..N, one file of each kind per day (memory for days <= 12)")
      ->check(CLI::Range(1, kTraceDays))
      ->capture_default_str();
  synth->add_option("--apps", o.synth.apps, "Applications")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  synth->add_option("--seed", o.synth.seed, "Seed of every random choice")->capture_default_str();
  o.synth_command = synth;
}

int run_trace_command(const TraceCommandOptions& o) {
  if (o.synth_command == nullptr || !o.synth_command->parsed()) {
    std::cerr << "coldlab trace: give a subcommand (synth)\n";
    return 2;
  }
  try {
    const SynthSummary summary = synthesize_trace(o.out, o.synth);
    std::cout << "wrote " << summary.apps << " apps, " << summary.functions << " functions, "
              << summary.invocations << " invocations over " << o.synth.days
              << (o.synth.days == 1 ? " day" : " days") << " to " << o.out << " (" << summary.files.size()
              << " files)\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "coldlab trace synth: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace coldlab::sim
