// Purpose: the console's text helpers: UTF-8 to code points (one screen column each), times
// and ages as an operator reads them, and ISO-8601 parsing of the API's timestamps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arc::console {

/// Decodes UTF-8 into code points; invalid bytes become U+FFFD, control characters (C0, DEL,
/// C1) become '?' so that nothing a server sends can move the cursor.
std::u32string decode_utf8(std::string_view text);

/// Encodes code points as UTF-8.
std::string encode_utf8(std::u32string_view text);

/// Appends one code point to `out` as UTF-8.
void append_utf8(std::string& out, char32_t cp);

/// Number of screen columns `text` takes (one per code point).
std::size_t columns(std::string_view text);

/// `text` cut to at most `width` columns; with `ellipsis`, a cut text ends in "…" (or "~"
/// when `ascii`).
std::string fit(std::string_view text, std::size_t width, bool ellipsis = true, bool ascii = false);

/// `text` cut or padded with spaces to exactly `width` columns (right-aligned with `right`).
std::string pad(std::string_view text, std::size_t width, bool right = false);

/// Unix milliseconds of "2024-07-30T10:10:18.123Z" or "2024-07-30T10:10:18Z"; nullopt when the
/// text is not such a timestamp.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

/// An age as the queue shows it: "mm:ss" below an hour, "h:mm" from an hour on (hours grow
/// as needed), "0:00"-style never negative.
std::string format_age(std::int64_t age_ms);

/// "HH:MM:SS" (UTC) of an ISO-8601 timestamp, or the text itself when it does not parse.
std::string clock_of(std::string_view iso);

/// "HH:MM:SS" (UTC) of Unix milliseconds.
std::string clock_of_ms(std::int64_t ms);

/// Whole years from a "YYYY-MM-DD" birth date to `now_ms`; nullopt when it does not parse.
std::optional<int> age_in_years(std::string_view birth_date, std::int64_t now_ms);

/// Case-insensitive ASCII equality (usernames are matched so).
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace arc::console
