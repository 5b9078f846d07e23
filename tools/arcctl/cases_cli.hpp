// Purpose: arcctl's phone-report command `case open` (docs/admin-api.md, "Phone reports") and
// the renderer of a CASE, kept apart from arcctl.cpp's other commands.
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

/// One CASE as "name  value" lines (caller, person, place, summary).
std::string case_to_text(const nlohmann::json& c);

struct cases_cli;

/// Adds `case open` to `app`.
std::shared_ptr<cases_cli> add_case_commands(CLI::App& app);

/// When `case open` was parsed: sends case.open through `call` and returns the result and its
/// text; nullopt otherwise.
std::optional<std::pair<nlohmann::json, std::string>> run_case_commands(
    const cases_cli& cli, const std::function<nlohmann::json(const nlohmann::json&)>& call);

}  // namespace arc::arcctl
