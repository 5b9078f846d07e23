#include "arc/protocol/dc09.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "arc/protocol/crc.hpp"
#include "arc/protocol/error.hpp"

namespace arc::protocol {

namespace {

constexpr char lf = '\n';
constexpr char cr = '\r';
// Room reserved for a frame being assembled: a typical SIA-DCS event frame fits.
constexpr std::size_t frame_reserve = 128;

bool is_hex(char ch) noexcept { return hex_digit_value(ch) >= 0; }
bool is_digit(char ch) noexcept { return ch >= '0' && ch <= '9'; }

// Four hex digits (either case) as a number; nullopt otherwise.
std::optional<std::uint32_t> parse_hex4(std::string_view text) noexcept {
    if (text.size() != 4) {
        return std::nullopt;
    }
    std::uint32_t value = 0;
    for (const char ch : text) {
        const int v = hex_digit_value(ch);
        if (v < 0) {
            return std::nullopt;
        }
        value = (value << 4U) | static_cast<std::uint32_t>(v);
    }
    return value;
}

// Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian, no locale, no timegm.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

civil_date civil_from_days(std::int64_t z) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {m <= 2 ? y + 1 : y, m, d};
}

unsigned days_in_month(std::int64_t year, unsigned month) noexcept {
    static constexpr std::array<unsigned, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2) {
        const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        return leap ? 29 : 28;
    }
    return days.at(month - 1);
}

bool is_reply_token(std::string_view token) noexcept {
    return token == "ACK" || token == "NAK" || token == "DUH" || token == "RSP";
}

// The ID token of a frame that failed to parse, when one can be seen: a corrupt reply must
// not be answered (two receivers would otherwise NAK each other forever).
std::string_view sniff_token(std::string_view raw) noexcept {
    const std::size_t open = raw.find('"');
    if (open == std::string_view::npos) {
        return {};
    }
    const std::size_t close = raw.find('"', open + 1);
    if (close == std::string_view::npos) {
        return {};
    }
    std::string_view token = raw.substr(open + 1, close - open - 1);
    if (!token.empty() && token.front() == '*') {
        token.remove_prefix(1);
    }
    return token;
}

// The addressing part of a reply: seq, optional R, L, #acct, echoed exactly (PROTOCOLS.md §1.8).
std::string addressing(const dc09_frame& to) {
    std::string out = to.seq;
    if (to.rcvr) {
        out.append("R").append(*to.rcvr);
    }
    out.append("L").append(to.pref);
    if (to.acct == "A0") {
        out.append("A0");
    } else {
        out.append("#").append(to.acct);
    }
    return out;
}

// Pad bytes for the encrypted region (§5.4.4): never '|', '[' or ']' (they are structural), and
// never NUL (some panels stop at it).
void fill_pad(std::string& pad, const std::function<void(std::span<std::uint8_t>)>& random) {
    std::vector<std::uint8_t> bytes(pad.size(), 0);
    if (random) {
        random(std::span<std::uint8_t>(bytes));
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::uint8_t b = bytes[i];
        if (b == '|' || b == '[' || b == ']' || b == 0) {
            b = static_cast<std::uint8_t>(b ^ 0x01U);
        }
        pad[i] = static_cast<char>(b);
    }
}

