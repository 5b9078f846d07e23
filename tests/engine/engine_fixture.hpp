// Purpose: shared helpers for the engine tests: an injected clock and event builders.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"

namespace arc::engine::testing {

using namespace std::chrono_literals;

/// A fixed start instant; tests move `now_` forward by hand.
inline const time_point t0 = from_ms(1'700'000'000'000);

/// An event of `account` with a class and kind, received at `at`.
inline event make_event(std::string account, alarm_class cls, event_kind kind, time_point at,
                        std::uint64_t event_id = 0) {
    event ev;
    ev.event_id = event_id;
    ev.account = std::move(account);
    ev.device_type = "pendant";
    ev.received = at;
    ev.cls = cls;
    ev.kind = kind;
    ev.code = "test";
    return ev;
}

/// The restore of `kind` from `account`.
inline event make_restore(std::string account, event_kind kind, time_point at) {
    event ev = make_event(std::move(account), alarm_class::log_only, kind, at);
    ev.is_restore = true;
    return ev;
}

/// The kinds of `out`, in order.
inline std::vector<change_kind> kinds_of(const changes& out) {
    std::vector<change_kind> kinds;
    for (const change& c : out) {
        kinds.push_back(c.kind);
    }
    return kinds;
}

/// Test fixture: one engine and its clock.
class EngineTest : public ::testing::Test {
protected:
    explicit EngineTest(engine_config config = {}) : engine_(std::move(config)) {}

    /// Ingests an event of `account` now and returns the alarm it opened or joined (0 if none).
    alarm_id raise(const std::string& account, alarm_class cls, event_kind kind) {
        const changes out = engine_.ingest(make_event(account, cls, kind, now_), now_);
        for (const change& c : out) {
            if (c.kind == change_kind::opened || c.kind == change_kind::merged) {
                return c.alarm.id;
            }
        }
        return 0;
    }

    /// Moves the clock and fires what is due.
    changes wait(duration d) {
        now_ += d;
        return engine_.advance(now_);
    }

    engine engine_;
    time_point now_ = t0;
};

}  // namespace arc::engine::testing
