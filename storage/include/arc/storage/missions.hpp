// Purpose: PIS missions in storage (schema v9): one row per dispatch of an alarm to a team with
// its timeline, written from the engine's changes in the alarm batch, and read for the team's
// mission list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arc/engine/alarm.hpp"
#include "arc/storage/store.hpp"

namespace arc::storage {

/// One mission as stored. `state` is dispatched, accepted, on_the_way, on_site, done or
/// declined; each step's instant is set when the engine made the step.
struct mission {
    std::int64_t id = 0;
    std::int64_t alarm_id = 0;
    std::string team;  ///< as dispatched (the team's stored name)
    std::string op;    ///< the operator who dispatched
    std::string instructions;
    std::string state = "dispatched";
    std::int64_t dispatched_ms = 0;
    std::optional<std::int64_t> accepted_ms, on_the_way_ms, on_site_ms, done_ms, declined_ms,
        escalated_ms;
    std::string decline_reason;
    std::string outcome;
    std::string note;  ///< the team's note on done (the hand-over for a referral)

    /// Still to be worked by the team (neither done nor declined).
    bool open() const noexcept { return state != "done" && state != "declined"; }
};

/// Writes what one engine change means for missions (inside the alarm batch's transaction):
/// a dispatch inserts the mission, each later step of the alarm's open mission sets its time,
/// a decline closes it with its reason, done with outcome and note, an escalation of a
/// dispatched alarm sets escalated_ms. Other changes write nothing.
void apply_mission_change(database& db, const arc::engine::change& c);

/// The team's missions (team matched whatever the case): every open one, then at most `recent`
/// done or declined ones, newest first within each group.
std::vector<mission> missions_for_team(database& db, std::string_view team, std::size_t recent);

/// The newest mission of alarm `alarm_id`, if any.
std::optional<mission> latest_mission(database& db, std::int64_t alarm_id);

/// The mission outcomes of the issue: shelter placement, essential goods delivery,
/// accompanying to health services, resolved on site, referral to the Servizio Sociale
/// Professionale (arc::engine::engine::referral_outcome, which needs a hand-over note).
const std::vector<std::string>& mission_outcomes();

}  // namespace arc::storage
