#include "arc/teams/schedule.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <utility>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

namespace arc::teams {
namespace {

using std::chrono::minutes;
using local_minutes = date::local_time<minutes>;

// Looked up once; the OS tzdata (USE_OS_TZDB) is read at the first use.
const date::time_zone& rome() {
    static const date::time_zone* zone = [] {
        try {
            return date::locate_zone("Europe/Rome");
        } catch (const std::exception& e) {
            throw std::runtime_error(
                fmt::format("time zone Europe/Rome not found (install tzdata): {}", e.what()));
        }
    }();
    return *zone;
}

civil_date to_civil(date::local_days d) {
    const date::year_month_day ymd{d};
    return civil_date{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                      static_cast<unsigned>(ymd.day())};
}

bool applies(const duty_range& r, const holiday_calendar& cal, date::local_days d) {
    // ISO weekday: Monday 1 … Sunday 7.
    const unsigned iso = date::weekday{d}.iso_encoding();
    if ((r.days & (1U << (iso - 1))) != 0) {
        return true;
    }
    return (r.days & holidays_bit) != 0 && cal.is_holiday(to_civil(d));
}

struct interval {
    std::chrono::sys_seconds from;
    std::chrono::sys_seconds to;
};

// The ranges that start on local days [first, last], as instants, sorted and merged (touching
// intervals join: Saturday 00:00–24:00 and Sunday 00:00–24:00 are one).
std::vector<interval> intervals(const schedule& s, date::local_days first, date::local_days last) {
    const date::time_zone& zone = rome();
    std::vector<interval> out;
    for (date::local_days d = first; d <= last; d += date::days{1}) {
        for (const duty_range& r : s.ranges) {
            if (!applies(r, s.holidays, d)) {
                continue;
            }
            const local_minutes from = local_minutes{d.time_since_epoch()} + minutes{r.start_min};
            local_minutes to = local_minutes{d.time_since_epoch()} + minutes{r.end_min};
            if (r.end_min <= r.start_min) {
                to += date::days{1};
            }
            // Nonexistent local times map to the change itself; an ambiguous start is the
            // first of the two, an ambiguous end the second (the shift works the extra hour).
            out.push_back(interval{zone.to_sys(from, date::choose::earliest),
                                   zone.to_sys(to, date::choose::latest)});
        }
    }
    std::sort(out.begin(), out.end(),
              [](const interval& a, const interval& b) { return a.from < b.from; });
    std::vector<interval> merged;
    for (const interval& i : out) {
        if (i.to <= i.from) {
            continue;
        }
        if (!merged.empty() && i.from <= merged.back().to) {
            merged.back().to = std::max(merged.back().to, i.to);
        } else {
            merged.push_back(i);
        }
    }
    return merged;
}

date::local_days local_day(time_point t) { return date::floor<date::days>(rome().to_local(t)); }

// ---- parsing ------------------------------------------------------------------------------

std::string lower_trim(std::string_view s) {
    std::string out;
    bool space = false;
    for (const char c : s) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (true) {
        const std::size_t next = s.find(sep, at);
        out.push_back(
            s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
        if (next == std::string_view::npos) {
            return out;
        }
        at = next + 1;
    }
}

std::string_view strip(std::string_view s) {
    while (!s.empty() && s.front() == ' ') {
        s.remove_prefix(1);
    }
    while (!s.empty() && s.back() == ' ') {
        s.remove_suffix(1);
    }
    return s;
}

constexpr std::array<std::string_view, 7> day_names{"mon", "tue", "wed", "thu",
                                                    "fri", "sat", "sun"};

std::optional<int> weekday_index(std::string_view name) {
    for (std::size_t i = 0; i < day_names.size(); ++i) {
        if (day_names[i] == name) {
            return static_cast<int>(i);
        }
    }
    return std::nullopt;
}

// Digits only, exactly `n` of them.
std::optional<int> number(std::string_view s, std::size_t n) {
    if (s.size() != n) {
        return std::nullopt;
    }
    int v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + (c - '0');
    }
    return v;
}

// "HH:MM", 00:00–24:00.
std::optional<int> clock_minutes(std::string_view s) {
    if (s.size() != 5 || s[2] != ':') {
        return std::nullopt;
    }
    const auto h = number(s.substr(0, 2), 2);
    const auto m = number(s.substr(3, 2), 2);
    if (!h || !m || *m > 59 || *h > 24 || (*h == 24 && *m != 0)) {
        return std::nullopt;
    }
    return *h * 60 + *m;
}

std::string_view holiday_help = "expected 'holiday MM-DD' (every year) or 'holiday YYYY-MM-DD'";

tl::unexpected<std::string> clause_error(std::size_t index, std::string_view clause,
                                         std::string_view why) {
    return tl::unexpected(fmt::format("clause {} '{}': {}", index, clause, why));
}

}  // namespace

civil_date easter_sunday(int year) noexcept {
    // Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    const int a = year % 19;
    const int b = year / 100;
    const int c = year % 100;
    const int d = b / 4;
    const int e = b % 4;
    const int f = (b + 8) / 25;
    const int g = (b - f + 1) / 3;
    const int h = (19 * a + b - d - g + 15) % 30;
    const int i = c / 4;
    const int k = c % 4;
    const int l = (32 + 2 * e + 2 * i - h - k) % 7;
    const int m = (a + 11 * h + 22 * l) / 451;
    const int month = (h + l - 7 * m + 114) / 31;
    const int day = ((h + l - 7 * m + 114) % 31) + 1;
    return civil_date{year, static_cast<unsigned>(month), static_cast<unsigned>(day)};
}

bool holiday_calendar::is_holiday(civil_date d) const noexcept {
    if (national) {
        static constexpr std::array<month_day, 10> fixed{{{1, 1},
                                                          {1, 6},
                                                          {4, 25},
                                                          {5, 1},
                                                          {6, 2},
                                                          {8, 15},
                                                          {11, 1},
                                                          {12, 8},
                                                          {12, 25},
                                                          {12, 26}}};
        const month_day md{d.month, d.day};
        if (std::find(fixed.begin(), fixed.end(), md) != fixed.end()) {
            return true;
        }
        const civil_date easter = easter_sunday(d.year);
        const date::sys_days monday =
            date::sys_days{date::year{easter.year} / date::month{easter.month} /
                           date::day{easter.day}} +
            date::days{1};
        if (date::sys_days{date::year{d.year} / date::month{d.month} / date::day{d.day}} ==
            monday) {
            return true;
        }
    }
    if (std::find(local.begin(), local.end(), month_day{d.month, d.day}) != local.end()) {
        return true;
    }
    return std::find(dates.begin(), dates.end(), d) != dates.end();
}

schedule schedule::always() {
    schedule s;
    s.ranges.push_back(duty_range{0x7F, 0, 24 * 60});
    return s;
}

schedule schedule::outside_office_hours() {
    schedule s;
    // mon-fri 00:00-08:00,17:00-24:00: not "mon-fri 17:00-08:00", which leaves Monday
    // 00:00-08:00 uncovered (Sunday's range ends at midnight).
    s.ranges.push_back(duty_range{0x1F, 0, 8 * 60});
    s.ranges.push_back(duty_range{0x1F, 17 * 60, 24 * 60});
    s.ranges.push_back(duty_range{0x60 | holidays_bit, 0, 24 * 60});  // sat,sun,holidays
    return s;
}

tl::expected<schedule, std::string> parse_schedule(std::string_view text) {
    if (text.size() > max_schedule_text) {
        return tl::unexpected(fmt::format("at most {} bytes", max_schedule_text));
    }
    const std::string folded = lower_trim(text);
    if (folded.empty()) {
        return tl::unexpected(
            std::string("empty: give a preset (outside-office-hours, 24x7) or ranges such as "
                        "'mon-fri 17:00-08:00; sat,sun,holidays 00:00-24:00'"));
    }
    const std::vector<std::string_view> clauses = split(folded, ';');
    if (clauses.size() > max_schedule_clauses) {
        return tl::unexpected(fmt::format("at most {} clauses", max_schedule_clauses));
    }
    schedule out;
    for (std::size_t n = 0; n < clauses.size(); ++n) {
        const std::string_view clause = strip(clauses[n]);
        const std::size_t index = n + 1;
        if (clause.empty()) {
            if (n + 1 == clauses.size() && n > 0) {
                continue;  // a trailing ';'
            }
            return clause_error(index, clause, "empty clause");
        }
        if (clause == "24x7" || clause == "24/7") {
            const schedule preset = schedule::always();
            out.ranges.insert(out.ranges.end(), preset.ranges.begin(), preset.ranges.end());
            continue;
        }
        if (clause == "outside-office-hours") {
            const schedule preset = schedule::outside_office_hours();
            out.ranges.insert(out.ranges.end(), preset.ranges.begin(), preset.ranges.end());
            continue;
        }
        if (clause == "no-national-holidays") {
            out.holidays.national = false;
            continue;
        }
        const std::size_t space = clause.find(' ');
        if (space == std::string_view::npos) {
            return clause_error(index, clause,
                                "expected a preset (outside-office-hours, 24x7), "
                                "'DAYS HH:MM-HH:MM' or 'holiday MM-DD'");
        }
        const std::string_view head = clause.substr(0, space);
        const std::string_view rest = strip(clause.substr(space + 1));
        if (head == "holiday") {
            if (rest.size() == 5 && rest[2] == '-') {
                const auto m = number(rest.substr(0, 2), 2);
                const auto d = number(rest.substr(3, 2), 2);
                // 2000 is a leap year: 02-29 is accepted (it is a holiday in leap years only).
                if (!m || !d || *m < 1 || *m > 12 || *d < 1 ||
                    !date::year_month_day{date::year{2000} /
                                          date::month{static_cast<unsigned>(*m)} /
                                          date::day{static_cast<unsigned>(*d)}}
                         .ok()) {
                    return clause_error(index, clause, "no such day of the year");
                }
                out.holidays.local.push_back(
                    month_day{static_cast<unsigned>(*m), static_cast<unsigned>(*d)});
                continue;
            }
            if (rest.size() == 10 && rest[4] == '-' && rest[7] == '-') {
                const auto y = number(rest.substr(0, 4), 4);
                const auto m = number(rest.substr(5, 2), 2);
                const auto d = number(rest.substr(8, 2), 2);
                if (!y || !m || !d || *y < 1970 || *m < 1 || *m > 12 || *d < 1 ||
                    !date::year_month_day{date::year{*y} / date::month{static_cast<unsigned>(*m)} /
                                          date::day{static_cast<unsigned>(*d)}}
                         .ok()) {
                    return clause_error(index, clause, "no such date");
                }
                out.holidays.dates.push_back(
                    civil_date{*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d)});
                continue;
            }
            return clause_error(index, clause, holiday_help);
        }
        // DAYS: comma list of day names, spans "mon-fri" (wrapping: "fri-mon"), "holidays".
        std::uint8_t days = 0;
        for (const std::string_view item : split(head, ',')) {
            if (item == "holidays") {
                days |= holidays_bit;
                continue;
            }
            const std::size_t dash = item.find('-');
            if (dash == std::string_view::npos) {
                const auto i = weekday_index(item);
                if (!i) {
                    return clause_error(
                        index, clause,
                        fmt::format("unknown day '{}' (mon tue wed thu fri sat sun holidays)",
                                    item));
                }
                days = static_cast<std::uint8_t>(days | (1U << *i));
                continue;
            }
            const auto a = weekday_index(item.substr(0, dash));
            const auto b = weekday_index(item.substr(dash + 1));
            if (!a || !b) {
                return clause_error(
                    index, clause,
                    fmt::format("unknown day span '{}' (e.g. mon-fri, sat-sun)", item));
            }
            for (int i = *a;; i = (i + 1) % 7) {
                days = static_cast<std::uint8_t>(days | (1U << i));
                if (i == *b) {
                    break;
                }
            }
        }
        std::string_view ranges = rest;
        for (const std::string_view item : split(ranges, ',')) {
            const std::string_view r = strip(item);
            const std::size_t dash = r.find('-');
            const auto from = dash == std::string_view::npos
                                  ? std::nullopt
                                  : clock_minutes(strip(r.substr(0, dash)));
            const auto to = dash == std::string_view::npos
                                ? std::nullopt
                                : clock_minutes(strip(r.substr(dash + 1)));
            if (!from || !to) {
                return clause_error(index, clause,
                                    fmt::format("bad time range '{}': expected HH:MM-HH:MM "
                                                "between 00:00 and 24:00 (e.g. 17:00-08:00)",
                                                r));
            }
            if (*from == 24 * 60) {
                return clause_error(index, clause, "a range cannot start at 24:00");
            }
            if (*from == *to) {
                return clause_error(
                    index, clause,
                    fmt::format("empty range '{}' (the whole day is 00:00-24:00)", r));
            }
            out.ranges.push_back(duty_range{days, *from, *to});
        }
    }
    return out;
}

