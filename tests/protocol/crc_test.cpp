// CRC-16/ARC check value and DC-09 vectors.
#include "arc/protocol/crc.hpp"

#include "test_support.hpp"
#include <gtest/gtest.h>

namespace arc::protocol {
namespace {

TEST(crc16_arc, check_value) { EXPECT_EQ(crc16_arc("123456789"), 0xBB3D); }

TEST(crc16_arc, empty_is_zero) { EXPECT_EQ(crc16_arc(""), 0x0000); }

TEST(crc16_arc, worked_example) {
    EXPECT_EQ(crc16_arc("\"SIA-DCS\"0001L0#1234[#1234|NFA0001]_03:04:05,01-02-2024"), 0xB222);
}

TEST(crc16_arc, dc07_table_entry_101_is_eb01) {
    // Table-driven CRC-16/ARC: the table holds the CRC of each single byte. North Latitude's
    // erratum: DC-07's entry 101 (counting from 1, so byte 100) must be 0xEB01, not 0xBE01.
    EXPECT_EQ(crc16_arc(std::string(1, static_cast<char>(100))), 0xEB01);
}

TEST(crc16_arc, every_vector_with_a_computed_crc) {
    std::size_t checked = 0;
    for (const auto& v : test::load_json("dc09_vectors.json")) {
        const auto& c = v.at("computed");
        if (!c.contains("crc_calc")) {
            continue;
        }
        const std::string raw = v.at("raw").get<std::string>();
        const std::string region = raw.substr(9, raw.size() - 10);
        EXPECT_EQ(crc16_arc(region), std::stoul(c.at("crc_calc").get<std::string>(), nullptr, 16))
            << v.at("name");
        ++checked;
    }
    EXPECT_GE(checked, 55U);
}

}  // namespace
}  // namespace arc::protocol
