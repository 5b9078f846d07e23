#include <algorithm>
#include <filesystem>

#include "engine_fixture.hpp"
#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"

namespace arc::engine::testing {
namespace {

using EventsTest = EngineTest;

TEST_F(EventsTest, DuplicateJoinsTheOpenAlarm) {
    const alarm_id first = raise("1001", alarm_class::critical, event_kind::personal_emergency);
    now_ += 20s;
    const changes out = engine_.ingest(
        make_event("1001", alarm_class::critical, event_kind::personal_emergency, now_, 7), now_);
    ASSERT_EQ(kinds_of(out), std::vector<change_kind>{change_kind::merged});
    EXPECT_EQ(out[0].alarm.id, first);
    EXPECT_EQ(out[0].event_id, 7U);
    EXPECT_EQ(engine_.find(first)->event_count, 2U);
    EXPECT_EQ(engine_.find(first)->last_event_at, now_);
    EXPECT_EQ(engine_.find(first)->opened_at, t0);  // age is kept: the queue position too
    EXPECT_EQ(engine_.queue().size(), 1U);
    // Another kind, or another device, is another alarm.
    EXPECT_NE(raise("1001", alarm_class::critical, event_kind::fall), first);
    EXPECT_NE(raise("1002", alarm_class::critical, event_kind::personal_emergency), first);
    EXPECT_EQ(engine_.queue().size(), 3U);
}

TEST_F(EventsTest, AfterCloseTheSameKindOpensANewAlarm) {
    const alarm_id first = raise("1001", alarm_class::critical, event_kind::personal_emergency);
    ASSERT_TRUE(engine_.take(first, "anna", now_));
    ASSERT_TRUE(engine_.acknowledge(first, "anna", now_));
    ASSERT_TRUE(engine_.close(first, "anna", "ok", now_));
    EXPECT_NE(raise("1001", alarm_class::critical, event_kind::personal_emergency), first);
}

// SCAIP HOLD asks which open alarm a request's event is in; none once it is closed.
TEST_F(EventsTest, OpenAlarmOfDeviceAndKind) {
    EXPECT_FALSE(engine_.open_alarm_of("1001", event_kind::personal_emergency));
    const alarm_id first = raise("1001", alarm_class::critical, event_kind::personal_emergency);
    EXPECT_EQ(engine_.open_alarm_of("1001", event_kind::personal_emergency), first);
    EXPECT_FALSE(engine_.open_alarm_of("1001", event_kind::fall));
    EXPECT_FALSE(engine_.open_alarm_of("1002", event_kind::personal_emergency));
    ASSERT_TRUE(engine_.take(first, "anna", now_));
    EXPECT_EQ(engine_.open_alarm_of("1001", event_kind::personal_emergency), first);
    ASSERT_TRUE(engine_.acknowledge(first, "anna", now_));
    ASSERT_TRUE(engine_.close(first, "anna", "ok", now_));
    EXPECT_FALSE(engine_.open_alarm_of("1001", event_kind::personal_emergency));
}

TEST_F(EventsTest, Dc09RetransmissionCountedOnce) {
    event ev = make_event("1001", alarm_class::critical, event_kind::personal_emergency, now_);
    ev.dc09 = dc09_identity{"1001", "0042", "#1001|1101 01 015"};
    const changes first = engine_.ingest(ev, now_);
    ASSERT_EQ(kinds_of(first), std::vector<change_kind>{change_kind::opened});
    now_ += 4min + 59s;
    const changes again = engine_.ingest(ev, now_);
    EXPECT_EQ(kinds_of(again), std::vector<change_kind>{change_kind::retransmitted});
    EXPECT_EQ(engine_.find(first[0].alarm.id)->event_count, 1U);
    // Past the window, the same frame is a new press (the device restarted its sequence).
    now_ += 5min;
    EXPECT_EQ(kinds_of(engine_.ingest(ev, now_)), std::vector<change_kind>{change_kind::merged});
    // Another sequence number is another event.
    ev.dc09->seq = "0043";
    EXPECT_EQ(kinds_of(engine_.ingest(ev, now_)), std::vector<change_kind>{change_kind::merged});
    EXPECT_EQ(engine_.find(first[0].alarm.id)->event_count, 3U);
}

TEST_F(EventsTest, RestoreClosesTechnicalAlarm) {
    const alarm_id id = raise("1001", alarm_class::technical, event_kind::low_battery);
    now_ += 1h;
    const changes out = engine_.ingest(make_restore("1001", event_kind::low_battery, now_), now_);
    ASSERT_EQ(kinds_of(out), std::vector<change_kind>{change_kind::closed});
    EXPECT_EQ(out[0].alarm.id, id);
    EXPECT_EQ(out[0].actor, "system");
    EXPECT_EQ(out[0].detail, "restored");
    EXPECT_EQ(engine_.find(id), nullptr);
    EXPECT_TRUE(engine_.queue().empty());
}

TEST_F(EventsTest, RestoreIsOnlyNotedOnCriticalAlarm) {
    const alarm_id id = raise("1001", alarm_class::critical, event_kind::medical);
    now_ += 5s;
    const changes out = engine_.ingest(make_restore("1001", event_kind::medical, now_), now_);
    ASSERT_EQ(kinds_of(out), std::vector<change_kind>{change_kind::restore_noted});
    ASSERT_NE(engine_.find(id), nullptr);
    EXPECT_EQ(engine_.find(id)->restored_at, now_);
    EXPECT_EQ(engine_.queue(), std::vector<alarm_id>{id});
    wait(60s);  // still escalates: nobody has answered the person yet
    EXPECT_EQ(engine_.find(id)->level, 1);
}

TEST_F(EventsTest, RestoreWithNothingOpenIsLogged) {
    EXPECT_EQ(kinds_of(engine_.ingest(make_restore("1001", event_kind::mains_loss, now_), now_)),
              std::vector<change_kind>{change_kind::logged});
}

TEST_F(EventsTest, LogOnlyEventsOpenNothing) {
    const changes out = engine_.ingest(
        make_event("1001", alarm_class::log_only, event_kind::periodic_test, now_), now_);
    EXPECT_EQ(kinds_of(out), std::vector<change_kind>{change_kind::logged});
    EXPECT_TRUE(engine_.queue().empty());
}

TEST_F(EventsTest, UnknownCodeBecomesUrgentUnknownAlarm) {
    const arc::config::event_code_map map = [] {
        arc::config::event_code_map m;
        m.set(arc::config::code_family::sia, "QA",
              {alarm_class::critical, event_kind::personal_emergency, {}, "a", "b", {}, {}});
        return m;
    }();
    const auto cls = map.classify(arc::config::code_family::sia, "ZQ");
    event ev = make_event("1001", cls.cls, cls.kind, now_);
    ev.text = cls.label_it;
    const changes out = engine_.ingest(ev, now_);
    ASSERT_EQ(kinds_of(out), std::vector<change_kind>{change_kind::opened});
    const alarm* a = engine_.find(out[0].alarm.id);
    EXPECT_EQ(a->cls, alarm_class::urgent);
    EXPECT_EQ(a->kind, event_kind::unknown);
    EXPECT_EQ(a->text, "Evento sconosciuto (sia ZQ)");
}

class StormTest : public EngineTest {
protected:
    StormTest() : EngineTest(config()) {}
    static engine_config config() {
        engine_config c;
        c.storm_threshold = 5;
        c.storm_window = 60s;
        return c;
    }
};

TEST_F(StormTest, BelowThresholdNoStorm) {
    for (int i = 0; i < 4; ++i) {
        raise(std::to_string(100 + i), alarm_class::technical, event_kind::mains_loss);
        now_ += 10s;
    }
    EXPECT_EQ(engine_.queue().size(), 4U);
    // Spread over more than the window: still no storm.
    now_ += 30s;
    raise("200", alarm_class::technical, event_kind::mains_loss);
    EXPECT_EQ(engine_.queue().size(), 5U);
}

TEST_F(StormTest, PowerCutIsGroupedAndCriticalStaysOnTop) {
    std::vector<alarm_id> members;
    for (int i = 0; i < 4; ++i) {
        members.push_back(
            raise(std::to_string(100 + i), alarm_class::technical, event_kind::mains_loss));
        now_ += 1s;
    }
    const alarm_id pendant = raise("900", alarm_class::critical, event_kind::personal_emergency);
    const alarm_id battery = raise("901", alarm_class::technical, event_kind::low_battery);
    const changes out = engine_.ingest(
        make_event("104", alarm_class::technical, event_kind::mains_loss, now_), now_);
    ASSERT_EQ(kinds_of(out),
              (std::vector<change_kind>{change_kind::opened, change_kind::storm_grouped}));
    members.push_back(out[0].alarm.id);
    const alarm_id storm = out[1].alarm.id;
    EXPECT_EQ(out[1].members, members);
    EXPECT_TRUE(engine_.find(storm)->storm);
    EXPECT_EQ(engine_.find(storm)->members, members);
    // The storm alarm is older than the battery alarm (its first member opened first).
    EXPECT_EQ(engine_.queue(), (std::vector<alarm_id>{pendant, storm, battery}));

    // Later ones join the storm without touching the queue.
    now_ += 5s;
    const changes joined = engine_.ingest(
        make_event("105", alarm_class::technical, event_kind::mains_loss, now_), now_);
    ASSERT_EQ(kinds_of(joined),
              (std::vector<change_kind>{change_kind::opened, change_kind::storm_joined}));
    EXPECT_EQ(engine_.queue().size(), 3U);
    EXPECT_EQ(engine_.find(storm)->members.size(), 6U);
    // A member cannot be handled on its own.
    EXPECT_EQ(engine_.take(members[0], "anna", now_).error(), make_error_code(errc::storm_member));
}

// A storm ends with its wave: the next day's mains_loss at an unrelated home is an alarm of its
// own (queued, escalating), and a new wave forms a new storm.
TEST_F(StormTest, StormTakesNoMembersAfterItsWave) {
    for (int i = 0; i < 5; ++i) {
        raise(std::to_string(100 + i), alarm_class::technical, event_kind::mains_loss);
    }
    ASSERT_EQ(engine_.queue().size(), 1U);
    const alarm_id storm = engine_.queue()[0];

    now_ += 24h;
    const changes next_day = engine_.ingest(
        make_event("300", alarm_class::technical, event_kind::mains_loss, now_), now_);
    ASSERT_EQ(kinds_of(next_day), std::vector<change_kind>{change_kind::opened});
    const alarm_id lone = next_day[0].alarm.id;
    EXPECT_FALSE(engine_.find(lone)->storm_id);
    EXPECT_EQ(engine_.find(storm)->members.size(), 5U);
    EXPECT_EQ(engine_.queue(), (std::vector<alarm_id>{storm, lone}));
    // It escalates like any technical alarm (1 h by default); the old storm was overdue a day ago.
    const changes later = wait(1h);
    EXPECT_TRUE(std::any_of(later.begin(), later.end(), [&](const change& c) {
        return c.kind == change_kind::escalated && c.alarm.id == lone;
    }));

    // A new wave: a second storm beside the first, which keeps its members.
    for (int i = 0; i < 5; ++i) {
        raise(std::to_string(400 + i), alarm_class::technical, event_kind::mains_loss);
    }
    const auto queue = engine_.queue();
    ASSERT_EQ(queue.size(), 3U);  // by level: the old storm (2), the lone alarm (1), the new storm
    EXPECT_EQ(queue[0], storm);
    EXPECT_EQ(queue[1], lone);
    const alarm* second = engine_.find(queue[2]);
    ASSERT_NE(second, nullptr);
    EXPECT_TRUE(second->storm);
    EXPECT_EQ(second->members.size(), 5U);
    EXPECT_EQ(engine_.find(storm)->members.size(), 5U);
}

// A storm goes on as long as its wave does: each member extends it by one window.
TEST_F(StormTest, StormGoesOnWhileTheWaveGoesOn) {
    for (int i = 0; i < 5; ++i) {
        raise(std::to_string(100 + i), alarm_class::technical, event_kind::mains_loss);
    }
    const alarm_id storm = engine_.queue()[0];
    for (int i = 0; i < 10; ++i) {
        now_ += 59s;  // 9 min after the storm formed, each within a window of the previous
        raise(std::to_string(200 + i), alarm_class::technical, event_kind::mains_loss);
    }
    EXPECT_EQ(engine_.queue(), std::vector<alarm_id>{storm});
    EXPECT_EQ(engine_.find(storm)->members.size(), 15U);
    // A full window of quiet ends it.
    now_ += 60s;
    raise("300", alarm_class::technical, event_kind::mains_loss);
    EXPECT_EQ(engine_.queue().size(), 2U);
    EXPECT_EQ(engine_.find(storm)->members.size(), 15U);
}

TEST_F(StormTest, StormClosesWhenPowerReturnsEverywhere) {
    for (int i = 0; i < 5; ++i) {
        raise(std::to_string(100 + i), alarm_class::technical, event_kind::mains_loss);
    }
    ASSERT_EQ(engine_.queue().size(), 1U);
    const alarm_id storm = engine_.queue()[0];
    for (int i = 0; i < 4; ++i) {
        engine_.ingest(make_restore(std::to_string(100 + i), event_kind::mains_loss, now_), now_);
    }
    ASSERT_NE(engine_.find(storm), nullptr);
    const changes last = engine_.ingest(make_restore("104", event_kind::mains_loss, now_), now_);
    EXPECT_EQ(kinds_of(last), (std::vector<change_kind>{change_kind::closed, change_kind::closed}));
    EXPECT_EQ(engine_.find(storm), nullptr);
    EXPECT_TRUE(engine_.queue().empty());
}

TEST_F(StormTest, OperatorClosingTheStormClosesItsMembers) {
    for (int i = 0; i < 5; ++i) {
        raise(std::to_string(100 + i), alarm_class::technical, event_kind::mains_loss);
    }
    const alarm_id storm = engine_.queue()[0];
    ASSERT_TRUE(engine_.take(storm, "anna", now_));
    ASSERT_TRUE(engine_.acknowledge(storm, "anna", now_));
    const auto out = engine_.close(storm, "anna", "blackout ENEL", now_);
    ASSERT_TRUE(out);
    // The storm's own close, then one change listing the members closed with it.
    ASSERT_EQ(kinds_of(*out),
              (std::vector<change_kind>{change_kind::closed, change_kind::storm_closed}));
    EXPECT_EQ((*out)[1].members.size(), 5U);
    ASSERT_TRUE((*out)[1].transition);
    EXPECT_EQ((*out)[1].transition->from, alarm_state::new_alarm);
    EXPECT_EQ((*out)[1].transition->to, alarm_state::closed);
    EXPECT_EQ((*out)[1].detail, "closed with storm " + std::to_string(storm));
    for (const alarm_id member : (*out)[1].members) {
        EXPECT_EQ(engine_.find(member), nullptr);
    }
    EXPECT_TRUE(engine_.open_alarms().empty());
    // The next mains loss is an ordinary alarm again.
    raise("300", alarm_class::technical, event_kind::mains_loss);
    EXPECT_EQ(engine_.queue().size(), 1U);
}

}  // namespace
}  // namespace arc::engine::testing

