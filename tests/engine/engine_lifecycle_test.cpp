#include "engine_fixture.hpp"
#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"

namespace arc::engine::testing {
namespace {

using LifecycleTest = EngineTest;

TEST_F(LifecycleTest, QueueOrdersByClassThenLevelThenAge) {
    const alarm_id technical = raise("1001", alarm_class::technical, event_kind::low_battery);
    now_ += 1s;
    const alarm_id urgent_old = raise("1002", alarm_class::urgent, event_kind::inactivity);
    now_ += 1s;
    const alarm_id critical_old = raise("1003", alarm_class::critical, event_kind::fall);
    now_ += 1s;
    const alarm_id urgent_new = raise("1004", alarm_class::urgent, event_kind::flood);
    now_ += 1s;
    const alarm_id critical_new =
        raise("1005", alarm_class::critical, event_kind::personal_emergency);
    EXPECT_EQ(engine_.queue(), (std::vector<alarm_id>{critical_old, critical_new, urgent_old,
                                                      urgent_new, technical}));
}

TEST_F(LifecycleTest, HigherLevelGoesFirstWithinClass) {
    const alarm_id old_alarm = raise("1001", alarm_class::critical, event_kind::fall);
    ASSERT_TRUE(engine_.take(old_alarm, "anna", now_));
    now_ += 30s;
    const alarm_id untaken = raise("1002", alarm_class::critical, event_kind::medical);
    EXPECT_EQ(engine_.queue(), (std::vector<alarm_id>{old_alarm, untaken}));
    wait(60s);  // untaken is 60 s old: level 1; the taken one never escalates
    EXPECT_EQ(engine_.find(untaken)->level, 1);
    EXPECT_EQ(engine_.find(old_alarm)->level, 0);
    EXPECT_EQ(engine_.queue(), (std::vector<alarm_id>{untaken, old_alarm}));
}

struct timer_case {
    alarm_class cls;
    duration level1;
    duration level2;
};

class EscalationTimers : public EngineTest, public ::testing::WithParamInterface<timer_case> {};

TEST_P(EscalationTimers, EachBoundaryExactly) {
    const timer_case tc = GetParam();
    const alarm_id id = raise("2001", tc.cls, event_kind::unknown);
    const time_point opened = now_;
    EXPECT_TRUE(engine_.advance(opened + tc.level1 - 1ms).empty());
    EXPECT_EQ(engine_.find(id)->level, 0);
    const changes first = engine_.advance(opened + tc.level1);
    ASSERT_EQ(kinds_of(first), std::vector<change_kind>{change_kind::escalated});
    EXPECT_EQ(first[0].alarm.level, 1);
    EXPECT_EQ(first[0].at, opened + tc.level1);
    EXPECT_TRUE(engine_.advance(opened + tc.level2 - 1ms).empty());
    const changes second = engine_.advance(opened + tc.level2);
    ASSERT_EQ(second.size(), 1U);
    EXPECT_EQ(second[0].alarm.level, 2);
    EXPECT_TRUE(engine_.advance(opened + tc.level2 * 10).empty());  // no level 3 by default
    EXPECT_EQ(engine_.find(id)->escalated_at,
              (std::vector<time_point>{opened + tc.level1, opened + tc.level2}));
}

INSTANTIATE_TEST_SUITE_P(Defaults, EscalationTimers,
                         ::testing::Values(timer_case{alarm_class::critical, 60s, 180s},
                                           timer_case{alarm_class::urgent, 180s, 600s},
                                           timer_case{alarm_class::technical, 1h, 4h}));

TEST_F(LifecycleTest, CriticalAt59SecondsIsNotEscalated) {
    const alarm_id id = raise("2001", alarm_class::critical, event_kind::personal_emergency);
    EXPECT_TRUE(wait(59s).empty());
    EXPECT_EQ(engine_.find(id)->level, 0);
    EXPECT_EQ(engine_.next_deadline(), t0 + 60s);
    EXPECT_EQ(wait(1s).size(), 1U);
    EXPECT_EQ(engine_.find(id)->level, 1);
}

TEST_F(LifecycleTest, OneLongJumpFiresBothLevels) {
    const alarm_id id = raise("2001", alarm_class::critical, event_kind::personal_emergency);
    const changes out = wait(1h);
    EXPECT_EQ(kinds_of(out),
              (std::vector<change_kind>{change_kind::escalated, change_kind::escalated}));
    EXPECT_EQ(engine_.find(id)->level, 2);
}

TEST_F(LifecycleTest, TakingStopsEscalation) {
    const alarm_id id = raise("2001", alarm_class::critical, event_kind::personal_emergency);
    now_ += 59s;
    ASSERT_TRUE(engine_.take(id, "anna", now_));
    EXPECT_TRUE(wait(1h).empty());
    EXPECT_EQ(engine_.find(id)->level, 0);
}

TEST_F(LifecycleTest, FullLifecycleWithMission) {
    const alarm_id id = raise("3001", alarm_class::critical, event_kind::fall);
    const auto step = [&](expected<changes> result, alarm_state to) {
        ASSERT_TRUE(result) << result.error().message();
        ASSERT_EQ(result->size(), 1U);
        EXPECT_EQ(result->front().alarm.state, to);
        ASSERT_TRUE(result->front().transition);
        EXPECT_EQ(result->front().transition->at, now_);
        now_ += 10s;
    };
    step(engine_.take(id, "anna", now_), alarm_state::taken);
    step(engine_.acknowledge(id, "anna", now_), alarm_state::acknowledged);
    step(engine_.dispatch(id, "anna", "pis-nord", now_), alarm_state::dispatched);
    step(engine_.accept(id, "pis-nord", now_), alarm_state::accepted);
    step(engine_.depart(id, "pis-nord", now_), alarm_state::on_the_way);
    step(engine_.arrive(id, "pis-nord", now_), alarm_state::on_site);
    step(engine_.complete_mission(id, "pis-nord", "resolved_on_site", "", now_),
         alarm_state::mission_done);
    const alarm timeline_holder = *engine_.find(id);
    EXPECT_EQ(timeline_holder.holder, "anna");
    EXPECT_EQ(timeline_holder.team, "pis-nord");
    ASSERT_EQ(timeline_holder.timeline.size(), 8U);  // opening + 7 steps
    EXPECT_EQ(timeline_holder.timeline[4].actor, "pis-nord");
    EXPECT_EQ(timeline_holder.timeline[4].at, t0 + 30s);

    const auto closed = engine_.close(id, "anna", "assistito soccorso", now_);
    ASSERT_TRUE(closed);
    ASSERT_EQ(closed->size(), 1U);
    EXPECT_EQ(closed->front().kind, change_kind::closed);
    EXPECT_EQ(closed->front().alarm.state, alarm_state::closed);
    EXPECT_EQ(closed->front().transition->from, alarm_state::mission_done);
    EXPECT_EQ(closed->front().detail, "assistito soccorso");
    EXPECT_EQ(engine_.find(id), nullptr);
    EXPECT_TRUE(engine_.queue().empty());
}

TEST_F(LifecycleTest, CloseAfterAcknowledgeWithoutMission) {
    const alarm_id id = raise("3001", alarm_class::critical, event_kind::personal_emergency);
    ASSERT_TRUE(engine_.take(id, "anna", now_));
    ASSERT_TRUE(engine_.acknowledge(id, "anna", now_));
    const auto closed = engine_.close(id, "anna", "falso allarme", now_);
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->front().transition->from, alarm_state::acknowledged);
}

// Every action from every state it is not allowed in.
TEST_F(LifecycleTest, IllegalTransitionsAreRefused) {
    enum class action {
        take,
        acknowledge,
        dispatch,
        accept,
        decline,
        depart,
        arrive,
        complete,
        close
    };
    const std::vector<action> actions = {action::take,   action::acknowledge, action::dispatch,
                                         action::accept, action::decline,     action::depart,
                                         action::arrive, action::complete,    action::close};
    // The state each action needs; close is also allowed from acknowledged.
    const auto allowed = [](action a, alarm_state s) {
        switch (a) {
            case action::take:
                return s == alarm_state::new_alarm;
            case action::acknowledge:
                return s == alarm_state::taken;
            case action::dispatch:
                return s == alarm_state::acknowledged;
            case action::accept:
            case action::decline:
                return s == alarm_state::dispatched;
            case action::depart:
                return s == alarm_state::accepted;
            case action::arrive:
                return s == alarm_state::on_the_way;
            case action::complete:
                return s == alarm_state::on_site;
            case action::close:
                return s == alarm_state::acknowledged || s == alarm_state::mission_done;
        }
        return false;
    };
    const auto run = [&](action a, alarm_id id) -> expected<changes> {
        switch (a) {
            case action::take:
                return engine_.take(id, "bruno", now_);
            case action::acknowledge:
                return engine_.acknowledge(id, "anna", now_);
            case action::dispatch:
                return engine_.dispatch(id, "anna", "pis", now_);
            case action::accept:
                return engine_.accept(id, "pis", now_);
            case action::decline:
                return engine_.decline(id, "pis", "no car", now_);
            case action::depart:
                return engine_.depart(id, "pis", now_);
            case action::arrive:
                return engine_.arrive(id, "pis", now_);
            case action::complete:
                return engine_.complete_mission(id, "pis", "resolved_on_site", "", now_);
            case action::close:
                return engine_.close(id, "anna", "ok", now_);
        }
        return tl::make_unexpected(std::error_code{});
    };
    // Drive one alarm per reachable state, then try every action that is not allowed there.
    const std::vector<action> path = {action::take,    action::acknowledge, action::dispatch,
                                      action::accept,  action::depart,      action::arrive,
                                      action::complete};
    for (std::size_t depth = 0; depth <= path.size(); ++depth) {
        const alarm_id id =
            raise(std::to_string(5000 + depth), alarm_class::critical, event_kind::fall);
        for (std::size_t i = 0; i < depth; ++i) {
            const auto r = i == 0 ? engine_.take(id, "anna", now_) : run(path[i], id);
            ASSERT_TRUE(r) << depth << "/" << i;
        }
        const alarm_state state = engine_.find(id)->state;
        for (const action a : actions) {
            if (allowed(a, state)) {
                continue;
            }
            const auto r = run(a, id);
            ASSERT_FALSE(r) << to_string(state) << " action " << static_cast<int>(a);
            const errc expected_error =
                a == action::take ? errc::already_taken : errc::illegal_transition;
            EXPECT_EQ(r.error(), make_error_code(expected_error)) << to_string(state);
            EXPECT_EQ(engine_.find(id)->state, state);
        }
    }
}

TEST_F(LifecycleTest, ErrorsAreClear) {
    const alarm_id id = raise("4001", alarm_class::critical, event_kind::fall);
    EXPECT_EQ(engine_.take(999, "anna", now_).error(), make_error_code(errc::unknown_alarm));
    EXPECT_EQ(engine_.take(id, "", now_).error(), make_error_code(errc::missing_operator));
    ASSERT_TRUE(engine_.take(id, "anna", now_));
    EXPECT_EQ(engine_.take(id, "bruno", now_).error(), make_error_code(errc::already_taken));
    ASSERT_TRUE(engine_.acknowledge(id, "anna", now_));
    EXPECT_EQ(engine_.dispatch(id, "anna", "", now_).error(), make_error_code(errc::missing_team));
    EXPECT_EQ(engine_.close(id, "anna", "", now_).error(), make_error_code(errc::missing_outcome));
    EXPECT_EQ(make_error_code(errc::illegal_transition).message(),
              "action not allowed in the alarm's current state");
    EXPECT_STREQ(engine_category().name(), "arc.engine");
    ASSERT_TRUE(engine_.close(id, "anna", "ok", now_));
    EXPECT_EQ(engine_.acknowledge(id, "anna", now_).error(), make_error_code(errc::unknown_alarm));
}

TEST_F(LifecycleTest, ReleasedAlarmGoesBackToTheQueueAndEscalatesAgain) {
    const alarm_id id = raise("4101", alarm_class::critical, event_kind::fall);
    ASSERT_TRUE(engine_.take(id, "anna", now_));
    wait(120s);  // taken: no escalation however long it is held
    EXPECT_EQ(engine_.find(id)->level, 0);
    const auto out = engine_.release(id, "anna", now_);
    ASSERT_TRUE(out);
    ASSERT_EQ(out->size(), 1U);
    EXPECT_EQ(out->front().kind, change_kind::transitioned);
    EXPECT_EQ(out->front().transition->from, alarm_state::taken);
    EXPECT_EQ(out->front().transition->to, alarm_state::new_alarm);
    EXPECT_EQ(out->front().alarm.holder, "");
    EXPECT_EQ(engine_.find(id)->state, alarm_state::new_alarm);
    // Its schedule is measured from the opening: overdue now, so the next timer escalates it.
    const changes late = engine_.advance(now_ + 1ms);
    ASSERT_EQ(kinds_of(late), std::vector<change_kind>{change_kind::escalated});
    EXPECT_EQ(engine_.find(id)->level, 1);
    // Anyone may take it now; a new alarm cannot be released.
    EXPECT_EQ(engine_.release(id, "anna", now_).error(), make_error_code(errc::illegal_transition));
    ASSERT_TRUE(engine_.take(id, "bruno", now_));
    ASSERT_TRUE(engine_.acknowledge(id, "bruno", now_));
    ASSERT_TRUE(engine_.release(id, "bruno", now_));  // acknowledged can be released too
    EXPECT_EQ(engine_.find(id)->state, alarm_state::new_alarm);
}

TEST_F(LifecycleTest, ReassignChangesTheHolderAndKeepsTheState) {
    const alarm_id id = raise("4102", alarm_class::urgent, event_kind::inactivity);
    EXPECT_EQ(engine_.reassign(id, "sara", "bruno", now_).error(),
              make_error_code(errc::illegal_transition));  // nobody holds it yet
    ASSERT_TRUE(engine_.take(id, "anna", now_));
    ASSERT_TRUE(engine_.acknowledge(id, "anna", now_));
    EXPECT_EQ(engine_.reassign(id, "sara", "", now_).error(),
              make_error_code(errc::missing_operator));
    const auto out = engine_.reassign(id, "sara", "bruno", now_);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->front().actor, "sara");
    EXPECT_EQ(out->front().detail, "reassigned to bruno");
    EXPECT_EQ(out->front().alarm.holder, "bruno");
    EXPECT_EQ(engine_.find(id)->state, alarm_state::acknowledged);
    EXPECT_EQ(engine_.find(id)->timeline.back().detail, "reassigned to bruno");
}

