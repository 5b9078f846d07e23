#include "engine_fixture.hpp"
#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"

namespace arc::engine::testing {
namespace {

engine_config short_timeout() {
    engine_config c;
    c.mission_accept_timeout = 90s;
    return c;
}

class MissionTest : public EngineTest {
protected:
    MissionTest() : EngineTest(short_timeout()) {}

    // A critical alarm taken and acknowledged by anna, dispatched to PIS Nord now.
    alarm_id dispatched(const std::string& account = "3001") {
        const alarm_id id = raise(account, alarm_class::critical, event_kind::fall);
        EXPECT_TRUE(engine_.take(id, "anna", now_));
        EXPECT_TRUE(engine_.acknowledge(id, "anna", now_));
        const auto out = engine_.dispatch(id, "anna", "PIS Nord", "citofono rotto: chiamare", now_);
        EXPECT_TRUE(out);
        if (out) {
            EXPECT_EQ(out->front().note, "citofono rotto: chiamare");
            EXPECT_EQ(out->front().detail, "PIS Nord");
        }
        return id;
    }
};

TEST_F(MissionTest, EveryStepIsTimestampedWithTheInjectedClock) {
    const alarm_id id = dispatched();
    const time_point dispatched_at = now_;
    now_ += 40s;
    ASSERT_TRUE(engine_.accept(id, "pis-nord", now_));
    now_ += 2min;
    ASSERT_TRUE(engine_.depart(id, "pis-nord", now_));
    now_ += 20min;
    ASSERT_TRUE(engine_.arrive(id, "pis-nord", now_));
    now_ += 30min;
    const auto done = engine_.complete_mission(id, "pis-nord", "essential_goods_delivery",
                                               "spesa consegnata", now_);
    ASSERT_TRUE(done);
    EXPECT_EQ(done->front().detail, "essential_goods_delivery");
    EXPECT_EQ(done->front().note, "spesa consegnata");
    const alarm* a = engine_.find(id);
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(a->timeline.size(), 8U);
    const std::vector<std::pair<alarm_state, time_point>> expected_steps{
        {alarm_state::dispatched, dispatched_at},
        {alarm_state::accepted, dispatched_at + 40s},
        {alarm_state::on_the_way, dispatched_at + 40s + 2min},
        {alarm_state::on_site, dispatched_at + 40s + 22min},
        {alarm_state::mission_done, dispatched_at + 40s + 52min}};
    for (std::size_t i = 0; i < expected_steps.size(); ++i) {
        EXPECT_EQ(a->timeline[3 + i].to, expected_steps[i].first) << i;
        EXPECT_EQ(a->timeline[3 + i].at, expected_steps[i].second) << i;
    }
    EXPECT_EQ(a->timeline[3 + 1].actor, "pis-nord");
    // Accepted in time: the timeout passing changes nothing.
    EXPECT_TRUE(wait(10min).empty());
    EXPECT_EQ(engine_.find(id)->level, 0);
    EXPECT_TRUE(engine_.close(id, "anna", "team_dispatched", now_));
}

TEST_F(MissionTest, DeclineReturnsTheAlarmToTheDispatchingOperator) {
    const alarm_id id = dispatched();
    now_ += 30s;
    EXPECT_EQ(engine_.decline(id, "pis-nord", " ", now_).error(),
              make_error_code(errc::missing_reason));
    const auto out = engine_.decline(id, "pis-nord", "squadra già impegnata", now_);
    ASSERT_TRUE(out);
    ASSERT_EQ(out->size(), 1U);
    const change& c = out->front();
    EXPECT_EQ(c.kind, change_kind::transitioned);  // pushed to every console like any step
    EXPECT_EQ(c.alarm.state, alarm_state::acknowledged);
    EXPECT_EQ(c.alarm.holder, "anna");
    EXPECT_EQ(c.note, "squadra già impegnata");
    EXPECT_EQ(c.detail, "declined: squadra già impegnata");
    ASSERT_TRUE(c.transition);
    EXPECT_EQ(c.transition->from, alarm_state::dispatched);
    EXPECT_EQ(c.transition->at, now_);
    const alarm* a = engine_.find(id);
    EXPECT_EQ(a->team, "");
    EXPECT_EQ(a->holder, "anna");
    // The declined mission's timer does not fire; the alarm can go to another team.
    EXPECT_TRUE(wait(5min).empty());
    ASSERT_TRUE(engine_.dispatch(id, "anna", "PIS Sud", now_));
    EXPECT_EQ(engine_.find(id)->team, "PIS Sud");
    ASSERT_TRUE(engine_.accept(id, "pis-sud", now_));
}

TEST_F(MissionTest, UnacceptedMissionEscalatesExactlyAtTheTimeout) {
    const alarm_id id = dispatched();
    const alarm_id other = dispatched("3002");
    ASSERT_TRUE(engine_.accept(other, "pis-nord", now_));
    EXPECT_EQ(engine_.next_deadline(), now_ + 90s);
    EXPECT_TRUE(wait(89s).empty());
    EXPECT_TRUE(wait(999ms).empty());
    EXPECT_EQ(engine_.find(id)->level, 0);
    const changes out = wait(1ms);  // exactly 90 s after the dispatch
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].kind, change_kind::escalated);
    EXPECT_EQ(out[0].alarm.id, id);
    EXPECT_EQ(out[0].at, t0 + 90s);
    EXPECT_EQ(out[0].alarm.level, 1);
    EXPECT_EQ(out[0].alarm.holder, "anna");
    EXPECT_EQ(out[0].detail, "level 1: mission not accepted by PIS Nord within 90 s");
    EXPECT_EQ(engine_.find(id)->state, alarm_state::dispatched);
    EXPECT_EQ(engine_.find(other)->level, 0);  // the accepted one never escalates
    // Once per dispatch.
    EXPECT_TRUE(wait(1h).empty());
    EXPECT_EQ(engine_.find(id)->level, 1);
    EXPECT_FALSE(engine_.next_deadline());
    // A late accept still works.
    EXPECT_TRUE(engine_.accept(id, "pis-nord", now_));
}

