#include "arc/protocol/sip.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "arc/protocol/error.hpp"
#include "arc/protocol/sip_digest.hpp"

namespace arc::protocol {

namespace {

constexpr std::string_view sip_version = "SIP/2.0";
constexpr std::size_t max_quote = 40;

struct name_pair {
    std::string_view key;  ///< lower case
    std::string_view canonical;
};

// RFC 3261 §7.3.3 and §20 (compact forms), RFC 3265/3515/3892/4028/4474/3841.
constexpr std::array<name_pair, 20> compact_forms{{
    {"i", "Call-ID"},
    {"m", "Contact"},
    {"e", "Content-Encoding"},
    {"l", "Content-Length"},
    {"c", "Content-Type"},
    {"f", "From"},
    {"s", "Subject"},
    {"k", "Supported"},
    {"t", "To"},
    {"v", "Via"},
    {"o", "Event"},
    {"r", "Refer-To"},
    {"b", "Referred-By"},
    {"u", "Allow-Events"},
    {"x", "Session-Expires"},
    {"y", "Identity"},
    {"n", "Identity-Info"},
    {"a", "Accept-Contact"},
    {"j", "Reject-Contact"},
    {"d", "Request-Disposition"},
}};

constexpr std::array<std::string_view, 33> long_names{
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Contact",
    "Content-Length",
    "Content-Type",
    "Content-Encoding",
    "Max-Forwards",
    "Authorization",
    "WWW-Authenticate",
    "Proxy-Authorization",
    "Proxy-Authenticate",
    "User-Agent",
    "Server",
    "Expires",
    "Allow",
    "Supported",
    "Subject",
    "Event",
    "Record-Route",
    "Route",
    "Date",
    "Accept",
    "Require",
    "Refer-To",
    "Referred-By",
    "Allow-Events",
    "Session-Expires",
    "Identity",
    "Accept-Contact",
    "Reject-Contact",
};

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') {
            x = static_cast<char>(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = static_cast<char>(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// RFC 3261 §25.1 token.
bool is_token_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ws(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ws(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

std::string quoted(std::string_view text) {
    std::string out = "'";
    for (const char ch : text.substr(0, max_quote)) {
        const auto u = static_cast<unsigned char>(ch);
        out += (u >= 0x20 && u < 0x7F) ? ch : '?';
    }
    if (text.size() > max_quote) {
        out += "...";
    }
    out += "'";
    return out;
}

sip_error make_error(error code, std::string field, std::string detail, int status = 400) {
    sip_error e;
    e.code = make_error_code(code);
    e.field = std::move(field);
    e.detail = e.field.empty() ? std::move(detail) : e.field + ": " + detail;
    e.status = status;
    return e;
}

using message_result = tl::expected<sip_message, sip_error>;

bool has_control(std::string_view line) noexcept {
    return std::any_of(line.begin(), line.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7F;
    });
}

// RFC 3261 §7.1 / §7.2 start line.
tl::expected<void, sip_error> parse_start_line(std::string_view line, sip_message& m) {
    const std::string field = "start line";
    if (line.starts_with("SIP/")) {
        // SIP/2.0 SP Status-Code SP Reason-Phrase
        const auto sp = line.find(' ');
        const std::string_view version = line.substr(0, sp);
        if (version != sip_version) {
            return tl::unexpected(make_error(
                error::bad_format, field, "version " + quoted(version) + " is not SIP/2.0", 505));
        }
        if (sp == std::string_view::npos || line.size() < sp + 4 || !is_digit(line[sp + 1]) ||
            !is_digit(line[sp + 2]) || !is_digit(line[sp + 3]) ||
            (line.size() > sp + 4 && line[sp + 4] != ' ')) {
            return tl::unexpected(
                make_error(error::bad_format, field, quoted(line) + " has no 3-digit status"));
        }
        m.is_request = false;
        m.status = (line[sp + 1] - '0') * 100 + (line[sp + 2] - '0') * 10 + (line[sp + 3] - '0');
        if (m.status < 100) {
            return tl::unexpected(
                make_error(error::bad_format, field, "status " + std::to_string(m.status)));
        }
        m.reason = line.size() > sp + 5 ? std::string(line.substr(sp + 5)) : std::string{};
        return {};
    }
    // Method SP Request-URI SP SIP-Version
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return tl::unexpected(
            make_error(error::bad_format, field, quoted(line) + " is not 'METHOD URI SIP/2.0'"));
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method) || uri.empty()) {
        return tl::unexpected(
            make_error(error::bad_format, field, quoted(line) + " is not 'METHOD URI SIP/2.0'"));
    }
    if (version != sip_version) {
        return tl::unexpected(make_error(error::bad_format, field,
                                         "version " + quoted(version) + " is not SIP/2.0", 505));
    }
    m.is_request = true;
    m.method = method;
    m.uri = uri;
    return {};
}

// Parses the head (start line and headers) in `head`: lines separated by LF, CR before LF
// dropped, no blank line inside. Checks the header count and Content-Length.
message_result parse_head(std::string_view head, const sip_limits& limits) {
    sip_message m;
    bool first = true;
    while (!head.empty()) {
        const auto nl = head.find('\n');
        std::string_view line = head.substr(0, nl);
        head = nl == std::string_view::npos ? std::string_view{} : head.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (has_control(line)) {
            return tl::unexpected(make_error(error::bad_format, first ? "start line" : "header",
                                             quoted(line) + " holds a control character"));
        }
        if (line.empty()) {
            continue;  // only at the very end of a datagram without a blank line
        }
        if (first) {
            first = false;
            if (auto ok = parse_start_line(line, m); !ok) {
                return tl::unexpected(std::move(ok.error()));
            }
            continue;
        }
        if (is_ws(line.front())) {
            // RFC 3261 §7.3.1: a continuation line folds into the previous header.
            if (m.headers.empty()) {
                return tl::unexpected(
                    make_error(error::bad_format, "header", "continuation line before any header"));
            }
            auto& value = m.headers.back().value;
            const auto more = trim(line);
            if (!more.empty()) {
                value += value.empty() ? "" : " ";
                value += more;
            }
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            return tl::unexpected(
                make_error(error::bad_format, "header", quoted(line) + " has no ':'"));
        }
        const std::string_view name = trim(line.substr(0, colon));
        if (!is_token(name)) {
            return tl::unexpected(make_error(error::bad_format, "header",
                                             "name " + quoted(name) + " is not a token"));
        }
        if (m.headers.size() >= limits.max_headers) {
            return tl::unexpected(make_error(error::frame_too_large, "headers",
                                             "more than " + std::to_string(limits.max_headers),
                                             513));
        }
        m.add(name, trim(line.substr(colon + 1)));
    }
    if (first) {
        return tl::unexpected(make_error(error::bad_format, "start line", "missing"));
    }
    return m;
}

// The Content-Length, nullopt when absent; every copy must agree.
tl::expected<std::optional<std::size_t>, sip_error> content_length(const sip_message& m,
                                                                   const sip_limits& limits) {
    std::optional<std::size_t> length;
    for (const auto& h : m.headers) {
        if (h.name != "Content-Length") {
            continue;
        }
        std::size_t value = 0;
        const auto* end = h.value.data() + h.value.size();
        const auto [ptr, ec] = std::from_chars(h.value.data(), end, value);
        if (h.value.empty() || h.value.size() > 10 || ec != std::errc{} || ptr != end) {
            return tl::unexpected(make_error(error::bad_length, "Content-Length",
                                             quoted(h.value) + " is not a number"));
        }
        if (length && *length != value) {
            return tl::unexpected(
                make_error(error::bad_length, "Content-Length", "repeated with another value"));
        }
        length = value;
    }
    if (length && *length > limits.max_body) {
        return tl::unexpected(make_error(
            error::frame_too_large, "body",
            std::to_string(*length) + " bytes, limit " + std::to_string(limits.max_body), 413));
    }
    return length;
}

bool blank_byte(char c) noexcept { return c == '\r' || c == '\n'; }

// The end of the head in `data`: {offset of the blank line's start, offset after it}.
std::optional<std::pair<std::size_t, std::size_t>> find_head_end(std::string_view data,
                                                                 std::size_t from) {
    for (auto nl = data.find('\n', from); nl != std::string_view::npos;
         nl = data.find('\n', nl + 1)) {
        std::size_t next = nl + 1;
        if (next < data.size() && data[next] == '\r') {
            ++next;
        }
        if (next < data.size() && data[next] == '\n') {
            return std::make_pair(nl, next + 1);
        }
    }
    return std::nullopt;
}

std::string canonical_or_given(std::string_view name) { return sip_canonical_name(name); }

// Splits a header value at commas outside quotes and <...> (RFC 3261 §7.3.1).
void split_commas(std::string_view value, std::vector<std::string_view>& out) {
    bool quote = false;
    int angle = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (quote) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                quote = false;
            }
        } else if (c == '"') {
            quote = true;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>' && angle > 0) {
            --angle;
        } else if (c == ',' && angle == 0) {
            out.push_back(trim(value.substr(start, i - start)));
            start = i + 1;
        }
    }
    out.push_back(trim(value.substr(std::min(start, value.size()))));
}

