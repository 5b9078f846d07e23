#include "arc/protocol/surgard.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "arc/protocol/error.hpp"

namespace arc::protocol {

namespace {

constexpr char lf = '\n';
constexpr char cr = '\r';
constexpr std::size_t b32_header_size = 4;
// RR plus 1 to 7 line digits: System 5 option 409 allows 3 to 9 RRLLL digits (§5.1).
constexpr std::size_t min_rrlll = 3;
constexpr std::size_t max_rrlll = 9;
constexpr std::size_t receiver_digits = 2;
constexpr std::size_t cid_tail = 1 + 3 + 2 + 3;  // Q XYZ GG CCC

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Contact ID "hex form" (§3.1): 0-9 and B-F; A is printed as 0 but tolerated here.
bool is_hex_form(char c) noexcept {
    return is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

bool all_of(std::string_view text, bool (*pred)(char) noexcept) noexcept {
    return std::all_of(text.begin(), text.end(), pred);
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

std::string_view trim_spaces(std::string_view text) noexcept {
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    return text;
}

std::vector<std::string_view> split_spaces(std::string_view text) {
    std::vector<std::string_view> out;
    while (true) {
        text = trim_spaces(text);
        if (text.empty()) {
            return out;
        }
        const auto space = text.find(' ');
        out.push_back(text.substr(0, space));
        if (space == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(space);
    }
}

// Sur-Gard writes the Contact ID qualifier as a letter: E new (1), R restore (3), P previous (6).
std::optional<char> cid_qualifier(char letter) noexcept {
    switch (letter) {
        case 'E':
            return '1';
        case 'R':
            return '3';
        case 'P':
            return '6';
        default:
            return std::nullopt;
    }
}

char qualifier_letter(char qualifier) noexcept {
    return qualifier == '3' ? 'R' : qualifier == '6' ? 'P' : 'E';
}

// "QXYZGGCCC" (Sur-Gard) or its pieces (685) into a cid_event.
expected<cid_event> make_cid(char qualifier_letter_in, std::string_view code,
                             std::string_view group, std::string_view zone) {
    const auto qualifier = cid_qualifier(qualifier_letter_in);
    if (!qualifier || code.size() != 3 || group.size() != 2 || zone.size() != 3 ||
        !all_of(code, is_hex_form) || !all_of(group, is_hex_form) || !all_of(zone, is_hex_form)) {
        return fail(error::bad_data);
    }
    cid_event ev;
    ev.qualifier = *qualifier;
    ev.code = upper(code);
    ev.group = upper(group);
    ev.zone = upper(zone);
    ev.known = is_known_cid_code(ev.code);
    return ev;
}

// The RRLLL digits after the protocol id: receiver (2 digits) and line number (the rest).
struct rrlll {
    std::string receiver;
    std::string line;
    std::string_view rest;  ///< what follows the digits
};

expected<rrlll> split_rrlll(std::string_view after_id) {
    std::size_t n = 0;
    while (n < after_id.size() && is_digit(after_id[n])) {
        ++n;
    }
    if (n < min_rrlll || n > max_rrlll) {
        return fail(error::bad_header);
    }
    return rrlll{std::string(after_id.substr(0, receiver_digits)),
                 std::string(after_id.substr(receiver_digits, n - receiver_digits)),
                 after_id.substr(n)};
}

// Protocol 1 heartbeat: only spaces and one '@' after RRLLL (spacing varies by model, §5.1).
bool is_heartbeat_tail(std::string_view rest) noexcept {
    return std::count(rest.begin(), rest.end(), '@') == 1 &&
           std::all_of(rest.begin(), rest.end(), [](char c) { return c == ' ' || c == '@'; });
}

// Protocol 5 / Q: `s MT AAAA… Q XYZ GG CCC`.
expected<receiver_line> parse_cid_body(receiver_line out, std::string_view rest,
                                       std::size_t account_digits) {
    if (rest.empty() || rest.front() != ' ') {
        return fail(error::bad_format);
    }
    const std::string_view body = trim_spaces(rest);
    if (body.size() != 2 + account_digits + cid_tail) {
        return fail(error::bad_format);
    }
    const std::string_view mt = body.substr(0, 2);
    const bool mt_ok = out.protocol == 'Q' ? mt == "58" : (mt == "18" || mt == "98");
    if (!mt_ok) {
        return fail(error::bad_data);
    }
    const std::string_view account = body.substr(2, account_digits);
    if (!all_of(account, is_hex_form)) {
        return fail(error::bad_data);
    }
    const std::string_view tail = body.substr(2 + account_digits);
    auto ev = make_cid(tail[0], tail.substr(1, 3), tail.substr(4, 2), tail.substr(6, 3));
    if (!ev) {
        return fail(ev.error());
    }
    out.kind = receiver_line_kind::contact_id;
    out.message_type = std::string(mt);
    out.account = upper(account);
    out.cid = std::move(*ev);
    return out;
}

// Protocol S / 0: `[#AAAA|Nri1/BA01]`, up to 66 bytes of SIA data.
expected<receiver_line> parse_sia_body(receiver_line out, std::string_view rest) {
    rest = trim_spaces(rest);
    if (rest.size() < 2 || rest.front() != '[' || rest.back() != ']') {
        return fail(error::bad_format);
    }
    const std::string_view data = rest.substr(1, rest.size() - 2);
    if (data.find_first_of("[]") != std::string_view::npos) {
        return fail(error::bad_format);
    }
    auto block = parse_sia_dcs(data);
    if (!block) {
        return fail(error::bad_data);
    }
    out.kind = receiver_line_kind::sia;
    // As the vectors give it: the events, without the `#acct|` prefix.
    const auto pipe = data.find('|');
    out.sia_data =
        std::string(!data.empty() && data.front() == '#' && pipe != std::string_view::npos
                        ? data.substr(pipe + 1)
                        : data);
    out.account = upper(block->account.value_or(""));
    out.sia = std::move(*block);
    return out;
}

// Protocol 1 (basic formats): `ssss AAAAAA s X G YYY` after RRLLL; G may be a space.
expected<receiver_line> parse_basic_body(receiver_line out, std::string_view rest) {
    constexpr std::string_view event_letters = "0123456789ABCFHORTZ";
    rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
    const auto space = rest.find(' ');
    if (space == std::string_view::npos || space < 3 || space > 6) {
        return fail(error::bad_format);
    }
    const std::string_view account = rest.substr(0, space);
    std::string_view tail = rest.substr(space + 1);
    while (!tail.empty() && tail.back() == ' ') {
        tail.remove_suffix(1);
    }
    if (!all_of(account, is_hex_form) || tail.empty() ||
        event_letters.find(tail.front()) == std::string_view::npos) {
        return fail(error::bad_data);
    }
    const std::string_view group = tail.size() > 1 ? trim_spaces(tail.substr(1, 1)) : "";
    const std::string_view zone = tail.size() > 2 ? tail.substr(2) : "";
    if (zone.size() > 3 || !all_of(zone, is_hex_form) ||
        (!group.empty() && !is_hex_form(group.front()))) {
        return fail(error::bad_data);
    }
    out.kind = receiver_line_kind::basic;
    out.account = upper(account);
    out.basic_event = std::string(1, tail.front());
    out.basic_group = std::string(group);
    out.basic_zone = std::string(zone);
    return out;
}

}  // namespace

std::string_view to_string(receiver_format format) noexcept {
    return format == receiver_format::ademco685 ? "ademco685" : "surgard";
}

std::string_view to_string(receiver_line_kind kind) noexcept {
    switch (kind) {
        case receiver_line_kind::heartbeat:
            return "heartbeat";
        case receiver_line_kind::contact_id:
            return "contact_id";
        case receiver_line_kind::sia:
            return "sia";
        case receiver_line_kind::basic:
            return "basic";
    }
    return "unknown";
}

// ---- framer ------------------------------------------------------------------------------

receiver_framer::receiver_framer(std::size_t max_line)
    : max_line_(std::max<std::size_t>(max_line, 2)) {}

void receiver_framer::feed(std::string_view bytes) {
    for (const char c : bytes) {
        on_byte(c);
        // A NUL that began no B32 header was noise: the bytes after it are looked at again. They
        // are at most 3, too few to complete (and reject) another header among themselves.
        while (!again_.empty()) {
            std::string replay;
            replay.swap(again_);
            for (const char d : replay) {
                on_byte(d);
            }
        }
    }
}

void receiver_framer::on_byte(char c) {
    switch (state_) {
        case state::idle:
            on_idle(c);
            return;
        case state::header:
            on_header(c);
            return;
        case state::line:
            on_line(c);
            return;
        case state::overflow:
            on_overflow(c);
            return;
    }
}

void receiver_framer::on_idle(char c) {
    if (c == '\0') {
        // Possibly a B32 header (TCP); decided once its 4 bytes are in.
        state_ = state::header;
        header_.assign(1, c);
    } else if (c == lf) {
        state_ = state::line;  // an Ademco 685 packet starts with LF
        raw_.assign(1, c);
    } else if (c == cr || c == ' ' || c == surgard_terminator) {
        ++discarded_;
    } else {
        state_ = state::line;
        raw_.assign(1, c);
        line_.assign(1, c);
    }
}

void receiver_framer::on_header(char c) {
    header_.push_back(c);
    if (header_.size() < b32_header_size) {
        return;
    }
    const auto bcd = [](char byte) -> std::optional<std::size_t> {
        const auto u = static_cast<unsigned char>(byte);
        const unsigned hi = u >> 4U;
        const unsigned lo = u & 0x0FU;
        if (hi > 9 || lo > 9) {
            return std::nullopt;
        }
        return hi * 10 + lo;
    };
    const auto high = bcd(header_[2]);
    const auto low = bcd(header_[3]);
    if (header_[1] == '\0' && high && low) {
        b32_ = true;
        b32_length_ = *high * 100 + *low;
        raw_ = std::move(header_);
        header_.clear();
        state_ = state::line;
        return;
    }
    ++discarded_;
    again_ = header_.substr(1);
    header_.clear();
    state_ = state::idle;
}

void receiver_framer::on_line(char c) {
    if (c == surgard_terminator || c == cr) {
        raw_.push_back(c);
        finish_line();
        return;
    }
    if (line_.empty() && c == ' ') {
        ++discarded_;  // blanks after a 685 packet's LF, before its content
        return;
    }
    if (c == lf) {
        if (!line_.empty()) {
            // The previous packet lost its terminator: drop it, start anew here.
            discarded_ += raw_.size();
            reset_packet();
        } else if (!raw_.empty() && raw_.back() == lf) {
            ++discarded_;  // blank lines before a 685 packet: one LF is kept
            return;
        }
        raw_.push_back(c);
        return;
    }
    if (line_.size() + 1 >= max_line_) {
        discarded_ += raw_.size() + 1;
        reset_packet();
        state_ = state::overflow;
        ready_.emplace_back(fail(error::frame_too_large));
        return;
    }
    raw_.push_back(c);
    line_.push_back(c);
}

void receiver_framer::on_overflow(char c) {
    if (c == lf) {
        state_ = state::line;  // the next 685 packet begins
        raw_.assign(1, c);
        return;
    }
    ++discarded_;
    if (c == surgard_terminator || c == cr) {
        state_ = state::idle;
    }
}

void receiver_framer::reset_packet() {
    raw_.clear();
    line_.clear();
    b32_ = false;
    b32_length_ = 0;
}

void receiver_framer::finish_line() {
    if (line_.empty()) {
        discarded_ += raw_.size();  // "\n\r", or a header with nothing after it
    } else {
        ready_.emplace_back(receiver_frame{std::move(line_), std::move(raw_), b32_, b32_length_});
    }
    reset_packet();
    state_ = state::idle;
}

expected<receiver_frame> receiver_framer::next() {
    if (ready_.empty()) {
        return fail(error::need_more);
    }
    expected<receiver_frame> out = std::move(ready_.front());
    ready_.pop_front();
    return out;
}

std::size_t receiver_framer::buffered() const noexcept {
    return state_ == state::header ? header_.size() : raw_.size();
}

std::uint64_t receiver_framer::discarded() const noexcept { return discarded_; }

// ---- lines -------------------------------------------------------------------------------

expected<receiver_line> parse_surgard_line(std::string_view line) {
    if (line.empty()) {
        return fail(error::bad_format);
    }
    receiver_line out;
    out.protocol = line.front();
    if (out.protocol != '1' && out.protocol != '5' && out.protocol != 'Q' && out.protocol != 'S' &&
        out.protocol != '0') {
        // 6 BFSK, 8 Ademco high speed, ... carry no telecare formats (§5.1).
        return fail(error::bad_format);
    }
    auto digits = split_rrlll(line.substr(1));
    if (!digits) {
        return fail(digits.error());
    }
    out.receiver = std::move(digits->receiver);
    out.line_number = std::move(digits->line);
    const std::string_view rest = digits->rest;
    switch (out.protocol) {
        case '1':
            if (rest.find('@') != std::string_view::npos) {
                if (!is_heartbeat_tail(rest)) {
                    return fail(error::bad_format);
                }
                out.kind = receiver_line_kind::heartbeat;
                return out;
            }
            return parse_basic_body(std::move(out), rest);
        case '5':
            return parse_cid_body(std::move(out), rest, 4);
        case 'Q':
            return parse_cid_body(std::move(out), rest, 10);
        default:
            return parse_sia_body(std::move(out), rest);
    }
}

expected<receiver_line> parse_ademco685_line(std::string_view line) {
    const std::vector<std::string_view> tokens = split_spaces(line);
    if (tokens.empty() || tokens[0].size() != 2 || !all_of(tokens[0], is_digit)) {
        return fail(error::bad_header);
    }
    receiver_line out;
    out.protocol = 'A';
    out.receiver = std::string(tokens[0].substr(0, 1));
    out.line_number = std::string(tokens[0].substr(1, 1));
    // SilentKnight's 685 emulation: `RL OKAY @` (§5.3).
    if (tokens.size() >= 2 && tokens[1] == "OKAY") {
        out.kind = receiver_line_kind::heartbeat;
        return out;
    }
    if (tokens.size() < 3 || tokens[1].size() != 4 || !all_of(tokens[1], is_hex_form)) {
        return fail(error::bad_format);
    }
    out.account = upper(tokens[1]);
    if (tokens[2] == "18" || tokens[2] == "98") {
        // `18 QXYZ GG FCCC`
        if (tokens.size() != 6 || tokens[3].size() != 4 || tokens[5].size() != 4 ||
            (tokens[5][0] != 'C' && tokens[5][0] != 'U')) {
            return fail(error::bad_format);
        }
        auto ev = make_cid(tokens[3][0], tokens[3].substr(1), tokens[4], tokens[5].substr(1));
        if (!ev) {
            return fail(ev.error());
        }
        out.kind = receiver_line_kind::contact_id;
        out.message_type = std::string(tokens[2]);
        out.zone_kind = tokens[5][0];
        out.cid = std::move(*ev);
        return out;
    }
    // 3x1, 4x1, 4x2: `RG AAAA E` or `RG AAAA E Z`.
    if (tokens.size() > 4 || tokens[2].size() > 2 || !all_of(tokens[2], is_hex_form) ||
        (tokens.size() == 4 && (tokens[3].size() > 3 || !all_of(tokens[3], is_hex_form)))) {
        return fail(error::bad_format);
    }
    out.kind = receiver_line_kind::basic;
    out.basic_event = upper(tokens[2]);
    if (tokens.size() == 4) {
        out.basic_zone = upper(tokens[3]);
    }
    return out;
}

std::string build_receiver_reply(char reply, bool b32) {
    if (!b32) {
        std::string out(1, reply);  // not {1, reply}: that is the two bytes 0x01 and `reply`
        return out;
    }
    // 5 bytes in all, written in BCD (§5.1).
    return std::string("\0\0\0\x05", 4) + reply;
}

receiver_result handle_receiver_frame(const receiver_frame& frame, receiver_format format) {
    receiver_result out;
    if (frame.b32 && frame.b32_length != frame.raw.size()) {
        out.error = make_error_code(error::bad_length);
    } else {
        auto line = format == receiver_format::ademco685 ? parse_ademco685_line(frame.line)
                                                         : parse_surgard_line(frame.line);
        if (line) {
            out.line = std::move(*line);
            out.accepted = true;
        } else {
            out.error = line.error();
        }
    }
    out.reply_bytes = build_receiver_reply(out.accepted ? receiver_ack : receiver_nak, frame.b32);
    return out;
}

std::string encode_surgard_cid(std::string_view receiver, std::string_view line,
                               std::string_view account, const cid_event& event) {
    std::string out;
    out.reserve(32);
    out.push_back('5');
    out.append(receiver);
    out.append(line);
    out.append(" 18");
    out.append(account);
    out.push_back(qualifier_letter(event.qualifier));
    out.append(event.code);
    out.append(event.group);
    out.append(event.zone);
    out.push_back(surgard_terminator);
    return out;
}

}  // namespace arc::protocol
