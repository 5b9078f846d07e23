#include "subscribers_cli.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "arcctl.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace arc::arcctl {

using nlohmann::json;

namespace {

// A JSON value as a cell: strings bare (empty as "-"), null as "-", booleans yes/no.
std::string cell(const json& v) {
    if (v.is_null()) {
        return "-";
    }
    if (v.is_string()) {
        std::string s = v.get<std::string>();
        // Free text typed by people: control characters (a terminal's escapes) shown as '?'.
        for (char& c : s) {
            if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f') {
                c = '?';
            }
        }
        return s.empty() ? "-" : s;
    }
    if (v.is_boolean()) {
        return v.get<bool>() ? "yes" : "no";
    }
    return v.dump();
}

std::string at(const json& obj, const char* name) {
    if (!obj.is_object()) {
        return "-";
    }
    const auto it = obj.find(name);
    return it == obj.end() ? "-" : cell(*it);
}

std::string joined(const json& list) {
    if (!list.is_array() || list.empty()) {
        return "-";
    }
    std::string out;
    for (const auto& v : list) {
        out += (out.empty() ? "" : ", ") + cell(v);
    }
    return out;
}

std::string status_text(const json& s) {
    std::string out = at(s, "status");
    if (s.contains("away_until") && s["away_until"].is_string()) {
        out += " until " + s["away_until"].get<std::string>();
    }
    return out;
}

std::string lines(const std::vector<std::pair<std::string, std::string>>& rows) {
    std::size_t width = 0;
    for (const auto& [name, value] : rows) {
        width = std::max(width, name.size());
    }
    std::string out;
    for (const auto& [name, value] : rows) {
        out += fmt::format("{:<{}}  {}\n", name, width, value);
    }
    return out;
}

}  // namespace

std::string subscribers_to_text(const json& subscribers) {
    if (!subscribers.is_array() || subscribers.empty()) {
        return "no subscribers (add one with: arcctl subscriber add --code TS-0001 ...)\n";
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : subscribers) {
        rows.push_back({at(s, "id"), at(s, "code"), at(s, "last_name") + " " + at(s, "first_name"),
                        at(s.value("address", json::object()), "comune"), at(s, "status"),
                        at(s, "away_until"), at(s, "vulnerability"),
                        std::to_string(s.value("contacts", json::array()).size())});
    }
    return format_table(
        {"id", "code", "name", "comune", "status", "until", "vulnerability", "contacts"}, rows);
}

std::string subscriber_to_text(const json& s) {
    const json address = s.value("address", json::object());
    const json guardian = s.value("guardian", json());
    const json gp = s.value("gp", json());
    const bool hidden = s.value("sensitive_hidden", false);
    const std::string hidden_text = "(hidden: --sensitive shows it, audited)";
    std::string out = lines({
        {"id", at(s, "id")},
        {"code", at(s, "code")},
        {"name", at(s, "first_name") + " " + at(s, "last_name")},
        {"birth date", at(s, "birth_date")},
        {"address", fmt::format("{} {}, {}", at(address, "street"), at(address, "number"),
                                at(address, "comune"))},
        {"floor", at(address, "floor")},
        {"access notes", at(address, "access_notes")},
        {"phones", joined(s.value("phones", json::array()))},
        {"language", at(s, "language")},
        {"living situation", at(s, "living_situation")},
        {"vulnerability", at(s, "vulnerability")},
        {"medical notes", hidden ? hidden_text : at(s, "medical_notes")},
        {"key-safe code", hidden ? hidden_text : at(s, "key_safe_code")},
        {"guardian", guardian.is_object() ? fmt::format("{} {} {}", at(guardian, "kind"),
                                                        at(guardian, "name"), at(guardian, "phone"))
                                          : "-"},
        {"GP", gp.is_object() ? fmt::format("{} {}", at(gp, "name"), at(gp, "phone")) : "-"},
        {"status", status_text(s)},
        {"created", at(s, "created")},
        {"updated", at(s, "updated")},
    });
    const json contacts = s.value("contacts", json::array());
    out += "\ncontacts:\n";
    if (contacts.empty()) {
        out += "  none (add one with: arcctl contact add SUBSCRIBER --name ... --phone ...)\n";
    } else {
        std::vector<std::vector<std::string>> rows;
        for (const auto& c : contacts) {
            rows.push_back({at(c, "priority"), at(c, "id"), at(c, "name"), at(c, "relation"),
                            joined(c.value("phones", json::array())), at(c, "has_key"),
                            at(c, "reachable")});
        }
        out += format_table({"prio", "id", "name", "relation", "phones", "key", "reachable"}, rows);
    }
    if (s.contains("devices")) {
        out += "\ndevices:\n";
        const json devices = s["devices"];
        out += devices.empty() ? std::string("  none\n") : devices_to_text(devices);
    }
    return out;
}

