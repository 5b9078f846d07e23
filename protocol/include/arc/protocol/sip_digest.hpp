// Purpose: SIP HTTP Digest authentication (RFC 2617 / RFC 7616, MD5, qop=auth or no qop) for
// SCAIP devices (PROTOCOLS.md §4.2). Sans-I/O: the caller supplies the nonce and the stored secret.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace arc::protocol {

/// The parameters of an `Authorization: Digest ...` header (names lower-cased, quotes removed).
struct digest_credentials {
    std::string username;
    std::string realm;
    std::string nonce;
    std::string uri;
    std::string response;
    std::string algorithm;  // empty or "MD5"
    std::string qop;        // empty or "auth"
    std::string nc;
    std::string cnonce;
    std::string opaque;
};

/// Parses the value of an Authorization / Proxy-Authorization header. nullopt when the scheme is
/// not Digest, a parameter is malformed (unterminated quote, no '='), the value is over 4096 bytes,
/// or username/realm/nonce/uri/response is missing.
std::optional<digest_credentials> parse_digest_authorization(std::string_view header_value);

/// Lower-case hex MD5 of `data`.
std::string md5_hex(std::string_view data);

/// HA1 = MD5(username:realm:password), lower-case hex: what arcd may store instead of a password.
std::string digest_ha1(std::string_view username, std::string_view realm,
                       std::string_view password);

/// The expected `response` for credentials `c`, a request method and HA1 (lower-case hex).
/// With qop=auth: MD5(HA1:nonce:nc:cnonce:auth:HA2), without qop: MD5(HA1:nonce:HA2),
/// HA2 = MD5(method:uri).
std::string digest_response(const digest_credentials& c, std::string_view method,
                            std::string_view ha1);

/// True when `c.response` matches (constant-time compare) and the algorithm and qop are ones we
/// support. The caller checks the realm, the username and that the nonce is one it issued.
bool verify_digest(const digest_credentials& c, std::string_view method, std::string_view ha1);

/// The value of a WWW-Authenticate header: `Digest realm="..", nonce="..", algorithm=MD5,
/// qop="auth"` (quotes and backslashes in realm/nonce escaped; `stale=true` when asked).
std::string build_www_authenticate(std::string_view realm, std::string_view nonce,
                                   bool stale = false);

}  // namespace arc::protocol
