// A subscriber away or in hospital: their devices' supervision and inactivity alarms pause
// until the end of the absence; every other alarm is raised as usual.
#include "engine_fixture.hpp"
#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"

namespace arc::engine::testing {
namespace {

using PauseTest = EngineTest;

device_state home_unit(std::string account, std::optional<time_point> paused_until) {
    device_state d;
    d.account = std::move(account);
    d.device_type = "home_unit";
    d.interval = 1h;
    d.paused_until = paused_until;
    return d;
}

bool opened(const changes& out) {
    for (const change& c : out) {
        if (c.kind == change_kind::opened) {
            return true;
        }
    }
    return false;
}

TEST_F(PauseTest, NoSilentAlarmWhileAwayThenSupervisionResumesWithAFullGrace) {
    const time_point back = now_ + 5h;
    engine_.set_device(home_unit("1001", back), now_);
    EXPECT_FALSE(opened(wait(4h)));  // silent far past its 1h08 grace
    EXPECT_TRUE(engine_.queue().empty());
    // After the return, a full grace from the return instant.
    EXPECT_EQ(engine_.supervision_deadline("1001"), back + 1h + 6min + 2min);
    EXPECT_FALSE(opened(engine_.advance(back + 1h + 8min - 1ms)));
    const changes out = engine_.advance(back + 1h + 8min);
    ASSERT_TRUE(opened(out));
    EXPECT_EQ(out[0].alarm.kind, event_kind::device_silent);
}

TEST_F(PauseTest, InactivityIsOnlyLoggedWhileAwayButAPendantPressIsRaised) {
    engine_.set_device(home_unit("1001", now_ + 24h), now_);
    const changes inactive =
        engine_.ingest(make_event("1001", alarm_class::urgent, event_kind::inactivity, now_), now_);
    ASSERT_EQ(kinds_of(inactive), std::vector<change_kind>{change_kind::logged});
    EXPECT_TRUE(engine_.queue().empty());
    EXPECT_NE(raise("1001", alarm_class::critical, event_kind::personal_emergency), 0U);
    EXPECT_EQ(engine_.queue().size(), 1U);
    // Past the end of the absence, inactivity is an alarm again.
    now_ += 25h;
    engine_.ingest(make_event("1001", alarm_class::log_only, event_kind::periodic_test, now_),
                   now_);
    EXPECT_NE(raise("1001", alarm_class::urgent, event_kind::inactivity), 0U);
    EXPECT_EQ(engine_.queue().size(), 2U);
}

TEST_F(PauseTest, PauseWithoutEndHoldsUntilLiftedBySetDevice) {
    engine_.set_device(home_unit("1001", time_point::max()), now_);
    EXPECT_FALSE(opened(wait(30 * 24h)));
    EXPECT_EQ(engine_.supervision_deadline("1001"), std::nullopt);
    engine_.set_device(home_unit("1001", std::nullopt), now_);  // back home
    EXPECT_EQ(engine_.supervision_deadline("1001"), now_ + 1h + 8min);
    EXPECT_TRUE(opened(wait(1h + 8min)));
}

TEST_F(PauseTest, SettingAPauseLeavesOtherDevicesSupervised) {
    engine_.set_device(home_unit("1001", now_ + 24h), now_);
    engine_.set_device(home_unit("1002", std::nullopt), now_);
    const changes out = wait(2h);
    ASSERT_EQ(kinds_of(out), std::vector<change_kind>{change_kind::opened});
    EXPECT_EQ(out[0].alarm.account, "1002");
}

}  // namespace
}  // namespace arc::engine::testing
