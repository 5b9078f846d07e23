// Purpose: phone reports on the admin and operator API (docs/admin-api.md, "Phone reports"):
// case.open makes a segnalazione — a call with no device behind it — into an alarm of kind
// phone_report that joins the queue and is dispatched like any other.
#pragma once

#include <string>

#include "admin_api.hpp"
#include "admin_subscribers.hpp"
#include <nlohmann/json.hpp>

#include "arc/storage/cases.hpp"

namespace arc::daemon {

/// Handles `cmd` when it is case.open and returns true (answered after the alarm, its case and
/// the audit entry are committed together); false for other commands. Never throws.
bool handle_case_command(const std::string& cmd, const nlohmann::json& req, admin_backend& backend,
                         const admin_reply& reply);

/// CASE as docs/admin-api.md describes it (every field, the sealed ones opened).
nlohmann::json case_to_json(const arc::storage::phone_case& c);

}  // namespace arc::daemon
