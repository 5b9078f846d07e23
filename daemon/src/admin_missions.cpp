#include "admin_missions.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alarm_service.hpp"
#include <fmt/format.h>

#include "arc/api/json.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/subscribers.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;
namespace security = arc::security;

// How many finished (done or declined) missions mission.list shows after the open ones.
constexpr std::size_t recent_missions = 20;
constexpr std::size_t max_text = 4096;

struct mission_error {
    std::string code;
    std::string message;
};

bool same_team(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

json iso_or_null(const std::optional<std::int64_t>& ms) {
    return ms ? json(arc::api::iso8601_utc_ms(*ms)) : json(nullptr);
}

std::optional<std::string> text(const json& req, const char* name, bool required) {
    const auto it = req.find(name);
    if (it == req.end() || it->is_null()) {
        if (required) {
            throw mission_error{"bad_request", fmt::format("missing field '{}'", name)};
        }
        return std::nullopt;
    }
    if (!it->is_string()) {
        throw mission_error{"bad_request", fmt::format("field '{}' must be a string", name)};
    }
    std::string value = it->get<std::string>();
    if (value.size() > max_text) {
        throw mission_error{"invalid", fmt::format("{}: at most {} bytes", name, max_text)};
    }
    if (required && value.find_first_not_of(" \t\r\n") == std::string::npos) {
        throw mission_error{"invalid", fmt::format("{}: must not be empty", name)};
    }
    return value;
}

engine::alarm_id alarm_field(const json& req) {
    const auto it = req.find("alarm");
    if (it == req.end()) {
        throw mission_error{"bad_request", "missing field 'alarm'"};
    }
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
        throw mission_error{"bad_request", "field 'alarm' must be a positive integer"};
    }
    return static_cast<engine::alarm_id>(it->get<std::int64_t>());
}

security::audit_entry audit(const audit_source& src, std::string action, std::string target,
                            std::string detail, std::int64_t at_ms) {
    return security::audit_entry{
        0, at_ms, src.actor, std::move(action), std::move(target), src.peer, std::move(detail)};
}

void answer_job(const admin_reply& reply, std::error_code ec, const std::string& message,
                json result) {
    if (!ec) {
        reply.ok(std::move(result));
    } else if (ec == storage::errc::queue_full || ec == storage::errc::stopped) {
        reply.fail("busy", "storage busy, retry later");
    } else {
        reply.fail("internal", message.empty() ? ec.message() : message);
    }
}

// The person to visit: address, access notes, phones and contacts; the key-safe code only
// while the mission is open (`key_safe`), never the medical notes.
json person_json(const storage::subscriber& s, bool key_safe) {
    json contacts = json::array();
    for (const auto& c : s.contacts) {
        contacts.push_back(json{{"priority", c.priority},
                                {"name", c.name},
                                {"relation", c.relation},
                                {"phones", c.phones},
                                {"has_key", c.has_key}});
    }
    json out{{"id", s.id},
             {"code", s.code},
             {"name", fmt::format("{} {}", s.first_name, s.last_name)},
             {"address",
              {{"comune", s.comune},
               {"street", s.street},
               {"number", s.number},
               {"floor", s.floor},
               {"access_notes", s.access_notes}}},
             {"phones", s.phones},
             {"language", s.language},
             {"contacts", std::move(contacts)}};
    if (key_safe) {
        out["key_safe_code"] = s.key_safe_code;
    }
    return out;
}

class mission_handler {
public:
    mission_handler(admin_backend& backend, admin_reply reply, mission_scope scope)
        : backend_(backend), reply_(std::move(reply)), scope_(std::move(scope)) {}

