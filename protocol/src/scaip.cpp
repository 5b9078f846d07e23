#include "arc/protocol/scaip.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <utility>

#include <expat.h>

#include "arc/protocol/error.hpp"

// Expat, not a hand parser: the body is untrusted XML that may legally carry CDATA, character
// references, comments, an XML declaration with another encoding, and namespace prefixes (the
// XSD has a targetNamespace). Expat handles all of them, checks UTF-8, and is fuzzed upstream;
// we refuse DOCTYPEs so no entity can be declared (no entity expansion attacks).

namespace arc::protocol {

namespace {

constexpr int max_depth = 16;
// Nodes kept per document: the root, its children and their children. Unknown subtrees are
// skipped, so this only bounds a flood of known-looking elements.
constexpr std::size_t max_nodes = 256;
constexpr std::size_t max_quote = 40;

struct node {
    std::string name;  ///< local name, lower case
    std::string text;  ///< character data directly inside
    std::vector<node> children;
    bool has_children = false;  ///< an element was nested inside (known or not)
};

struct collector {
    XML_Parser parser = nullptr;
    node root;
    bool have_root = false;
    int depth = 0;
    std::size_t nodes = 0;
    std::vector<node*> path;  ///< the open elements we keep (root, child, grandchild)
    int skip_from = 0;        ///< depth at which a skipped subtree began, 0 = none
    std::string failure;      ///< why we stopped the parser ourselves
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

// "uri|local" (namespace resolved by expat) or "prefix:local" -> "local".
std::string local_name(const XML_Char* name) {
    std::string_view n(name);
    const auto bar = n.rfind('|');
    if (bar != std::string_view::npos) {
        n.remove_prefix(bar + 1);
    }
    return lower(n);
}

void stop(collector& c, std::string why) {
    if (c.failure.empty()) {
        c.failure = std::move(why);
    }
    XML_StopParser(c.parser, XML_FALSE);
}

void XMLCALL on_start(void* user, const XML_Char* name, const XML_Char** /*attributes*/) {
    auto& c = *static_cast<collector*>(user);
    ++c.depth;
    if (c.depth > max_depth) {
        stop(c, "nesting deeper than 16");
        return;
    }
    if (c.skip_from != 0) {
        return;
    }
    if (c.depth == 1) {
        c.root.name = local_name(name);
        c.have_root = true;
        c.path.push_back(&c.root);
        return;
    }
    node* parent = c.path.back();
    parent->has_children = true;
    // Only the root's children and grandchildren carry SCAIP data (lge/geo is the deepest).
    if (c.depth > 3 || ++c.nodes > max_nodes) {
        if (c.nodes > max_nodes) {
            stop(c, "more than 256 elements");
            return;
        }
        c.skip_from = c.depth;
        return;
    }
    parent->children.push_back(node{local_name(name), {}, {}, false});
    c.path.push_back(&parent->children.back());
}

void XMLCALL on_end(void* user, const XML_Char* /*name*/) {
    auto& c = *static_cast<collector*>(user);
    if (c.skip_from != 0) {
        if (c.depth == c.skip_from) {
            c.skip_from = 0;
        }
    } else if (!c.path.empty()) {
        c.path.pop_back();
    }
    --c.depth;
}

void XMLCALL on_text(void* user, const XML_Char* text, int length) {
    auto& c = *static_cast<collector*>(user);
    if (c.skip_from != 0 || c.path.size() < 2 || length <= 0) {
        return;  // text between the root's children is not data
    }
    c.path.back()->text.append(text, static_cast<std::size_t>(length));
}

void XMLCALL on_doctype(void* user, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                        const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
    stop(*static_cast<collector*>(user), "DOCTYPE not allowed");
}

struct parser_deleter {
    void operator()(XML_ParserStruct* p) const noexcept { XML_ParserFree(p); }
};

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

scaip_error make_error(scaip_status snu, error code, std::string field, std::string detail) {
    scaip_error e;
    e.snu = snu;
    e.code = make_error_code(code);
    e.field = std::move(field);
    e.detail = e.field.empty() ? std::move(detail) : e.field + ": " + detail;
    return e;
}

using tree = tl::expected<node, scaip_error>;

// Parses the XML into a tree of the root, its children and grandchildren.
tree read_tree(std::string_view body, const scaip_parse_options& options) {
    if (body.size() > options.max_size) {
        return tl::unexpected(make_error(scaip_status::too_long, error::frame_too_large, "",
                                         "body of " + std::to_string(body.size()) +
                                             " bytes, limit " + std::to_string(options.max_size)));
    }
    const std::unique_ptr<XML_ParserStruct, parser_deleter> parser(
        XML_ParserCreateNS(nullptr, '|'));
    if (!parser) {
        return tl::unexpected(
            make_error(scaip_status::undefined, error::bad_format, "", "out of memory"));
    }
    collector c;
    c.parser = parser.get();
    XML_SetUserData(parser.get(), &c);
    XML_SetElementHandler(parser.get(), on_start, on_end);
    XML_SetCharacterDataHandler(parser.get(), on_text);
    XML_SetStartDoctypeDeclHandler(parser.get(), on_doctype);
    // max_size is far below INT_MAX, so the length fits.
    const auto status = XML_Parse(parser.get(), body.data(), static_cast<int>(body.size()), 1);
    if (status != XML_STATUS_OK || !c.failure.empty()) {
        std::string why = c.failure;
        if (why.empty()) {
            why = std::string("not well-formed XML (") +
                  XML_ErrorString(XML_GetErrorCode(parser.get())) + " at line " +
                  std::to_string(XML_GetCurrentLineNumber(parser.get())) + ", column " +
                  std::to_string(XML_GetCurrentColumnNumber(parser.get())) + ")";
        }
        return tl::unexpected(make_error(scaip_status::invalid_format, error::bad_format, "", why));
    }
    return std::move(c.root);
}

std::string_view trim(std::string_view text) noexcept {
    auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
    while (!text.empty() && space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alnum(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_printable(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u <= 0x7E;
}

// Characters, not bytes: expat has already checked the UTF-8.
std::size_t utf8_length(std::string_view text) noexcept {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char ch) {
        return (static_cast<unsigned char>(ch) & 0xC0U) != 0x80U;
    }));
}

/// The children of one element with the checks every field needs.
class fields {
public:
    fields(const node& parent, std::string prefix) : parent_(parent), prefix_(std::move(prefix)) {}

