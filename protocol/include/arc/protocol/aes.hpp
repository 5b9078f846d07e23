// Purpose: AES-CBC with a zero IV and no library padding, as DC-09 §5.4 uses it (PROTOCOLS.md
// §1.12).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arc/protocol/expected.hpp"

namespace arc::protocol {

/// Raw AES key bytes (16, 24 or 32).
using aes_key = std::vector<std::uint8_t>;

/// Parses key text: 32/48/64 hex digits give the binary key; 16/24/32 other characters are used
/// as raw bytes. Anything else: error::bad_key.
expected<aes_key> parse_aes_key(std::string_view text);

/// Hex (upper case) of a key, for storage and display by the caller (never for logs).
std::string key_to_hex(const aes_key& key);

/// Decrypts `cipher` (binary, a multiple of 16 bytes) with AES-CBC, IV = 0, padding off.
expected<std::string> aes_cbc_decrypt(const aes_key& key, std::string_view cipher);

/// Encrypts `plain` (a multiple of 16 bytes) with AES-CBC, IV = 0, padding off.
expected<std::string> aes_cbc_encrypt(const aes_key& key, std::string_view plain);

/// Hex text to bytes (either case); error::decrypt_failed on odd length or a non-hex digit.
expected<std::string> hex_decode(std::string_view hex);

/// Value of one hex digit of either case (0-15), or -1 for any other character.
int hex_digit_value(char ch) noexcept;

/// Bytes to upper-case hex text.
std::string hex_encode(std::string_view bytes);

}  // namespace arc::protocol