// Prepends a pad so that pad|tail is a multiple of 16 bytes; a full 16-byte pad when the tail
// already is one, so the pad is 1..16 bytes (§5.4.4.1).
std::string padded_plaintext(std::string_view tail_after_pipe,
                             const std::function<void(std::span<std::uint8_t>)>& random) {
    const std::size_t region = tail_after_pipe.size() + 1;
    std::size_t pad_len = 16 - (region % 16);
    if (pad_len == 0) {
        pad_len = 16;
    }
    std::string plain(pad_len, '\0');
    fill_pad(plain, random);
    plain.push_back('|');
    plain.append(tail_after_pipe);
    return plain;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// dc09_framer

dc09_framer::dc09_framer(std::size_t max_frame) : max_frame_(std::max<std::size_t>(max_frame, 3)) {}

void dc09_framer::feed(std::string_view bytes) {
    for (const char ch : bytes) {
        if (overflow_) {
            ++discarded_;
            if (ch == cr) {
                overflow_ = false;
            }
            continue;
        }
        if (buf_.empty()) {
            if (ch == lf) {
                // The previous frame left with the buffer's memory: one allocation of the usual
                // frame size instead of regrowing it byte by byte.
                buf_.reserve(std::min(max_frame_, frame_reserve));
                buf_.push_back(lf);
            } else if (ch == cr || ch == '\0' || ch == ' ') {
                ++discarded_;
            } else {
                // LF missing: the frame starts here.
                buf_.reserve(std::min(max_frame_, frame_reserve));
                buf_.push_back(lf);
                buf_.push_back(ch);
            }
            continue;
        }
        if (ch == cr) {
            if (buf_.size() == 1) {
                // "\n\r": a stray line end, not a frame.
                discarded_ += 2;
            } else {
                buf_.push_back(cr);
                ready_.emplace_back(std::move(buf_));
            }
            buf_.clear();
            continue;
        }
        if (ch == lf) {
            // A new LF before CR: the bytes so far were a fragment, not a frame.
            discarded_ += buf_.size();
            buf_.assign(1, lf);
            continue;
        }
        if (buf_.size() + 2 > max_frame_) {
            // This byte plus the CR still to come would exceed the limit.
            discarded_ += buf_.size() + 1;
            buf_.clear();
            overflow_ = true;
            ready_.emplace_back(fail(error::frame_too_large));
            continue;
        }
        buf_.push_back(ch);
    }
}

expected<std::string> dc09_framer::next() {
    if (ready_.empty()) {
        return fail(error::need_more);
    }
    expected<std::string> out = std::move(ready_.front());
    ready_.pop_front();
    return out;
}

std::size_t dc09_framer::buffered() const noexcept { return buf_.size(); }

std::uint64_t dc09_framer::discarded() const noexcept { return discarded_; }

// ---------------------------------------------------------------------------------------------
// Frame parsing (PROTOCOLS.md §1.3-§1.5)

expected<dc09_frame> parse_dc09_frame(std::string_view raw, bool tolerate_length_mismatch) {
    // LF CRC(4) LLLL(4) '"' ... CR
    if (raw.size() < 11 || raw.front() != lf || raw.back() != cr) {
        return fail(error::bad_format);
    }
    const auto crc_field = parse_hex4(raw.substr(1, 4));
    const auto len_field = parse_hex4(raw.substr(5, 4));
    if (!crc_field || !len_field || raw[9] != '"') {
        return fail(error::bad_format);
    }
    const std::string_view region = raw.substr(9, raw.size() - 10);
    if (crc16_arc(region) != *crc_field) {
        return fail(error::bad_crc);
    }
    dc09_frame frame;
    frame.crc = static_cast<std::uint16_t>(*crc_field);
    frame.length = *len_field;
    if (frame.length != region.size()) {
        if (!tolerate_length_mismatch) {
            return fail(error::bad_length);
        }
        frame.length_mismatch = true;
    }

    // "ID": optional '*', then [A-Z0-9-]+.
    std::size_t i = 1;
    if (i < region.size() && region[i] == '*') {
        frame.encrypted = true;
        ++i;
    }
    const std::size_t token_start = i;
    while (i < region.size() &&
           ((region[i] >= 'A' && region[i] <= 'Z') || is_digit(region[i]) || region[i] == '-')) {
        ++i;
    }
    if (i == token_start || i >= region.size() || region[i] != '"') {
        return fail(error::bad_format);
    }
    frame.token = std::string(region.substr(token_start, i - token_start));
    ++i;

    // seq: 4 decimal digits.
    if (region.size() - i < 4) {
        return fail(error::bad_header);
    }
    for (std::size_t k = 0; k < 4; ++k) {
        if (!is_digit(region[i + k])) {
            return fail(error::bad_header);
        }
    }
    frame.seq = std::string(region.substr(i, 4));
    i += 4;

    // Optional R + 1-6 hex.
    if (i < region.size() && region[i] == 'R') {
        const std::size_t start = ++i;
        while (i < region.size() && is_hex(region[i])) {
            ++i;
        }
        if (i == start || i - start > 6) {
            return fail(error::bad_header);
        }
        frame.rcvr = std::string(region.substr(start, i - start));
    }

    // L + 0-6 hex (empty seen on real panels; echoed as received).
    if (i >= region.size() || region[i] != 'L') {
        return fail(error::bad_header);
    }
    const std::size_t pref_start = ++i;
    while (i < region.size() && is_hex(region[i])) {
        ++i;
    }
    std::string_view pref = region.substr(pref_start, i - pref_start);

    // '#' + 3-16 hex, or the literal A0 of NAK frames, which the greedy prefix scan swallowed
    // ("L0A0[" reads as prefix "0A0").
    if (i < region.size() && region[i] == '#') {
        const std::size_t start = ++i;
        while (i < region.size() && is_hex(region[i])) {
            ++i;
        }
        if (i - start < 3 || i - start > 16) {
            return fail(error::bad_header);
        }
        frame.acct = std::string(region.substr(start, i - start));
    } else if (pref.size() >= 2 && pref.substr(pref.size() - 2) == "A0") {
        pref.remove_suffix(2);
        frame.acct = "A0";
    } else {
        return fail(error::bad_header);
    }
    if (pref.size() > 6) {
        return fail(error::bad_header);
    }
    frame.pref = std::string(pref);

    if (i >= region.size() || region[i] != '[') {
        return fail(error::bad_format);
    }
    ++i;
    std::string_view body = region.substr(i);
    if (frame.encrypted && !body.empty() && body.back() == ']') {
        // Tolerate a closing bracket after the cipher text.
        body.remove_suffix(1);
    }
    frame.body = std::string(body);
    return frame;
}

// ---------------------------------------------------------------------------------------------
// Bodies, timestamps (§1.9-§1.12)

expected<dc09_content> decode_clear_body(std::string_view body) {
    // The first ']' closes the data block: ']' may not appear inside SIA data.
    const std::size_t close = body.find(']');
    if (close == std::string_view::npos) {
        return fail(error::bad_format);
    }
    dc09_content content;
    content.data = std::string(body.substr(0, close));
    std::string_view rest = body.substr(close + 1);
    while (!rest.empty() && rest.front() == '[') {
        const std::size_t end = rest.find(']');
        if (end == std::string_view::npos) {
            return fail(error::bad_format);
        }
        content.xdata.emplace_back(rest.substr(1, end - 1));
        rest.remove_prefix(end + 1);
    }
    if (rest.empty()) {
        return content;
    }
    if (rest.front() != '_') {
        return fail(error::bad_format);
    }
    rest.remove_prefix(1);
    auto unix_time = parse_dc09_timestamp(rest);
    if (!unix_time) {
        return fail(unix_time.error());
    }
    content.timestamp = std::string(rest);
    content.timestamp_unix = *unix_time;
    return content;
}

expected<dc09_content> decrypt_body(const aes_key& key, std::string_view hex_body) {
    auto cipher = hex_decode(hex_body);
    if (!cipher || cipher->empty() || cipher->size() % 16 != 0) {
        return fail(error::decrypt_failed);
    }
    auto plain = aes_cbc_decrypt(key, *cipher);
    if (!plain) {
        return fail(plain.error() == error::bad_key ? error::bad_key : error::decrypt_failed);
    }
    const std::string_view text = *plain;
    const std::size_t pipe = text.find('|');
    if (pipe != std::string_view::npos) {
        auto content = decode_clear_body(text.substr(pipe + 1));
        if (!content) {
            // Garbage after the first '|' means a wrong key or a corrupt frame.
            return fail(content.error() == error::bad_timestamp ? error::bad_timestamp
                                                                : error::decrypt_failed);
        }
        if (!content->timestamp) {
            return fail(error::bad_timestamp);
        }
        content->pad_length = pipe;
        return content;
    }
    // No '|' (Hikvision *NULL): the pad runs up to the ']' that closes an empty data block and is
    // followed only by extended blocks and the timestamp.
    for (std::size_t pos = text.find(']'); pos != std::string_view::npos;
         pos = text.find(']', pos + 1)) {
        auto content = decode_clear_body(text.substr(pos));
        if (content && content->timestamp) {
            content->pad_length = pos;
            return content;
        }
    }
    return fail(error::decrypt_failed);
}

std::string format_dc09_timestamp(std::int64_t unix_seconds) {
    std::int64_t days = unix_seconds / 86400;
    std::int64_t secs = unix_seconds % 86400;
    if (secs < 0) {
        secs += 86400;
        --days;
    }
    const civil_date date = civil_from_days(days);
    return fmt::format("{:02}:{:02}:{:02},{:02}-{:02}-{:04}", secs / 3600, (secs / 60) % 60,
                       secs % 60, date.month, date.day, date.year);
}

expected<std::int64_t> parse_dc09_timestamp(std::string_view text) {
    // HH:MM:SS,MM-DD-YYYY
    static constexpr std::string_view shape = "99:99:99,99-99-9999";
    if (text.size() != shape.size()) {
        return fail(error::bad_timestamp);
    }
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == '9' ? !is_digit(text[i]) : text[i] != shape[i]) {
            return fail(error::bad_timestamp);
        }
    }
    const auto num = [&](std::size_t pos, std::size_t len) {
        unsigned value = 0;
        for (std::size_t k = 0; k < len; ++k) {
            value = value * 10 + static_cast<unsigned>(text[pos + k] - '0');
        }
        return value;
    };
    const unsigned hour = num(0, 2);
    const unsigned minute = num(3, 2);
    const unsigned second = num(6, 2);
    const unsigned month = num(9, 2);
    const unsigned day = num(12, 2);
    const std::int64_t year = num(15, 4);
    if (hour > 23 || minute > 59 || second > 59 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month)) {
        return fail(error::bad_timestamp);
    }
    return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
}