    // mission.list, and mission.subscribe (`subscribe`): the list without key-safe codes, then
    // a push for every change of one of the team's missions.
    void list(const json& req, bool subscribe) {
        std::string team = scope_.team;
        if (team.empty()) {
            team = *text(req, "team", true);
        } else if (const auto asked = text(req, "team", false); asked && !same_team(*asked, team)) {
            throw mission_error{"forbidden", fmt::format("a team account sees only {}", team)};
        }
        // The code of the key safe is sent only when asked for (each view audited): a terminal
        // that refreshes its list does not send it over the line, nor fill the audit trail.
        bool want_key_safe = !subscribe;
        if (const auto it = req.find("key_safe"); it != req.end() && !subscribe) {
            if (!it->is_boolean()) {
                throw mission_error{"bad_request", "field 'key_safe' must be true or false"};
            }
            want_key_safe = it->get<bool>();
        }
        std::optional<std::int64_t> only;
        if (req.contains("alarm")) {
            only = static_cast<std::int64_t>(alarm_field(req));
        }
        if (subscribe) {
            if (!scope_.subscribe || !scope_.subscribe(team)) {
                throw mission_error{"invalid", "mission.subscribe needs a connection"};
            }
        }
        storage::database& db = backend_.read_db();
        json missions = json::array();
        std::vector<std::int64_t> key_safe_shown;
        for (const storage::mission& m : storage::missions_for_team(db, team, recent_missions)) {
            if (only && m.alarm_id != *only) {
                continue;
            }
            json entry = mission_to_json(m);
            const auto id = static_cast<engine::alarm_id>(m.alarm_id);
            std::string account;
            if (const engine::alarm* a = backend_.alarms().alarm_engine().find(id)) {
                account = a->account;
                entry["alarm_state"] = std::string(engine::to_string(a->state));
                entry["text"] = a->text;
                entry["class"] = std::string(arc::config::to_string(a->cls));
            } else if (const auto row = storage::find_alarm(db, id)) {
                account = row->header.account;
                entry["alarm_state"] = std::string(engine::to_string(row->header.state));
                entry["text"] = row->text;
                entry["class"] = std::string(arc::config::to_string(row->header.cls));
            }
            entry["subscriber"] = nullptr;
            if (!account.empty()) {
                const auto dev = storage::find_device(db, account);
                if (dev && dev->subscriber_id) {
                    if (const auto s = storage::find_subscriber(db, *dev->subscriber_id)) {
                        const bool has_key_safe = m.open() && !s->key_safe_code.empty();
                        const bool key_safe = has_key_safe && want_key_safe;
                        entry["subscriber"] = person_json(*s, key_safe);
                        entry["subscriber"]["has_key_safe"] = has_key_safe;
                        if (key_safe) {
                            key_safe_shown.push_back(m.alarm_id);
                        }
                    }
                }
            }
            missions.push_back(std::move(entry));
        }
        json result{{"team", team}, {"missions", std::move(missions)}};
        if (subscribe) {
            result["subscribed"] = true;
        }
        if (key_safe_shown.empty()) {
            reply_.ok(std::move(result));
            return;
        }
        // Every view of a key-safe code is audited before it is shown: no audit, no code.
        const std::int64_t now = backend_.now_ms();
        backend_.run_job(
            [src = reply_.source, key_safe_shown, team, now](storage::database& wdb) {
                for (const std::int64_t alarm : key_safe_shown) {
                    storage::append_audit(
                        wdb, audit(src, "mission.view_key_safe", fmt::format("alarm {}", alarm),
                                   fmt::format("team {}", team), now));
                }
            },
            [reply = reply_, result = std::move(result)](std::error_code ec,
                                                         const std::string& message) mutable {
                answer_job(reply, ec, message, std::move(result));
            });
    }