    /// The one child named `name`, or nullptr; an error when repeated or holding elements.
    tl::expected<const node*, scaip_error> one(std::string_view name,
                                               bool container = false) const {
        const node* found = nullptr;
        for (const node& child : parent_.children) {
            if (child.name != name) {
                continue;
            }
            if (found != nullptr) {
                return tl::unexpected(make_error(scaip_status::invalid_format, error::bad_format,
                                                 path(name), "repeated"));
            }
            found = &child;
        }
        if (found != nullptr && !container && found->has_children) {
            return tl::unexpected(make_error(scaip_status::invalid_format, error::bad_format,
                                             path(name), "holds elements, expected text"));
        }
        return found;
    }

    /// The trimmed text of `name`, nullopt when absent.
    tl::expected<std::optional<std::string>, scaip_error> text(std::string_view name) const {
        auto n = one(name);
        if (!n) {
            return tl::unexpected(std::move(n.error()));
        }
        if (*n == nullptr) {
            return std::optional<std::string>{};
        }
        return std::optional<std::string>(std::string(trim((*n)->text)));
    }

    /// Text of `name` checked by `valid`, else wrong_data with `rule` as the reason.
    template <class Pred>
    tl::expected<std::optional<std::string>, scaip_error> checked(std::string_view name, Pred valid,
                                                                  std::string_view rule) const {
        auto t = text(name);
        if (t && t->has_value() && !valid(**t)) {
            return tl::unexpected(bad(name, **t, rule));
        }
        return t;
    }