// ---------------------------------------------------------------------------------------------
// Replies (§1.13)

std::string escape_frame(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + 8);
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\0') {
            out += "\\0";
        } else if (c == '\\') {
            out += "\\\\";
        } else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\x{:02X}", u);
        } else {
            out += c;
        }
    }
    return out;
}

std::string build_dc09_frame(std::string_view body) {
    return fmt::format("\n{:04X}{:04X}{}\r", crc16_arc(body), body.size(), body);
}

namespace {

// `"KIND"seq[Rrcvr]Lpref#acct[]` framed in one string: a reply per frame is on the hot path,
// and the concatenations of temporaries cost an allocation each.
std::string build_plain_reply(std::string_view kind, const dc09_frame& to) {
    constexpr std::size_t header = 9;  // LF CRC(4) LLLL(4)
    std::string out;
    out.reserve(header + kind.size() + to.seq.size() + (to.rcvr ? to.rcvr->size() + 1 : 0) +
                to.pref.size() + to.acct.size() + 8);
    out.append(header, '0');
    out.front() = lf;
    out.push_back('"');
    out.append(kind);
    out.push_back('"');
    out.append(to.seq);
    if (to.rcvr) {
        out.push_back('R');
        out.append(*to.rcvr);
    }
    out.push_back('L');
    out.append(to.pref);
    if (to.acct == "A0") {
        out.append("A0");
    } else {
        out.push_back('#');
        out.append(to.acct);
    }
    out.append("[]");
    const std::string_view body = std::string_view(out).substr(header);
    fmt::format_to_n(out.begin() + 1, header - 1, "{:04X}{:04X}", crc16_arc(body), body.size());
    out.push_back(cr);
    return out;
}

}  // namespace

