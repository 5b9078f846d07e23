// Purpose: a PIS team's duty schedule — weekly time ranges in Italian local time
// (Europe/Rome) plus public holidays — its text syntax, and the questions "on duty at t?" and
// "when does that change?". Pure: every call gets the instant it is about.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace arc::teams {

/// An instant (UTC, milliseconds).
using time_point = std::chrono::sys_time<std::chrono::milliseconds>;

/// A day of the calendar (proleptic Gregorian).
struct civil_date {
    int year = 1970;
    unsigned month = 1;
    unsigned day = 1;
    friend bool operator==(const civil_date&, const civil_date&) = default;
};

/// A day that recurs every year (a patron saint's day: 24 Jun in Torino).
struct month_day {
    unsigned month = 1;
    unsigned day = 1;
    friend bool operator==(const month_day&, const month_day&) = default;
};

/// Easter Sunday of `year` (Gregorian computus).
civil_date easter_sunday(int year) noexcept;

/// Which days are public holidays: the Italian national ones (1 Jan, 6 Jan, Easter Monday,
/// 25 Apr, 1 May, 2 Jun, 15 Aug, 1 Nov, 8 Dec, 25 Dec, 26 Dec) unless turned off, plus local
/// days every year and explicit dates.
struct holiday_calendar {
    bool national = true;
    std::vector<month_day> local;
    std::vector<civil_date> dates;

    bool is_holiday(civil_date d) const noexcept;
};

/// Day bits of a duty range: bit 0 Monday … bit 6 Sunday, bit 7 public holidays.
inline constexpr std::uint8_t holidays_bit = 0x80;

/// A weekly range: on each day in `days` from `start_min` to `end_min` (minutes of the local
/// day, 0–1440). `end_min <= start_min` crosses midnight and ends on the next day; 00:00–24:00
/// is the whole day. On a holiday both its weekday's ranges and the `holidays` ones apply.
struct duty_range {
    std::uint8_t days = 0;
    int start_min = 0;
    int end_min = 0;
    friend bool operator==(const duty_range&, const duty_range&) = default;
};

/// A duty schedule: on duty inside any range, off duty elsewhere.
struct schedule {
    std::vector<duty_range> ranges;
    holiday_calendar holidays;

    /// On duty all the time ("24x7").
    static schedule always();
    /// "outside-office-hours": weekdays before 08:00 and from 17:00, weekends and holidays all
    /// day (`mon-fri 00:00-08:00,17:00-24:00; sat,sun,holidays 00:00-24:00`).
    static schedule outside_office_hours();
};

/// The largest schedule text accepted (bytes) and the most clauses.
inline constexpr std::size_t max_schedule_text = 1000;
inline constexpr std::size_t max_schedule_clauses = 64;

/// Parses the schedule syntax (docs/admin-api.md, "Teams"): clauses separated by ';', each a
/// preset (`24x7`, `outside-office-hours`), `DAYS HH:MM-HH:MM[,HH:MM-HH:MM…]` (DAYS: mon … sun,
/// `holidays`, lists with ',' and spans with '-', e.g. `mon-fri`, `sat,sun,holidays`), `holiday
/// MM-DD` (every year), `holiday YYYY-MM-DD` (once) or `no-national-holidays`. Case and spaces
/// do not matter. The error says which clause is wrong and why.
tl::expected<schedule, std::string> parse_schedule(std::string_view text);

/// Whether the schedule is on duty at `t`. Throws std::runtime_error when the OS has no
/// Europe/Rome time zone (tzdata).
bool on_duty(const schedule& s, time_point t);

/// The first instant after `t` at which on_duty changes; nullopt when it does not change for
/// about two years (24x7, or a schedule with no range). Local times that do not exist (the
/// spring-forward hour) start or end a range at the change; ambiguous ones (the autumn hour that
/// happens twice) start a range at the first and end it at the second. Throws as on_duty.
std::optional<time_point> next_change(const schedule& s, time_point t);

/// `t` in Europe/Rome local time: "YYYY-MM-DD HH:MM" (or "HH:MM" when `time_only`).
std::string format_local(time_point t, bool time_only = false);

/// Folds a comune's name for comparison: ASCII lower case, Latin-1 accents removed (à → a),
/// typographic apostrophes to ', runs of spaces to one, trimmed: "Sant’Ambrogio di  Torino" and
/// "SANT'AMBROGIO DI TORINO" match.
std::string fold_comune(std::string_view name);

}  // namespace arc::teams
