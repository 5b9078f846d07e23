// Purpose: arcctl's subscriber (assistito) and contact commands and their renderers
// (docs/admin-api.md, "Subscribers"), kept apart from arcctl.cpp's other commands.
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

/// SUBSCRIBER objects (subscriber.list) as a table: ID, CODE, NAME, COMUNE, STATUS, UNTIL,
/// VULNERABILITY, CONTACTS.
std::string subscribers_to_text(const nlohmann::json& subscribers);

/// One SUBSCRIBER as "name  value" lines, then its contacts and devices as tables; sensitive
/// fields as given (or "(hidden: --sensitive shows them, audited)").
std::string subscriber_to_text(const nlohmann::json& subscriber);

/// One CONTACT as "name  value" lines.
std::string contact_to_text(const nlohmann::json& contact);

/// The options of the subscriber/contact commands (and device assign) once parsed.
struct subscriber_cli;

/// Adds `subscriber ...` and `contact ...` to `app` and `assign` to `device`; `device_add`
/// gains --subscriber.
std::shared_ptr<subscriber_cli> add_subscriber_commands(CLI::App& app, CLI::App& device,
                                                        CLI::App& device_add);

/// The --subscriber of device add, when given.
std::optional<std::int64_t> device_add_subscriber(const subscriber_cli& cli);

/// When one of these commands was parsed: sends its request through `call` and returns the
/// result and its text; nullopt otherwise. Throws std::invalid_argument on a usage error.
std::optional<std::pair<nlohmann::json, std::string>> run_subscriber_commands(
    const subscriber_cli& cli, const std::function<nlohmann::json(const nlohmann::json&)>& call);

}  // namespace arc::arcctl
