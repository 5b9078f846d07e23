// Purpose: arcctl import / export of subscribers, contacts and devices as CSV (README "Import and
// export"): the file read and parsed here, its rows sent to arcd in bounded chunks, the report.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace arc::arcctl {

/// The options of `import` and `export` once parsed.
struct import_cli;

/// Adds `import KIND FILE` and `export KIND` to `app`.
std::shared_ptr<import_cli> add_import_commands(CLI::App& app);

/// What a command printed and how it ended.
struct import_outcome {
    nlohmann::json result;  ///< for --json
    std::string text;       ///< for people (the CSV itself for an export to stdout)
    int exit_code = 0;      ///< 0 ok; 1 bad rows, nothing imported
};

/// Runs import or export when one was parsed (requests through `call`); nullopt otherwise.
/// Throws std::runtime_error naming the file for a file that cannot be read or parsed.
std::optional<import_outcome> run_import_commands(
    const import_cli& cli, const std::function<nlohmann::json(const nlohmann::json&)>& call);

/// Bytes of one CSV file arcctl reads at most.
inline constexpr std::size_t import_max_file = std::size_t{32} * 1024 * 1024;

/// Formats one bad row as `FILE:ROW: COLUMN: MESSAGE`.
std::string bad_row_line(const std::string& file, std::int64_t row, const std::string& column,
                         const std::string& message);

}  // namespace arc::arcctl