std::string build_ack(const dc09_frame& to) { return build_plain_reply("ACK", to); }

expected<std::string> build_encrypted_ack(
    const dc09_frame& to, const aes_key& key, std::int64_t now_unix,
    const std::function<void(std::span<std::uint8_t>)>& pad_random) {
    const std::string plain = padded_plaintext("]_" + format_dc09_timestamp(now_unix), pad_random);
    auto cipher = aes_cbc_encrypt(key, plain);
    if (!cipher) {
        return fail(cipher.error());
    }
    return build_dc09_frame("\"*ACK\"" + addressing(to) + "[" + hex_encode(*cipher));
}

std::string build_nak(std::int64_t now_unix) {
    return build_dc09_frame("\"NAK\"0000R0L0A0[]_" + format_dc09_timestamp(now_unix));
}

std::string build_duh(const dc09_frame& to) { return build_plain_reply("DUH", to); }

std::string_view to_string(reply_kind kind) noexcept {
    switch (kind) {
        case reply_kind::none:
            return "NONE";
        case reply_kind::ack:
            return "ACK";
        case reply_kind::ack_encrypted:
            return "ACK_ENCRYPTED";
        case reply_kind::nak:
            return "NAK";
        case reply_kind::duh:
            return "DUH";
    }
    return "NONE";
}

// ---------------------------------------------------------------------------------------------
// Receiver decision table (§1.14)

namespace {

class decision {
public:
    decision(std::string_view raw, const receive_context& ctx, const receiver_policy& policy)
        : raw_(raw), ctx_(ctx), policy_(policy) {}

    dc09_result run();

private:
    dc09_result& nak(error why) {
        r_.reply = reply_kind::nak;
        r_.reply_bytes = build_nak(ctx_.now_unix);
        r_.error = why;
        r_.accepted = false;
        return r_;
    }