    void step(const std::string& cmd, const json& req, alarm_action action) {
        action_request request;
        request.action = action;
        request.id = alarm_field(req);
        request.actor = scope_.actor;
        std::string detail;
        if (action == alarm_action::decline) {
            // The reason is free text: sealed in the mission and the alarm's log, kept out of
            // the clear audit trail.
            request.text = *text(req, "reason", true);
        } else if (action == alarm_action::complete) {
            request.text = *text(req, "outcome", true);
            const auto& outcomes = storage::mission_outcomes();
            if (std::find(outcomes.begin(), outcomes.end(), request.text) == outcomes.end()) {
                throw mission_error{
                    "invalid",
                    fmt::format("outcome: '{}' is not one of shelter_placement, "
                                "essential_goods_delivery, health_services_accompaniment, "
                                "resolved_on_site, {}",
                                request.text, engine::engine::referral_outcome)};
            }
            request.note = text(req, "note", false).value_or("");
            detail = request.text;
        }
        const engine::alarm* a = backend_.alarms().alarm_engine().find(request.id);
        if (a == nullptr) {
            throw mission_error{"not_found", fmt::format("no open alarm {}", request.id)};
        }
        if (a->team.empty() || (!scope_.team.empty() && !same_team(a->team, scope_.team))) {
            throw mission_error{"forbidden",
                                fmt::format("alarm {} is not a mission of {}", request.id,
                                            scope_.team.empty() ? "any team" : scope_.team)};
        }
        backend_.alarms().act(
            request, engine::from_ms(backend_.now_ms()),
            [&backend = backend_, reply = reply_, cmd, request, detail](action_result result) {
                if (!result.error_code.empty()) {
                    reply.fail(result.error_code, result.message);
                    return;
                }
                const std::int64_t now = backend.now_ms();
                backend.run_job(
                    [src = reply.source, cmd, id = request.id, detail, now](storage::database& db) {
                        storage::append_audit(
                            db, audit(src, cmd, fmt::format("alarm {}", id), detail, now));
                    },
                    [&backend, reply, id = request.id, alarm = std::move(result.alarm)](
                        std::error_code ec, const std::string& message) mutable {
                        if (ec) {
                            // The step itself is stored; only its audit entry is not.
                            reply.fail("internal",
                                       fmt::format("step stored, audit entry not: {}",
                                                   message.empty() ? ec.message() : message));
                            return;
                        }
                        json out{{"alarm", std::move(alarm)}};
                        const auto m = storage::latest_mission(backend.read_db(),
                                                               static_cast<std::int64_t>(id));
                        out["mission"] = m ? mission_to_json(*m) : json(nullptr);
                        reply.ok(std::move(out));
                    });
            });
    }

private:
    admin_backend& backend_;
    admin_reply reply_;
    mission_scope scope_;
};

}  // namespace

json mission_to_json(const storage::mission& m) {
    return json{{"id", m.id},
                {"alarm", m.alarm_id},
                {"team", m.team},
                {"operator", m.op},
                {"instructions", m.instructions},
                {"state", m.state},
                {"open", m.open()},
                {"dispatched", arc::api::iso8601_utc_ms(m.dispatched_ms)},
                {"accepted", iso_or_null(m.accepted_ms)},
                {"on_the_way", iso_or_null(m.on_the_way_ms)},
                {"on_site", iso_or_null(m.on_site_ms)},
                {"done", iso_or_null(m.done_ms)},
                {"declined", iso_or_null(m.declined_ms)},
                {"escalated", iso_or_null(m.escalated_ms)},
                {"decline_reason", m.decline_reason},
                {"outcome", m.outcome},
                {"note", m.note}};
}

bool handle_mission_command(const std::string& cmd, const json& req, admin_backend& backend,
                            const admin_reply& reply, const mission_scope& scope) {
    static const std::vector<std::pair<std::string, alarm_action>> steps{
        {"mission.accept", alarm_action::accept},
        {"mission.decline", alarm_action::decline},
        {"mission.on_the_way", alarm_action::depart},
        {"mission.on_site", alarm_action::arrive},
        {"mission.done", alarm_action::complete}};
    const auto it =
        std::find_if(steps.begin(), steps.end(), [&](const auto& s) { return s.first == cmd; });
    if (cmd != "mission.list" && cmd != "mission.subscribe" && it == steps.end()) {
        return false;
    }
    mission_handler h(backend, reply, scope);
    try {
        if (cmd == "mission.list" || cmd == "mission.subscribe") {
            h.list(req, cmd == "mission.subscribe");
        } else {
            h.step(cmd, req, it->second);
        }
    } catch (const mission_error& e) {
        reply.fail(e.code, e.message);
    } catch (const std::exception& e) {
        reply.fail("internal", e.what());
    }
    return true;
}

}  // namespace arc::daemon