    /// A code of 1 to `digits` decimal digits, compared numerically.
    tl::expected<std::optional<int>, scaip_error> code(std::string_view name,
                                                       std::size_t digits) const {
        auto t = text(name);
        if (!t) {
            return tl::unexpected(std::move(t.error()));
        }
        if (!t->has_value()) {
            return std::optional<int>{};
        }
        const std::string& s = **t;
        if (s.empty() || s.size() > digits || !std::all_of(s.begin(), s.end(), is_digit)) {
            return tl::unexpected(bad(name, s, "is not 1-" + std::to_string(digits) + " digits"));
        }
        int value = 0;
        std::from_chars(s.data(), s.data() + s.size(), value);
        return std::optional<int>(value);
    }

    /// Text of at most `max` characters (UTF-8), not empty.
    tl::expected<std::optional<std::string>, scaip_error> free_text(std::string_view name,
                                                                    std::size_t max) const {
        return checked(
            name, [max](const std::string& s) { return !s.empty() && utf8_length(s) <= max; },
            "is not 1-" + std::to_string(max) + " characters");
    }

    scaip_error bad(std::string_view name, std::string_view value, std::string_view rule) const {
        return make_error(scaip_status::wrong_data, error::bad_data, path(name),
                          quoted(value) + " " + std::string(rule));
    }

    std::string path(std::string_view name) const {
        return prefix_.empty() ? std::string(name) : prefix_ + "/" + std::string(name);
    }

    const node& parent() const noexcept { return parent_; }

private:
    const node& parent_;
    std::string prefix_;
};

// Assigns an optional text field, or returns its error from the enclosing function.
#define ARC_SCAIP_TRY(var, expr)                       \
    auto var = (expr);                                 \
    if (!var) {                                        \
        return tl::unexpected(std::move(var.error())); \
    }

bool valid_ref(const std::string& s) {
    return !s.empty() && s.size() <= 16 && std::all_of(s.begin(), s.end(), is_alnum);
}

bool valid_version(const std::string& s) {
    return s.size() == 5 && is_digit(s[0]) && is_digit(s[1]) && s[2] == '.' && is_digit(s[3]) &&
           is_digit(s[4]);
}

// ISO 8601 "YYYY-MM-DDThh:mm:ss" then Z, +hh, +hhmm or +hh:mm (the TR writes "+01").
bool valid_time(const std::string& s) {
    auto digits = [&s](std::size_t from, std::size_t n) {
        return from + n <= s.size() &&
               std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from),
                           s.begin() + static_cast<std::ptrdiff_t>(from + n), is_digit);
    };
    if (s.size() < 19 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' ||
        !digits(8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2) || s[13] != ':' ||
        !digits(14, 2) || s[16] != ':' || !digits(17, 2)) {
        return false;
    }
    const std::string_view zone = std::string_view(s).substr(19);
    if (zone.empty() || zone == "Z" || zone == "z") {
        return true;
    }
    if (zone[0] != '+' && zone[0] != '-') {
        return false;
    }
    return (zone.size() == 3 && digits(20, 2)) || (zone.size() == 5 && digits(20, 4)) ||
           (zone.size() == 6 && digits(20, 2) && zone[3] == ':' && digits(23, 2));
}

std::optional<double> parse_decimal(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 16) {
        return std::nullopt;
    }
    std::size_t i = 0;
    if (text[0] == '-' || text[0] == '+') {
        i = 1;
    }
    bool digit = false;
    bool dot = false;
    for (std::size_t k = i; k < text.size(); ++k) {
        if (is_digit(text[k])) {
            digit = true;
        } else if (text[k] == '.' && !dot) {
            dot = true;
        } else {
            return std::nullopt;
        }
    }
    if (!digit) {
        return std::nullopt;
    }
    // strtod on a bounded, already-validated copy (from_chars for double needs g++ 11+ only
    // with a locale-free implementation; strtod is fine for [+-]digits[.digits]).
    const std::string copy(text);
    return std::strtod(copy.c_str(), nullptr);
}