TEST_F(LifecycleTest, NotesAreAttributed) {
    const alarm_id id = raise("4001", alarm_class::urgent, event_kind::inactivity);
    const auto out = engine_.add_note(id, "anna", "chiamato il figlio", now_);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->front().kind, change_kind::noted);
    ASSERT_EQ(engine_.find(id)->notes.size(), 1U);
    EXPECT_EQ(engine_.find(id)->notes[0].author, "anna");
}

TEST_F(LifecycleTest, PhoneCaseOpensTakenByTheOperatorAndNeverMergesWithDeviceAlarms) {
    const alarm_id pendant = raise("1001", alarm_class::critical, event_kind::personal_emergency);
    auto out = engine_.open_case(alarm_class::critical, "1001", "frail_elderly",
                                 "Segnalazione: anziano a terra", "anna", true, now_);
    ASSERT_TRUE(out) << out.error().message();
    ASSERT_EQ(kinds_of(*out),
              (std::vector<change_kind>{change_kind::opened, change_kind::transitioned}));
    const alarm_id id = (*out)[0].alarm.id;
    EXPECT_NE(id, pendant);
    EXPECT_EQ((*out)[0].actor, "anna");  // the timeline names who opened it
    const alarm* a = engine_.find(id);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->kind, event_kind::phone_report);
    EXPECT_EQ(a->state, alarm_state::taken);
    EXPECT_EQ(a->holder, "anna");
    EXPECT_EQ(a->code, "frail_elderly");
    // Held: it never escalates; the untaken pendant of the same person does.
    wait(61s);
    EXPECT_EQ(engine_.find(id)->level, 0);
    EXPECT_EQ(engine_.find(pendant)->level, 1);
    // A new press of the same device joins the pendant alarm, not the case.
    now_ += 1s;
    raise("1001", alarm_class::critical, event_kind::personal_emergency);
    EXPECT_EQ(engine_.find(pendant)->event_count, 2U);
    EXPECT_EQ(engine_.find(id)->event_count, 1U);
    // Dispatched and closed like an alarm.
    ASSERT_TRUE(engine_.acknowledge(id, "anna", now_));
    ASSERT_TRUE(engine_.dispatch(id, "anna", "PIS Torino", now_));
    ASSERT_TRUE(engine_.accept(id, "pis1", now_));
    ASSERT_TRUE(engine_.depart(id, "pis1", now_));
    ASSERT_TRUE(engine_.arrive(id, "pis1", now_));
    ASSERT_TRUE(engine_.complete_mission(id, "pis1", "resolved_on_site", "", now_));
    ASSERT_TRUE(engine_.close(id, "anna", "resolved_on_site", now_));
    EXPECT_EQ(engine_.find(id), nullptr);
}

TEST_F(LifecycleTest, UntakenPhoneCaseWaitsInTheQueueAndEscalates) {
    auto out = engine_.open_case(alarm_class::urgent, "", "housing_emergency",
                                 "Segnalazione: sfratto", "sara", false, now_);
    ASSERT_TRUE(out);
    ASSERT_EQ(kinds_of(*out), std::vector<change_kind>{change_kind::opened});
    const alarm_id id = (*out)[0].alarm.id;
    EXPECT_EQ(engine_.find(id)->state, alarm_state::new_alarm);
    EXPECT_EQ(engine_.queue(), std::vector<alarm_id>{id});
    wait(180s);  // urgent level 1 at 180 s
    EXPECT_EQ(engine_.find(id)->level, 1);
    ASSERT_TRUE(engine_.take(id, "anna", now_));
    EXPECT_FALSE(engine_.open_case(alarm_class::log_only, "", "other", "x", "anna", true, now_));
    EXPECT_FALSE(engine_.open_case(alarm_class::urgent, "", "other", "x", "", true, now_));
}

}  // namespace
}  // namespace arc::engine::testing
