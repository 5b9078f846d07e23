// arcctl: the admin and installer CLI of arcd (see arcctl.hpp and docs/admin-api.md).
#include "arcctl.hpp"

int main(int argc, char** argv) { return arc::arcctl::run(argc, argv); }