tl::expected<scaip_geo, scaip_error> read_geo(const node& lge) {
    const fields f(lge, "lge");
    scaip_geo g;
    ARC_SCAIP_TRY(geo, f.text("geo"));
    if (geo->has_value()) {
        g.geo = **geo;
        const auto comma = g.geo.find(',');
        std::optional<double> lat;
        std::optional<double> lon;
        if (g.geo.size() <= 23 && comma != std::string::npos) {
            lat = parse_decimal(std::string_view(g.geo).substr(0, comma));
            lon = parse_decimal(std::string_view(g.geo).substr(comma + 1));
        }
        if (!lat || !lon || *lat < -90.0 || *lat > 90.0 || *lon < -180.0 || *lon > 180.0) {
            return tl::unexpected(f.bad("geo", g.geo, "is not 'lat,lon' (WGS-84, <= 23)"));
        }
        g.latitude = lat;
        g.longitude = lon;
    }
    ARC_SCAIP_TRY(tim, f.checked("tim", valid_time, "is not YYYY-MM-DDThh:mm:ss+hh"));
    if (tim->has_value()) {
        g.tim = **tim;
    }
    ARC_SCAIP_TRY(gga, f.checked(
                           "gga",
                           [](const std::string& s) {
                               return !s.empty() && s.size() <= 81 &&
                                      std::all_of(s.begin(), s.end(), is_printable);
                           },
                           "is not an NMEA sentence of <= 81 printable characters"));
    if (gga->has_value()) {
        g.gga = **gga;
    }
    return g;
}

scaip_medium medium_of(std::string_view value) {
    const std::string low = lower(value.substr(0, 9));
    if (low.starts_with("no-voice:")) {
        return scaip_medium::no_voice;
    }
    if (low.starts_with("gsm:")) {
        return scaip_medium::gsm;
    }
    if (low.starts_with("sip:") || low.starts_with("sip-pp:")) {
        return scaip_medium::sip;
    }
    return scaip_medium::other;
}

