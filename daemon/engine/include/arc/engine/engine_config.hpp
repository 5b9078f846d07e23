// Purpose: the engine's tunables: escalation timers per class, windows, storm thresholds,
// supervision intervals and the retired-device policy, with the documented defaults.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "arc/engine/alarm.hpp"

namespace arc::engine {

using namespace std::chrono_literals;

/// What happens to events of a retired device that got past the receiver (which may NAK them).
enum class retired_policy : std::uint8_t {
    record_only,  ///< stored, never queued
    queue,        ///< handled as an active device (the operator sees the "retired" device)
};

/// Engine configuration; defaults follow the quality targets.
struct engine_config {
    /// Per class (index = alarm_class), the ages at which an untaken alarm reaches level 1, 2, ...
    /// (critical answered in 60 s, at worst 180 s). log_only alarms never exist.
    std::array<std::vector<duration>, 4> escalation{{
        {60s, 180s},
        {180s, 600s},
        {1h, 4h},
        {},
    }};
    /// A DC-09 frame with the same account, sequence and data within this is a retransmission.
    duration retransmission_window = 5min;
    /// Technical alarms of one kind: this many within `storm_window` become one storm alarm.
    std::size_t storm_threshold = 20;
    duration storm_window = 60s;
    /// Supervision grace = interval + interval * percent / 100 + fixed.
    int supervision_grace_percent = 10;
    duration supervision_grace_fixed = 2min;
    /// Expected reporting interval per device type; a type not listed is not supervised.
    std::map<std::string, duration, std::less<>> supervision_interval{
        {"home_unit", 24h},
        {"gps_mobile", 24h},
        {"gateway", 1h},
    };
    retired_policy retired = retired_policy::record_only;
    /// A dispatched mission the team has not accepted this long after its dispatch escalates
    /// (one level, once per dispatch) to the operator who dispatched it and the supervisors.
    duration mission_accept_timeout = 5min;
};

}  // namespace arc::engine
