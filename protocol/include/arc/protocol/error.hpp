// Purpose: the error codes of protocol/ (untrusted input is reported, never thrown).
#pragma once

#include <system_error>
#include <type_traits>

namespace arc::protocol {

/// Why a frame or block was not accepted. `need_more` means "feed more bytes", not failure.
enum class error {
    need_more = 1,
    frame_too_large,      ///< a frame exceeded the framer's limit; its bytes were discarded
    bad_format,           ///< not DC-09 framing (LF, 4 hex CRC, 4 hex length, quoted ID, ...)
    bad_crc,              ///< CRC-16/ARC does not match
    bad_length,           ///< length field does not match the bytes received
    bad_header,           ///< sequence, receiver, prefix or account malformed
    unknown_token,        ///< well-formed frame with an ID token we do not process (-> DUH)
    unknown_account,      ///< account not provisioned
    no_key,               ///< encrypted frame for an account without a key
    decrypt_failed,       ///< cipher text not hex / not a multiple of 16 / wrong key
    bad_timestamp,        ///< timestamp missing or malformed where required
    outside_window,       ///< encrypted message outside the +20/-40 s window (-> NAK with time)
    encryption_required,  ///< clear text from an account provisioned as encrypted
    bad_data,             ///< data block does not parse (SIA-DCS or ADM-CID)
    empty_data,           ///< SIA-DCS / ADM-CID carrying no event (-> DUH)
    unknown_code,         ///< event code not in the SIA DC-03 / Contact ID tables
    bad_checksum,         ///< Contact ID checksum (sum of digit values mod 15) is wrong
    bad_key,              ///< AES key text is neither 32/48/64 hex nor 16/24/32 ASCII characters
    missing_field,        ///< a mandatory element or header is absent (SCAIP, SIP)
};

/// The category of arc::protocol::error.
const std::error_category& error_category() noexcept;

/// Makes std::error_code from arc::protocol::error.
inline std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

}  // namespace arc::protocol

template <>
struct std::is_error_code_enum<arc::protocol::error> : std::true_type {};
