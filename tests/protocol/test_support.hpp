// Purpose: shared helpers of the protocol tests: vector files, the test registry, fixed randomness.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "arc/protocol/aes.hpp"
#include "arc/protocol/dc09.hpp"

namespace arc::protocol::test {

/// Parses a vector file from tests/data; an empty array when missing (the test then fails).
inline nlohmann::json load_json(const std::string& file) {
    std::ifstream in(std::string(ARC_TEST_DATA_DIR) + "/" + file);
    if (!in) {
        return nlohmann::json::array();
    }
    return nlohmann::json::parse(in, nullptr, false);
}

/// Optional string member: nullopt when absent or null.
inline std::optional<std::string> opt_string(const nlohmann::json& j, const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) {
        return std::nullopt;
    }
    return j.at(key).get<std::string>();
}

/// Unix seconds of "YYYY-MM-DDTHH:MM:SSZ", through the library's own DC-09 timestamp parser.
inline std::int64_t iso_utc(std::string_view iso) {
    // 2015-06-22T13:53:11Z -> 13:53:11,06-22-2015
    const std::string dc09 = std::string(iso.substr(11, 8)) + "," + std::string(iso.substr(5, 2)) +
                             "-" + std::string(iso.substr(8, 2)) + "-" +
                             std::string(iso.substr(0, 4));
    return parse_dc09_timestamp(dc09).value();
}

/// The receiver time the brief's generated vectors use: 2025-03-14T10:15:30Z.
inline constexpr std::int64_t generated_now = 1741947330;

/// Key bytes from hex text.
inline aes_key key_from_hex(std::string_view hex) { return parse_aes_key(hex).value(); }

/// A deterministic "random" source: 0x00, 0x01, ... so pads exercise the replaced bytes too.
inline void counting_random(std::span<std::uint8_t> out) {
    static std::uint8_t next = 0x55;
    for (auto& b : out) {
        b = next;
        next = static_cast<std::uint8_t>(next + 37);
    }
}

/// An account registry for handle_dc09_frame.
struct registry {
    std::map<std::string, account_info, std::less<>> accounts;

    std::optional<account_info> operator()(std::string_view acct) const {
        const auto it = accounts.find(acct);
        if (it == accounts.end()) {
            return std::nullopt;
        }
        return it->second;
    }
};

/// A context over `reg` and `policy` at time `now` (both must outlive the context).
inline receive_context make_context(const registry& reg, const receiver_policy& policy,
                                    std::int64_t now) {
    receive_context ctx;
    ctx.now_unix = now;
    ctx.policy = &policy;
    ctx.lookup = [&reg](std::string_view acct) { return reg(acct); };
    ctx.random = counting_random;
    return ctx;
}

}  // namespace arc::protocol::test
