// Purpose: SIP message framing for SCAIP (RFC 3261 §7, §18.3, §20; RFC 3428 MESSAGE), sans-I/O:
// an incremental stream parser (TCP), a datagram parser (UDP), and builders for MESSAGE requests
// and the responses arcd sends (200, 202, 400, 401 with a digest challenge, 413, ...).
// Wire format: PROTOCOLS.md §4.2. Only what a SCAIP receiver needs: no dialogs, no SDP.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <tl/expected.hpp>

namespace arc::protocol {

/// One header line. `name` is the long form in canonical case ("Call-ID" for "i", "call-id").
struct sip_header {
    std::string name;
    std::string value;  ///< trimmed; folded continuation lines joined with one space
    bool operator==(const sip_header&) const = default;
};

/// A parsed SIP request or response.
struct sip_message {
    bool is_request = true;
    std::string
        method;  ///< request: "MESSAGE", "REGISTER", ... (case kept: methods are case-sensitive)
    std::string uri;                  ///< request: the Request-URI
    int status = 0;                   ///< response: 100-699
    std::string reason;               ///< response: the reason phrase
    std::vector<sip_header> headers;  ///< in arrival order
    std::string body;

    /// The first header `name` (long or compact form, any case), nullopt when absent.
    std::optional<std::string_view> header(std::string_view name) const;
    /// Every value of header `name` in order; a comma-separated Via counts as several.
    std::vector<std::string_view> all(std::string_view name) const;
    /// Appends a header (name expanded to its canonical long form).
    void add(std::string_view name, std::string_view value);
};

/// Limits on what one message may hold. Start line + headers count toward `max_header_bytes`.
struct sip_limits {
    std::size_t max_header_bytes = 8192;
    std::size_t max_headers = 64;
    std::size_t max_body = 16384;
};

/// Why bytes were not a SIP message: the code, the header at fault (or "start line",
/// "body"), a sentence, and the response status a server should answer with (400, 413, 505).
struct sip_error {
    std::error_code code;  ///< need_more, bad_format, frame_too_large, missing_field
    std::string field;
    std::string detail;
    int status = 400;
};

/// The canonical long name of a header: compact forms expanded (RFC 3261 §7.3.3: i m e l c f s
/// k t v, and o r b u x), known names in their usual case ("call-id" -> "Call-ID"); others as
/// given.
std::string sip_canonical_name(std::string_view name);

/// Splits a TCP byte stream into SIP messages (RFC 3261 §18.3: Content-Length is mandatory
/// on streams). Empty lines between messages (CRLF keep-alives, RFC 5626 §4.4.1) are skipped.
/// Accepts bare LF as well as CRLF. After an error the stream is out of step and the parser
/// keeps answering that error: the caller answers it (400/413) and closes the connection.
class sip_stream_parser {
public:
    explicit sip_stream_parser(sip_limits limits = {});

    /// Appends bytes read from the socket.
    void feed(std::string_view bytes);

    /// The next complete message; error code need_more when the buffer holds none yet.
    tl::expected<sip_message, sip_error> next();

    /// Bytes held for an incomplete message.
    std::size_t buffered() const noexcept { return buffer_.size(); }

private:
    sip_limits limits_;
    std::string buffer_;
    std::optional<sip_error> failed_;
};

/// Parses one UDP datagram (RFC 3261 §18.3): the body is the rest of the datagram, cut to
/// Content-Length when given; a Content-Length larger than what arrived is an error. A datagram
/// of only CR/LF (keep-alive) gives error code empty_data: ignore it, answer nothing.
tl::expected<sip_message, sip_error> parse_sip_datagram(std::string_view datagram,
                                                        const sip_limits& limits = {});

/// Checks what a server needs before it can answer a request (RFC 3261 §8.2): Via, From (with
/// a tag is not required), To, Call-ID, CSeq "number METHOD" with the request's method, and
/// SIP/2.0 only. nullopt when fine; else the 400 error naming the header.
std::optional<sip_error> check_sip_request(const sip_message& request);

/// A response to `request` (RFC 3261 §8.2.6): Via (all, in order), From, To, Call-ID and CSeq
/// copied; a To tag `to_tag` added when the To has none and status > 100; Content-Length set.
/// `extra` headers follow (e.g. WWW-Authenticate).
sip_message make_sip_response(const sip_message& request, int status, std::string_view reason,
                              std::string_view to_tag, const std::vector<sip_header>& extra = {});

/// A 401 carrying `WWW-Authenticate: Digest realm=.., nonce=.., algorithm=MD5, qop="auth"`.
sip_message make_sip_challenge(const sip_message& request, std::string_view realm,
                               std::string_view nonce, std::string_view to_tag, bool stale = false);

/// What a MESSAGE request carries (RFC 3428); arcd sends the `<mrs>` this way (TR 91102 §7.5).
struct sip_message_request {
    std::string request_uri;  ///< "sip:luc@192.0.2.1:5060"
    std::string from_uri;     ///< "sip:arc@192.0.2.9"
    std::string from_tag;
    std::string to_uri;  ///< usually the request URI
    std::string call_id;
    unsigned cseq = 1;
    std::string via_transport = "UDP";  ///< "UDP" or "TCP"
    std::string via_sent_by;            ///< "host:port" of the sender
    std::string via_branch;             ///< without the "z9hG4bK" magic cookie
    std::string content_type = "application/scaip+xml";
    std::vector<sip_header> extra;  ///< e.g. Authorization, User-Agent
    std::string body;
};

/// The MESSAGE request for `r`, with Max-Forwards 70.
sip_message make_sip_message_request(const sip_message_request& r);

/// The bytes of `message`: start line, headers, Content-Length (replaced by the body's size),
/// a blank line, the body. CR and LF inside header values are dropped.
std::string serialize_sip(const sip_message& message);

/// The value of parameter `name` (e.g. "tag", "branch") in a header value such as
/// `<sip:a@b>;tag=x`, empty when absent. Compared without case.
std::string sip_header_param(std::string_view value, std::string_view name);

/// The URI of a From/To/Contact value: inside <...> when present, else up to the first ';'.
std::string sip_header_uri(std::string_view value);

}  // namespace arc::protocol
