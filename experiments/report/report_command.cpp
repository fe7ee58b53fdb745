#include "report/report_command.h"

#include <iostream>

#include "report/report.h"

namespace coldlab::report {

void add_report_options(CLI::App& cmd, ReportCommandOptions& o) {
  cmd.add_option("--db", o.db, "The experiment's database")->capture_default_str();
  cmd.add_option("--run", o.runs,
                 "Report this run id (repeatable); default: every run of the latest experiment");
  cmd.add_option("--out", o.out, "Also write CSV files, report.md and plots into this folder (created)");
  cmd.add_flag("--no-plots", o.no_plots, "With --out: write the tables and CSV files but draw no plots");
  cmd.add_option("--python", o.python, "Python with matplotlib that draws the plots")->capture_default_str();
}

int run_report_command(const ReportCommandOptions& o) {
  Options options;
  options.db = o.db;
  options.runs = o.runs;
  options.out_dir = o.out;  // run_report creates it
  options.python = o.python;
  options.plot_script = o.plot_script;
  options.plots = !o.no_plots;
  const int rc = run_report(options, std::cout, std::cerr);
  std::cout.flush();
  return rc;
}

}  // namespace coldlab::report
