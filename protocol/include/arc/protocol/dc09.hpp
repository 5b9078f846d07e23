// Purpose: SIA DC-09 framing, decoding, replies and the receiver decision table, sans-I/O.
// Wire format: PROTOCOLS.md §1 (frame §1.3, CRC §1.4, AES §1.12, replies §1.13, decisions §1.14).
// Nothing here reads a socket or a clock or logs: the caller passes bytes, "now" and randomness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "arc/protocol/aes.hpp"
#include "arc/protocol/contact_id.hpp"
#include "arc/protocol/expected.hpp"
#include "arc/protocol/sia_dcs.hpp"

namespace arc::protocol {

/// Splits a TCP byte stream into DC-09 frames. A frame runs from LF to the next CR; bytes before
/// a frame that are CR, LF, NUL or space are skipped (stray line ends, trailing NUL padding); a
/// frame whose LF is missing starts at its first non-skipped byte. Memory is bounded by
/// `max_frame`: a frame longer than that is discarded up to its CR and reported once.
class dc09_framer {
public:
    /// `max_frame` counts LF and CR.
    explicit dc09_framer(std::size_t max_frame = 1024);

    /// Appends bytes read from the stream (copies what is needed; keeps at most max_frame bytes).
    void feed(std::string_view bytes);

    /// The next complete frame, LF..CR inclusive (LF added when it was missing), or an error:
    /// error::need_more when no complete frame is buffered, error::frame_too_large once per
    /// discarded oversize frame.
    expected<std::string> next();

    /// Bytes held for an incomplete frame.
    std::size_t buffered() const noexcept;

