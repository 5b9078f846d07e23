#include "admin_cases.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "alarm_service.hpp"
#include <fmt/format.h>

#include "arc/api/json.hpp"
#include "arc/engine/alarm.hpp"
#include "arc/storage/subscribers.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;
namespace security = arc::security;

const json* find(const json& obj, const char* name) {
    const auto it = obj.find(name);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// Text of at most `max` bytes without control characters (a line break allowed when
// `multiline`); "" when absent.
std::string text(const json& obj, const char* name, const std::string& path, std::size_t max,
                 bool multiline = false) {
    const json* v = find(obj, name);
    if (v == nullptr) {
        return {};
    }
    if (!v->is_string()) {
        throw field_error{"bad_request", fmt::format("field '{}' must be a string", path)};
    }
    std::string out = v->get<std::string>();
    if (out.size() > max) {
        throw field_error{"invalid", fmt::format("{}: at most {} bytes", path, max)};
    }
    if (std::any_of(out.begin(), out.end(), [multiline](char c) {
            return static_cast<unsigned char>(c) < 0x20 && !(multiline && c == '\n');
        })) {
        throw field_error{"invalid", fmt::format("{}: must not contain control characters", path)};
    }
    const auto first = out.find_first_not_of(" \n");
    return first == std::string::npos ? std::string() : out;
}

template <std::size_t N>
std::string one_of(const std::string& value, const std::string_view (&allowed)[N],
                   const char* path) {
    if (std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed)) {
        return value;
    }
    std::string list;
    for (const auto a : allowed) {
        list += (list.empty() ? "" : ", ") + std::string(a);
    }
    throw field_error{"invalid", fmt::format("{}: '{}' is not one of {}", path, value, list)};
}

const json& object_field(const json& req, const char* name) {
    static const json empty = json::object();
    const json* v = find(req, name);
    if (v == nullptr) {
        return empty;
    }
    if (!v->is_object()) {
        throw field_error{"bad_request", fmt::format("field '{}' must be an object", name)};
    }
    return *v;
}