std::string contact_to_text(const json& c) {
    return lines({{"id", at(c, "id")},
                  {"priority", at(c, "priority")},
                  {"name", at(c, "name")},
                  {"relation", at(c, "relation")},
                  {"phones", joined(c.value("phones", json::array()))},
                  {"has key", at(c, "has_key")},
                  {"reachable", at(c, "reachable")}});
}

struct subscriber_cli {
    CLI::App* sub_add = nullptr;
    CLI::App* sub_update = nullptr;
    CLI::App* sub_show = nullptr;
    CLI::App* sub_list = nullptr;
    CLI::App* sub_remove = nullptr;
    CLI::App* sub_status = nullptr;
    CLI::App* con_add = nullptr;
    CLI::App* con_update = nullptr;
    CLI::App* con_remove = nullptr;
    CLI::App* dev_assign = nullptr;
    CLI::App* dev_add = nullptr;

    std::int64_t id = 0;       // SUBSCRIBER positional
    std::int64_t contact = 0;  // CONTACT positional
    std::string account;
    bool sensitive = false;
    std::string status;
    std::string until;
    std::string search;
    std::int64_t list_limit = 0;  // 0: every page
    std::int64_t subscriber = 0;  // --subscriber
    bool unassign = false;

    // Subscriber fields (add, update).
    std::string code, first_name, last_name, birth_date, comune, street, number, floor,
        access_notes, language, living_situation, vulnerability, medical_notes, key_safe,
        guardian_kind, guardian_name, guardian_phone, gp_name, gp_phone;
    std::vector<std::string> phones;

    // Contact fields (add, update).
    std::string c_name, c_relation, c_reachable;
    std::vector<std::string> c_phones;
    bool c_has_key = false;
    std::int64_t c_priority = 0;
};

