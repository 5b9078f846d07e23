// Purpose: PIS teams (squadre) in storage (schema v6): name, members, phone, territory, the
// duty schedule as text (arc/teams/schedule.hpp syntax) and the state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arc/storage/store.hpp"
#include "arc/teams/dispatch.hpp"

namespace arc::storage {

/// A team as stored. The schedule text is validated by whoever writes it (the admin API parses
/// it with arc::teams::parse_schedule); storage keeps it as given.
struct team {
    std::int64_t id = 0;
    std::string name;  ///< unique whatever the case
    std::vector<std::string> members;
    std::string phone;
    std::vector<std::string> territory;  ///< comuni as typed
    std::string schedule;
    arc::teams::team_state state = arc::teams::team_state::available;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
};

/// Inserts a team and returns its id; already_exists when the name is taken.
std::int64_t insert_team(database& db, const team& t);
/// Writes every field of the row with `t.id`; false when none; already_exists for a taken name.
bool update_team(database& db, const team& t);
/// Sets the state alone; false when no team has that id.
bool set_team_state(database& db, std::int64_t id, arc::teams::team_state state,
                    std::int64_t now_ms);
bool delete_team(database& db, std::int64_t id);
std::optional<team> find_team(database& db, std::int64_t id);
/// By name, whatever the case.
std::optional<team> find_team_by_name(database& db, std::string_view name);
/// By name.
std::vector<team> list_teams(database& db);

}  // namespace arc::storage
