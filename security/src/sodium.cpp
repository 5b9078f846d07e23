#include "arc/security/sodium.hpp"

#include <sodium.h>

namespace arc::security {

void ensure_sodium() {
    // sodium_init() returns 1 when already initialised: only a negative value is a failure.
    if (sodium_init() < 0) {
        throw security_error("libsodium initialisation failed");
    }
}

}  // namespace arc::security