bool on_duty(const schedule& s, time_point t) {
    const date::local_days d = local_day(t);
    for (const interval& i : intervals(s, d - date::days{1}, d + date::days{1})) {
        if (time_point{i.from} <= t && t < time_point{i.to}) {
            return true;
        }
    }
    return false;
}

std::optional<time_point> next_change(const schedule& s, time_point t) {
    // No range, or every weekday all day: nothing changes (spares the two-year scan).
    std::uint8_t whole_days = 0;
    for (const duty_range& r : s.ranges) {
        if (r.start_min == 0 && r.end_min == 24 * 60) {
            whole_days = static_cast<std::uint8_t>(whole_days | (r.days & 0x7F));
        }
    }
    if (s.ranges.empty() || whole_days == 0x7F) {
        return std::nullopt;
    }
    const date::local_days d = local_day(t);
    // Ranges last at most 48 h, starting on their day: a change found before the first day
    // outside the window is final; otherwise the window grows.
    for (const int horizon : {8, 64, 800}) {
        const date::local_days last = d + date::days{horizon};
        const time_point safe{
            rome().to_sys(local_minutes{last.time_since_epoch()}, date::choose::earliest)};
        const std::vector<interval> list = intervals(s, d - date::days{2}, last);
        std::optional<time_point> change;
        for (const interval& i : list) {
            const time_point from{i.from};
            const time_point to{i.to};
            if (from > t) {
                change = from;
                break;
            }
            if (t < to) {
                change = to;
                break;
            }
        }
        if (change && *change < safe) {
            return change;
        }
    }
    return std::nullopt;
}

