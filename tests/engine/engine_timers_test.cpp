// The queue's head and first page, and the timer heaps: no stale deadlines, bounded size, sliced
// catch-up after a stall.
#include <vector>

#include "engine_fixture.hpp"
#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"

namespace arc::engine::testing {
namespace {

using TimersTest = EngineTest;

TEST_F(TimersTest, HeadAndFirstPageFollowTheQueue) {
    EXPECT_EQ(engine_.head(), std::nullopt);
    EXPECT_TRUE(engine_.queue(50).empty());
    raise("t1", alarm_class::technical, event_kind::low_battery);
    now_ += 1s;
    raise("u1", alarm_class::urgent, event_kind::flood);
    now_ += 1s;
    const alarm_id critical = raise("c1", alarm_class::critical, event_kind::fall);
    now_ += 1s;
    raise("u2", alarm_class::urgent, event_kind::inactivity);
    const auto full = engine_.queue();
    ASSERT_EQ(full.size(), 4U);
    EXPECT_EQ(engine_.head(), critical);
    EXPECT_EQ(engine_.queue(2), (std::vector<alarm_id>{full[0], full[1]}));
    EXPECT_EQ(engine_.queue(0), std::vector<alarm_id>{});
    EXPECT_EQ(engine_.queue(50), full);
    ASSERT_TRUE(engine_.take(critical, "anna", now_));
    EXPECT_EQ(engine_.head(), critical);  // taken stays listed until closed
    ASSERT_TRUE(engine_.acknowledge(critical, "anna", now_));
    ASSERT_TRUE(engine_.close(critical, "anna", "false alarm", now_));
    EXPECT_EQ(engine_.head(), full[1]);
}

TEST_F(TimersTest, NextDeadlineSkipsTakenAndClosedAlarms) {
    const alarm_id first = raise("a1", alarm_class::critical, event_kind::personal_emergency);
    now_ += 10s;
    const alarm_id second = raise("a2", alarm_class::critical, event_kind::fall);
    now_ += 10s;
    raise("a3", alarm_class::critical, event_kind::medical);
    EXPECT_EQ(engine_.next_deadline(), t0 + 60s);

    ASSERT_TRUE(engine_.take(first, "anna", now_));
    EXPECT_EQ(engine_.next_deadline(), t0 + 10s + 60s);
    ASSERT_TRUE(engine_.take(second, "bruno", now_));
    ASSERT_TRUE(engine_.acknowledge(second, "bruno", now_));
    ASSERT_TRUE(engine_.close(second, "bruno", "ok", now_));
    EXPECT_EQ(engine_.next_deadline(), t0 + 20s + 60s);
    // And nothing fires before it.
    EXPECT_TRUE(engine_.advance(t0 + 20s + 60s - 1ms).empty());
}

TEST_F(TimersTest, SupervisionHeapStaysSmallUnderTraffic) {
    device_state d;
    d.account = "1001";
    d.device_type = "home_unit";
    d.interval = 1h;
    engine_.set_device(d, now_);
    for (int i = 0; i < 10'000; ++i) {
        now_ += 1s;
        event ev = make_event("1001", alarm_class::log_only, event_kind::periodic_test, now_);
        ev.device_type = "home_unit";
        engine_.ingest(ev, now_);
        ASSERT_LE(engine_.pending_timers(), 2U) << "after event " << i;
    }
    // Interval + 10 % + 2 min after the last message, reported exactly, fired exactly.
    const time_point deadline = now_ + 1h + 6min + 2min;
    EXPECT_EQ(engine_.supervision_deadline("1001"), deadline);
    EXPECT_EQ(engine_.next_deadline(), deadline);
    EXPECT_TRUE(engine_.advance(deadline - 1ms).empty());
    const changes fired = engine_.advance(deadline);
    ASSERT_EQ(kinds_of(fired), std::vector<change_kind>{change_kind::opened});
    EXPECT_EQ(fired[0].alarm.kind, event_kind::device_silent);
    EXPECT_EQ(fired[0].at, deadline);
}

TEST_F(TimersTest, ShorterIntervalStillFiresOnTime) {
    device_state d;
    d.account = "g1";
    d.device_type = "gateway";
    d.interval = 24h;
    engine_.set_device(d, now_);
    d.interval = 1h;  // tightened: the new, earlier deadline must not wait behind the old one
    engine_.set_device(d, now_);
    const time_point deadline = now_ + 1h + 6min + 2min;
    EXPECT_EQ(engine_.next_deadline(), deadline);
    EXPECT_EQ(kinds_of(engine_.advance(deadline)), std::vector<change_kind>{change_kind::opened});
    // The old 24 h entry fires nothing: only the silent alarm's own escalations follow.
    for (const change& c : engine_.advance(now_ + 48h)) {
        EXPECT_EQ(c.kind, change_kind::escalated);
    }
    EXPECT_EQ(engine_.queue().size(), 1U);
}

TEST_F(TimersTest, AdvanceWorksInSlicesAfterAStall) {
    engine twin;
    for (int i = 0; i < 10; ++i) {
        const event ev = make_event("c" + std::to_string(i), alarm_class::critical,
                                    event_kind::personal_emergency, now_);
        engine_.ingest(ev, now_);
        twin.ingest(ev, now_);
    }
    now_ += 10min;  // both levels of all ten are overdue: 20 escalations
    std::vector<std::pair<alarm_id, int>> sliced;
    int calls = 0;
    while (engine_.next_deadline() && *engine_.next_deadline() <= now_) {
        const changes slice = engine_.advance(now_, 3);
        ASSERT_FALSE(slice.empty());
        ASSERT_LE(slice.size(), 3U);
        for (const change& c : slice) {
            sliced.emplace_back(c.alarm.id, c.alarm.level);
        }
        ++calls;
    }
    EXPECT_EQ(calls, 7);
    std::vector<std::pair<alarm_id, int>> whole;
    for (const change& c : twin.advance(now_)) {
        whole.emplace_back(c.alarm.id, c.alarm.level);
    }
    EXPECT_EQ(whole.size(), 20U);
    EXPECT_EQ(sliced, whole);
    EXPECT_EQ(engine_.queue(), twin.queue());
}

}  // namespace
}  // namespace arc::engine::testing
