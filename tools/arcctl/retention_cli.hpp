// Purpose: arcctl's legal-hold and retention commands and their renderers (docs/admin-api.md,
// "Retention"), kept apart from arcctl.cpp's other commands.
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

/// HOLD objects as a table: ID, SCOPE, REF, STATE, CREATED, BY, REASON (and the release).
std::string holds_to_text(const nlohmann::json& holds);

/// One HOLD as "name  value" lines.
std::string hold_to_text(const nlohmann::json& hold);

/// The retention.run result: the cutoff and what was (or, dry, would be) purged.
std::string retention_to_text(const nlohmann::json& report);

/// The `retention` object of status as "name  value" lines (settings, last and next run).
std::string retention_status_to_text(const nlohmann::json& retention);

/// The options of the hold and retention commands once parsed.
struct retention_cli;

/// Adds `hold add|list|release` and `retention run` to `app`.
std::shared_ptr<retention_cli> add_retention_commands(CLI::App& app);

/// When one of these commands was parsed: sends its request through `call` and returns the
/// result and its text; nullopt otherwise. Throws std::invalid_argument on a usage error.
std::optional<std::pair<nlohmann::json, std::string>> run_retention_commands(
    const retention_cli& cli, const std::function<nlohmann::json(const nlohmann::json&)>& call);

}  // namespace arc::arcctl
