// Purpose: arc-console's thin outer layer: the command line, the ncurses screen (paints the
// view's grid, reads keys) and the poll() loop on the terminal and arcd's connection, with
// reconnection and backoff.
#pragma once

#include "arc/console/app.hpp"

namespace arc::console {

/// Runs arc-console with `argv`; returns the process exit code (0 on quit, 2 on bad usage).
int run_cli(int argc, char** argv);

/// Runs the console on the terminal until the operator quits or a signal ends it.
int run_terminal(options opts);

}  // namespace arc::console
