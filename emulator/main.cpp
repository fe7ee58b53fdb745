// coldlab: a local AWS Lambda emulator for cold-start research.
#include <CLI/CLI.hpp>
#include <iostream>

#include "kdd/train_command.h"
#include "serve.h"

int main(int argc, char** argv) {
  CLI::App app{"coldlab " COLDLAB_VERSION ": a local AWS Lambda emulator for cold-start research"};
  app.require_subcommand(1);
  app.set_version_flag("--version", COLDLAB_VERSION);

  coldlab::ServeOptions serve;
  auto* cmd = app.add_subcommand("serve", "Serve the Lambda Invoke, management and Runtime APIs");
  coldlab::add_serve_options(*cmd, serve);

  coldlab::kdd::TrainCommandOptions train;
  auto* train_cmd = app.add_subcommand(
      "train", "Train the KDD Cup 99 anomaly detector (synthetic data unless --data names a CSV)");
  coldlab::kdd::add_train_options(*train_cmd, train);

  CLI11_PARSE(app, argc, argv);

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  if (cmd->parsed()) return coldlab::run_serve(serve, command_line);
  if (train_cmd->parsed()) return coldlab::kdd::run_train(train);
  return 2;
}
