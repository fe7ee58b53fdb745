// What the benchmarks share: a `coldlab serve` child on an ephemeral port, order
// statistics, and the header lines (command, machine) that make a printed figure quotable.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace coldlab::bench {

// A `coldlab serve --port 0 --db DB ARGS...` child. Its stderr (function logs) goes to
// /dev/null: writing them to a terminal would cost terminal time, not emulator time.
struct ServeChild {
  pid_t pid = -1;
  int port = 0;
};

// Starts the child and waits for the line naming its port. Throws std::runtime_error if it
// does not start.
ServeChild start_serve(const std::string& coldlab, const std::string& db, const std::vector<std::string>& args);
// SIGTERM, then waits for the child to exit.
void stop_serve(ServeChild& s);

// Nearest-rank percentile (p in [0, 100]); 0 for an empty sample.
double percentile(std::vector<double> v, double p);
double mean(const std::vector<double>& v);

// "argv[0] arg1 arg2 ..."
std::string command_line(int argc, char** argv);
// "host, 2 cpus (model name), 24731708 kB MemTotal"
std::string describe_machine();

}  // namespace coldlab::bench
