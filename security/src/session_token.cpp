#include "arc/security/session_token.hpp"

#include <utility>

#include <sodium.h>

#include "arc/security/sodium.hpp"

namespace arc::security {

namespace {

// Unkeyed BLAKE2b suffices: the input is 256 random bits, so there is nothing to guess; the
// hash only makes a copy of the sessions table useless for logging in.
token_hash hash_bytes(const std::array<std::uint8_t, token_size>& bytes) {
    token_hash out{};
    crypto_generichash(out.data(), out.size(), bytes.data(), bytes.size(), nullptr, 0);
    return out;
}

}  // namespace

session_token new_session_token() {
    ensure_sodium();
    std::array<std::uint8_t, token_size> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::string text(token_size * 2 + 1, '\0');
    sodium_bin2hex(text.data(), text.size(), bytes.data(), bytes.size());
    text.pop_back();  // the NUL sodium_bin2hex writes
    session_token token{std::move(text), hash_bytes(bytes)};
    sodium_memzero(bytes.data(), bytes.size());
    return token;
}

std::optional<token_hash> hash_session_token(std::string_view text) {
    if (text.size() != token_size * 2) {
        return std::nullopt;
    }
    ensure_sodium();
    std::array<std::uint8_t, token_size> bytes{};
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_hex2bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &len, &end) !=
            0 ||
        len != token_size || end != text.data() + text.size()) {
        return std::nullopt;
    }
    const token_hash hash = hash_bytes(bytes);
    sodium_memzero(bytes.data(), bytes.size());
    return hash;
}

}  // namespace arc::security
