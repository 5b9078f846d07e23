// libFuzzer: the SIP framing on arbitrary bytes. Feeding a stream whole, split in two, or byte by
// byte cuts the same messages and stops at the same error; buffers stay bounded; every parsed
// request gets a response that serializes and parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "arc/protocol/error.hpp"
#include "arc/protocol/sip.hpp"

namespace {

using namespace arc::protocol;

sip_limits small_limits() {
    sip_limits l;
    l.max_header_bytes = 512;
    l.max_headers = 16;
    l.max_body = 256;
    return l;
}

// Serialized messages, then the final error's detail (or "need more").
std::vector<std::string> drain(sip_stream_parser& p, std::vector<std::string>& out) {
    while (true) {
        auto m = p.next();
        if (p.buffered() > small_limits().max_header_bytes + small_limits().max_body + 8 &&
            m.has_value() == false && m.error().code == make_error_code(error::need_more)) {
            std::abort();  // an incomplete message never holds more than head + body
        }
        if (!m) {
            if (m.error().code != make_error_code(error::need_more)) {
                out.push_back("error " + m.error().detail);
            }
            return out;
        }
        out.push_back(serialize_sip(*m));
    }
}

std::vector<std::string> feed_in_pieces(std::string_view input, std::size_t piece) {
    sip_stream_parser p(small_limits());
    std::vector<std::string> out;
    for (std::size_t i = 0; i < input.size(); i += piece) {
        p.feed(input.substr(i, piece));
        drain(p, out);
        if (!out.empty() && out.back().starts_with("error ")) {
            break;  // the error sticks; nothing more is parsed
        }
    }
    return out;
}

void answer(const sip_message& m) {
    if (!m.is_request) {
        return;
    }
    const auto problem = check_sip_request(m);
    const auto response = problem ? make_sip_response(m, problem->status, "Bad Request", "t")
                                  : make_sip_challenge(m, "arc", "nonce", "t");
    sip_limits roomy;
    roomy.max_headers = 4 * m.headers.size() + 8;
    roomy.max_header_bytes = 4 * serialize_sip(m).size() + 1024;
    const auto back = parse_sip_datagram(serialize_sip(response), roomy);
    if (!back || back->status != response.status) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes.
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    const auto d = parse_sip_datagram(input, small_limits());
    if (d) {
        answer(*d);
    } else if (d.error().detail.empty() || d.error().status < 400) {
        std::abort();
    }

    const auto whole = feed_in_pieces(input, input.size() + 1);
    const std::size_t cut = size == 0 ? 1 : 1 + data[0] % 64;
    if (feed_in_pieces(input, cut) != whole) {
        std::abort();
    }
    if (size <= 512 && feed_in_pieces(input, 1) != whole) {
        std::abort();
    }
    sip_stream_parser p;
    p.feed(input);
    for (auto m = p.next(); m; m = p.next()) {
        answer(*m);
    }
    return 0;
}
