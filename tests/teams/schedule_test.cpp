// Duty schedules in Europe/Rome local time: presets, holidays (Easter Monday computed), ranges
// across midnight, the spring and autumn DST changes, the next change; the schedule syntax.
#include "arc/teams/schedule.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace arc::teams;
namespace chr = std::chrono;

// An instant given in UTC.
time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
    const chr::sys_days date{chr::year{y} / chr::month{mo} / chr::day{d}};
    return time_point{date.time_since_epoch() + chr::hours{h} + chr::minutes{mi} + chr::seconds{s}};
}

schedule parsed(std::string_view text) {
    auto s = parse_schedule(text);
    EXPECT_TRUE(s) << text << ": " << (s ? "" : s.error());
    return s ? *s : schedule{};
}

std::string error_of(std::string_view text) {
    auto s = parse_schedule(text);
    EXPECT_FALSE(s) << text;
    return s ? std::string() : s.error();
}

TEST(Holidays, EasterSundayComputed) {
    EXPECT_EQ(easter_sunday(2019), (civil_date{2019, 4, 21}));
    EXPECT_EQ(easter_sunday(2024), (civil_date{2024, 3, 31}));
    EXPECT_EQ(easter_sunday(2025), (civil_date{2025, 4, 20}));
    EXPECT_EQ(easter_sunday(2026), (civil_date{2026, 4, 5}));
    EXPECT_EQ(easter_sunday(2027), (civil_date{2027, 3, 28}));
    EXPECT_EQ(easter_sunday(2038), (civil_date{2038, 4, 25}));
}

TEST(Holidays, NationalLocalAndExplicit) {
    holiday_calendar cal;
    for (const civil_date d :
         {civil_date{2026, 1, 1}, civil_date{2026, 1, 6}, civil_date{2026, 4, 25},
          civil_date{2026, 5, 1}, civil_date{2026, 6, 2}, civil_date{2026, 8, 15},
          civil_date{2026, 11, 1}, civil_date{2026, 12, 8}, civil_date{2026, 12, 25},
          civil_date{2026, 12, 26}, civil_date{2026, 4, 6}, civil_date{2027, 3, 29}}) {
        EXPECT_TRUE(cal.is_holiday(d)) << d.year << "-" << d.month << "-" << d.day;
    }
    EXPECT_FALSE(cal.is_holiday({2027, 3, 28}));  // Easter Sunday is a Sunday, not listed
    EXPECT_FALSE(cal.is_holiday({2027, 3, 30}));
    EXPECT_FALSE(cal.is_holiday({2026, 6, 24}));
    cal.local.push_back({6, 24});  // San Giovanni, Torino
    cal.dates.push_back({2026, 12, 7});
    EXPECT_TRUE(cal.is_holiday({2026, 6, 24}));
    EXPECT_TRUE(cal.is_holiday({2031, 6, 24}));
    EXPECT_TRUE(cal.is_holiday({2026, 12, 7}));
    EXPECT_FALSE(cal.is_holiday({2027, 12, 7}));
    cal.national = false;
    EXPECT_FALSE(cal.is_holiday({2026, 12, 25}));
    EXPECT_TRUE(cal.is_holiday({2026, 6, 24}));
}

TEST(Schedule, OutsideOfficeHoursOnAWeekday) {
    const schedule s = schedule::outside_office_hours();
    // Wednesday 9 Dec 2026 (CET, UTC+1).
    EXPECT_FALSE(on_duty(s, utc(2026, 12, 9, 9, 0)));       // 10:00
    EXPECT_FALSE(on_duty(s, utc(2026, 12, 9, 15, 59)));     // 16:59
    EXPECT_TRUE(on_duty(s, utc(2026, 12, 9, 16, 0)));       // 17:00
    EXPECT_TRUE(on_duty(s, utc(2026, 12, 9, 23, 30)));      // 00:30 Thursday
    EXPECT_TRUE(on_duty(s, utc(2026, 12, 10, 6, 59, 59)));  // 07:59:59 Thursday
    EXPECT_FALSE(on_duty(s, utc(2026, 12, 10, 7, 0)));      // 08:00 Thursday
    EXPECT_EQ(next_change(s, utc(2026, 12, 9, 9, 0)), utc(2026, 12, 9, 16, 0));
    EXPECT_EQ(next_change(s, utc(2026, 12, 9, 16, 0)), utc(2026, 12, 10, 7, 0));
}

