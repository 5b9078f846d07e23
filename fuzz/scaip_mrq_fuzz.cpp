// libFuzzer: parse_scaip_request / parse_scaip_response on arbitrary bytes. Never crashes; a
// parsed request has its mandatory fields; refusals carry a message-error snu and a detail;
// whatever parses survives build -> parse unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "arc/protocol/scaip.hpp"

namespace {

void check_request(std::string_view input, bool compat) {
    using namespace arc::protocol;
    scaip_parse_options options;
    options.allow_scaip_root = compat;
    const auto r = parse_scaip_request(input, options);
    if (!r) {
        const auto snu = r.error().snu;
        if (snu == scaip_status::ok || snu == scaip_status::hold || r.error().detail.empty()) {
            std::abort();
        }
        (void)build_scaip_response(scaip_refusal(r.error()));
        return;
    }
    if (r->ref.empty() || r->ref.size() > 16 || r->cid.empty() || r->cid.size() > 32) {
        std::abort();
    }
    // Escaping may grow the text (CDATA in, &lt; out), so the re-parse gets room.
    scaip_parse_options roomy;
    roomy.max_size = 16 * input.size() + 4096;
    auto back = parse_scaip_request(build_scaip_request(*r), roomy);
    if (!back) {
        std::abort();
    }
    back->compat_root = r->compat_root;
    if (!(*back == *r)) {
        std::abort();
    }
}

void check_response(std::string_view input) {
    using namespace arc::protocol;
    const auto r = parse_scaip_response(input);
    if (!r) {
        return;
    }
    scaip_parse_options roomy;
    roomy.max_size = 16 * input.size() + 4096;
    const auto back = parse_scaip_response(build_scaip_response(*r), roomy);
    if (!back || !(*back == *r)) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes.
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_request(input, false);
    check_request(input, true);
    check_response(input);
    return 0;
}