namespace {

void subscriber_options(CLI::App& cmd, subscriber_cli& c) {
    cmd.add_option("--code", c.code, "the centre's reference, e.g. TS-0042");
    cmd.add_option("--first-name", c.first_name, "first name");
    cmd.add_option("--last-name", c.last_name, "last name");
    cmd.add_option("--birth-date", c.birth_date, "YYYY-MM-DD");
    cmd.add_option("--comune", c.comune, "address: comune");
    cmd.add_option("--street", c.street, "address: street");
    cmd.add_option("--number", c.number, "address: house number");
    cmd.add_option("--floor", c.floor, "address: floor");
    cmd.add_option("--access-notes", c.access_notes, "how to get in (intercom, gate, dog)");
    cmd.add_option("--phone", c.phones, "a phone number (repeat for several)");
    cmd.add_option("--language", c.language, "language, e.g. it");
    cmd.add_option("--living-situation", c.living_situation, "e.g. vive sola");
    cmd.add_option("--vulnerability", c.vulnerability, "e.g. anziano_solo, disabile");
    cmd.add_option("--medical-notes", c.medical_notes, "medical notes (sealed at rest)");
    cmd.add_option("--key-safe", c.key_safe, "key-safe code (sealed at rest)");
    cmd.add_option("--guardian-kind", c.guardian_kind, "amministratore_di_sostegno or tutore");
    cmd.add_option("--guardian-name", c.guardian_name, "guardian's name");
    cmd.add_option("--guardian-phone", c.guardian_phone, "guardian's phone");
    cmd.add_option("--gp-name", c.gp_name, "GP (medico di base) name");
    cmd.add_option("--gp-phone", c.gp_phone, "GP phone");
}

void contact_options(CLI::App& cmd, subscriber_cli& c) {
    cmd.add_option("--name", c.c_name, "name");
    cmd.add_option("--relation", c.c_relation, "e.g. figlia, vicino");
    cmd.add_option("--phone", c.c_phones, "a phone number (repeat for several)");
    cmd.add_flag("--has-key,!--no-key", c.c_has_key, "has a key of the home");
    cmd.add_option("--priority", c.c_priority, "1 is called first (default: after the last)")
        ->check(CLI::Range(1, 99));
    cmd.add_option("--reachable", c.c_reachable, "when, e.g. \"sere e weekend\"");
}

bool given(const CLI::App& cmd, const char* name) {
    const CLI::Option* opt = cmd.get_option_no_throw(name);
    return opt != nullptr && opt->count() > 0;
}

json subscriber_request(const CLI::App& cmd, const subscriber_cli& c) {
    json req = json::object();
    const auto put = [&](const char* opt, const char* key, const std::string& value) {
        if (given(cmd, opt)) {
            req[key] = value;
        }
    };
    put("--code", "code", c.code);
    put("--first-name", "first_name", c.first_name);
    put("--last-name", "last_name", c.last_name);
    put("--birth-date", "birth_date", c.birth_date);
    put("--language", "language", c.language);
    put("--living-situation", "living_situation", c.living_situation);
    put("--vulnerability", "vulnerability", c.vulnerability);
    put("--medical-notes", "medical_notes", c.medical_notes);
    put("--key-safe", "key_safe_code", c.key_safe);
    json address = json::object();
    const auto put_in = [&](json& obj, const char* opt, const char* key, const std::string& v) {
        if (given(cmd, opt)) {
            obj[key] = v;
        }
    };
    put_in(address, "--comune", "comune", c.comune);
    put_in(address, "--street", "street", c.street);
    put_in(address, "--number", "number", c.number);
    put_in(address, "--floor", "floor", c.floor);
    put_in(address, "--access-notes", "access_notes", c.access_notes);
    if (!address.empty()) {
        req["address"] = address;
    }
    if (given(cmd, "--phone")) {
        req["phones"] = c.phones;
    }
    json guardian = json::object();
    put_in(guardian, "--guardian-kind", "kind", c.guardian_kind);
    put_in(guardian, "--guardian-name", "name", c.guardian_name);
    put_in(guardian, "--guardian-phone", "phone", c.guardian_phone);
    if (!guardian.empty()) {
        req["guardian"] = guardian;
    }
    json gp = json::object();
    put_in(gp, "--gp-name", "name", c.gp_name);
    put_in(gp, "--gp-phone", "phone", c.gp_phone);
    if (!gp.empty()) {
        req["gp"] = gp;
    }
    return req;
}

json contact_request(const CLI::App& cmd, const subscriber_cli& c) {
    json req = json::object();
    if (given(cmd, "--name")) {
        req["name"] = c.c_name;
    }
    if (given(cmd, "--relation")) {
        req["relation"] = c.c_relation;
    }
    if (given(cmd, "--phone")) {
        req["phones"] = c.c_phones;
    }
    if (given(cmd, "--has-key") || given(cmd, "--no-key")) {
        req["has_key"] = c.c_has_key;
    }
    if (given(cmd, "--priority")) {
        req["priority"] = c.c_priority;
    }
    if (given(cmd, "--reachable")) {
        req["reachable"] = c.c_reachable;
    }
    return req;
}

}  // namespace

