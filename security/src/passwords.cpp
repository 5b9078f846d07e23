#include "arc/security/passwords.hpp"

#include <array>

#include <fmt/format.h>
#include <sodium.h>

#include "arc/security/sodium.hpp"

namespace arc::security {

namespace {

// INTERACTIVE (2 passes over 64 MiB, about 0.1 s here) rather than MODERATE/SENSITIVE (256 MiB /
// 1 GiB, seconds): a login must answer an operator at once, arcd runs beside the receiver on a
// small box, and several operators may log in together after a restart. The online guessing the
// API allows is bounded by the lockout anyway; the cost protects a stolen database.
constexpr unsigned long long ops_limit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t mem_limit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

// crypto_pwhash_str* want a NUL-terminated hash string of bounded size.
std::optional<std::string> terminated_hash(std::string_view hash) {
    if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES ||
        hash.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    return std::string(hash);
}

}  // namespace

std::optional<std::string> password_problem(std::string_view password) {
    if (password.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return std::string("password: must not be empty or blank");
    }
    if (password.size() < min_password_length) {
        return fmt::format("password: at least {} characters", min_password_length);
    }
    if (password.size() > max_password_length) {
        return fmt::format("password: at most {} characters", max_password_length);
    }
    return std::nullopt;
}

std::string hash_password(std::string_view password) {
    if (auto problem = password_problem(password)) {
        throw security_error(*problem);
    }
    ensure_sodium();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), ops_limit, mem_limit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw security_error("password hashing failed (out of memory)");
    }
    return out.data();
}

bool verify_password(std::string_view hash, std::string_view password) {
    const auto text = terminated_hash(hash);
    if (!text || password.size() > max_password_length) {
        return false;
    }
    ensure_sodium();
    return crypto_pwhash_str_verify(text->c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(std::string_view hash) {
    const auto text = terminated_hash(hash);
    if (!text) {
        return true;
    }
    ensure_sodium();
    // 1: other parameters or algorithm; -1: not a hash libsodium knows. Either way: rehash.
    return crypto_pwhash_str_needs_rehash(text->c_str(), ops_limit, mem_limit) != 0;
}

}  // namespace arc::security
