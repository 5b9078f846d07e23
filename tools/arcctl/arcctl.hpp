// Purpose: arcctl's commands: offline frame decoding, offline audit verification and the admin-API
// commands (devices, events, alarms, operators, audit, status), rendered as aligned tables for
// people or as the API's JSON for scripts.
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

/// Unix milliseconds for "YYYY-MM-DDTHH:MM:SS[.fff][Z]" (UTC); nullopt when malformed.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

/// Seconds in "90s", "30m", "2h", "1d", "1h30m": numbers with the units d, h, m, s, largest
/// first, each at most once; nullopt when malformed (a bare number has no unit: malformed).
std::optional<std::int64_t> parse_duration(std::string_view text);

/// `seconds` the way parse_duration reads it back: "1h30m", "1m30s", "2d", "0s".
std::string format_duration(std::int64_t seconds);

/// An alarm's age in the queue table: "45s", "2m05s", "3h07m", "2d04h" (negative: "0s").
std::string format_age(std::int64_t ms);

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

/// The `alarms` (or `alarms.subscribe`) result: "N open alarms", then the queue in the order
/// given (ID, CLASS, LVL, STATE, AGE, ACCOUNT, KIND, N, HOLDER, TEXT), ages as of `now_ms`.
std::string alarms_to_text(const nlohmann::json& result, std::int64_t now_ms);

/// One ALARM object as "name  value" lines.
std::string alarm_to_text(const nlohmann::json& alarm);

/// The `alarm.show` result: the alarm's lines, its timeline, its events, a storm's members.
std::string alarm_show_to_text(const nlohmann::json& result);

/// One CHANGE object as a line of `alarms --watch` (with its '\n'):
/// "HH:MM:SS.mmm #SEQ CHANGE #ID CLASS KIND ACCOUNT state=S level=L rank=R head=#H" and
/// members, actor and detail when set.
std::string change_to_text(const nlohmann::json& change);

/// The device.diag result: the device's state and supervision, its counters, its open alarms
/// and its last frames.
std::string device_diag_to_text(const nlohmann::json& diag);

/// One EVENT as a line of `device diag --follow` (with its '\n'): "RECEIVED TRANSPORT PEER
/// TOKEN SEQ -> REPLY [ERROR] DECODED RAW".
std::string event_to_line(const nlohmann::json& event);

/// The backup result: "backup PATH: N bytes, P pages, E events in M ms".
std::string backup_to_text(const nlohmann::json& result);

/// The status result: listeners, counters, storage.
std::string status_to_text(const nlohmann::json& status);

/// OPERATOR objects as a table (USERNAME, NAME, ROLE, STATE, CREATED, UPDATED); STATE is
/// "active", "disabled" or "locked until T".
std::string operators_to_text(const nlohmann::json& operators);

/// One OPERATOR object as "name  value" lines.
std::string operator_to_text(const nlohmann::json& op);

/// The audit.list result: AUDIT entries as a table (SEQ, AT, ACTOR, ACTION, TARGET, PEER,
/// DETAIL), control characters shown as '?'.
std::string audit_to_text(const nlohmann::json& result);

/// The audit.verify result: "audit trail intact: N entries, head #N HASH" or
/// "audit trail BROKEN at seq N: REASON".
std::string audit_verify_to_text(const nlohmann::json& result);

/// A password line as read from a pipe: without its "\n" or "\r\n".
std::string strip_line_end(std::string line);

/// Runs arcctl; returns the exit code (0 ok, 1 runtime or API error, 2 usage error).
int run(int argc, const char* const* argv);

}  // namespace arc::arcctl
