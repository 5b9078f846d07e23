// Purpose: CRC-16/ARC as used by SIA DC-09 (PROTOCOLS.md §1.4).
#pragma once

#include <cstdint>
#include <string_view>

namespace arc::protocol {

/// CRC-16/ARC (poly 0xA001 reflected, init 0, no final xor) of `bytes`; crc("123456789") == 0xBB3D.
std::uint16_t crc16_arc(std::string_view bytes) noexcept;

}  // namespace arc::protocol
