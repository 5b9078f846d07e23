// The service-level report (arc/storage/report.hpp) on a known set of alarms and timelines.
#include "arc/storage/report.hpp"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace {

namespace storage = arc::storage;

constexpr std::int64_t t0 = 1'780'000'000'000;  // the start of the reported period
constexpr std::int64_t s = 1000;

class report_test : public ::testing::Test {
protected:
    void alarm(std::int64_t id, const char* cls, const char* kind, const char* state,
               std::int64_t opened, std::optional<std::int64_t> closed = std::nullopt,
               const char* team = "", const char* outcome = "", bool storm = false,
               std::optional<std::int64_t> storm_id = std::nullopt) {
        db_.exec(fmt::format(
            "INSERT INTO alarms (id, class, kind, state, level, account, opened_ms, "
            "last_event_ms, closed_ms, event_count, team, outcome, storm, storm_id) VALUES "
            "({}, '{}', '{}', '{}', 0, 'A{}', {}, {}, {}, 1, '{}', '{}', {}, {})",
            id, cls, kind, state, id, opened, opened, closed ? std::to_string(*closed) : "NULL",
            team, outcome, storm ? 1 : 0, storm_id ? std::to_string(*storm_id) : "NULL"));
        log(id, opened, "opened", "system", "", "new");
    }
    void log(std::int64_t id, std::int64_t at, const char* change, const char* actor,
             const char* from, const char* to) {
        db_.exec(fmt::format(
            "INSERT INTO alarm_log (alarm_id, at_ms, change, actor, from_state, to_state) "
            "VALUES ({}, {}, '{}', '{}', {}, {})",
            id, at, change, actor, *from != 0 ? fmt::format("'{}'", from) : "NULL",
            *to != 0 ? fmt::format("'{}'", to) : "NULL"));
    }

    storage::database db_ = storage::database::open(":memory:");
};

