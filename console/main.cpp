// arc-console: the operators' terminal UI (console/include/arc/console/terminal.hpp).
#include "arc/console/terminal.hpp"

int main(int argc, char** argv) { return arc::console::run_cli(argc, argv); }