void open_case(const json& req, admin_backend& backend, const admin_reply& reply) {
    case_request request;
    storage::phone_case& c = request.details;
    const std::string category = text(req, "category", "category", 32);
    if (category.empty()) {
        throw field_error{"bad_request",
                          "missing field 'category' (frail_elderly, housing_emergency, "
                          "essential_goods, domestic_violence, minor_in_danger or other)"};
    }
    c.category = one_of(category, storage::case_categories, "category");
    const std::string urgency = text(req, "urgency", "urgency", 16);
    if (urgency.empty() || urgency == "urgent") {
        request.cls = engine::alarm_class::urgent;
    } else if (urgency == "critical") {
        request.cls = engine::alarm_class::critical;
    } else {
        throw field_error{"invalid", fmt::format("urgency: '{}' is not critical or urgent "
                                                 "(a phone report is never log-only)",
                                                 urgency)};
    }
    const json& caller = object_field(req, "caller");
    const std::string caller_kind = text(caller, "kind", "caller.kind", 32);
    if (caller_kind.empty()) {
        throw field_error{"bad_request",
                          "missing field 'caller.kind' (citizen, police, health_service, "
                          "social_service or other)"};
    }
    c.caller_kind = one_of(caller_kind, storage::caller_kinds, "caller.kind");
    c.caller_name = text(caller, "name", "caller.name", 200);
    c.caller_phone = text(caller, "phone", "caller.phone", 64);
    c.summary = text(req, "summary", "summary", 4000, true);
    if (c.summary.empty()) {
        throw field_error{"bad_request", "missing field 'summary' (what the caller reported)"};
    }
    const json& person = object_field(req, "person");
    const json& place = object_field(req, "place");
    c.person_name = text(person, "name", "person.name", 200);
    c.person_details = text(person, "details", "person.details", 2000, true);
    c.comune = text(place, "comune", "place.comune", 100);
    c.address = text(place, "address", "place.address", 300);

    storage::database& db = backend.read_db();
    if (const json* s = find(person, "subscriber")) {
        // A subscriber: their record gives the name and, unless told, the place; their device
        // (if any) lets consoles show the record.
        std::optional<storage::subscriber> sub;
        if (s->is_string()) {
            sub = storage::find_subscriber_by_code(db, s->get<std::string>());
        } else if (s->is_number_integer()) {
            sub = storage::find_subscriber(db, s->get<std::int64_t>());
        } else {
            throw field_error{"bad_request", "field 'person.subscriber' must be a code or an id"};
        }
        if (!sub) {
            throw field_error{"not_found",
                              fmt::format("person.subscriber: no subscriber {}", s->dump())};
        }
        c.subscriber_id = sub->id;
        if (c.person_name.empty()) {
            c.person_name = sub->first_name + " " + sub->last_name;
        }
        if (c.comune.empty()) {
            c.comune = sub->comune;
        }
        if (c.address.empty()) {
            c.address = sub->street + (sub->number.empty() ? "" : " " + sub->number);
        }
        for (const storage::device& d : storage::list_devices(db)) {
            if (d.subscriber_id == sub->id && d.mode != storage::device_mode::retired) {
                request.account = d.account;
                break;
            }
        }
    } else if (c.person_name.empty()) {
        throw field_error{"bad_request",
                          "person: give 'subscriber' (a code or id) or 'name' (someone new)"};
    }
    if (c.comune.empty()) {
        throw field_error{"bad_request",
                          "missing field 'place.comune' (where a team is to go; it picks the "
                          "teams to propose)"};
    }
    request.take = true;
    if (const json* t = find(req, "take")) {
        if (!t->is_boolean()) {
            throw field_error{"bad_request", "field 'take' must be a boolean"};
        }
        request.take = t->get<bool>();
    }
    // The operator of the operator API acts; on the admin socket `actor` names them.
    const bool admin_socket = reply.source.actor == audit_source{}.actor;
    c.created_by = admin_socket ? text(req, "actor", "actor", 64) : reply.source.actor;
    if (c.created_by.empty()) {
        c.created_by = "admin";
    }
    c.created_ms = backend.now_ms();
    // In queues: the category and the comune, never names (the summary stays sealed).
    request.text = fmt::format("segnalazione {} ({}), {}", c.category, c.caller_kind, c.comune);
    const security::audit_entry entry{
        0,
        c.created_ms,
        c.created_by,
        "case.open",
        "",
        reply.source.peer,
        fmt::format("category={} caller={} urgency={}{}", c.category, c.caller_kind,
                    request.cls == engine::alarm_class::critical ? "critical" : "urgent",
                    c.subscriber_id ? fmt::format(" subscriber={}", *c.subscriber_id) : "")};
    json case_json = case_to_json(c);
    backend.alarms().open_case(
        std::move(request), entry, engine::from_ms(c.created_ms),
        [reply, case_json = std::move(case_json)](action_result r) mutable {
            if (!r.error_code.empty()) {
                reply.fail(r.error_code, r.message);
                return;
            }
            if (r.alarm.is_object()) {
                case_json["alarm"] = r.alarm.value("id", json(nullptr));
            }
            reply.ok(json{{"alarm", std::move(r.alarm)}, {"case", std::move(case_json)}});
        });
}

}  // namespace

json case_to_json(const storage::phone_case& c) {
    return json{
        {"alarm", c.alarm_id == 0 ? json(nullptr) : json(c.alarm_id)},
        {"category", c.category},
        {"caller", {{"kind", c.caller_kind}, {"name", c.caller_name}, {"phone", c.caller_phone}}},
        {"person",
         {{"subscriber", c.subscriber_id ? json(*c.subscriber_id) : json(nullptr)},
          {"name", c.person_name},
          {"details", c.person_details}}},
        {"place", {{"comune", c.comune}, {"address", c.address}}},
        {"summary", c.summary},
        {"created_by", c.created_by},
        {"created", arc::api::iso8601_utc_ms(c.created_ms)}};
}

bool handle_case_command(const std::string& cmd, const json& req, admin_backend& backend,
                         const admin_reply& reply) {
    if (cmd != "case.open") {
        return false;
    }
    try {
        open_case(req, backend, reply);
    } catch (const field_error& e) {
        reply.fail(e.code, e.message);
    } catch (const std::exception& e) {
        reply.fail("internal", e.what());
    }
    return true;
}

}  // namespace arc::daemon
