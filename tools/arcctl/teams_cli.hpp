// Purpose: arcctl's team commands (PIS teams: add, update, show, list, state, remove, propose)
// and their renderers (docs/admin-api.md, "Teams").
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace arc::arcctl {

/// TEAM objects (team.list) as a table: NAME, ON DUTY NOW (with until/from), STATE, PHONE,
/// TERRITORY, SCHEDULE.
std::string teams_to_text(const nlohmann::json& teams);

/// One TEAM as "name  value" lines.
std::string team_to_text(const nlohmann::json& team);

/// A team.propose result: the comune (and alarm), then the teams in order with why.
std::string proposal_to_text(const nlohmann::json& result);

/// The options of the team commands once parsed.
struct team_cli;

/// Adds `team ...` to `app`.
std::shared_ptr<team_cli> add_team_commands(CLI::App& app);

/// When a team command was parsed: sends its request(s) through `call` and returns the result
/// and its text; nullopt otherwise. Throws std::invalid_argument on a usage error.
std::optional<std::pair<nlohmann::json, std::string>> run_team_commands(
    const team_cli& cli, const std::function<nlohmann::json(const nlohmann::json&)>& call);

}  // namespace arc::arcctl