namespace arc::engine::testing {
namespace {

// End to end through the shipped map, default configuration: a power cut of 200 homes in a
// minute, and one pendant press in the middle of it, which must be at the head of the queue.
TEST_F(EventsTest, PendantStaysOnTopOfAShippedMapPowerCut) {
    const auto map = arc::config::load_event_codes(std::filesystem::path(ARC_SOURCE_DIR) /
                                                   "config/event-codes.toml");
    const auto normalise = [&](const std::string& account, const char* code, char qualifier) {
        const auto c = map.classify(arc::config::code_family::cid, code, qualifier);
        event ev = make_event(account, alarm_class::log_only, event_kind::unknown, now_);
        apply_classification(ev, c);
        ev.code = code;
        return ev;
    };
    alarm_id pendant = 0;
    for (int i = 0; i < 200; ++i) {
        now_ += 250ms;
        engine_.ingest(normalise(std::to_string(10000 + i), "301", '1'), now_);
        if (i == 100) {
            const changes out = engine_.ingest(normalise("42", "101", '1'), now_);
            ASSERT_EQ(out.size(), 1U);
            pendant = out[0].alarm.id;
        }
    }
    const auto queue = engine_.queue();
    ASSERT_EQ(queue.size(), 2U);  // the pendant and one storm alarm
    EXPECT_EQ(queue[0], pendant);
    EXPECT_EQ(engine_.find(pendant)->cls, alarm_class::critical);
    EXPECT_EQ(engine_.find(pendant)->text, "Emergenza personale (pulsante)");
    const alarm* storm = engine_.find(queue[1]);
    EXPECT_TRUE(storm->storm);
    EXPECT_EQ(storm->members.size(), 200U);
    // The pendant's restore (CID qualifier 3) is noted; the alarm stays for an operator.
    EXPECT_EQ(kinds_of(engine_.ingest(normalise("42", "101", '3'), now_)),
              std::vector<change_kind>{change_kind::restore_noted});
    EXPECT_EQ(engine_.queue()[0], pendant);
}

}  // namespace
}  // namespace arc::engine::testing
