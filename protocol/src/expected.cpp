// Self-containment check for expected.hpp (header-only component).
#include "arc/protocol/expected.hpp"