TEST(Schedule, OutsideOfficeHoursOverAWeekend) {
    const schedule s = schedule::outside_office_hours();
    // Friday 11 Dec 2026 17:00 → Monday 14 Dec 08:00 in one stretch.
    EXPECT_TRUE(on_duty(s, utc(2026, 12, 12, 12, 0)));  // Saturday noon
    EXPECT_TRUE(on_duty(s, utc(2026, 12, 13, 23, 0)));  // Monday 00:00
    EXPECT_EQ(next_change(s, utc(2026, 12, 11, 16, 0)), utc(2026, 12, 14, 7, 0));
    EXPECT_EQ(next_change(s, utc(2026, 12, 12, 3, 0)), utc(2026, 12, 14, 7, 0));
}

TEST(Schedule, EasterMonday2027IsAHoliday) {
    const schedule s = schedule::outside_office_hours();
    // Monday 29 Mar 2027, 10:00 CEST (UTC+2): on duty all day, and through the night until
    // Tuesday 08:00; the Monday before at 10:00 is office hours.
    EXPECT_TRUE(on_duty(s, utc(2027, 3, 29, 8, 0)));
    EXPECT_FALSE(on_duty(s, utc(2027, 3, 22, 9, 0)));  // 22 Mar, still CET
    // Friday 26 Mar 17:00 CET to Tuesday 30 Mar 08:00 CEST without a break.
    EXPECT_EQ(next_change(s, utc(2027, 3, 26, 16, 0)), utc(2027, 3, 30, 6, 0));
    EXPECT_FALSE(on_duty(s, utc(2027, 3, 30, 6, 0)));
}

TEST(Schedule, LocalHolidayFromTheText) {
    const schedule s = parsed("outside-office-hours; holiday 06-24");
    // Wednesday 24 Jun 2026, 11:00 CEST: San Giovanni in Torino.
    EXPECT_TRUE(on_duty(s, utc(2026, 6, 24, 9, 0)));
    EXPECT_FALSE(on_duty(schedule::outside_office_hours(), utc(2026, 6, 24, 9, 0)));
    EXPECT_FALSE(on_duty(s, utc(2026, 6, 25, 9, 0)));
    const schedule once = parsed(
        "mon-fri 17:00-08:00; sat,sun,holidays 00:00-24:00; "
        "holiday 2026-12-07");
    EXPECT_TRUE(on_duty(once, utc(2026, 12, 7, 10, 0)));
    EXPECT_FALSE(on_duty(once, utc(2027, 12, 7, 10, 0)));  // a Tuesday, another year
}

TEST(Schedule, RangeAcrossMidnight) {
    const schedule s = parsed("wed 22:00-06:00");
    // Wednesday 9 Dec 2026 (UTC+1).
    EXPECT_FALSE(on_duty(s, utc(2026, 12, 9, 20, 59)));  // 21:59 Wed
    EXPECT_TRUE(on_duty(s, utc(2026, 12, 9, 21, 0)));    // 22:00 Wed
    EXPECT_TRUE(on_duty(s, utc(2026, 12, 10, 2, 0)));    // 03:00 Thu
    EXPECT_FALSE(on_duty(s, utc(2026, 12, 10, 5, 0)));   // 06:00 Thu
    EXPECT_FALSE(on_duty(s, utc(2026, 12, 8, 23, 0)));   // 00:00 Wed: Tuesday has no range
    EXPECT_EQ(next_change(s, utc(2026, 12, 10, 2, 0)), utc(2026, 12, 10, 5, 0));
    // From Thursday morning the next start is a week later.
    EXPECT_EQ(next_change(s, utc(2026, 12, 10, 5, 0)), utc(2026, 12, 16, 21, 0));
}