std::shared_ptr<subscriber_cli> add_subscriber_commands(CLI::App& app, CLI::App& device,
                                                        CLI::App& device_add) {
    auto c = std::make_shared<subscriber_cli>();
    c->dev_add = &device_add;
    device_add.add_option("--subscriber", c->subscriber, "link it to this subscriber (id)")
        ->check(CLI::PositiveNumber);
    c->dev_assign = device.add_subcommand("assign", "link a device to a subscriber (or unlink)");
    c->dev_assign->add_option("account", c->account, "account")->required();
    auto* to = c->dev_assign->add_option("--subscriber", c->subscriber, "subscriber id")
                   ->check(CLI::PositiveNumber);
    auto* none = c->dev_assign->add_flag("--none", c->unassign, "unlink it from its subscriber");
    to->excludes(none);

    auto* sub = app.add_subcommand("subscriber", "subscribers (assistiti): people, homes, status");
    sub->require_subcommand(1);
    c->sub_add = sub->add_subcommand("add", "add a subscriber");
    subscriber_options(*c->sub_add, *c);
    c->sub_add->get_option("--code")->required();
    c->sub_add->get_option("--first-name")->required();
    c->sub_add->get_option("--last-name")->required();
    c->sub_update = sub->add_subcommand("update", "change some fields of a subscriber");
    c->sub_update->add_option("subscriber", c->id, "subscriber id")->required();
    subscriber_options(*c->sub_update, *c);
    c->sub_show = sub->add_subcommand("show", "one subscriber, by id or by device account");
    c->sub_show->add_option("subscriber", c->id, "subscriber id");
    c->sub_show->add_option("--account", c->account, "the subscriber owning this device");
    c->sub_show->add_flag("--sensitive", c->sensitive,
                          "include medical notes and key-safe code (audited)");
    c->sub_list = sub->add_subcommand("list", "list the subscribers");
    c->sub_list->add_option("--search", c->search,
                            "only those whose code, name or comune contains this (any case)");
    c->sub_list->add_option("--limit", c->list_limit, "at most this many (default all)")
        ->check(CLI::Range(1, 1000000));
    c->sub_remove = sub->add_subcommand("remove", "remove a subscriber (no device linked)");
    c->sub_remove->add_option("subscriber", c->id, "subscriber id")->required();
    c->sub_status = sub->add_subcommand(
        "status", "active, away or hospital (pauses supervision and inactivity alarms), ended");
    c->sub_status->add_option("subscriber", c->id, "subscriber id")->required();
    c->sub_status->add_option("status", c->status, "active, away, hospital or ended")
        ->required()
        ->check(CLI::IsMember({"active", "away", "hospital", "ended"}));
    c->sub_status->add_option("--until", c->until,
                              "with away/hospital: YYYY-MM-DD (end of that day, UTC) or "
                              "YYYY-MM-DDTHH:MM:SSZ");

    auto* con = app.add_subcommand("contact", "a subscriber's contacts, called in priority order");
    con->require_subcommand(1);
    c->con_add = con->add_subcommand("add", "add a contact to a subscriber");
    c->con_add->add_option("subscriber", c->id, "subscriber id")->required();
    contact_options(*c->con_add, *c);
    c->con_add->get_option("--name")->required();
    c->con_update = con->add_subcommand("update", "change some fields of a contact");
    c->con_update->add_option("contact", c->contact, "contact id")->required();
    contact_options(*c->con_update, *c);
    c->con_remove = con->add_subcommand("remove", "remove a contact");
    c->con_remove->add_option("contact", c->contact, "contact id (see subscriber show)")
        ->required();
    return c;
}

std::optional<std::int64_t> device_add_subscriber(const subscriber_cli& cli) {
    if (cli.dev_add != nullptr && given(*cli.dev_add, "--subscriber")) {
        return cli.subscriber;
    }
    return std::nullopt;
}

