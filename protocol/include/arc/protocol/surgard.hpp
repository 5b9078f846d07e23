// Purpose: serial alarm receivers' automation output (Sur-Gard MLR2/System III "SG Automation
// Output", Ademco 685 Contact ID), sans-I/O: a byte-stream framer, a line parser and the reply.
// Wire format: PROTOCOLS.md §5.1 (Sur-Gard protocols 1, 5, Q, S, 0, heartbeat, DC4, B32 headers)
// and §5.2 (Ademco 685). The caller stores the line, then sends the reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "arc/protocol/contact_id.hpp"
#include "arc/protocol/expected.hpp"
#include "arc/protocol/sia_dcs.hpp"

namespace arc::protocol {

/// The output format a receiver is configured for. Both begin lines with digits, so the format
/// is configured per port rather than guessed.
enum class receiver_format { surgard, ademco685 };

/// "surgard", "ademco685".
std::string_view to_string(receiver_format format) noexcept;

/// Host replies of the automation handshake (§5.1).
inline constexpr char receiver_ack = '\x06';
inline constexpr char receiver_nak = '\x15';
/// Sur-Gard packet terminator (DC4).
inline constexpr char surgard_terminator = '\x14';

/// One packet as cut from the stream by receiver_framer.
struct receiver_frame {
    std::string line;  ///< the packet without B32 header, leading LF and terminator
    std::string raw;   ///< every byte of the packet as received (header and terminator included)
    bool b32 = false;  ///< arrived with a B32 header `00 00 LL LL` (TCP): the reply gets one too
    std::size_t b32_length = 0;  ///< the header's BCD length (whole packet, header included)
};

/// Splits a receiver's byte stream into packets. A packet ends at DC4 (Sur-Gard) or CR (Ademco
/// 685, SilentKnight); LF, CR, space and NUL between packets are skipped, a packet's leading LF
/// is dropped, and an LF inside a packet means its terminator was lost: the bytes before it are
/// discarded and a new packet starts (resync). On TCP a packet may begin with a B32 header
/// `00 00 LL LL` (BCD length). Memory is bounded by `max_line`: a longer packet is discarded up
/// to its terminator and reported once.
class receiver_framer {
public:
    /// `max_line` counts the packet's bytes after the header, terminator included.
    explicit receiver_framer(std::size_t max_line = 256);

    /// Appends bytes read from the port or socket.
    void feed(std::string_view bytes);

    /// The next complete packet, or error::need_more when none is buffered, or
    /// error::frame_too_large once per discarded oversize packet.
    expected<receiver_frame> next();

    /// Bytes held for an incomplete packet.
    std::size_t buffered() const noexcept;

    /// Bytes skipped as noise or discarded with oversize or broken packets, since creation.
    std::uint64_t discarded() const noexcept;

private:
    enum class state { idle, header, line, overflow };
    void on_byte(char c);
    void on_idle(char c);
    void on_header(char c);
    void on_line(char c);
    void on_overflow(char c);
    void finish_line();
    void reset_packet();

    std::size_t max_line_;
    state state_ = state::idle;
    std::string header_;  ///< B32 header bytes collected so far
    std::string again_;   ///< bytes after a NUL that began no header, to be looked at again
    std::string raw_;     ///< the current packet's bytes, header included
    std::string line_;    ///< the current packet's content
    bool b32_ = false;
    std::size_t b32_length_ = 0;
    std::deque<expected<receiver_frame>> ready_;
    std::uint64_t discarded_ = 0;
};

/// What a receiver line is.
enum class receiver_line_kind {
    heartbeat,   ///< receiver supervision (Sur-Gard `1RR000 … @`, SilentKnight `RL OKAY @`)
    contact_id,  ///< Sur-Gard protocol 5 / Q, Ademco 685 Contact ID
    sia,         ///< Sur-Gard protocol S, and 0 (receiver-internal events, account 0000)
    basic,       ///< Sur-Gard protocol 1 (3/1, 4/1, 4/2 formats), Ademco 685 3x1/4x2
};

/// "heartbeat", "contact_id", "sia", "basic".
std::string_view to_string(receiver_line_kind kind) noexcept;

/// A decoded receiver line.
struct receiver_line {
    receiver_line_kind kind = receiver_line_kind::heartbeat;
    char protocol = '1';           ///< Sur-Gard protocol id ('1','5','Q','S','0'); 'A' for 685
    std::string receiver;          ///< receiver number as printed ("01"; one digit for 685)
    std::string line_number;       ///< line card number ("001", "1"); 685: receiver group digit
    std::string account;           ///< upper case, empty for a heartbeat
    std::string message_type;      ///< Contact ID "18", "98", "58"
    std::optional<cid_event> cid;  ///< Contact ID event, qualifier as '1', '3', '6'
    char zone_kind = 0;            ///< 685: 'C' zone or 'U' user; 0 otherwise
    std::string sia_data;          ///< protocol S/0: the SIA events after `[#acct|`, before `]`
    std::optional<sia_block> sia;  ///< protocol S/0: the decoded block
    std::string basic_event;       ///< protocol 1 / 685 basic: event letter or digit(s)
    std::string basic_group;       ///< protocol 1: area (or empty)
    std::string basic_zone;        ///< protocol 1 / 685 basic: zone or user (or empty)
};

/// Parses one Sur-Gard line (framer's `line`). Errors: bad_format (unknown protocol id, wrong
/// layout), bad_header (receiver or line number), bad_data (Contact ID or SIA body). Never
/// throws.
expected<receiver_line> parse_surgard_line(std::string_view line);

/// Parses one Ademco 685 line (framer's `line`, LF and CR removed); same errors.
expected<receiver_line> parse_ademco685_line(std::string_view line);

/// Everything decided about one packet: the decoding and the reply to send once it is stored.
struct receiver_result {
    std::optional<receiver_line> line;  ///< set when the line parsed
    std::error_code error;              ///< why NAK; empty when clean
    bool accepted = false;              ///< parsed: ACK once stored
    std::string reply_bytes;            ///< ACK or NAK (with a B32 header when the packet had one)
    bool is_heartbeat() const noexcept {
        return line && line->kind == receiver_line_kind::heartbeat;
    }
};

/// Parses a packet in `format` and chooses the reply: ACK for a line that parsed, NAK for a
/// malformed one (the receiver re-sends it). A B32 header whose length disagrees with the packet
/// is malformed too.
receiver_result handle_receiver_frame(const receiver_frame& frame, receiver_format format);

/// `reply` (ACK or NAK) with a B32 header when `b32`: `00 00 00 05 06`.
std::string build_receiver_reply(char reply, bool b32);

/// A Sur-Gard protocol-5 line `5RRLLL 18AAAAQXYZGGCCC<DC4>` (encoder for arc-sim and tests);
/// `event.qualifier` is '1', '3' or '6'.
std::string encode_surgard_cid(std::string_view receiver, std::string_view line,
                               std::string_view account, const cid_event& event);

}  // namespace arc::protocol
