// coldlab: a local AWS Lambda emulator for cold-start research.
#include <CLI/CLI.hpp>
#include <iostream>

#include "calibrate/calibrate_command.h"
#include "driver/run_command.h"
#include "host_facts.h"
#include "isolation/thaw_guard.h"
#include "kdd/train_command.h"
#include "report/report_command.h"
#include "serve.h"
#include "simulate_command.h"
#include "trace_command.h"

int main(int argc, char** argv) {
  // Not for users: the process an emulator starts to thaw its frozen environments if it is
  // killed (isolation/thaw_guard.h).
  if (argc == 3 && std::string(argv[1]) == "__thaw-on-exit") return coldlab::isolation::run_thaw_guard(argv[2]);
  CLI::App app{"coldlab " COLDLAB_VERSION ": a local AWS Lambda emulator for cold-start research"};
  app.require_subcommand(1);
  app.set_version_flag("--version", COLDLAB_VERSION);

  coldlab::ServeOptions serve;
  auto* cmd = app.add_subcommand("serve", "Serve the Lambda Invoke, management and Runtime APIs");
  coldlab::add_serve_options(*cmd, serve);

  coldlab::driver::RunCommandOptions run;
  auto* run_cmd = app.add_subcommand(
      "run", "Run a scenario file (every combination of its sweep) against real function processes, then report");
  coldlab::driver::add_run_options(*run_cmd, run);

  coldlab::report::ReportCommandOptions report;
  auto* report_cmd = app.add_subcommand("report", "Tables, CSV and plots of an experiment's runs");
  coldlab::report::add_report_options(*report_cmd, report);

  coldlab::kdd::TrainCommandOptions train;
  auto* train_cmd = app.add_subcommand(
      "train", "Train the KDD Cup 99 anomaly detector (synthetic data unless --data names a CSV)");
  coldlab::kdd::add_train_options(*train_cmd, train);

  coldlab::sim::SimulateCommandOptions simulate;
  auto* simulate_cmd = app.add_subcommand(
      "simulate", "Replay a workload (synthetic, Azure 2019 trace, or a recorded run) through the policies in "
                  "simulated time");
  coldlab::sim::add_simulate_options(*simulate_cmd, simulate);

  coldlab::calibrate::CalibrateOptions calibrate;
  auto* calibrate_cmd = app.add_subcommand(
      "calibrate", "Forced cold starts and warm invocations per function and memory size, beside published Lambda "
                   "figures");
  coldlab::calibrate::add_calibrate_options(*calibrate_cmd, calibrate);

  coldlab::sim::TraceCommandOptions trace;
  auto* trace_cmd = app.add_subcommand("trace", "Files in the Azure Functions 2019 trace's format (synth)");
  coldlab::sim::add_trace_options(*trace_cmd, trace);

  CLI11_PARSE(app, argc, argv);

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  if (cmd->parsed()) return coldlab::run_serve(serve, command_line);
  if (run_cmd->parsed()) return coldlab::driver::run_run_command(run, command_line);
  if (report_cmd->parsed()) {
    report.plot_script = coldlab::executable_dir() / ".." / "report" / "plot_report.py";
    return coldlab::report::run_report_command(report);
  }
  if (train_cmd->parsed()) return coldlab::kdd::run_train(train);
  if (simulate_cmd->parsed()) {
    simulate.executable = coldlab::executable_dir() / "coldlab";
    simulate.plot_script = coldlab::executable_dir() / ".." / "report" / "plot_sweep.py";
    return coldlab::sim::run_simulate_command(simulate, command_line);
  }
  if (trace_cmd->parsed()) return coldlab::sim::run_trace_command(trace);
  if (calibrate_cmd->parsed()) return coldlab::calibrate::run_calibrate_command(calibrate, command_line);
  return 2;
}