tl::expected<scaip_request, scaip_error> read_request(const node& root) {
    const fields f(root, "");
    scaip_request r;
    // ref first, so that later refusals can echo it.
    ARC_SCAIP_TRY(ref, f.text("ref"));
    if (!ref->has_value() || (*ref)->empty()) {
        return tl::unexpected(make_error(scaip_status::reference_missing, error::missing_field,
                                         "ref", "mandatory element missing"));
    }
    if (!valid_ref(**ref)) {
        return tl::unexpected(f.bad("ref", **ref, "is not 1-16 of [0-9a-zA-Z]"));
    }
    r.ref = **ref;

    ARC_SCAIP_TRY(ver, f.checked("ver", valid_version, "is not NN.NN"));
    if (ver->has_value()) {
        r.ver = **ver;
    }
    ARC_SCAIP_TRY(sco, f.code("sco", 1));
    if (sco->has_value()) {
        if (**sco > 3) {
            return tl::unexpected(f.bad("sco", std::to_string(**sco), "is not 0-3"));
        }
        r.sco = **sco;
    }
    ARC_SCAIP_TRY(cha, f.code("cha", 1));
    if (cha->has_value()) {
        if (**cha > 1) {
            return tl::unexpected(f.bad("cha", std::to_string(**cha), "is not 0 or 1"));
        }
        r.cha = **cha;
    }
    ARC_SCAIP_TRY(mty, f.text("mty"));
    if (mty->has_value()) {
        const std::string m = lower(**mty);
        if (m == "me") {
            r.mty = scaip_message_type::message;
        } else if (m == "re") {
            r.mty = scaip_message_type::reset;
        } else if (m == "in") {
            r.mty = scaip_message_type::information;
        } else if (m == "pi") {
            r.mty = scaip_message_type::heartbeat;
        } else {
            return tl::unexpected(f.bad("mty", **mty, "is not ME, RE, IN or PI"));
        }
    }
    // `001` in the table, [0-3] in the XSD (§4.6): any 1-3 digits, 0 or 1.
    ARC_SCAIP_TRY(hbo, f.code("hbo", 3));
    if (hbo->has_value()) {
        if (**hbo > 1) {
            return tl::unexpected(f.bad("hbo", std::to_string(**hbo), "is not 0 or 001"));
        }
        r.hbo = **hbo == 1;
    }
    ARC_SCAIP_TRY(cid, f.text("cid"));
    if (!cid->has_value()) {
        auto e = make_error(scaip_status::mandatory_missing, error::missing_field, "cid",
                            "mandatory element missing");
        e.ref = r.ref;
        return tl::unexpected(std::move(e));
    }
    // 1-32 digits: the table's limit, not the XSD's 16 (§4.6).
    if ((*cid)->empty() || (*cid)->size() > 32 ||
        !std::all_of((*cid)->begin(), (*cid)->end(), is_digit)) {
        return tl::unexpected(f.bad("cid", **cid, "is not 1-32 digits"));
    }
    r.cid = **cid;
    ARC_SCAIP_TRY(dty, f.code("dty", 4));
    if (!dty->has_value()) {
        return tl::unexpected(make_error(scaip_status::mandatory_missing, error::missing_field,
                                         "dty", "mandatory element missing"));
    }
    r.dty = **dty;
    ARC_SCAIP_TRY(did, f.checked(
                           "did",
                           [](const std::string& s) {
                               return !s.empty() && s.size() <= 16 &&
                                      std::all_of(s.begin(), s.end(), is_printable);
                           },
                           "is not 1-16 printable ASCII characters"));
    if (did->has_value()) {
        r.did = **did;
    }
    ARC_SCAIP_TRY(dco, f.code("dco", 3));
    r.dco = *dco;
    ARC_SCAIP_TRY(dte, f.free_text("dte", 32));
    r.dte = dte->value_or("");
    for (const node& child : root.children) {
        if (child.name != "crd") {
            continue;
        }
        if (child.has_children) {
            return tl::unexpected(make_error(scaip_status::invalid_format, error::bad_format, "crd",
                                             "holds elements, expected text"));
        }
        const std::string value(trim(child.text));
        if (value.empty() || value.size() > 128 ||
            !std::all_of(value.begin(), value.end(), is_printable)) {
            return tl::unexpected(f.bad("crd", value, "is not 1-128 printable characters"));
        }
        r.crd.push_back(scaip_caller_id{medium_of(value), value});
    }
    ARC_SCAIP_TRY(stc, f.code("stc", 4));
    r.stc = *stc;
    ARC_SCAIP_TRY(stt, f.free_text("stt", 32));
    r.stt = stt->value_or("");
    ARC_SCAIP_TRY(pri, f.code("pri", 1));
    r.pri = pri->value_or(0);
    ARC_SCAIP_TRY(lco, f.code("lco", 3));
    r.lco = *lco;
    ARC_SCAIP_TRY(lva, f.free_text("lva", 2));
    r.lva = lva->value_or("");
    ARC_SCAIP_TRY(lge, f.one("lge", true));
    if (*lge != nullptr) {
        if (!trim((*lge)->text).empty()) {
            return tl::unexpected(make_error(scaip_status::invalid_format, error::bad_format, "lge",
                                             "holds text, expected geo/tim/gga"));
        }
        ARC_SCAIP_TRY(geo, read_geo(**lge));
        r.lge = std::move(*geo);
    }
    ARC_SCAIP_TRY(lte, f.free_text("lte", 32));
    r.lte = lte->value_or("");
    ARC_SCAIP_TRY(ico, f.code("ico", 4));
    r.ico = *ico;
    ARC_SCAIP_TRY(ite, f.free_text("ite", 128));
    r.ite = ite->value_or("");
    ARC_SCAIP_TRY(ame, f.code("ame", 3));
    r.ame = ame->value_or(0);
    return r;
}

void append_escaped(std::string& out, std::string_view text) {
    for (const char ch : text) {
        switch (ch) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            case '\r':
                out += "&#13;";  // a raw CR would come back as LF (XML 1.0 §2.11)
                break;
            default:
                // Control characters other than TAB/CR/LF are not allowed in XML 1.0.
                if (static_cast<unsigned char>(ch) >= 0x20 || ch == '\t' || ch == '\n') {
                    out += ch;
                }
                break;
        }
    }
}

