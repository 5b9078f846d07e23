// libFuzzer: parse_digest_authorization on arbitrary bytes. Never crashes; a parsed header has
// the mandatory fields, and verify_digest on it answers without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "arc/protocol/sip_digest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes.
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto c = arc::protocol::parse_digest_authorization(input);
    if (c) {
        if (c->username.empty() || c->nonce.empty() || c->uri.empty() || c->response.empty()) {
            std::abort();
        }
        (void)arc::protocol::verify_digest(*c, "MESSAGE", arc::protocol::digest_ha1("u", "r", "p"));
    }
    return 0;
}
