// Purpose: the operator API's mission commands for PIS teams (docs/admin-api.md, "Missions"):
// mission.list, mission.subscribe, mission.accept, mission.decline, mission.on_the_way,
// mission.on_site, mission.done. A team account works only its own team's missions; every step is
// audited.
#pragma once

#include <functional>
#include <string>

#include "admin_subscribers.hpp"
#include <nlohmann/json.hpp>

#include "arc/storage/missions.hpp"

namespace arc::daemon {

/// Whose missions a request may see and move.
struct mission_scope {
    std::string team;   ///< the team account's team; empty: any team (admin)
    std::string actor;  ///< who the alarm timeline names for the steps
    /// mission.subscribe: subscribes the connection to the team's mission pushes; false when
    /// there is no connection to push to. Unset: mission.subscribe is refused.
    std::function<bool(const std::string& team)> subscribe;
};

/// Handles `cmd` when it is a mission.* command and returns true (answers after the commit of
/// the step and its audit entry; mission.list inline, or after the audit entry of every
/// key-safe code it shows); false for other commands (nothing called). Never throws.
bool handle_mission_command(const std::string& cmd, const nlohmann::json& req,
                            admin_backend& backend, const admin_reply& reply,
                            const mission_scope& scope);

/// MISSION as docs/admin-api.md describes it (without the subscriber).
nlohmann::json mission_to_json(const arc::storage::mission& m);

}  // namespace arc::daemon