void element(std::string& out, std::string_view name, std::string_view text) {
    out.append("<").append(name).append(">");
    append_escaped(out, text);
    out.append("</").append(name).append(">");
}

// Codes keep the table's width (dty 4 digits, dco 3) so that strict receivers accept them.
std::string padded(int value, std::size_t width) {
    std::string digits = std::to_string(value);
    if (digits.size() < width) {
        digits.insert(0, width - digits.size(), '0');
    }
    return digits;
}

tl::expected<scaip_response, scaip_error> read_response(const node& root) {
    const fields f(root, "");
    scaip_response r;
    ARC_SCAIP_TRY(ref, f.text("ref"));
    if (!ref->has_value() || (*ref)->empty()) {
        return tl::unexpected(make_error(scaip_status::reference_missing, error::missing_field,
                                         "ref", "mandatory element missing"));
    }
    if (!valid_ref(**ref)) {
        return tl::unexpected(f.bad("ref", **ref, "is not 1-16 of [0-9a-zA-Z]"));
    }
    r.ref = **ref;
    ARC_SCAIP_TRY(snu, f.code("snu", 2));
    if (!snu->has_value()) {
        return tl::unexpected(make_error(scaip_status::mandatory_missing, error::missing_field,
                                         "snu", "mandatory element missing"));
    }
    r.snu = static_cast<scaip_status>(**snu);
    ARC_SCAIP_TRY(ste, f.checked(
                           "ste",
                           [](const std::string& s) {
                               return s.size() <= 128 &&
                                      std::all_of(s.begin(), s.end(), is_printable);
                           },
                           "is not <= 128 ASCII characters"));
    r.ste = ste->value_or("");
    ARC_SCAIP_TRY(cve, f.checked("cve", valid_version, "is not NN.NN"));
    r.cve = cve->value_or("");
    ARC_SCAIP_TRY(mre, f.code("mre", 2));
    if (mre->has_value() && **mre > 3) {
        return tl::unexpected(f.bad("mre", std::to_string(**mre), "is not 0-3"));
    }
    r.mre = *mre;
    ARC_SCAIP_TRY(cre, f.code("cre", 2));
    if (cre->has_value()) {
        if (**cre < 1 || **cre > 62) {
            return tl::unexpected(f.bad("cre", std::to_string(**cre), "is not 01-62"));
        }
        r.cre = padded(**cre, 2);
    }
    for (const node& child : root.children) {
        if (child.name == "tnu") {
            r.tnu.emplace_back(trim(child.text));
        }
    }
    ARC_SCAIP_TRY(hbi, f.code("hbi", 4));
    if (hbi->has_value() && (**hbi < 1 || **hbi > 1440)) {
        return tl::unexpected(f.bad("hbi", std::to_string(**hbi), "is not 1-1440"));
    }
    r.hbi = *hbi;
    return r;
}

#undef ARC_SCAIP_TRY

}  // namespace

std::string_view to_string(scaip_message_type type) noexcept {
    switch (type) {
        case scaip_message_type::message:
            return "ME";
        case scaip_message_type::reset:
            return "RE";
        case scaip_message_type::information:
            return "IN";
        case scaip_message_type::heartbeat:
            return "PI";
    }
    return "ME";
}

tl::expected<scaip_request, scaip_error> parse_scaip_request(std::string_view body,
                                                             const scaip_parse_options& options) {
    auto root = read_tree(body, options);
    if (!root) {
        return tl::unexpected(std::move(root.error()));
    }
    const bool compat = options.allow_scaip_root && root->name == "scaip";
    if (root->name != "mrq" && !compat) {
        return tl::unexpected(make_error(scaip_status::invalid_format, error::bad_format, "",
                                         "root element " + quoted(root->name) + " is not mrq"));
    }
    auto request = read_request(*root);
    if (!request) {
        // Echo the ref in refusals whenever it was valid.
        auto e = std::move(request.error());
        if (e.ref.empty() && e.field != "ref") {
            const fields f(*root, "");
            if (auto ref = f.text("ref"); ref && ref->has_value() && valid_ref(**ref)) {
                e.ref = **ref;
            }
        }
        return tl::unexpected(std::move(e));
    }
    request->compat_root = compat;
    return request;
}