std::string format_local(time_point t, bool time_only) {
    const auto local = rome().to_local(date::floor<minutes>(t));
    return time_only ? date::format("%H:%M", local) : date::format("%Y-%m-%d %H:%M", local);
}

std::string fold_comune(std::string_view name) {
    // Latin-1 supplement letters U+00C0–U+00FF (UTF-8 C3 80–C3 BF) to their base letter.
    static constexpr std::string_view base =
        "aaaaaaaceeeeiiiidnooooo*ouuuuyts"   // U+00C0–U+00DF (× and ß kept apart)
        "aaaaaaaceeeeiiiidnooooo/ouuuuyty";  // U+00E0–U+00FF
    std::string out;
    bool space = false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        char next = 0;
        if (c == 0xC3 && i + 1 < name.size()) {
            const auto c2 = static_cast<unsigned char>(name[i + 1]);
            if (c2 >= 0x80 && c2 <= 0xBF) {
                next = base[c2 - 0x80U];
                ++i;
            }
        } else if (c == 0xE2 && i + 2 < name.size() &&
                   static_cast<unsigned char>(name[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(name[i + 2]) == 0x98 ||
                    static_cast<unsigned char>(name[i + 2]) == 0x99)) {
            next = '\'';  // ‘ ’
            i += 2;
        } else if (c == ' ' || c == '\t' || c == '-') {
            // "Castelnuovo Don Bosco" / "Castelnuovo-Don-Bosco": spaces and hyphens alike.
            space = !out.empty();
            continue;
        } else if (c == '`' || c == 0xB4) {
            next = '\'';
        } else {
            next = static_cast<char>(std::tolower(c));
        }
        if (next == 0) {
            out += static_cast<char>(c);
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += next;
    }
    return out;
}

}  // namespace arc::teams
