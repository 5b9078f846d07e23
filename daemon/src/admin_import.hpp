// Purpose: the admin API's CSV import and export of subscribers, contacts and devices
// (docs/admin-api.md, "Import and export"): rows staged in chunks under an import id, checked
// all together, applied in one writer job or not at all.
#pragma once

#include <string>

#include "admin_api.hpp"
#include "admin_subscribers.hpp"
#include <nlohmann/json.hpp>

namespace arc::daemon {

/// The limits of one import (arcctl checks them too, before sending).
inline constexpr std::size_t import_max_rows = 50000;
inline constexpr std::size_t import_max_bytes = std::size_t{32} * 1024 * 1024;
inline constexpr std::size_t import_max_staged = 4;
inline constexpr std::int64_t import_idle_ms = std::int64_t{10} * 60 * 1000;
/// Rows listed in a commit's answer (errors_total counts them all).
inline constexpr std::size_t import_max_errors = 1000;
/// Rows in one export page.
inline constexpr std::size_t export_max_page = 1000;

/// Handles `cmd` when it is import.begin, import.rows, import.commit, import.cancel or export
/// and returns true; false (nothing called) for other commands. Never throws.
bool handle_import_command(const std::string& cmd, const nlohmann::json& req,
                           admin_backend& backend, const admin_reply& reply);

}  // namespace arc::daemon
