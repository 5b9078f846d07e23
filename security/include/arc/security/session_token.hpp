// Purpose: operator session tokens: random, shown once to the client as hex, stored only hashed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arc::security {

/// Random bytes per token.
inline constexpr std::size_t token_size = 32;
/// A token's hash as stored (BLAKE2b-256): a stolen database yields no usable token.
using token_hash = std::array<std::uint8_t, 32>;

/// A new token: `text` goes to the client once, only `hash` is stored.
struct session_token {
    std::string text;  ///< 64 lower-case hex digits
    token_hash hash;
};

/// A fresh random token (32 bytes from the system CSPRNG).
session_token new_session_token();

/// The stored form of a token the client sent; nullopt unless it is 64 hex digits (either case).
std::optional<token_hash> hash_session_token(std::string_view text);

}  // namespace arc::security
