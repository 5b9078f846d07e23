// Purpose: arcctl's commands: offline frame decoding and the admin-API commands (devices, events,
// status), rendered as aligned tables for people or as the API's JSON for scripts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "arc/protocol/aes.hpp"
#include "arc/protocol/dc09.hpp"

namespace arc::arcctl {

/// The reverse of arc::protocol::escape_frame (also \t); nullopt on a dangling or unknown escape.
std::optional<std::string> unescape(std::string_view text);

/// Unix seconds for "YYYY-MM-DDTHH:MM:SS[.fff][Z]" (UTC); nullopt when malformed.
std::optional<std::int64_t> parse_iso8601(std::string_view text);

/// Inputs of an offline decode besides the bytes.
struct decode_options {
    std::optional<protocol::aes_key> key;  ///< key of the frame's account (none: known, no key)
    std::int64_t now_unix = 0;             ///< receiver time
    protocol::receiver_policy policy;
};

/// One frame as the centre would handle it.
struct decoded_frame {
    std::string raw;
    protocol::dc09_result result;
};

/// Splits `bytes` into frames as the TCP listener does (a missing final CR is added) and runs
/// the receiver decision table on each.
std::vector<decoded_frame> decode_frames(std::string_view bytes, const decode_options& opts);

/// Every field, the decoded events with their meanings, the error and the exact reply.
std::string decode_to_text(const decoded_frame& frame);

/// {"raw","decoded","reply_kind","reply","error","accepted"} (EVENT's fields for one frame).
nlohmann::json decode_to_json(const decoded_frame& frame);

/// Columns padded to their widest cell, two spaces apart; the header upper case.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

/// One DEVICE object as "name  value" lines.
std::string device_to_text(const nlohmann::json& device);

/// DEVICE objects as a table.
std::string devices_to_text(const nlohmann::json& devices);

/// EVENT objects as a table, newest first as given.
std::string events_to_text(const nlohmann::json& events);

/// A one-line summary of an EVENT's `decoded` object ("N QA 001 Emergency Alarm").
std::string summarize_decoded(const nlohmann::json& decoded);

/// The status result: listeners, counters, storage.
std::string status_to_text(const nlohmann::json& status);

/// Runs arcctl; returns the exit code (0 ok, 1 runtime or API error, 2 usage error).
int run(int argc, const char* const* argv);

}  // namespace arc::arcctl
