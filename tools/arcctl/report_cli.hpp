// Purpose: `arcctl report --from DATE --to DATE [--csv] [--db FILE]`: the service-level report
// (docs/admin-api.md, "report") through arcd or read-only from a database file, as text, JSON
// (--json) or CSV; kept apart from arcctl.cpp's other commands.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace arc::arcctl {

/// Local midnight (the machine's time zone, TZ) of a `YYYY-MM-DD` date as Unix ms; a
/// `YYYY-MM-DDTHH:MM` local time also works. nullopt when it is not a valid date.
std::optional<std::int64_t> parse_local_date(const std::string& text);

/// The local midnight that starts the day after the one `ms` falls in (23, 24 or 25 hours later
/// across a daylight-saving change): the end of an inclusive --to day.
std::int64_t next_local_midnight(std::int64_t ms);

/// A REPORT (docs/admin-api.md) as the text a supervisor reads: alarms, answer time, dispatch,
/// on site per team, outcomes, alarms untaken past 180 s.
std::string report_to_text(const nlohmann::json& report);

struct report_cli;

/// Adds `report` to `app`.
std::shared_ptr<report_cli> add_report_command(CLI::App& app);

/// When `report` was parsed: runs it (through `call`, or on the --db file) and prints it
/// (JSON when `json`); returns the exit status. nullopt when another command was parsed.
std::optional<int> run_report_command(
    const report_cli& cli, bool json,
    const std::function<nlohmann::json(const nlohmann::json&)>& call);

}  // namespace arc::arcctl
