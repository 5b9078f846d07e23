// Purpose: the admin API's device.event (docs/admin-api.md): one stored frame with what the
// alarm engine made of it, for `arcctl device test`.
#pragma once

#include <string>

#include "admin_api.hpp"
#include "admin_subscribers.hpp"
#include <nlohmann/json.hpp>

namespace arc::daemon {

/// Handles `cmd` when it is device.event and returns true (the reply comes inline); false for
/// other commands (nothing called). Never throws.
bool handle_event_command(const std::string& cmd, const nlohmann::json& req, admin_backend& backend,
                          const admin_reply& reply);

}  // namespace arc::daemon
