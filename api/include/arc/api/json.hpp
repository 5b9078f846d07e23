// Purpose: JSON renderings of protocol and storage values shared by arcd and its clients
// (docs/admin-api.md: DEVICE, EVENT and the "decoded" object).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "arc/protocol/dc09.hpp"
#include "arc/storage/store.hpp"

namespace arc::api {

/// The `decoded` object of an EVENT: what the receiver decoded of one frame; fields that were not
/// decoded are absent (an unparsable frame gives `{}`).
nlohmann::json to_json(const arc::protocol::dc09_result& result);

/// A DEVICE object: never the key itself, only `encrypted` and `key_bits`.
nlohmann::json device_to_json(const arc::storage::device& dev);

/// An EVENT object; `decoded` is parsed from the stored decoded_json (`{}` if it does not parse).
nlohmann::json event_to_json(const arc::storage::event_record& ev);

/// "2024-07-30T10:10:18.123Z" for Unix milliseconds.
std::string iso8601_utc_ms(std::int64_t ms);

/// "2024-07-30T10:10:18Z" for Unix milliseconds (seconds precision).
std::string iso8601_utc(std::int64_t ms);

}  // namespace arc::api
