// Purpose: libsodium initialisation and the error type of arc_security.
#pragma once

#include <stdexcept>

namespace arc::security {

/// A security operation that cannot go on (the message says which file or value, never a secret).
struct security_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Initialises libsodium (idempotent and thread-safe; every function of arc_security calls it).
/// Throws security_error when libsodium cannot initialise.
void ensure_sodium();

}  // namespace arc::security