TEST(Schedule, SpringForwardHourDoesNotExist) {
    // Sunday 28 Mar 2027: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    const schedule s = parsed("sun 02:30-05:00");
    EXPECT_FALSE(on_duty(s, utc(2027, 3, 28, 0, 59, 59)));  // 01:59:59 CET
    EXPECT_TRUE(on_duty(s, utc(2027, 3, 28, 1, 0)));        // 03:00 CEST: starts at the change
    EXPECT_EQ(next_change(s, utc(2027, 3, 28, 0, 30)), utc(2027, 3, 28, 1, 0));
    EXPECT_EQ(next_change(s, utc(2027, 3, 28, 1, 0)), utc(2027, 3, 28, 3, 0));  // 05:00 CEST
    // A night shift across the change lasts 11 hours: Saturday 20:00 CET to Sunday 08:00 CEST.
    const schedule night = parsed("sat 20:00-08:00");
    EXPECT_EQ(next_change(night, utc(2027, 3, 27, 18, 0)), utc(2027, 3, 27, 19, 0));
    EXPECT_EQ(next_change(night, utc(2027, 3, 27, 19, 0)), utc(2027, 3, 28, 6, 0));
    EXPECT_TRUE(on_duty(night, utc(2027, 3, 28, 5, 59)));
    EXPECT_FALSE(on_duty(night, utc(2027, 3, 28, 6, 0)));
}

TEST(Schedule, AutumnHourHappensTwice) {
    // Sunday 25 Oct 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:30 happens at 00:30
    // and at 01:30 UTC. A shift ending at 02:30 ends at the second one, without a gap.
    const schedule s = parsed("sat 20:00-02:30");
    EXPECT_EQ(next_change(s, utc(2026, 10, 24, 17, 0)), utc(2026, 10, 24, 18, 0));  // 20:00 CEST
    EXPECT_TRUE(on_duty(s, utc(2026, 10, 25, 0, 45)));   // the first 02:45... still CEST 02:45
    EXPECT_TRUE(on_duty(s, utc(2026, 10, 25, 1, 15)));   // 02:15 CET
    EXPECT_FALSE(on_duty(s, utc(2026, 10, 25, 1, 30)));  // 02:30 CET
    EXPECT_EQ(next_change(s, utc(2026, 10, 24, 18, 0)), utc(2026, 10, 25, 1, 30));
    // A shift starting at 02:30 starts at the first one and runs on.
    const schedule early = parsed("sun 02:30-04:00");
    EXPECT_FALSE(on_duty(early, utc(2026, 10, 25, 0, 29)));
    EXPECT_TRUE(on_duty(early, utc(2026, 10, 25, 0, 30)));
    EXPECT_TRUE(on_duty(early, utc(2026, 10, 25, 1, 0)));   // 02:00 CET, the hour again
    EXPECT_TRUE(on_duty(early, utc(2026, 10, 25, 2, 59)));  // 03:59 CET
    EXPECT_EQ(next_change(early, utc(2026, 10, 25, 0, 30)), utc(2026, 10, 25, 3, 0));
}

TEST(Schedule, AlwaysAndNeverHaveNoNextChange) {
    const schedule always = parsed("24x7");
    EXPECT_TRUE(on_duty(always, utc(2027, 3, 28, 1, 0)));
    EXPECT_TRUE(on_duty(always, utc(2026, 10, 25, 1, 30)));
    EXPECT_FALSE(next_change(always, utc(2026, 12, 9, 9, 0)));
    const schedule never = parsed("holiday 06-24");
    EXPECT_FALSE(on_duty(never, utc(2026, 6, 24, 9, 0)));
    EXPECT_FALSE(next_change(never, utc(2026, 12, 9, 9, 0)));
    // A range that comes once a year is still found.
    const schedule yearly = parsed("no-national-holidays; holidays 09:00-10:00; holiday 06-24");
    EXPECT_EQ(next_change(yearly, utc(2026, 7, 1, 0, 0)), utc(2027, 6, 24, 7, 0));
}

TEST(Schedule, NextChangeFlipsAndNothingChangesBefore) {
    // Every 20 minutes through both DST weeks: the next change lies after t, flips on_duty, and
    // on_duty holds its value at the instants sampled between.
    for (const char* text : {"outside-office-hours", "sat 20:00-02:30; sun 02:30-04:00",
                             "mon-sun 01:30-02:15,02:45-03:10", "wed 22:00-06:00; holiday 10-28"}) {
        const schedule s = parsed(text);
        for (const time_point start : {utc(2026, 10, 21, 0, 0), utc(2027, 3, 24, 0, 0)}) {
            for (int step = 0; step < 7 * 72; ++step) {
                const time_point t = start + chr::minutes{20 * step};
                const bool now = on_duty(s, t);
                const auto change = next_change(s, t);
                ASSERT_TRUE(change) << text;
                ASSERT_GT(*change, t) << text;
                EXPECT_NE(on_duty(s, *change), now) << text << " at step " << step;
                for (time_point u = t; u < *change; u += chr::minutes{7}) {
                    ASSERT_EQ(on_duty(s, u), now) << text << " at step " << step;
                }
            }
        }
    }
}