std::optional<std::pair<json, std::string>> run_subscriber_commands(
    const subscriber_cli& c, const std::function<json(const json&)>& call) {
    const auto subscriber_result = [&](json req) {
        json r = call(req);
        return std::make_pair(r, subscriber_to_text(r.value("subscriber", json::object())));
    };
    if (*c.sub_add) {
        json req = subscriber_request(*c.sub_add, c);
        req["cmd"] = "subscriber.add";
        return subscriber_result(req);
    }
    if (*c.sub_update) {
        json req = subscriber_request(*c.sub_update, c);
        if (req.empty()) {
            throw std::invalid_argument("subscriber update: give at least one field to change");
        }
        req["cmd"] = "subscriber.update";
        req["subscriber"] = c.id;
        return subscriber_result(req);
    }
    if (*c.sub_show) {
        json req{{"cmd", "subscriber.show"}};
        const bool by_account = given(*c.sub_show, "--account");
        const bool by_id = given(*c.sub_show, "subscriber");
        if (by_account == by_id) {
            throw std::invalid_argument("subscriber show: give a subscriber id or --account");
        }
        if (by_account) {
            req["account"] = c.account;
        } else {
            req["subscriber"] = c.id;
        }
        if (c.sensitive) {
            req["sensitive"] = true;
        }
        return subscriber_result(req);
    }
    if (*c.sub_list) {
        // Page by page (arcd answers at most 1000 a time) until --limit or the last page.
        json all = json::array();
        json r;
        std::int64_t offset = 0;
        for (int page = 0; page < 1000; ++page) {
            json req{{"cmd", "subscriber.list"}, {"offset", offset}};
            if (!c.search.empty()) {
                req["search"] = c.search;
            }
            const std::int64_t want =
                c.list_limit > 0 ? c.list_limit - static_cast<std::int64_t>(all.size()) : 1000;
            req["limit"] = std::min<std::int64_t>(want, 1000);
            r = call(req);
            for (auto& s : r.value("subscribers", json::array())) {
                all.push_back(std::move(s));
            }
            const json next = r.value("next", json(nullptr));
            if (!next.is_number_integer() ||
                (c.list_limit > 0 && static_cast<std::int64_t>(all.size()) >= c.list_limit)) {
                break;
            }
            offset = next.get<std::int64_t>();
        }
        const std::size_t total = r.value("total", all.size());
        json result{{"subscribers", all}, {"total", total}};
        std::string text = subscribers_to_text(all);
        if (total > all.size()) {
            text += fmt::format("{} of {} shown\n", all.size(), total);
        }
        return std::make_pair(result, std::move(text));
    }
    if (*c.sub_remove) {
        json r = call(json{{"cmd", "subscriber.remove"}, {"subscriber", c.id}});
        return std::make_pair(r, fmt::format("removed subscriber {}\n", c.id));
    }
    if (*c.sub_status) {
        json req{{"cmd", "subscriber.set_status"}, {"subscriber", c.id}, {"status", c.status}};
        if (!c.until.empty()) {
            if (c.status != "away" && c.status != "hospital") {
                throw std::invalid_argument("--until: only with away or hospital");
            }
            req["until"] = c.until;
        }
        return subscriber_result(req);
    }
    if (*c.con_add || *c.con_update) {
        const CLI::App& cmd = *c.con_add ? *c.con_add : *c.con_update;
        json req = contact_request(cmd, c);
        if (*c.con_add) {
            req["cmd"] = "contact.add";
            req["subscriber"] = c.id;
        } else {
            if (req.empty()) {
                throw std::invalid_argument("contact update: give at least one field to change");
            }
            req["cmd"] = "contact.update";
            req["contact"] = c.contact;
        }
        json r = call(req);
        return std::make_pair(r, contact_to_text(r.value("contact", json::object())));
    }
    if (*c.con_remove) {
        json r = call(json{{"cmd", "contact.remove"}, {"contact", c.contact}});
        return std::make_pair(r, fmt::format("removed contact {}\n", c.contact));
    }
    if (*c.dev_assign) {
        if (!c.unassign && !given(*c.dev_assign, "--subscriber")) {
            throw std::invalid_argument("device assign: give --subscriber ID or --none");
        }
        json req{{"cmd", "device.assign"}, {"account", c.account}};
        req["subscriber"] = c.unassign ? json(nullptr) : json(c.subscriber);
        json r = call(req);
        return std::make_pair(r, device_to_text(r.value("device", json::object())));
    }
    return std::nullopt;
}

}  // namespace arc::arcctl
