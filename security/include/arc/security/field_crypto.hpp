// Purpose: the data key (a file beside the database, outside it) and the encryption of sensitive
// fields at rest with it (libsodium crypto_secretbox: XSalsa20-Poly1305).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace arc::security {

/// Bytes of a data key (crypto_secretbox_KEYBYTES).
inline constexpr std::size_t data_key_size = 32;

/// A data key with its id (derived from the key, so the file holds the 32 bytes only). The
/// bytes are wiped when the object is destroyed.
class data_key {
public:
    /// Takes the key bytes; the id is computed from them.
    explicit data_key(const std::array<std::uint8_t, data_key_size>& bytes);
    data_key(const data_key& other);
    data_key& operator=(const data_key& other);
    data_key(data_key&& other) noexcept;
    data_key& operator=(data_key&& other) noexcept;
    ~data_key();

    /// A new random key (for tests and key rotation).
    static data_key generate();

    const std::array<std::uint8_t, data_key_size>& bytes() const noexcept { return bytes_; }
    /// The first 4 bytes of BLAKE2b(context, key): stored in every sealed blob, so that after a
    /// rotation old rows name the key that opens them until they are sealed again.
    std::uint32_t id() const noexcept { return id_; }

private:
    std::array<std::uint8_t, data_key_size> bytes_{};
    std::uint32_t id_ = 0;
};

/// Loads the data key from `path`, or creates it when the file does not exist: 32 random bytes,
/// mode 0600, O_CREAT|O_EXCL (two starts racing get the same key), fsync'ed with its directory,
/// parent directories created. Throws security_error naming the file when it cannot be read or
/// created, is not a regular file, is not exactly 32 bytes (truncated, or not a key file), or is
/// readable or writable by group or others (mode must be 0600 or 0400: chmod 600 it).
data_key load_or_create_key_file(const std::filesystem::path& path);

/// Byte 0 of every sealed blob (the format below).
inline constexpr std::uint8_t sealed_version = 1;
/// Bytes a sealed blob adds to its plaintext: version 1 + key id 4 + nonce 24 + MAC 16.
inline constexpr std::size_t sealed_overhead = 1 + 4 + 24 + 16;

/// `plaintext` encrypted and authenticated with `key`:
/// version (1 byte) | key id (4 bytes, big-endian) | random nonce (24) | crypto_secretbox_easy
/// ciphertext (MAC 16 + plaintext). The random 24-byte nonce never repeats in practice.
std::vector<std::uint8_t> seal(const data_key& key, std::span<const std::uint8_t> plaintext);
/// As above, for text.
std::vector<std::uint8_t> seal(const data_key& key, std::string_view plaintext);

/// The plaintext of a sealed blob, using the key among `keys` whose id the blob names; nullopt
/// when no key has that id, the blob is malformed, or it was altered in any bit.
std::optional<std::string> open(std::span<const data_key> keys, std::span<const std::uint8_t> blob);
/// As above with one key.
std::optional<std::string> open(const data_key& key, std::span<const std::uint8_t> blob);

/// True when `blob` has the shape of a sealed blob (version byte and at least the overhead);
/// says nothing about whether it opens.
bool looks_sealed(std::span<const std::uint8_t> blob) noexcept;

}  // namespace arc::security
