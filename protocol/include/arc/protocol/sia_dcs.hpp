// Purpose: SIA DC-03 data blocks as carried in DC-09 "SIA-DCS" (PROTOCOLS.md §2).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arc/protocol/expected.hpp"

namespace arc::protocol {

/// One event of a DC-03 block: function code, the modifiers in force, code, address, ^text^.
struct sia_event {
    char function = 'N';  ///< 'N' new, 'O' old, ...
    std::string code;     ///< two upper-case letters, e.g. "QA"
    std::string address;  ///< digits after the code (zone, user, ...), may be empty
    std::vector<std::pair<std::string, std::string>> modifiers;  ///< e.g. {"ri","1"},{"id","22"}
    std::string text;    ///< ^...^ text attached to the event, if any
    bool known = false;  ///< code is in the DC-03 code table
};

/// A decoded SIA-DCS data block `#acct|Nri1/QA015|Atext`.
struct sia_block {
    std::optional<std::string> account;  ///< inner account, absent in `[|Nri1/...]` or `[Nri1/...]`
    std::vector<sia_event> events;       ///< at least one for a block that carries an event
    std::string ascii_text;              ///< content of an `A` text block, if any
};

/// Parses a SIA-DCS data block (without brackets). An empty block or one with no event gives
/// error::empty_data; unparsable text gives error::bad_data. Never throws on any input.
expected<sia_block> parse_sia_dcs(std::string_view data);

/// True when `code` (two letters) is in the SIA DC-03 event code table.
bool is_known_sia_code(std::string_view code) noexcept;

/// English meaning of a DC-03 code ("Medical Alarm"), empty if unknown.
std::string_view sia_code_meaning(std::string_view code) noexcept;

/// Builds a data block from an account and events (encoder for arc-sim and tests).
std::string encode_sia_dcs(std::string_view account, const std::vector<sia_event>& events);

}  // namespace arc::protocol
