// libFuzzer: receiver_framer + handle_receiver_frame on arbitrary bytes. Feeding the input whole
// or byte by byte must cut the same packets; buffers stay bounded; a reply is always ACK or NAK.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "arc/protocol/error.hpp"
#include "arc/protocol/surgard.hpp"

namespace {

constexpr std::size_t max_line = 64;

std::vector<std::string> drain(arc::protocol::receiver_framer& framer) {
    std::vector<std::string> out;
    for (auto item = framer.next(); item || item.error() != arc::protocol::error::need_more;
         item = framer.next()) {
        out.push_back(item ? item->raw : std::string("<oversize>"));
        if (framer.buffered() > max_line + 4) {
            std::abort();
        }
        if (!item) {
            continue;
        }
        for (const auto format :
             {arc::protocol::receiver_format::surgard, arc::protocol::receiver_format::ademco685}) {
            const auto r = arc::protocol::handle_receiver_frame(*item, format);
            const char reply = r.reply_bytes.empty() ? '\0' : r.reply_bytes.back();
            if (r.accepted != (reply == arc::protocol::receiver_ack) || r.accepted != !r.error ||
                r.accepted != r.line.has_value()) {
                std::abort();
            }
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes.
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    arc::protocol::receiver_framer whole(max_line);
    whole.feed(input);
    const std::vector<std::string> a = drain(whole);

    arc::protocol::receiver_framer bytewise(max_line);
    std::vector<std::string> b;
    for (const char c : input) {
        bytewise.feed(std::string_view(&c, 1));
        if (bytewise.buffered() > max_line + 4) {
            std::abort();
        }
        const auto got = drain(bytewise);
        b.insert(b.end(), got.begin(), got.end());
    }
    if (a != b || whole.buffered() != bytewise.buffered() ||
        whole.discarded() != bytewise.discarded()) {
        std::abort();
    }
    return 0;
}