std::string build_scaip_request(const scaip_request& r) {
    std::string out = "<mrq>";
    element(out, "ref", r.ref);
    if (r.ver != "01.00") {
        element(out, "ver", r.ver);
    }
    if (r.sco != 0) {
        element(out, "sco", std::to_string(r.sco));
    }
    if (r.cha != 0) {
        element(out, "cha", std::to_string(r.cha));
    }
    if (r.mty != scaip_message_type::message) {
        element(out, "mty", to_string(r.mty));
    }
    if (r.hbo) {
        element(out, "hbo", "001");
    }
    element(out, "cid", r.cid);
    element(out, "dty", padded(r.dty, 4));
    if (!r.did.empty()) {
        element(out, "did", r.did);
    }
    if (r.dco) {
        element(out, "dco", padded(*r.dco, 3));
    }
    if (!r.dte.empty()) {
        element(out, "dte", r.dte);
    }
    for (const auto& crd : r.crd) {
        element(out, "crd", crd.value);
    }
    if (r.stc) {
        element(out, "stc", padded(*r.stc, 4));
    }
    if (!r.stt.empty()) {
        element(out, "stt", r.stt);
    }
    if (r.pri != 0) {
        element(out, "pri", std::to_string(r.pri));
    }
    if (r.lco) {
        element(out, "lco", padded(*r.lco, 3));
    }
    if (!r.lva.empty()) {
        element(out, "lva", r.lva);
    }
    if (r.lge) {
        out += "<lge>";
        if (!r.lge->geo.empty()) {
            element(out, "geo", r.lge->geo);
        }
        if (!r.lge->tim.empty()) {
            element(out, "tim", r.lge->tim);
        }
        if (!r.lge->gga.empty()) {
            element(out, "gga", r.lge->gga);
        }
        out += "</lge>";
    }
    if (!r.lte.empty()) {
        element(out, "lte", r.lte);
    }
    if (r.ico) {
        element(out, "ico", std::to_string(*r.ico));
    }
    if (!r.ite.empty()) {
        element(out, "ite", r.ite);
    }
    if (r.ame != 0) {
        element(out, "ame", std::to_string(r.ame));
    }
    out += "</mrq>";
    return out;
}

std::string build_scaip_response(const scaip_response& r) {
    std::string out = "<mrs>";
    element(out, "ref", r.ref);
    element(out, "snu", std::to_string(static_cast<int>(r.snu)));
    if (!r.ste.empty()) {
        // ASCII <= 128 (§4.4): drop what is not printable ASCII, then cut.
        std::string ste;
        for (const char ch : r.ste) {
            if (is_printable(ch) && ste.size() < 128) {
                ste += ch;
            }
        }
        element(out, "ste", ste);
    }
    if (!r.cve.empty()) {
        element(out, "cve", r.cve);
    }
    if (r.mre) {
        element(out, "mre", std::to_string(*r.mre));
    }
    if (!r.cre.empty()) {
        element(out, "cre", r.cre);
    }
    for (const auto& tnu : r.tnu) {
        element(out, "tnu", tnu);
    }
    if (r.hbi) {
        element(out, "hbi", std::to_string(*r.hbi));
    }
    out += "</mrs>";
    return out;
}

scaip_response scaip_refusal(const scaip_error& error) {
    scaip_response r;
    r.ref = error.ref;
    r.snu = error.snu;
    r.ste = error.detail;
    return r;
}

tl::expected<scaip_response, scaip_error> parse_scaip_response(std::string_view body,
                                                               const scaip_parse_options& options) {
    auto root = read_tree(body, options);
    if (!root) {
        return tl::unexpected(std::move(root.error()));
    }
    if (root->name != "mrs" && !(options.allow_scaip_root && root->name == "scaip")) {
        return tl::unexpected(make_error(scaip_status::invalid_format, error::bad_format, "",
                                         "root element " + quoted(root->name) + " is not mrs"));
    }
    return read_response(*root);
}

}  // namespace arc::protocol