    dc09_result& duh(error why) {
        r_.reply = reply_kind::duh;
        r_.reply_bytes = build_duh(*r_.frame);
        r_.error = why;
        r_.accepted = false;
        return r_;
    }

    dc09_result& none(std::error_code why) {
        r_.reply = reply_kind::none;
        r_.reply_bytes.clear();
        r_.error = why;
        r_.accepted = false;
        return r_;
    }

    dc09_result& ack();
    void flag(error e) {
        if (!r_.error) {
            r_.error = e;
        }
    }
    void decode_reply_frame(const std::optional<account_info>& info);
    bool check_window(bool encrypted, const std::optional<account_info>& info);
    // Parses the data block of an event frame; returns false when the reply is already decided.
    bool parse_data();

    std::string_view raw_;
    const receive_context& ctx_;
    const receiver_policy& policy_;
    dc09_result r_;
};

dc09_result& decision::ack() {
    const dc09_frame& frame = *r_.frame;
    if (frame.encrypted) {
        // The account has a key here: the frame decrypted with it.
        const std::optional<account_info> info =
            ctx_.lookup ? ctx_.lookup(frame.acct) : std::nullopt;
        if (!info || !info->key) {
            return nak(error::no_key);
        }
        auto bytes = build_encrypted_ack(frame, *info->key, ctx_.now_unix, ctx_.random);
        if (!bytes) {
            return nak(error::decrypt_failed);
        }
        r_.reply = reply_kind::ack_encrypted;
        r_.reply_bytes = std::move(*bytes);
    } else {
        r_.reply = reply_kind::ack;
        r_.reply_bytes = build_ack(frame);
    }
    r_.accepted = true;
    return r_;
}

void decision::decode_reply_frame(const std::optional<account_info>& info) {
    // Informational only: replies are never answered, whatever their content.
    const dc09_frame& frame = *r_.frame;
    if (!frame.encrypted) {
        if (auto content = decode_clear_body(frame.body)) {
            r_.content = std::move(*content);
        }
    } else if (info && info->key) {
        if (auto content = decrypt_body(*info->key, frame.body)) {
            r_.content = std::move(*content);
        }
    }
}

bool decision::check_window(bool encrypted, const std::optional<account_info>& info) {
    if (!r_.content || !r_.content->timestamp_unix) {
        return true;
    }
    const std::int64_t skew = *r_.content->timestamp_unix - ctx_.now_unix;
    r_.skew_s = skew;
    // Accept when now - past <= msg <= now + future (+20/-40 s by default).
    if (skew >= -policy_.window_past_s && skew <= policy_.window_future_s) {
        return true;
    }
    r_.outside_window = true;
    if (encrypted) {
        return false;
    }
    const bool enforce = info && info->window_for_clear_text ? *info->window_for_clear_text
                                                             : policy_.window_for_clear_text;
    return !enforce;
}

bool decision::parse_data() {
    const dc09_frame& frame = *r_.frame;
    const std::string& data = r_.content->data;
    if (frame.token == "NULL") {
        // Link test whatever it carries (Hikvision sends a dummy Contact ID body).
        return true;
    }
    std::error_code data_error;
    bool unknown = false;
    if (frame.token == "SIA-DCS") {
        auto block = parse_sia_dcs(data);
        if (block) {
            unknown = std::any_of(block->events.begin(), block->events.end(),
                                  [](const sia_event& ev) { return !ev.known; });
            r_.sia = std::move(*block);
        } else {
            data_error = block.error();
        }
    } else {
        auto block = parse_adm_cid(data);
        if (block) {
            unknown = !block->event.known;
            r_.cid = std::move(*block);
        } else {
            data_error = block.error();
        }
    }
    if (data_error == error::empty_data) {
        duh(error::empty_data);
        return false;
    }
    // An unknown code or an unparsable block from a known device is still an alarm: by default
    // ACK it and let an operator see it (policy.ack_unknown_code); pysiaalarm answers DUH.
    const error problem = data_error ? error::bad_data : error::unknown_code;
    if (data_error || unknown) {
        if (!policy_.ack_unknown_code) {
            duh(problem);
            return false;
        }
        flag(problem);
    }
    return true;
}

dc09_result decision::run() {
    auto parsed = parse_dc09_frame(raw_, true);
    if (!parsed) {
        if (is_reply_token(sniff_token(raw_))) {
            return none(parsed.error());
        }
        return nak(static_cast<error>(parsed.error().value()));
    }
    r_.frame = std::move(*parsed);
    const dc09_frame& frame = *r_.frame;
    const std::optional<account_info> info =
        ctx_.lookup && frame.acct != "A0" ? ctx_.lookup(frame.acct) : std::nullopt;

    if (is_reply_token(frame.token)) {
        decode_reply_frame(info);
        return none(frame.length_mismatch ? make_error_code(error::bad_length) : std::error_code{});
    }
    if (frame.length_mismatch && !(info && info->tolerate_length_mismatch)) {
        return nak(error::bad_length);
    }
    // Clear text is decoded before the policy checks so that a refused frame is still recorded
    // with its content (diagnostics); a body that does not decode is refused further down.
    expected<dc09_content> clear =
        frame.encrypted ? fail(error::decrypt_failed) : decode_clear_body(frame.body);
    if (clear) {
        // Moved: only whether it decoded (and why not) is looked at below.
        r_.content = std::move(*clear);
    }
    if (frame.token != "SIA-DCS" && frame.token != "ADM-CID" && frame.token != "NULL") {
        return duh(error::unknown_token);
    }
    if (!info) {
        if (frame.encrypted || !policy_.ack_unknown_account) {
            return nak(error::unknown_account);
        }
        flag(error::unknown_account);
    }

    if (frame.encrypted) {
        if (!info->key) {
            return nak(error::no_key);
        }
        auto content = decrypt_body(*info->key, frame.body);
        if (!content) {
            return nak(static_cast<error>(content.error().value()));
        }
        r_.content = std::move(*content);
        if (!check_window(true, info)) {
            return nak(error::outside_window);
        }
    } else {
        if (!clear) {
            return nak(static_cast<error>(clear.error().value()));
        }
        if (info && info->key) {
            const bool accept_clear =
                info->accept_clear_text ? *info->accept_clear_text : policy_.accept_clear_text;
            if (!accept_clear) {
                return nak(error::encryption_required);
            }
        }
        if (!check_window(false, info)) {
            return nak(error::outside_window);
        }
    }
    if (!parse_data()) {
        return r_;
    }
    return ack();
}

}  // namespace

