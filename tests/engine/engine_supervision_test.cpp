#include <algorithm>

#include "engine_fixture.hpp"
#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"

namespace arc::engine::testing {
namespace {

using SupervisionTest = EngineTest;

device_state home_unit(std::string account, std::optional<duration> interval = std::nullopt) {
    device_state d;
    d.account = std::move(account);
    d.device_type = "home_unit";
    d.interval = interval;
    return d;
}

event heartbeat(const std::string& account, time_point at) {
    event ev = make_event(account, alarm_class::log_only, event_kind::periodic_test, at);
    ev.device_type = "home_unit";
    return ev;
}

TEST_F(SupervisionTest, GraceIsIntervalPlusTenPercentPlusTwoMinutes) {
    engine_.set_device(home_unit("1001", 1h), now_);
    engine_.ingest(heartbeat("1001", now_), now_);
    const time_point deadline = now_ + 1h + 6min + 2min;
    EXPECT_EQ(engine_.supervision_deadline("1001"), deadline);
    EXPECT_TRUE(engine_.advance(deadline - 1ms).empty());
    const changes out = engine_.advance(deadline);
    ASSERT_EQ(kinds_of(out), std::vector<change_kind>{change_kind::opened});
    EXPECT_EQ(out[0].alarm.kind, event_kind::device_silent);
    EXPECT_EQ(out[0].alarm.cls, alarm_class::technical);
    EXPECT_EQ(out[0].alarm.opened_at, deadline);
    // One alarm, not one per period (it only escalates, as an untaken technical alarm).
    for (const change& c : engine_.advance(deadline + 24h)) {
        EXPECT_EQ(c.kind, change_kind::escalated);
    }
    EXPECT_EQ(engine_.queue().size(), 1U);
}

TEST_F(SupervisionTest, DefaultIntervalComesFromTheDeviceType) {
    engine_.set_device(home_unit("1001"), now_);
    EXPECT_EQ(engine_.supervision_deadline("1001"), now_ + 24h + 144min + 2min);
    device_state pendant;
    pendant.account = "1002";
    pendant.device_type = "pendant";  // reports through its home unit: not supervised
    engine_.set_device(pendant, now_);
    EXPECT_EQ(engine_.supervision_deadline("1002"), std::nullopt);
}

TEST_F(SupervisionTest, EveryMessageRestartsTheTimer) {
    engine_.set_device(home_unit("1001", 1h), now_);
    for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(wait(1h + 5min).empty());
        engine_.ingest(heartbeat("1001", now_), now_);
    }
    EXPECT_TRUE(engine_.queue().empty());
}

TEST_F(SupervisionTest, NextMessageClosesTheSilentAlarm) {
    engine_.set_device(home_unit("1001", 1h), now_);
    const changes opened = wait(2h);
    ASSERT_EQ(opened.size(), 1U);
    const alarm_id silent = opened[0].alarm.id;
    now_ += 10min;
    const changes out = engine_.ingest(heartbeat("1001", now_), now_);
    EXPECT_EQ(kinds_of(out), (std::vector<change_kind>{change_kind::closed, change_kind::logged}));
    EXPECT_EQ(out[0].alarm.id, silent);
    EXPECT_EQ(engine_.find(silent), nullptr);
    EXPECT_EQ(engine_.supervision_deadline("1001"), now_ + 1h + 8min);
}

TEST_F(SupervisionTest, NoFalseAlarmsAfterRestart) {
    // Last seen 30 min before the stop; arcd was down 3 h: the deadline passed while down.
    const time_point start = t0 + 3h;
    std::vector<device_state> devices;
    for (int i = 0; i < 100; ++i) {
        device_state d = home_unit(std::to_string(1000 + i), 1h);
        d.last_seen = t0 - 30min;
        devices.push_back(d);
    }
    device_state recent = home_unit("2000", 1h);
    recent.last_seen = start - 10min;  // still within its grace: keeps its deadline
    devices.push_back(recent);
    engine restarted = engine::rebuild({}, {}, devices, start);
    EXPECT_EQ(restarted.supervision_deadline("1000"), start + 1h + 8min);
    EXPECT_EQ(restarted.supervision_deadline("2000"), start - 10min + 1h + 8min);
    EXPECT_TRUE(restarted.advance(start).empty());
    EXPECT_TRUE(restarted.advance(start + 58min - 1ms).empty());
    EXPECT_EQ(restarted.advance(start + 58min).size(), 1U);  // "2000" kept its own deadline
    EXPECT_TRUE(restarted.advance(start + 1h + 8min - 1ms).empty());
    // A device that stays silent for a whole fresh grace is reported.
    const changes silent = restarted.advance(start + 1h + 8min);
    EXPECT_EQ(std::count_if(silent.begin(), silent.end(),
                            [](const change& c) { return c.kind == change_kind::opened; }),
              100);
    // 100 homes silent at once is an outage: one storm alarm, beside the earlier one.
    EXPECT_EQ(restarted.queue().size(), 2U);
}

TEST_F(SupervisionTest, TestModeNeverQueuesAndEndsByItself) {
    device_state d = home_unit("1001", 1h);
    d.mode = device_mode::test;
    d.test_until = now_ + 2h;
    engine_.set_device(d, now_);
    now_ += 1min;
    const changes out = engine_.ingest(
        make_event("1001", alarm_class::critical, event_kind::personal_emergency, now_), now_);
    EXPECT_EQ(kinds_of(out), std::vector<change_kind>{change_kind::test_event});
    EXPECT_TRUE(engine_.queue().empty());
    // No silent alarm while in test either.
    const changes ended = wait(2h);
    ASSERT_EQ(kinds_of(ended), std::vector<change_kind>{change_kind::mode_changed});
    EXPECT_EQ(ended[0].at, t0 + 2h);
    EXPECT_EQ(engine_.device("1001")->mode, device_mode::active);
    EXPECT_EQ(raise("1001", alarm_class::critical, event_kind::personal_emergency) != 0, true);
    EXPECT_EQ(engine_.queue().size(), 1U);
}

TEST_F(SupervisionTest, TestModeEndCheckedOnIngestToo) {
    device_state d = home_unit("1001");
    d.mode = device_mode::test;
    d.test_until = now_ + 1h;
    engine_.set_device(d, now_);
    now_ += 2h;  // advance() was not called in between
    const changes out =
        engine_.ingest(make_event("1001", alarm_class::critical, event_kind::fall, now_), now_);
    EXPECT_EQ(kinds_of(out),
              (std::vector<change_kind>{change_kind::mode_changed, change_kind::opened}));
}

TEST_F(SupervisionTest, RetiredDeviceIsRecordOnlyByDefault) {
    device_state d = home_unit("1001");
    d.mode = device_mode::retired;
    engine_.set_device(d, now_);
    EXPECT_EQ(kinds_of(engine_.ingest(
                  make_event("1001", alarm_class::critical, event_kind::fall, now_), now_)),
              std::vector<change_kind>{change_kind::ignored});
    EXPECT_TRUE(wait(48h).empty());
}

TEST_F(SupervisionTest, RetiredDeviceQueuedWhenConfigured) {
    engine_config config;
    config.retired = retired_policy::queue;
    engine e(config);
    device_state d = home_unit("1001");
    d.mode = device_mode::retired;
    e.set_device(d, now_);
    EXPECT_EQ(
        kinds_of(e.ingest(make_event("1001", alarm_class::critical, event_kind::fall, now_), now_)),
        std::vector<change_kind>{change_kind::opened});
}

// ---- recovery ----

class RecoveryTest : public EngineTest {
protected:
    RecoveryTest() : EngineTest(config()) {}
    static engine_config config() {
        engine_config c;
        c.storm_threshold = 3;
        return c;
    }
};

TEST_F(RecoveryTest, RebuiltQueueIsIdentical) {
    engine_.set_device(home_unit("h1", 1h), now_);
    const alarm_id escalated = raise("a1", alarm_class::critical, event_kind::personal_emergency);
    now_ += 10s;
    const alarm_id taken = raise("a2", alarm_class::critical, event_kind::fall);
    ASSERT_TRUE(engine_.take(taken, "anna", now_));
    raise("a3", alarm_class::urgent, event_kind::inactivity);
    raise("a4", alarm_class::technical, event_kind::low_battery);
    for (int i = 0; i < 4; ++i) {
        raise("m" + std::to_string(i), alarm_class::technical, event_kind::mains_loss);
    }
    wait(70s);  // `escalated` reaches level 1
    ASSERT_EQ(engine_.find(escalated)->level, 1);
    const auto before_queue = engine_.queue();
    const auto before_alarms = engine_.open_alarms();

    engine rebuilt = engine::rebuild(config(), engine_.open_alarms(), engine_.devices(), now_);
    EXPECT_EQ(rebuilt.queue(), before_queue);
    ASSERT_EQ(rebuilt.open_alarms().size(), before_alarms.size());
    for (std::size_t i = 0; i < before_alarms.size(); ++i) {
        EXPECT_EQ(header_of(rebuilt.open_alarms()[i]).level, header_of(before_alarms[i]).level);
        EXPECT_EQ(rebuilt.open_alarms()[i].storm_id, before_alarms[i].storm_id);
    }

    // Both go on the same way: same escalations at the same instants, same ids, same storm.
    const auto after = [&](engine& e) {
        std::vector<std::tuple<change_kind, alarm_id, int, std::int64_t>> trace;
        time_point t = now_;
        for (int step = 0; step < 6; ++step) {
            t += 40s;
            for (const change& c : e.advance(t)) {
                trace.emplace_back(c.kind, c.alarm.id, c.alarm.level, to_ms(c.at));
            }
        }
        for (const change& c :
             e.ingest(make_event("m9", alarm_class::technical, event_kind::mains_loss, t), t)) {
            trace.emplace_back(c.kind, c.alarm.id, c.alarm.level, to_ms(c.at));
        }
        for (const change& c :
             e.ingest(make_event("a9", alarm_class::critical, event_kind::medical, t), t)) {
            trace.emplace_back(c.kind, c.alarm.id, c.alarm.level, to_ms(c.at));
        }
        return std::pair(trace, e.queue());
    };
    EXPECT_EQ(after(rebuilt), after(engine_));
}

TEST_F(RecoveryTest, RebuiltTimersResumeFromAge) {
    const alarm_id id = raise("a1", alarm_class::critical, event_kind::personal_emergency);
    now_ += 50s;
    engine rebuilt = engine::rebuild(config(), engine_.open_alarms(), {}, now_);
    EXPECT_TRUE(rebuilt.advance(t0 + 59s).empty());
    EXPECT_EQ(rebuilt.advance(t0 + 60s).size(), 1U);
    EXPECT_EQ(rebuilt.find(id)->level, 1);
    // An alarm overdue at restart escalates at the first advance, not a full timer later.
    engine late = engine::rebuild(config(), engine_.open_alarms(), {}, t0 + 10min);
    EXPECT_EQ(late.advance(t0 + 10min).size(), 2U);
    // New ids continue after the persisted ones.
    EXPECT_GT(rebuilt.ingest(make_event("b1", alarm_class::urgent, event_kind::flood, now_), now_)
                  .front()
                  .alarm.id,
              id);
}

TEST_F(RecoveryTest, NewIdsContinueAfterClosedAlarms) {
    // Alarms 1..5 were opened and closed before the restart: none is open, yet a new alarm must
    // not reuse their ids (their rows and timelines are in storage).
    engine rebuilt = engine::rebuild(config(), {}, {}, now_, 5);
    const changes out =
        rebuilt.ingest(make_event("b1", alarm_class::critical, event_kind::fall, now_), now_);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out.front().alarm.id, 6U);
}

TEST_F(SupervisionTest, RemovedDeviceIsNoLongerSupervised) {
    engine_.set_device(home_unit("1001", 1h), now_);
    engine_.ingest(heartbeat("1001", now_), now_);
    ASSERT_TRUE(engine_.supervision_deadline("1001"));
    EXPECT_TRUE(engine_.remove_device("1001"));
    EXPECT_FALSE(engine_.remove_device("1001"));
    EXPECT_EQ(engine_.device("1001"), nullptr);
    EXPECT_TRUE(wait(48h).empty());
    EXPECT_TRUE(engine_.queue().empty());
    EXPECT_EQ(engine_.next_deadline(), std::nullopt);
}

}  // namespace
}  // namespace arc::engine::testing
