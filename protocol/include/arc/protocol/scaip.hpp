// Purpose: SCAIP (SS 91100:2014, SIS-TR 91102:2016) message bodies, sans-I/O: the `<mrq>`
// Message Request parser and builder, the `<mrs>` Message Response builder and parser.
// Wire format: PROTOCOLS.md §4.3 (mrq), §4.4 (mrs), §4.6 (codes, lenient validation), §4.7.
// The XML comes in the body of a SIP MESSAGE (see sip.hpp); this header knows nothing of SIP.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <tl/expected.hpp>

namespace arc::protocol {

/// The `snu` status numbers of a Message Response (§4.4).
enum class scaip_status : int {
    ok = 0,                  ///< handled, no further action
    too_long = 1,            ///< message too long
    invalid_format = 2,      ///< not well-formed XML, wrong root, repeated element
    wrong_data = 3,          ///< an element's content breaks its pattern
    hold = 4,                ///< being processed: re-send the same request in 5-20 s
    not_treated = 5,         ///< not treated / not distributed: take the next alarm action
    busy = 6,                ///< try later or the next action
    mandatory_missing = 7,   ///< cid or dty missing
    reference_missing = 10,  ///< ref missing
    undefined = 99,          ///< undefined error
};

/// `mty` (§4.3): omitted/ME message, RE reset (abort), IN information update, PI heartbeat.
enum class scaip_message_type { message, reset, information, heartbeat };

/// "ME", "RE", "IN", "PI".
std::string_view to_string(scaip_message_type type) noexcept;

/// The medium of one `crd` caller-id (§4.3). `sip-pp:` (deprecated) is reported as sip.
enum class scaip_medium { no_voice, gsm, sip, other };

/// One `crd` element.
struct scaip_caller_id {
    scaip_medium medium = scaip_medium::sip;
    std::string value;  ///< the element's text as sent (trimmed), e.g. "gsm:+4670123"
    bool operator==(const scaip_caller_id&) const = default;
};

/// The `lge` container (§4.3).
struct scaip_geo {
    std::string geo;  ///< "lat,lon" WGS-84 as sent (empty when absent)
    std::optional<double> latitude;
    std::optional<double> longitude;
    std::string tim;  ///< ISO 8601 time of the fix, as sent (empty when absent)
    std::string gga;  ///< NMEA GGA sentence, as sent (empty when absent)
    bool operator==(const scaip_geo&) const = default;
};

/// A decoded `<mrq>` (§4.3). Codes are numbers: `27` and `0027` are the same device type.
/// Defaults are what an omitted element means.
struct scaip_request {
    std::string ref;  ///< 1-16 [0-9a-zA-Z], echoed in the response
    std::string ver = "01.00";
    int sco = 0;  ///< system configuration 0-3
    int cha = 0;  ///< 0 normal call, 1 callback requested
    scaip_message_type mty = scaip_message_type::message;
    bool hbo = false;                  ///< the sender accepts a heartbeat interval (`hbo=001`)
    std::string cid;                   ///< controller id, 1-32 digits
    int dty = 0;                       ///< device type (Annex A)
    std::string did;                   ///< device id, printable ASCII, 1-16
    std::optional<int> dco;            ///< device component (Annex B)
    std::string dte;                   ///< device text, <= 32 characters
    std::vector<scaip_caller_id> crd;  ///< empty = `sip:` (answer on the SIP session)
    std::optional<int> stc;            ///< status code (Annex C); nullopt = alarm state
    std::string stt;                   ///< status text, <= 32 characters
    int pri = 0;                       ///< priority 0 (lowest) - 9
    std::optional<int> lco;            ///< location code (Annex D)
    std::string lva;                   ///< location value, 1-2 characters
    std::optional<scaip_geo> lge;      ///< geographic location
    std::string lte;                   ///< location text, <= 32 characters
    std::optional<int> ico;            ///< info code (Annex E)
    std::string ite;                   ///< info text, <= 128 characters
    int ame = 0;                       ///< additional messages to follow (0 = last)
    bool compat_root = false;          ///< arrived with root `<scaip>` (compatibility mode)
    bool operator==(const scaip_request&) const = default;
};

/// Why a body was refused: the `snu` to answer with, the element at fault and a sentence.
struct scaip_error {
    scaip_status snu = scaip_status::invalid_format;
    std::string field;     ///< the element ("ref", "dty", "lge/geo"); empty for the document
    std::string detail;    ///< e.g. "dty: '2x' is not 1-4 digits" (input quoted, cut to 40 bytes)
    std::string ref;       ///< the request's ref when it was valid, so the refusal can echo it
    std::error_code code;  ///< bad_format, frame_too_large, bad_data or missing_field
};

/// How lenient the parser is.
struct scaip_parse_options {
    std::size_t max_size = 4096;    ///< bytes; larger bodies are refused with snu=1
    bool allow_scaip_root = false;  ///< accept root `<scaip>` (Syntilio deviation, §4.2)
};

/// Parses a `<mrq>` body. Lenient as §4.3/§4.6 ask: children in any order, unknown elements
/// (and everything inside them) ignored, namespaces and prefixes ignored, element names and the
/// `mty` value compared without case, whitespace around values trimmed, codes compared
/// numerically, lengths checked against the table (not the XSD). Refused: a DOCTYPE (no
/// entities), nesting deeper than 16, a repeated element other than `crd`, text in place of
/// `lge`'s children. Never throws.
tl::expected<scaip_request, scaip_error> parse_scaip_request(
    std::string_view body, const scaip_parse_options& options = {});

/// The `<mrq>` for `request` (encoder for arc-sim and tests); omits elements at their default.
std::string build_scaip_request(const scaip_request& request);

/// A Message Response (§4.4).
struct scaip_response {
    std::string ref;
    scaip_status snu = scaip_status::ok;
    std::string ste;               ///< status text, ASCII <= 128 (longer is cut, non-ASCII dropped)
    std::string cve;               ///< common version, empty = omitted
    std::optional<int> mre;        ///< media reply 0-3
    std::string cre;               ///< call-handling reply "01"-"62", empty = omitted
    std::vector<std::string> tnu;  ///< transferred numbers
    std::optional<int> hbi;        ///< heartbeat interval in minutes 1-1440
    bool operator==(const scaip_response&) const = default;
};

/// The `<mrs>` XML for `response`, text escaped.
std::string build_scaip_response(const scaip_response& response);

/// The response that refuses a request: its ref (when known) and the error's snu and detail.
scaip_response scaip_refusal(const scaip_error& error);

/// Parses a `<mrs>` body (for arc-sim and tests); same leniency and errors as the request parser.
tl::expected<scaip_response, scaip_error> parse_scaip_response(
    std::string_view body, const scaip_parse_options& options = {});

}  // namespace arc::protocol
