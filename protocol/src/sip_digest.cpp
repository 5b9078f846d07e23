#include "arc/protocol/sip_digest.hpp"

#include <array>
#include <cctype>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace arc::protocol {

namespace {

constexpr std::size_t max_header = 4096;

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& ch : out) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return out;
}

bool is_space(char ch) noexcept { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

void skip_space(std::string_view text, std::size_t& pos) noexcept {
    while (pos < text.size() && is_space(text[pos])) {
        ++pos;
    }
}

std::string quote(std::string_view text) {
    std::string out = "\"";
    for (const char ch : text) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
        }
        if (ch != '\r' && ch != '\n') {
            out += ch;
        }
    }
    out += '"';
    return out;
}

}  // namespace

std::string md5_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_md5(), nullptr) != 1) {
        return {};
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2U);
    for (unsigned int i = 0; i < size; ++i) {
        out += digits[digest[i] >> 4U];
        out += digits[digest[i] & 0x0FU];
    }
    return out;
}

std::string digest_ha1(std::string_view username, std::string_view realm,
                       std::string_view password) {
    std::string a1;
    a1.append(username).append(":").append(realm).append(":").append(password);
    return md5_hex(a1);
}

std::optional<digest_credentials> parse_digest_authorization(std::string_view value) {
    if (value.size() > max_header) {
        return std::nullopt;
    }
    std::size_t pos = 0;
    skip_space(value, pos);
    if (value.size() - pos < 6 || lower(value.substr(pos, 6)) != "digest" ||
        (value.size() > pos + 6 && !is_space(value[pos + 6]))) {
        return std::nullopt;
    }
    pos += 6;
    std::map<std::string, std::string> params;
    while (true) {
        skip_space(value, pos);
        if (pos >= value.size()) {
            break;
        }
        const std::size_t eq = value.find('=', pos);
        if (eq == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view name = value.substr(pos, eq - pos);
        while (!name.empty() && is_space(name.back())) {
            name.remove_suffix(1);
        }
        if (name.empty()) {
            return std::nullopt;
        }
        pos = eq + 1;
        skip_space(value, pos);
        std::string param;
        if (pos < value.size() && value[pos] == '"') {
            ++pos;
            bool closed = false;
            while (pos < value.size()) {
                const char ch = value[pos++];
                if (ch == '\\' && pos < value.size()) {
                    param += value[pos++];
                } else if (ch == '"') {
                    closed = true;
                    break;
                } else {
                    param += ch;
                }
            }
            if (!closed) {
                return std::nullopt;
            }
        } else {
            while (pos < value.size() && value[pos] != ',' && !is_space(value[pos])) {
                param += value[pos++];
            }
        }
        params[lower(name)] = std::move(param);
        skip_space(value, pos);
        if (pos < value.size()) {
            if (value[pos] != ',') {
                return std::nullopt;
            }
            ++pos;
        }
    }
    auto get = [&params](const char* key) {
        const auto it = params.find(key);
        return it == params.end() ? std::string{} : it->second;
    };
    digest_credentials c{get("username"), get("realm"),     get("nonce"), get("uri"),
                         get("response"), get("algorithm"), get("qop"),   get("nc"),
                         get("cnonce"),   get("opaque")};
    if (c.username.empty() || c.nonce.empty() || c.uri.empty() || c.response.empty() ||
        params.find("realm") == params.end()) {
        return std::nullopt;
    }
    return c;
}

std::string digest_response(const digest_credentials& c, std::string_view method,
                            std::string_view ha1) {
    std::string a2;
    a2.append(method).append(":").append(c.uri);
    const std::string ha2 = md5_hex(a2);
    std::string kd;
    kd.append(ha1).append(":").append(c.nonce).append(":");
    if (!c.qop.empty()) {
        kd.append(c.nc).append(":").append(c.cnonce).append(":").append(c.qop).append(":");
    }
    kd.append(ha2);
    return md5_hex(kd);
}

bool verify_digest(const digest_credentials& c, std::string_view method, std::string_view ha1) {
    if (!c.algorithm.empty() && lower(c.algorithm) != "md5") {
        return false;
    }
    if (!c.qop.empty() && (lower(c.qop) != "auth" || c.nc.empty() || c.cnonce.empty())) {
        return false;
    }
    const std::string expected = digest_response(c, method, ha1);
    const std::string given = lower(c.response);
    if (expected.empty() || given.size() != expected.size()) {
        return false;
    }
    return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

std::string build_www_authenticate(std::string_view realm, std::string_view nonce, bool stale) {
    std::string out = "Digest realm=" + quote(realm) + ", nonce=" + quote(nonce) +
                      ", algorithm=MD5, qop=\"auth\"";
    if (stale) {
        out += ", stale=true";
    }
    return out;
}

}  // namespace arc::protocol
