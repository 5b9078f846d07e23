// arcctl report's pure parts: local dates across daylight-saving changes, the text and CSV of a
// REPORT built from a known service_report.
#include "report_cli.hpp"

#include <cstdlib>
#include <ctime>
#include <string>

#include <gtest/gtest.h>

#include "arc/api/report_json.hpp"

namespace {

using arc::arcctl::next_local_midnight;
using arc::arcctl::parse_local_date;

// Italian time by its POSIX rule, so the test needs no tzdata: CET, CEST from the last Sunday
// of March 02:00 to the last Sunday of October 03:00.
class italian_time : public ::testing::Test {
protected:
    void SetUp() override {
        if (const char* tz = std::getenv("TZ")) {
            saved_ = tz;
        }
        setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
        tzset();
    }
    void TearDown() override {
        if (saved_) {
            setenv("TZ", saved_->c_str(), 1);
        } else {
            unsetenv("TZ");
        }
        tzset();
    }
    std::optional<std::string> saved_;
};

TEST_F(italian_time, dates_are_local_midnights_and_days_shrink_and_grow_with_dst) {
    // 2026-01-15 00:00 CET = 2026-01-14T23:00Z.
    EXPECT_EQ(parse_local_date("2026-01-15"), 1768431600000);
    EXPECT_EQ(parse_local_date("2026-01-15T08:30"), 1768431600000 + 8 * 3600'000 + 1800'000);
    // 29 March 2026 has 23 hours, 25 October 2026 has 25.
    const auto spring = parse_local_date("2026-03-29");
    ASSERT_TRUE(spring);
    EXPECT_EQ(next_local_midnight(*spring) - *spring, 23 * 3600'000);
    const auto autumn = parse_local_date("2026-10-25");
    ASSERT_TRUE(autumn);
    EXPECT_EQ(next_local_midnight(*autumn) - *autumn, 25 * 3600'000);
    EXPECT_EQ(next_local_midnight(*parse_local_date("2026-06-01")),
              *parse_local_date("2026-06-02"));
}

TEST_F(italian_time, bad_dates_are_refused) {
    for (const char* bad : {"2026-02-31", "2026-13-01", "26-01-01", "2026-01-01T25:00",
                            "2026-01-01x", "", "01/02/2026"}) {
        EXPECT_FALSE(parse_local_date(bad)) << bad;
    }
}

arc::storage::service_report known_report() {
    arc::storage::service_report r;
    r.from_ms = 1768431600000;
    r.to_ms = r.from_ms + 86'400'000;
    r.now_ms = r.to_ms;
    r.alarms = 3;
    r.by_class = {{"critical", "", 2}, {"technical", "", 1}};
    r.by_class_kind = {{"critical", "personal_emergency", 2}, {"technical", "battery_low", 1}};
    r.answer = {3, 2, 1, 2, 45, 150, 150};
    r.answer_by_operator = {{"anna", {2, 2, 1, 2, 45, 150, 150}}};
    r.dispatch = {1, 1, 1, 1, 90, 90, 90};
    r.on_site_by_team = {{"PIS Torino, centro", {1, 1, 1, 1, 1800, 1800, 1800}}};
    r.mission_outcomes = {{"", "", 1}};
    r.untaken = {{7, "critical", "fall", "1234", "new", r.from_ms, std::nullopt, "", 600'000}};
    return r;
}

TEST(report_text, shows_each_table_with_shares_and_the_untaken_alarm) {
    const auto j = arc::api::report_to_json(known_report());
    const std::string text = arc::arcctl::report_to_text(j);
    EXPECT_NE(text.find("Alarms: 3"), std::string::npos) << text;
    EXPECT_NE(text.find("personal_emergency  2"), std::string::npos) << text;
    // all: 3 alarms, 2 answered, 1 within 60 s (33%), 2 within 180 s (67%), median 45 s.
    EXPECT_NE(text.find("all    3       2         33%    67%     45s     2m30s"), std::string::npos)
        << text;
    EXPECT_NE(text.find("PIS Torino, centro"), std::string::npos);
    EXPECT_NE(text.find("(still open)"), std::string::npos);
    EXPECT_NE(text.find("10m"), std::string::npos) << text;  // the fall waited 10 minutes
}

TEST(report_csv, sections_with_headers_and_quoted_cells) {
    const std::string csv = arc::api::report_to_csv(arc::api::report_to_json(known_report()));
    EXPECT_NE(csv.find("section,class,count,kind\r\n"
                       "alarms_by_class_kind,critical,2,personal_emergency\r\n"),
              std::string::npos)
        << csv;
    EXPECT_NE(csv.find("on_site_by_team,1,1800.000,1800.000,1800.000,1,1.000,1.000,"
                       "\"PIS Torino, centro\",1,1\r\n"),
              std::string::npos)
        << csv;
    EXPECT_NE(csv.find("untaken_over_180s,"), std::string::npos);
}

}  // namespace
