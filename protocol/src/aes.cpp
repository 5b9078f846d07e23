#include "arc/protocol/aes.hpp"

#include <memory>

#include <openssl/evp.h>

#include "arc/protocol/error.hpp"

namespace arc::protocol {

int hex_digit_value(char ch) noexcept {
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return -1;
}

namespace {

bool all_hex(std::string_view text) noexcept {
    for (const char ch : text) {
        if (hex_digit_value(ch) < 0) {
            return false;
        }
    }
    return true;
}

const EVP_CIPHER* cipher_for(std::size_t key_size) noexcept {
    switch (key_size) {
        case 16:
            return EVP_aes_128_cbc();
        case 24:
            return EVP_aes_192_cbc();
        case 32:
            return EVP_aes_256_cbc();
        default:
            return nullptr;
    }
}

struct ctx_deleter {
    void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};

// DC-09 §5.4.6: CBC with an all-zero IV, each frame on its own; the message carries its own
// padding (§5.4.4), so the library's PKCS#7 padding must be off in both directions.
expected<std::string> run_cbc(const aes_key& key, std::string_view input, bool encrypt) {
    const EVP_CIPHER* cipher = cipher_for(key.size());
    if (cipher == nullptr) {
        return fail(error::bad_key);
    }
    if (input.size() % 16 != 0 || input.size() > 0x7FFF'0000U) {
        return fail(error::decrypt_failed);
    }
    std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter> ctx(EVP_CIPHER_CTX_new());
    if (!ctx) {
        return fail(error::decrypt_failed);
    }
    const unsigned char iv[16] = {};
    if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), iv, encrypt ? 1 : 0) != 1) {
        return fail(error::decrypt_failed);
    }
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    std::string out(input.size() + 16, '\0');
    int written = 0;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): OpenSSL takes unsigned bytes.
    auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    const auto* in_bytes = reinterpret_cast<const unsigned char*>(input.data());
    if (EVP_CipherUpdate(ctx.get(), out_bytes, &written, in_bytes,
                         static_cast<int>(input.size())) != 1) {
        return fail(error::decrypt_failed);
    }
    int final_written = 0;
    if (EVP_CipherFinal_ex(ctx.get(), out_bytes + written, &final_written) != 1) {
        return fail(error::decrypt_failed);
    }
    out.resize(static_cast<std::size_t>(written) + static_cast<std::size_t>(final_written));
    return out;
}

}  // namespace

expected<aes_key> parse_aes_key(std::string_view text) {
    const std::size_t n = text.size();
    if ((n == 32 || n == 48 || n == 64) && all_hex(text)) {
        auto bytes = hex_decode(text);
        if (!bytes) {
            return fail(error::bad_key);
        }
        return aes_key(bytes->begin(), bytes->end());
    }
    if (n == 16 || n == 24 || n == 32) {
        aes_key key;
        key.reserve(n);
        for (const char ch : text) {
            key.push_back(static_cast<std::uint8_t>(ch));
        }
        return key;
    }
    return fail(error::bad_key);
}

std::string key_to_hex(const aes_key& key) {
    std::string bytes;
    bytes.reserve(key.size());
    for (const std::uint8_t b : key) {
        bytes.push_back(static_cast<char>(b));
    }
    return hex_encode(bytes);
}

expected<std::string> aes_cbc_decrypt(const aes_key& key, std::string_view cipher) {
    return run_cbc(key, cipher, false);
}

expected<std::string> aes_cbc_encrypt(const aes_key& key, std::string_view plain) {
    return run_cbc(key, plain, true);
}

expected<std::string> hex_decode(std::string_view hex) {
    if (hex.size() % 2 != 0) {
        return fail(error::decrypt_failed);
    }
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_digit_value(hex[i]);
        const int lo = hex_digit_value(hex[i + 1]);
        if (hi < 0 || lo < 0) {
            return fail(error::decrypt_failed);
        }
        out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
}

std::string hex_encode(std::string_view bytes) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char ch : bytes) {
        const auto b = static_cast<unsigned char>(ch);
        out.push_back(digits[b >> 4U]);
        out.push_back(digits[b & 0x0FU]);
    }
    return out;
}

}  // namespace arc::protocol
