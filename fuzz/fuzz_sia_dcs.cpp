// libFuzzer: parse_sia_dcs on arbitrary data; whatever parses must re-encode to the same events.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "arc/protocol/sia_dcs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes.
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto block = arc::protocol::parse_sia_dcs(input);
    if (!block) {
        return 0;
    }
    if (block->events.empty()) {
        std::abort();
    }
    const std::string text =
        arc::protocol::encode_sia_dcs(block->account.value_or(""), block->events);
    const auto again = arc::protocol::parse_sia_dcs(text);
    if (!again || again->events.size() != block->events.size()) {
        std::abort();
    }
    for (std::size_t i = 0; i < block->events.size(); ++i) {
        const auto& a = block->events[i];
        const auto& b = again->events[i];
        if (a.function != b.function || a.code != b.code || a.address != b.address ||
            a.modifiers != b.modifiers || a.text != b.text || a.known != b.known) {
            std::abort();
        }
    }
    return 0;
}