TEST_F(MissionTest, RedispatchAfterDeclineGetsItsOwnTimeout) {
    const alarm_id id = dispatched();
    now_ += 60s;
    ASSERT_TRUE(engine_.decline(id, "pis-nord", "fuori zona", now_));
    ASSERT_TRUE(engine_.dispatch(id, "anna", "PIS Sud", now_));
    EXPECT_TRUE(wait(89s).empty());  // 149 s after the first dispatch: its timer is gone
    const changes out = wait(1s);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].at, t0 + 150s);
    EXPECT_EQ(out[0].detail, "level 1: mission not accepted by PIS Sud within 90 s");
}

TEST_F(MissionTest, RebuildResumesTheTimerAndDoesNotEscalateTwice) {
    const alarm_id id = dispatched();
    const alarm_id escalated = dispatched("3002");
    now_ += 90s;
    ASSERT_EQ(engine_.advance(now_).size(), 2U);
    // A third mission dispatched later, still within its time at the restart.
    now_ += 10s;
    const alarm_id fresh = dispatched("3003");
    now_ += 30s;
    engine rebuilt = engine::rebuild(short_timeout(), engine_.open_alarms(), {}, now_, 10);
    EXPECT_EQ(rebuilt.next_deadline(), now_ + 60s);
    const changes out = rebuilt.advance(now_ + 60s);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].alarm.id, fresh);
    EXPECT_EQ(rebuilt.find(id)->level, 1);
    EXPECT_EQ(rebuilt.find(escalated)->level, 1);
}

TEST_F(MissionTest, DoneNeedsAnOutcomeAndAReferralNeedsAHandOverNote) {
    const alarm_id id = dispatched();
    ASSERT_TRUE(engine_.accept(id, "pis-nord", now_));
    EXPECT_EQ(engine_.complete_mission(id, "pis-nord", "resolved_on_site", "", now_).error(),
              make_error_code(errc::illegal_transition));
    ASSERT_TRUE(engine_.depart(id, "pis-nord", now_));
    ASSERT_TRUE(engine_.arrive(id, "pis-nord", now_));
    EXPECT_EQ(engine_.complete_mission(id, "pis-nord", "", "x", now_).error(),
              make_error_code(errc::missing_outcome));
    EXPECT_EQ(
        engine_.complete_mission(id, "pis-nord", engine::referral_outcome, " \n", now_).error(),
        make_error_code(errc::missing_handover));
    EXPECT_EQ(engine_.find(id)->state, alarm_state::on_site);
    EXPECT_FALSE(engine_.close(id, "anna", "team_dispatched", now_));  // not done yet
    ASSERT_TRUE(engine_.complete_mission(id, "pis-nord", engine::referral_outcome,
                                         "Segnalata al SSP: sig.ra sola, serve assistenza", now_));
    EXPECT_TRUE(engine_.close(id, "anna", "team_dispatched", now_));
}

}  // namespace
}  // namespace arc::engine::testing