TEST(ScheduleText, PresetsAndRangesAreTheSame) {
    const schedule text =
        parsed("MON-FRI 00:00-08:00, 17:00-24:00 ;  Sat,Sun,Holidays 00:00-24:00;");
    EXPECT_EQ(text.ranges, schedule::outside_office_hours().ranges);
    EXPECT_EQ(parsed("24/7").ranges, schedule::always().ranges);
    EXPECT_EQ(parsed("mon-sun 00:00-24:00").ranges, schedule::always().ranges);
    const schedule wrap = parsed("fri-mon 09:00-12:00,14:00-18:00");
    ASSERT_EQ(wrap.ranges.size(), 2U);
    EXPECT_EQ(wrap.ranges[0].days, 0x71);  // fri sat sun mon
    EXPECT_EQ(wrap.ranges[1].start_min, 14 * 60);
    EXPECT_FALSE(parsed("no-national-holidays; 24x7").holidays.national);
}

TEST(ScheduleText, ErrorsNameTheClause) {
    EXPECT_NE(error_of("mon-fri 17:00-08:00; mon-fry 08:00-09:00").find("clause 2"),
              std::string::npos);
    EXPECT_NE(error_of("mon-fry 17:00-08:00").find("unknown day span 'mon-fry'"),
              std::string::npos);
    EXPECT_NE(error_of("lun 17:00-08:00").find("unknown day 'lun'"), std::string::npos);
    EXPECT_NE(error_of("mon 25:00-08:00").find("bad time range"), std::string::npos);
    EXPECT_NE(error_of("mon 17:00").find("bad time range"), std::string::npos);
    EXPECT_NE(error_of("mon 08:00-08:00").find("empty range"), std::string::npos);
    EXPECT_NE(error_of("mon 24:00-08:00").find("cannot start at 24:00"), std::string::npos);
    EXPECT_NE(error_of("holiday 02-30").find("no such day"), std::string::npos);
    EXPECT_NE(error_of("holiday 2027-02-29").find("no such date"), std::string::npos);
    EXPECT_NE(error_of("holiday 24/06").find("holiday MM-DD"), std::string::npos);
    EXPECT_NE(error_of("always").find("expected a preset"), std::string::npos);
    EXPECT_NE(error_of("   ").find("empty"), std::string::npos);
    EXPECT_NE(error_of(";").find("empty clause"), std::string::npos);
    EXPECT_NE(error_of(std::string(1001, 'a')).find("at most 1000 bytes"), std::string::npos);
    EXPECT_TRUE(parse_schedule("holiday 02-29"));
}

TEST(ScheduleText, EveryPrefixParsesOrFailsCleanly) {
    const std::string text =
        "mon-fri 17:00-08:00,12:00-13:00; sat,sun,holidays 00:00-24:00; holiday 06-24; "
        "holiday 2027-12-07; no-national-holidays";
    ASSERT_TRUE(parse_schedule(text));
    for (std::size_t n = 0; n <= text.size(); ++n) {
        const auto s = parse_schedule(std::string_view(text).substr(0, n));
        if (!s) {
            EXPECT_FALSE(s.error().empty()) << n;
        }
    }
}

TEST(LocalTime, FormatsInRome) {
    EXPECT_EQ(format_local(utc(2026, 12, 9, 16, 0)), "2026-12-09 17:00");
    EXPECT_EQ(format_local(utc(2027, 3, 30, 6, 0), true), "08:00");
}

TEST(Comune, FoldedForComparison) {
    EXPECT_EQ(fold_comune("Sant\xE2\x80\x99"
                          "Ambrogio di  Torino"),
              fold_comune("SANT'AMBROGIO DI TORINO"));
    EXPECT_EQ(fold_comune("Forl\xC3\xAC"), "forli");
    EXPECT_EQ(fold_comune("  Citt\xC3\xA0 di Castello "), "citta di castello");
    EXPECT_EQ(fold_comune("CITT\xC3\x80 DI CASTELLO"), "citta di castello");
    EXPECT_EQ(fold_comune("Castelnuovo-Don-Bosco"), fold_comune("castelnuovo don bosco"));
    EXPECT_NE(fold_comune("Torino"), fold_comune("Torino Nord"));
}

}  // namespace
