#include "arc/protocol/crc.hpp"

namespace arc::protocol {

std::uint16_t crc16_arc(std::string_view bytes) noexcept {
    // Bitwise CRC-16/ARC (DC-09 §5.5.1.2, PROTOCOLS.md §1.4): frames are short, a table buys
    // little.
    std::uint16_t crc = 0;
    for (const char ch : bytes) {
        crc = static_cast<std::uint16_t>(crc ^ static_cast<unsigned char>(ch));
        for (int bit = 0; bit < 8; ++bit) {
            if ((crc & 1U) != 0) {
                crc = static_cast<std::uint16_t>((crc >> 1U) ^ 0xA001U);
            } else {
                crc = static_cast<std::uint16_t>(crc >> 1U);
            }
        }
    }
    return crc;
}

}  // namespace arc::protocol