    /// Bytes skipped between frames (noise) and discarded with oversize frames, since creation.
    std::uint64_t discarded() const noexcept;

private:
    std::size_t max_frame_;
    std::string buf_;                          ///< the incomplete frame, LF first
    std::deque<expected<std::string>> ready_;  ///< complete frames and overflow reports, in order
    bool overflow_ = false;                    ///< discarding an oversize frame up to its CR
    std::uint64_t discarded_ = 0;
};

/// The header of a frame and its still-encoded body, as checked by parse_dc09_frame.
struct dc09_frame {
    std::uint16_t crc = 0;            ///< CRC as received
    std::size_t length = 0;           ///< length field as received
    std::string token;                ///< ID token without quotes and without '*' ("SIA-DCS")
    bool encrypted = false;           ///< '*' before the token
    std::string seq;                  ///< 4 digits, echoed in replies
    std::optional<std::string> rcvr;  ///< receiver digits after 'R', as received (case kept)
    std::string pref;                 ///< prefix digits after 'L' (may be empty), as received
    std::string acct;                 ///< account digits after '#' ("A0" in NAK frames)
    std::string body;                 ///< after the data block's '[' up to CR: clear text
                                      ///< "data]{[x]}[_ts]", or the hex cipher text
    bool length_mismatch = false;     ///< set only when parse was asked to tolerate it
};

/// Checks framing, CRC (either hex case), length and header of one frame (LF..CR). Errors:
/// bad_format, bad_crc, bad_length (unless `tolerate_length_mismatch`), bad_header.
expected<dc09_frame> parse_dc09_frame(std::string_view raw, bool tolerate_length_mismatch = false);

/// The decoded content of a frame: data block, extended data blocks and timestamp.
struct dc09_content {
    std::string data;                      ///< without brackets and without extended data
    std::vector<std::string> xdata;        ///< each extended block without brackets, "X115000"
    std::optional<std::string> timestamp;  ///< "HH:MM:SS,MM-DD-YYYY" without '_'
    std::optional<std::int64_t> timestamp_unix;  ///< the timestamp as Unix seconds (UTC)
    std::size_t pad_length = 0;                  ///< encrypted frames: pad bytes before '|'
};

/// Decodes a clear-text body "data]{[x]}[_ts]".
expected<dc09_content> decode_clear_body(std::string_view body);

/// Decrypts and decodes an encrypted body (hex cipher text); error::decrypt_failed or
/// error::bad_timestamp when the key is wrong or the plaintext is corrupt. Tolerates a pad without
/// '|' (Hikvision) by locating the data from the trailing "]_timestamp".
expected<dc09_content> decrypt_body(const aes_key& key, std::string_view hex_body);

/// "HH:MM:SS,MM-DD-YYYY" for a Unix time (UTC).
std::string format_dc09_timestamp(std::int64_t unix_seconds);

/// Unix seconds (UTC) from "HH:MM:SS,MM-DD-YYYY"; error::bad_timestamp if malformed.
expected<std::int64_t> parse_dc09_timestamp(std::string_view text);

/// A frame made readable for people: LF, CR, NUL and backslash as \n \r \0 \\, other control
/// bytes and DEL as \xHH; bytes from 0x80 are kept (UTF-8 text in SIA ^...^ blocks).
std::string escape_frame(std::string_view bytes);

/// Wraps a body (from the opening '"' to the last byte before CR) as LF CRC LLLL body CR.
std::string build_dc09_frame(std::string_view body);

/// `"ACK"seq[Rrcvr]Lpref#acct[]` echoing the frame's addressing exactly.
std::string build_ack(const dc09_frame& to);

/// `"*ACK"seq[Rrcvr]Lpref#acct[HEX(AES(pad|]_now))]`; `pad_random` supplies the random bytes
/// for the pad (bytes '|', '[', ']' are replaced, so any source will do).
expected<std::string> build_encrypted_ack(
    const dc09_frame& to, const aes_key& key, std::int64_t now_unix,
    const std::function<void(std::span<std::uint8_t>)>& pad_random);

/// `"NAK"0000R0L0A0[]_now` (never encrypted).
std::string build_nak(std::int64_t now_unix);

/// `"DUH"seq[Rrcvr]Lpref#acct[]` (clear text even for encrypted input).
std::string build_duh(const dc09_frame& to);

/// The reply the receiver sends to one frame.
enum class reply_kind { none, ack, ack_encrypted, nak, duh };

/// "NONE", "ACK", "ACK_ENCRYPTED", "NAK", "DUH" (the names used in dc09_vectors.json).
std::string_view to_string(reply_kind kind) noexcept;

/// What the centre knows of one account (supplied by the caller's device registry).
struct account_info {
    std::optional<aes_key> key;                 ///< provisioned AES key: clear text is then refused
                                                ///< unless accept_clear_text
    std::optional<bool> accept_clear_text;      ///< per-account override of the policy
    std::optional<bool> window_for_clear_text;  ///< per-account override of the policy
    bool tolerate_length_mismatch = false;      ///< accept "CRC right, length wrong" (old panels)
};

/// The policy choices of the decision table (PROTOCOLS.md §1.14), with telecare defaults.
struct receiver_policy {
    bool ack_unknown_account = false;    ///< false: NAK; true: ACK and flag error::unknown_account
    bool accept_clear_text = false;      ///< clear text from an account that has a key: false NAK
    bool ack_unknown_code = true;        ///< true: ACK and flag error::unknown_code (never drop
                                         ///< an alarm); false: DUH as pysiaalarm
    bool window_for_clear_text = false;  ///< true: clear text outside the window is NAKed too;
                                         ///< false: ACKed and flagged outside_window
    std::int64_t window_past_s = 40;     ///< message may be this much older than now
    std::int64_t window_future_s = 20;   ///< message may be this much newer than now
};

/// Everything the receiver decided about one frame: the reply and what was decoded.
struct dc09_result {
    reply_kind reply = reply_kind::none;
    std::string reply_bytes;              ///< exact bytes to send (empty for none)
    std::error_code error;                ///< why NAK/DUH, or a flag kept with an ACK
                                          ///< (unknown_code, unknown_account); empty when clean
    std::optional<dc09_frame> frame;      ///< set once framing and header parsed
    std::optional<dc09_content> content;  ///< set once the body decoded (decrypted)
    std::optional<sia_block> sia;         ///< SIA-DCS data, decoded
    std::optional<cid_block> cid;         ///< ADM-CID data, decoded
    std::optional<std::int64_t> skew_s;   ///< message time minus receiver time, when timestamped
    bool outside_window = false;          ///< timestamp outside the window (flag for clear text)
    bool accepted = false;                ///< ACKed as an event or link test (not a reply frame)
    bool is_link_test() const noexcept { return frame && frame->token == "NULL"; }
};

/// Inputs of one decision besides the frame.
struct receive_context {
    std::int64_t now_unix = 0;                ///< receiver time (UTC seconds)
    const receiver_policy* policy = nullptr;  ///< must be set
    /// The account registry: nullopt for an unknown account.
    std::function<std::optional<account_info>(std::string_view acct)> lookup;
    /// Random bytes for *ACK pads.
    std::function<void(std::span<std::uint8_t>)> random;
};

/// Runs the receiver decision table on one frame (LF..CR as given by dc09_framer): frame, CRC,
/// length, header, account, decrypt, window, data; returns the reply to send once the frame is
/// stored. Frames that are themselves replies (ACK, NAK, DUH, RSP) get reply_kind::none.
dc09_result handle_dc09_frame(std::string_view raw, const receive_context& ctx);

/// One message as a device sends it (encoder for arc-sim and tests).
struct dc09_message_spec {
    std::string token = "SIA-DCS";  ///< "SIA-DCS", "ADM-CID", "NULL"
    std::string seq = "0001";
    std::optional<std::string> rcvr;
    std::string pref = "0";
    std::string acct;
    std::string data;                            ///< data block content without brackets
    std::vector<std::string> xdata;              ///< extended blocks without brackets
    std::optional<std::int64_t> timestamp_unix;  ///< required when encrypting
};

/// A clear-text frame for `spec`.
std::string encode_dc09(const dc09_message_spec& spec);

/// An encrypted frame for `spec` (token gets '*'); the timestamp is required.
expected<std::string> encode_dc09_encrypted(
    const dc09_message_spec& spec, const aes_key& key,
    const std::function<void(std::span<std::uint8_t>)>& pad_random);

}  // namespace arc::protocol
