// Purpose: JSON renderings of protocol and storage values shared by arcd and its clients
// (docs/admin-api.md: DEVICE, EVENT and the "decoded" object).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "arc/protocol/dc09.hpp"
#include "arc/storage/store.hpp"

namespace arc::api {

/// The `decoded` object of an EVENT: what the receiver decoded of one frame; fields that were not
/// decoded are absent (an unparsable frame gives `{}`). Parsed from append_decoded_json's text.
nlohmann::json to_json(const arc::protocol::dc09_result& result);

/// Appends the `decoded` object of an EVENT to `out` as compact JSON text, keys sorted, bytes
/// that are not UTF-8 shown as U+FFFD: the text nlohmann::json would dump for to_json(result)
/// (error_handler_t::replace), written without building a DOM (arcd's hot path).
void append_decoded_json(std::string& out, const arc::protocol::dc09_result& result);

/// Appends `text` as a quoted JSON string, escaped as nlohmann::json dumps it with
/// ensure_ascii=false and error_handler_t::replace (invalid UTF-8 becomes U+FFFD).
void append_json_string(std::string& out, std::string_view text);

/// A DEVICE object: never the key itself, only `encrypted` and `key_bits`; `test_until` only
/// for a device in test mode.
nlohmann::json device_to_json(const arc::storage::device& dev);

/// An EVENT object; `decoded` is parsed from the stored decoded_json (`{}` if it does not parse).
nlohmann::json event_to_json(const arc::storage::event_record& ev);

/// "2024-07-30T10:10:18.123Z" for Unix milliseconds.
std::string iso8601_utc_ms(std::int64_t ms);

/// "2024-07-30T10:10:18Z" for Unix milliseconds (seconds precision).
std::string iso8601_utc(std::int64_t ms);

}  // namespace arc::api
