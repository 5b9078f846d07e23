#include "arc/protocol/crc.hpp"

#include <array>
#include <cstddef>

namespace arc::protocol {

namespace {

// CRC-16/ARC (reflected polynomial 0xA001) one byte at a time: every frame is checked once and
// every reply computed once, which made the bit loop a visible share of arcd's CPU per message.
constexpr std::array<std::uint16_t, 256> make_table() noexcept {
    std::array<std::uint16_t, 256> table{};
    for (std::size_t i = 0; i < table.size(); ++i) {
        auto crc = static_cast<std::uint16_t>(i);
        for (int bit = 0; bit < 8; ++bit) {
            if ((crc & 1U) != 0) {
                crc = static_cast<std::uint16_t>((crc >> 1U) ^ 0xA001U);
            } else {
                crc = static_cast<std::uint16_t>(crc >> 1U);
            }
        }
        table.at(i) = crc;
    }
    return table;
}

constexpr std::array<std::uint16_t, 256> crc_table = make_table();

}  // namespace

std::uint16_t crc16_arc(std::string_view bytes) noexcept {
    // DC-09 §5.5.1.2, PROTOCOLS.md §1.4.
    std::uint16_t crc = 0;
    for (const char ch : bytes) {
        const auto index = static_cast<std::uint8_t>(crc ^ static_cast<unsigned char>(ch));
        crc = static_cast<std::uint16_t>((crc >> 8U) ^ crc_table[index]);
    }
    return crc;
}

}  // namespace arc::protocol
