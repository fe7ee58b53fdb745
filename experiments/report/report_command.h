// `coldlab report`: the tables of an experiment's runs as Markdown on stdout; with --out DIR,
// also CSV files, report.md and plots (report.h says what each holds).
//   coldlab report                          # the latest experiment in coldlab.db
//   coldlab report --db runs.db --run 3 --run 4 --out report/
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace coldlab::report {

struct ReportCommandOptions {
  std::string db = "coldlab.db";
  std::vector<int64_t> runs;  // empty: the latest experiment's runs
  std::string out;            // empty: Markdown on stdout only
  bool no_plots = false;
  std::string python = "/usr/bin/python3";
  // plot_report.py; the caller sets it (<executable dir>/../report/plot_report.py).
  std::filesystem::path plot_script;
};

void add_report_options(CLI::App& cmd, ReportCommandOptions& o);

// Returns the process exit status; Markdown goes to stdout, errors to stderr.
int run_report_command(const ReportCommandOptions& o);

}  // namespace coldlab::report
