// Purpose: the admin API's legal-hold and retention commands (docs/admin-api.md, "Retention"):
// hold.add, hold.list, hold.release, retention.run.
#pragma once

#include <string>

#include "admin_api.hpp"
#include "admin_subscribers.hpp"
#include <nlohmann/json.hpp>

#include "arc/storage/retention.hpp"

namespace arc::daemon {

/// Handles `cmd` when it is hold.* or retention.run and returns true (the reply comes inline
/// for reads, after the commit for writes); false for other commands (nothing called). Never
/// throws.
bool handle_retention_command(const std::string& cmd, const nlohmann::json& req,
                              admin_backend& backend, const admin_reply& reply);

/// HOLD as docs/admin-api.md describes it.
nlohmann::json hold_to_json(const arc::storage::legal_hold& h);

}  // namespace arc::daemon
