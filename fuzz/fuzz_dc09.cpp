// libFuzzer: a TCP byte stream through dc09_framer in input-dependent chunk sizes, and every
// frame through handle_dc09_frame with a fixed registry (clear, AES-128 and AES-256 accounts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "arc/protocol/crc.hpp"
#include "arc/protocol/dc09.hpp"
#include "arc/protocol/error.hpp"

namespace {

using namespace arc::protocol;

constexpr std::size_t max_frame = 512;
constexpr std::int64_t now = 1741947330;  // 10:15:30,03-14-2025, the vectors' receiver time

std::optional<account_info> lookup(std::string_view acct) {
    static const aes_key key128 = parse_aes_key("2B7E151628AED2A6ABF7158809CF4F3C").value();
    static const aes_key key256 =
        parse_aes_key("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4").value();
    static const aes_key key_abcd = parse_aes_key("ABCDABCDABCDABCDABCDABCDABCDABCD").value();
    account_info info;
    if (acct == "1234" || acct == "7099" || acct == "0000") {
        return info;
    }
    if (acct == "ABCDEF") {
        info.key = key128;
        return info;
    }
    if (acct == "0012345678") {
        info.key = key256;
        info.tolerate_length_mismatch = true;
        return info;
    }
    if (acct == "080027E62A64") {
        info.key = key_abcd;
        info.accept_clear_text = true;
        return info;
    }
    return std::nullopt;
}

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void check_result(const dc09_result& r) {
    if (r.reply == reply_kind::none) {
        check(r.reply_bytes.empty());
        return;
    }
    // Every reply the receiver sends must itself be a well-formed DC-09 frame.
    const auto reply = parse_dc09_frame(r.reply_bytes);
    check(reply.has_value());
    check(r.accepted == (r.reply == reply_kind::ack || r.reply == reply_kind::ack_encrypted));
    if (r.reply == reply_kind::nak) {
        check(reply->token == "NAK");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands out bytes.
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::uint32_t seed = crc16_arc(input) | (static_cast<std::uint32_t>(size) << 16U);

    receiver_policy policy;
    policy.ack_unknown_account = (seed & 1U) != 0;
    policy.ack_unknown_code = (seed & 2U) != 0;
    policy.window_for_clear_text = (seed & 4U) != 0;
    policy.accept_clear_text = (seed & 8U) != 0;
    receive_context ctx;
    ctx.now_unix = now;
    ctx.policy = &policy;
    ctx.lookup = lookup;
    ctx.random = [&seed](std::span<std::uint8_t> out) {
        for (auto& b : out) {
            seed = seed * 1103515245U + 12345U;
            b = static_cast<std::uint8_t>(seed >> 16U);
        }
    };

    // The whole input as one frame (UDP datagram).
    check_result(handle_dc09_frame(input, ctx));

    // The input as a TCP stream in chunks of 1..64 bytes.
    dc09_framer framer(max_frame);
    std::size_t pos = 0;
    while (pos < input.size()) {
        seed = seed * 1103515245U + 12345U;
        const std::size_t chunk = 1 + ((seed >> 16U) % 64U);
        framer.feed(input.substr(pos, chunk));
        pos += chunk;
        check(framer.buffered() <= max_frame);
        for (auto frame = framer.next(); frame || frame.error() == error::frame_too_large;
             frame = framer.next()) {
            if (frame) {
                check(frame->size() <= max_frame);
                check(frame->front() == '\n' && frame->back() == '\r');
                check_result(handle_dc09_frame(*frame, ctx));
            }
        }
    }
    return 0;
}
