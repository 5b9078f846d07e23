// Purpose: the admin API's team commands (docs/admin-api.md, "Teams"): team.add, update, show,
// list, remove, set_state, and team.propose (the teams to dispatch for an alarm or a comune).
#pragma once

#include <cstdint>
#include <string>

#include "admin_subscribers.hpp"
#include <nlohmann/json.hpp>

#include "arc/storage/teams.hpp"

namespace arc::daemon {

/// Handles `cmd` when it is a team.* command and returns true (reads answer inline, writes
/// after their commit with an audit entry in the same job); false for other commands (nothing
/// called). Never throws.
bool handle_team_command(const std::string& cmd, const nlohmann::json& req, admin_backend& backend,
                         const admin_reply& reply);

/// TEAM as docs/admin-api.md describes it, with whether it is on duty at `now_ms` (schedule
/// and state) and the next change of its schedule.
nlohmann::json team_to_json(const arc::storage::team& t, std::int64_t now_ms);

/// A new team from team.add's fields (name, members, phone, territory, schedule, state),
/// checked exactly as team.add checks them; throws field_error naming the field ("schedule: ...").
arc::storage::team team_from_request(const nlohmann::json& req);

}  // namespace arc::daemon
