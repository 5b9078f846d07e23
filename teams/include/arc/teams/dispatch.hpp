// Purpose: a team's state and the dispatch proposal — which teams to offer for an alarm in a
// comune at an instant, in the order the operator should consider them. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arc/teams/schedule.hpp"

namespace arc::teams {

/// What a team is doing. off_duty is set by hand and overrides the schedule (sick, vehicle
/// broken); available and on_mission count only while the schedule has the team on duty.
enum class team_state { available, on_mission, off_duty };
std::string_view to_string(team_state state) noexcept;
std::optional<team_state> parse_team_state(std::string_view text) noexcept;

/// What the proposal needs to know of a team.
struct candidate {
    std::string name;
    std::vector<std::string> territory;  ///< comuni as typed
    schedule duty;
    team_state state = team_state::available;
};

/// Whether `territory` covers `comune` (fold_comune on both sides).
bool covers(const std::vector<std::string>& territory, std::string_view comune);

/// One proposed team: its index in the input, until when it stays on duty (nullopt: no end in
/// sight) and why it is proposed ("on duty until 08:00, available").
struct proposal {
    std::size_t index = 0;
    team_state state = team_state::available;
    std::optional<time_point> until;
    std::string why;
};

/// The teams on duty at `now` whose territory covers `comune`, off_duty ones left out:
/// available first, then on mission; within each, the one whose duty lasts longer first, then
/// by name. Throws std::runtime_error without tzdata (see on_duty).
std::vector<proposal> propose(const std::vector<candidate>& teams, std::string_view comune,
                              time_point now);

/// "until HH:MM" (same local day or the night after), "until YYYY-MM-DD HH:MM" further away,
/// "with no end" when nullopt.
std::string until_text(std::optional<time_point> until, time_point now);

}  // namespace arc::teams