dc09_result handle_dc09_frame(std::string_view raw, const receive_context& ctx) {
    static const receiver_policy default_policy;
    const receiver_policy& policy = ctx.policy != nullptr ? *ctx.policy : default_policy;
    return decision(raw, ctx, policy).run();
}

// ---------------------------------------------------------------------------------------------
// Encoders (arc-sim and tests)

namespace {

std::string spec_addressing(const dc09_message_spec& spec) {
    dc09_frame f;
    f.seq = spec.seq;
    f.rcvr = spec.rcvr;
    f.pref = spec.pref;
    f.acct = spec.acct;
    return addressing(f);
}

std::string spec_token(const dc09_message_spec& spec) {
    std::string_view token = spec.token;
    if (!token.empty() && token.front() == '*') {
        token.remove_prefix(1);
    }
    return std::string(token);
}

// data ] {[x]} — the part of the body both encoders share.
std::string data_and_xdata(const dc09_message_spec& spec) {
    std::string out = spec.data + "]";
    for (const std::string& x : spec.xdata) {
        out.append("[").append(x).append("]");
    }
    return out;
}

}  // namespace

std::string encode_dc09(const dc09_message_spec& spec) {
    std::string body =
        "\"" + spec_token(spec) + "\"" + spec_addressing(spec) + "[" + data_and_xdata(spec);
    if (spec.timestamp_unix) {
        body.append("_").append(format_dc09_timestamp(*spec.timestamp_unix));
    }
    return build_dc09_frame(body);
}

expected<std::string> encode_dc09_encrypted(
    const dc09_message_spec& spec, const aes_key& key,
    const std::function<void(std::span<std::uint8_t>)>& pad_random) {
    if (!spec.timestamp_unix) {
        return fail(error::bad_timestamp);
    }
    const std::string plain = padded_plaintext(
        data_and_xdata(spec) + "_" + format_dc09_timestamp(*spec.timestamp_unix), pad_random);
    auto cipher = aes_cbc_encrypt(key, plain);
    if (!cipher) {
        return fail(cipher.error());
    }
    return build_dc09_frame("\"*" + spec_token(spec) + "\"" + spec_addressing(spec) + "[" +
                            hex_encode(*cipher));
}

}  // namespace arc::protocol