std::string clean_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c != '\r' && c != '\n') {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string sip_canonical_name(std::string_view name) {
    const std::string key = lower(name);
    for (const auto& pair : compact_forms) {
        if (key == pair.key) {
            return std::string(pair.canonical);
        }
    }
    for (const auto long_name : long_names) {
        if (iequals(long_name, name)) {
            return std::string(long_name);
        }
    }
    return std::string(name);
}

std::optional<std::string_view> sip_message::header(std::string_view name) const {
    const std::string want = canonical_or_given(name);
    for (const auto& h : headers) {
        if (iequals(h.name, want)) {
            return std::string_view(h.value);
        }
    }
    return std::nullopt;
}

std::vector<std::string_view> sip_message::all(std::string_view name) const {
    const std::string want = canonical_or_given(name);
    std::vector<std::string_view> out;
    for (const auto& h : headers) {
        if (iequals(h.name, want)) {
            if (want == "Via") {
                split_commas(h.value, out);
            } else {
                out.emplace_back(h.value);
            }
        }
    }
    return out;
}

void sip_message::add(std::string_view name, std::string_view value) {
    headers.push_back(sip_header{sip_canonical_name(name), std::string(value)});
}

sip_stream_parser::sip_stream_parser(sip_limits limits) : limits_(limits) {}

void sip_stream_parser::feed(std::string_view bytes) {
    if (failed_) {
        return;  // out of step: nothing more is read from this stream
    }
    buffer_.append(bytes);
}

tl::expected<sip_message, sip_error> sip_stream_parser::next() {
    if (failed_) {
        return tl::unexpected(*failed_);
    }
    auto fail_with = [this](sip_error e) -> tl::expected<sip_message, sip_error> {
        failed_ = e;
        buffer_.clear();
        return tl::unexpected(std::move(e));
    };
    // CRLF keep-alives between messages (RFC 5626 §4.4.1).
    const auto start = buffer_.find_first_not_of("\r\n");
    buffer_.erase(0, start == std::string::npos ? buffer_.size() : start);
    if (buffer_.empty()) {
        return tl::unexpected(make_error(error::need_more, "", "need more bytes"));
    }
    const auto end = find_head_end(buffer_, 0);
    if (!end) {
        // The blank line may still come: its first LF can be at most two bytes back.
        if (buffer_.size() > limits_.max_header_bytes + 2) {
            return fail_with(make_error(
                error::frame_too_large, "headers",
                "more than " + std::to_string(limits_.max_header_bytes) + " bytes", 513));
        }
        return tl::unexpected(make_error(error::need_more, "", "need more bytes"));
    }
    if (end->first > limits_.max_header_bytes) {
        return fail_with(
            make_error(error::frame_too_large, "headers",
                       "more than " + std::to_string(limits_.max_header_bytes) + " bytes", 513));
    }
    auto m = parse_head(std::string_view(buffer_).substr(0, end->first), limits_);
    if (!m) {
        return fail_with(std::move(m.error()));
    }
    auto length = content_length(*m, limits_);
    if (!length) {
        return fail_with(std::move(length.error()));
    }
    if (!length->has_value()) {
        // RFC 3261 §18.3: on a stream the body cannot be framed without it.
        return fail_with(
            make_error(error::missing_field, "Content-Length", "mandatory on a stream transport"));
    }
    const std::size_t total = end->second + **length;
    if (buffer_.size() < total) {
        return tl::unexpected(make_error(error::need_more, "", "need more bytes"));
    }
    m->body = buffer_.substr(end->second, **length);
    buffer_.erase(0, total);
    return m;
}

tl::expected<sip_message, sip_error> parse_sip_datagram(std::string_view datagram,
                                                        const sip_limits& limits) {
    while (!datagram.empty() && blank_byte(datagram.front())) {
        datagram.remove_prefix(1);
    }
    if (datagram.empty()) {
        return tl::unexpected(make_error(error::empty_data, "", "keep-alive"));
    }
    const auto end = find_head_end(datagram, 0);
    const std::size_t head_size = end ? end->first : datagram.size();
    if (head_size > limits.max_header_bytes) {
        return tl::unexpected(
            make_error(error::frame_too_large, "headers",
                       "more than " + std::to_string(limits.max_header_bytes) + " bytes", 513));
    }
    auto m = parse_head(datagram.substr(0, head_size), limits);
    if (!m) {
        return m;
    }
    const std::string_view rest = end ? datagram.substr(end->second) : std::string_view{};
    auto length = content_length(*m, limits);
    if (!length) {
        return tl::unexpected(std::move(length.error()));
    }
    if (length->has_value()) {
        if (**length > rest.size()) {
            return tl::unexpected(make_error(error::bad_length, "Content-Length",
                                             std::to_string(**length) + " but " +
                                                 std::to_string(rest.size()) + " bytes arrived"));
        }
        m->body = rest.substr(0, **length);  // RFC 3261 §18.3: bytes past it are discarded
    } else {
        if (rest.size() > limits.max_body) {
            return tl::unexpected(make_error(
                error::frame_too_large, "body",
                std::to_string(rest.size()) + " bytes, limit " + std::to_string(limits.max_body),
                413));
        }
        m->body = rest;
    }
    return m;
}

std::optional<sip_error> check_sip_request(const sip_message& request) {
    if (!request.is_request) {
        return make_error(error::bad_format, "start line", "a response, not a request");
    }
    for (const char* name : {"Via", "From", "To", "Call-ID", "CSeq"}) {
        const auto value = request.header(name);
        if (!value || value->empty()) {
            return make_error(error::missing_field, name, "mandatory header missing");
        }
    }
    const std::string_view cseq = *request.header("CSeq");
    std::size_t i = 0;
    while (i < cseq.size() && is_digit(cseq[i])) {
        ++i;
    }
    const std::string_view number = cseq.substr(0, i);
    const std::string_view method = trim(cseq.substr(i));
    if (number.empty() || number.size() > 10 || i == cseq.size() || !is_ws(cseq[i]) ||
        method != request.method) {
        return make_error(error::bad_format, "CSeq",
                          quoted(cseq) + " is not 'number " + request.method + "'");
    }
    return std::nullopt;
}

sip_message make_sip_response(const sip_message& request, int status, std::string_view reason,
                              std::string_view to_tag, const std::vector<sip_header>& extra) {
    sip_message r;
    r.is_request = false;
    r.status = status;
    r.reason = reason;
    for (const auto& h : request.headers) {
        if (h.name == "Via") {
            r.headers.push_back(h);
        }
    }
    for (const char* name : {"From", "To", "Call-ID", "CSeq"}) {
        const auto value = request.header(name);
        if (!value) {
            continue;
        }
        std::string v(*value);
        if (std::string_view(name) == "To" && status > 100 && !to_tag.empty() &&
            sip_header_param(v, "tag").empty()) {
            v.append(";tag=").append(to_tag);
        }
        r.add(name, v);
    }
    r.headers.insert(r.headers.end(), extra.begin(), extra.end());
    return r;
}

sip_message make_sip_challenge(const sip_message& request, std::string_view realm,
                               std::string_view nonce, std::string_view to_tag, bool stale) {
    return make_sip_response(request, 401, "Unauthorized", to_tag,
                             {{"WWW-Authenticate", build_www_authenticate(realm, nonce, stale)}});
}

sip_message make_sip_message_request(const sip_message_request& r) {
    sip_message m;
    m.is_request = true;
    m.method = "MESSAGE";
    m.uri = r.request_uri;
    m.add("Via",
          "SIP/2.0/" + r.via_transport + " " + r.via_sent_by + ";branch=z9hG4bK" + r.via_branch);
    m.add("Max-Forwards", "70");
    m.add("From", "<" + r.from_uri + ">;tag=" + r.from_tag);
    m.add("To", "<" + r.to_uri + ">");
    m.add("Call-ID", r.call_id);
    m.add("CSeq", std::to_string(r.cseq) + " MESSAGE");
    m.headers.insert(m.headers.end(), r.extra.begin(), r.extra.end());
    if (!r.body.empty()) {
        m.add("Content-Type", r.content_type);
    }
    m.body = r.body;
    return m;
}

std::string serialize_sip(const sip_message& m) {
    std::string out;
    if (m.is_request) {
        out.append(clean_value(m.method)).append(" ").append(clean_value(m.uri)).append(" ");
        out.append(sip_version);
    } else {
        out.append(sip_version).append(" ").append(std::to_string(m.status)).append(" ");
        out.append(clean_value(m.reason));
    }
    out += "\r\n";
    for (const auto& h : m.headers) {
        if (h.name == "Content-Length") {
            continue;
        }
        out.append(clean_value(h.name)).append(": ").append(clean_value(h.value)).append("\r\n");
    }
    out.append("Content-Length: ").append(std::to_string(m.body.size())).append("\r\n\r\n");
    out.append(m.body);
    return out;
}

std::string sip_header_param(std::string_view value, std::string_view name) {
    bool quote = false;
    int angle = 0;
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (quote) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                quote = false;
            }
        } else if (c == '"') {
            quote = true;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>' && angle > 0) {
            --angle;
        } else if (c == ';' && angle == 0) {
            parts.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    parts.push_back(value.substr(std::min(start, value.size())));
    for (std::size_t k = 1; k < parts.size(); ++k) {
        const auto eq = parts[k].find('=');
        const auto key = trim(parts[k].substr(0, eq));
        if (iequals(key, name)) {
            return eq == std::string_view::npos ? std::string{}
                                                : std::string(trim(parts[k].substr(eq + 1)));
        }
    }
    return {};
}

std::string sip_header_uri(std::string_view value) {
    const auto open = value.find('<');
    if (open != std::string_view::npos) {
        const auto close = value.find('>', open);
        if (close != std::string_view::npos) {
            return std::string(value.substr(open + 1, close - open - 1));
        }
    }
    return std::string(trim(value.substr(0, value.find(';'))));
}

}  // namespace arc::protocol