TEST_F(report_test, figures_of_a_known_day) {
    // 1: pendant taken in 30 s, dispatched at 120 s, team on site after 40 min, closed.
    alarm(1, "critical", "personal_emergency", "closed", t0, t0 + 3600 * s, "PIS Torino",
          "team_dispatched");
    log(1, t0 + 30 * s, "transitioned", "anna", "new", "taken");
    log(1, t0 + 120 * s, "transitioned", "anna", "taken", "dispatched");
    log(1, t0 + 120 * s + 2400 * s, "transitioned", "pis1", "dispatched", "on_site");
    log(1, t0 + 3600 * s, "closed", "anna", "on_site", "closed");
    // 2: pendant taken by marco in 90 s, resolved by phone.
    alarm(2, "critical", "personal_emergency", "closed", t0 + 1000 * s, t0 + 1300 * s, "",
          "resolved_by_phone");
    log(2, t0 + 1090 * s, "transitioned", "marco", "new", "taken");
    log(2, t0 + 1300 * s, "closed", "marco", "taken", "closed");
    // 3: a fall nobody has taken yet (10 minutes at report time).
    alarm(3, "critical", "fall", "new", t0 + 2000 * s);
    // 4: a low battery the restore closed after 100 s: needed nobody.
    alarm(4, "technical", "battery_low", "closed", t0 + 3000 * s, t0 + 3100 * s, "", "restored");
    log(4, t0 + 3100 * s, "closed", "system", "new", "closed");
    // 5: the same after 400 s: needed nobody, but it waited untaken past 180 s.
    alarm(5, "technical", "battery_low", "closed", t0 + 4000 * s, t0 + 4400 * s, "", "restored");
    log(5, t0 + 4400 * s, "closed", "system", "new", "closed");
    // 6: urgent, taken after 200 s.
    alarm(6, "urgent", "inactivity", "taken", t0 + 5000 * s);
    log(6, t0 + 5200 * s, "transitioned", "anna", "new", "taken");
    // 8: a storm (7 is its member), taken in 50 s, closed as a false alarm.
    alarm(8, "technical", "mains_loss", "closed", t0 + 6000 * s, t0 + 6100 * s, "", "false_alarm",
          true);
    log(8, t0 + 6050 * s, "transitioned", "anna", "new", "taken");
    log(8, t0 + 6100 * s, "closed", "anna", "taken", "closed");
    alarm(7, "technical", "mains_loss", "closed", t0 + 6000 * s, t0 + 6100 * s, "", "", false, 8);
    // 10: taken by sara in 20 s, dispatched at 60 s, the team not there yet.
    alarm(10, "critical", "personal_emergency", "dispatched", t0 + 7000 * s, std::nullopt,
          "PIS Moncalieri");
    log(10, t0 + 7020 * s, "transitioned", "sara", "new", "taken");
    log(10, t0 + 7060 * s, "transitioned", "sara", "taken", "dispatched");
    // 9: before the period.
    alarm(9, "critical", "personal_emergency", "new", t0 - 10 * s);

    const auto r = storage::build_report(db_, t0, t0 + 86'400 * s, t0 + 2600 * s + 0);
    EXPECT_EQ(r.alarms, 8U);
    EXPECT_EQ(r.storm_members, 1U);
    EXPECT_EQ(r.auto_closed, 2U);
    ASSERT_EQ(r.by_class.size(), 3U);
    EXPECT_EQ((std::pair{r.by_class[0].name, r.by_class[0].count}),
              (std::pair{std::string("critical"), std::uint64_t{4}}));
    EXPECT_EQ(r.by_class[1].count, 3U);  // technical: 4, 5, 8
    EXPECT_EQ(r.by_class[2].count, 1U);  // urgent
    ASSERT_EQ(r.by_class_kind.size(), 5U);
    EXPECT_EQ(r.by_class_kind[0].sub, "fall");

    // Answer: 1, 2, 3, 6, 8, 10 needed an operator (4 and 5 did not); 3 is still waiting.
    EXPECT_EQ(r.answer.count, 6U);
    EXPECT_EQ(r.answer.reached, 5U);
    EXPECT_EQ(r.answer.within_first, 3U);   // 20, 30, 50 s
    EXPECT_EQ(r.answer.within_second, 4U);  // and 90 s
    EXPECT_DOUBLE_EQ(r.answer.median_s, 50);
    EXPECT_DOUBLE_EQ(r.answer.p90_s, 200);
    EXPECT_DOUBLE_EQ(r.answer.max_s, 200);
    ASSERT_EQ(r.answer_by_class.size(), 3U);
    EXPECT_EQ(r.answer_by_class[0].name, "critical");
    EXPECT_EQ(r.answer_by_class[0].stats.count, 4U);
    EXPECT_EQ(r.answer_by_class[0].stats.reached, 3U);
    ASSERT_EQ(r.answer_by_operator.size(), 3U);
    EXPECT_EQ(r.answer_by_operator[0].name, "anna");
    EXPECT_EQ(r.answer_by_operator[0].stats.reached, 3U);
    EXPECT_EQ(r.answer_by_operator[0].stats.within_first, 2U);
    EXPECT_EQ(r.answer_by_operator[1].name, "marco");

    // Untaken past 180 s, oldest first: 3 (600 s so far), 5 (400 s until its restore), 6 (200 s).
    ASSERT_EQ(r.untaken.size(), 3U);
    EXPECT_EQ(r.untaken[0].id, 3);
    EXPECT_EQ(r.untaken[0].wait_ms, 600 * s);
    EXPECT_FALSE(r.untaken[0].answered_ms);
    EXPECT_EQ(r.untaken[1].id, 5);
    EXPECT_EQ(r.untaken[1].wait_ms, 400 * s);
    EXPECT_EQ(r.untaken[2].id, 6);
    EXPECT_EQ(r.untaken[2].answered_by, "anna");

    EXPECT_EQ(r.dispatch.count, 2U);
    EXPECT_DOUBLE_EQ(r.dispatch.median_s, 60);
    EXPECT_DOUBLE_EQ(r.dispatch.max_s, 120);
    ASSERT_EQ(r.on_site_by_team.size(), 2U);
    EXPECT_EQ(r.on_site_by_team[0].name, "PIS Moncalieri");
    EXPECT_EQ(r.on_site_by_team[0].stats.reached, 0U);
    EXPECT_EQ(r.on_site_by_team[1].name, "PIS Torino");
    EXPECT_EQ(r.on_site_by_team[1].stats.within_first, 1U);  // 40 min <= 45
    EXPECT_DOUBLE_EQ(r.on_site_by_team[1].stats.median_s, 2400);

    ASSERT_EQ(r.outcomes.size(), 4U);
    EXPECT_EQ((std::pair{r.outcomes[2].name, r.outcomes[2].count}),
              (std::pair{std::string("restored"), std::uint64_t{2}}));
    ASSERT_EQ(r.mission_outcomes.size(), 2U);
    EXPECT_EQ(r.mission_outcomes[0].name, "");  // 10 is still open
    EXPECT_EQ(r.mission_outcomes[1].name, "team_dispatched");
}

TEST_F(report_test, an_empty_period_has_zero_figures) {
    alarm(1, "critical", "personal_emergency", "new", t0);
    const auto r = storage::build_report(db_, t0 + 10 * s, t0 + 20 * s, t0 + 30 * s);
    EXPECT_EQ(r.alarms, 0U);
    EXPECT_EQ(r.answer.count, 0U);
    EXPECT_DOUBLE_EQ(r.answer.median_s, 0);
    EXPECT_TRUE(r.untaken.empty());
    EXPECT_TRUE(r.by_class.empty());
}

}  // namespace
