// Purpose: operator passwords: the acceptance rule and argon2id hashes (libsodium crypto_pwhash).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace arc::security {

/// Shortest password accepted, in bytes.
inline constexpr std::size_t min_password_length = 10;
/// Longest password accepted, in bytes (bounds the work one request can cause).
inline constexpr std::size_t max_password_length = 1024;

/// Why `password` is not acceptable ("password: at least 10 characters", ...), or nullopt.
std::optional<std::string> password_problem(std::string_view password);

/// An argon2id hash string ("$argon2id$v=19$m=...,t=...,p=1$salt$hash") with a random salt.
/// Throws security_error when the password is not acceptable (the message from
/// password_problem) or when hashing fails (out of memory).
std::string hash_password(std::string_view password);

/// True when `password` matches `hash` (a string from hash_password). A malformed hash is false.
bool verify_password(std::string_view hash, std::string_view password);

/// True when `hash` was made with other parameters than hash_password uses now: rehash it at
/// the next successful login.
bool password_needs_rehash(std::string_view hash);

}  // namespace arc::security
