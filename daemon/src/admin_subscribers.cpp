#include "admin_subscribers.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "admin_command.hpp"
#include "alarm_service.hpp"
#include <fmt/format.h>

#include "arc/api/json.hpp"
#include "arc/engine/alarm.hpp"
#include "arc/storage/security.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;
namespace security = arc::security;

constexpr std::string_view actor = "admin-socket";

[[noreturn]] void invalid(std::string message) { throw field_error{"invalid", std::move(message)}; }

// subscriber.list: the most subscribers in one page.
constexpr std::size_t list_page_max = 1000;

const json* find(const json& obj, const char* name) {
    const auto it = obj.find(name);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// A bounded free-text field; `path` names it in messages ("address.street").
std::string text(const json& v, const std::string& path, std::size_t max_size) {
    if (!v.is_string()) {
        throw field_error{"bad_request", fmt::format("field '{}' must be a string", path)};
    }
    std::string out = v.get<std::string>();
    if (out.size() > max_size) {
        invalid(fmt::format("{}: at most {} bytes", path, max_size));
    }
    if (std::any_of(out.begin(), out.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\n'; })) {
        invalid(fmt::format("{}: must not contain control characters", path));
    }
    return out;
}

std::string phone(const json& v, const std::string& path) {
    std::string p = text(v, path, 32);
    const bool ok = p.find_first_of("0123456789") != std::string::npos &&
                    p.find_first_not_of("0123456789 +-/") == std::string::npos;
    if (!ok) {
        invalid(fmt::format("{}: digits, spaces, +, - and / only (e.g. +39 011 123 4567)", path));
    }
    return p;
}

std::vector<std::string> phones(const json& v, const std::string& path) {
    if (!v.is_array()) {
        throw field_error{"bad_request", fmt::format("field '{}' must be an array", path)};
    }
    if (v.size() > 8) {
        invalid(fmt::format("{}: at most 8 numbers", path));
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(phone(v[i], fmt::format("{}[{}]", path, i)));
    }
    return out;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// "YYYY-MM-DD" with a real day of the month; fills y/m/d.
bool parse_date(std::string_view s, int& y, int& m, int& d) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
        return false;
    }
    for (const std::size_t i : {0U, 1U, 2U, 3U, 5U, 6U, 8U, 9U}) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    const auto num = [&](std::size_t at, std::size_t n) {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    y = num(0, 4);
    m = num(5, 2);
    d = num(8, 2);
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1) {
        return false;
    }
    const int max_day = days[m - 1] + (m == 2 && leap(y) ? 1 : 0);
    return d <= max_day;
}

std::int64_t days_from_civil(int y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return std::int64_t{era} * 146097 + doe - 719468;
}

// "YYYY-MM-DD" (the end of that day, UTC) or "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC) as Unix ms.
std::optional<std::int64_t> parse_until(std::string_view s) {
    int y = 0;
    int m = 0;
    int d = 0;
    if (s.size() < 10 || !parse_date(s.substr(0, 10), y, m, d)) {
        return std::nullopt;
    }
    const std::int64_t day_ms = days_from_civil(y, m, d) * 86400000;
    if (s.size() == 10) {
        return day_ms + 86400000;
    }
    std::string_view t = s.substr(10);
    if (!t.empty() && t.back() == 'Z') {
        t.remove_suffix(1);
    }
    if ((t.size() != 6 && t.size() != 9) || (t[0] != 'T' && t[0] != ' ') || t[3] != ':') {
        return std::nullopt;
    }
    const auto two = [&](std::size_t at) -> int {
        if (t[at] < '0' || t[at] > '9' || t[at + 1] < '0' || t[at + 1] > '9') {
            return -1;
        }
        return (t[at] - '0') * 10 + (t[at + 1] - '0');
    };
    const int hh = two(1);
    const int mm = two(4);
    int ss = 0;
    if (t.size() == 9) {
        if (t[6] != ':') {
            return std::nullopt;
        }
        ss = two(7);
    }
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) {
        return std::nullopt;
    }
    return day_ms + (std::int64_t{hh} * 3600 + mm * 60 + ss) * 1000;
}

// Applies the fields present in `req` to `s`; appends to `changed` the names of those given
// (for the audit: names only, never values). `adding` requires code, first and last name.
void apply_subscriber_fields(const json& req, storage::subscriber& s, bool adding,
                             std::vector<std::string>& changed) {
    const auto set = [&](const json& obj, const char* name, const std::string& path,
                         std::size_t max_size, std::string& out) {
        if (const json* v = find(obj, name)) {
            out = text(*v, path, max_size);
            changed.push_back(path);
        }
    };
    if (const json* v = find(req, "code")) {
        std::string code = text(*v, "code", 32);
        if (code.empty() || code.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                                                   "vwxyz0123456789-_/.") != std::string::npos) {
            invalid("code: 1 to 32 of letters, digits and - _ / . (e.g. TS-0042)");
        }
        s.code = std::move(code);
        changed.push_back("code");
    } else if (adding) {
        throw field_error{"bad_request", "missing field 'code'"};
    }
    set(req, "first_name", "first_name", 100, s.first_name);
    set(req, "last_name", "last_name", 100, s.last_name);
    if (adding && (s.first_name.empty() || s.last_name.empty())) {
        invalid(s.first_name.empty() ? "first_name: must not be empty"
                                     : "last_name: must not be empty");
    }
    if (const auto it = req.find("birth_date"); it != req.end()) {
        if (it->is_null()) {
            s.birth_date.clear();
        } else {
            std::string date = text(*it, "birth_date", 10);
            int y = 0;
            int m = 0;
            int d = 0;
            if (!parse_date(date, y, m, d)) {
                invalid("birth_date: must be a date YYYY-MM-DD");
            }
            s.birth_date = std::move(date);
        }
        changed.push_back("birth_date");
    }
    if (const json* a = find(req, "address")) {
        if (!a->is_object()) {
            throw field_error{"bad_request", "field 'address' must be an object"};
        }
        set(*a, "comune", "address.comune", 100, s.comune);
        set(*a, "street", "address.street", 200, s.street);
        set(*a, "number", "address.number", 16, s.number);
        set(*a, "floor", "address.floor", 16, s.floor);
        set(*a, "access_notes", "address.access_notes", 1000, s.access_notes);
    }
    if (const json* v = find(req, "phones")) {
        s.phones = phones(*v, "phones");
        changed.push_back("phones");
    }
    if (const json* v = find(req, "language")) {
        std::string lang = text(*v, "language", 8);
        if (lang.size() < 2 ||
            lang.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos) {
            invalid("language: 2 to 8 lower-case letters (e.g. it)");
        }
        s.language = std::move(lang);
        changed.push_back("language");
    }
    set(req, "living_situation", "living_situation", 200, s.living_situation);
    if (const json* v = find(req, "vulnerability")) {
        std::string vul = text(*v, "vulnerability", 64);
        if (vul.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_,") != std::string::npos) {
            invalid("vulnerability: lower-case words with _ , (e.g. anziano_solo)");
        }
        s.vulnerability = std::move(vul);
        changed.push_back("vulnerability");
    }
    set(req, "medical_notes", "medical_notes", 4000, s.medical_notes);
    set(req, "key_safe_code", "key_safe_code", 64, s.key_safe_code);
    if (const auto it = req.find("guardian"); it != req.end()) {
        if (it->is_null()) {
            s.guardian_kind.clear();
            s.guardian_name.clear();
            s.guardian_phone.clear();
        } else {
            if (!it->is_object()) {
                throw field_error{"bad_request", "field 'guardian' must be an object"};
            }
            if (const json* k = find(*it, "kind")) {
                const std::string kind = text(*k, "guardian.kind", 32);
                if (kind != "amministratore_di_sostegno" && kind != "tutore") {
                    invalid("guardian.kind: must be amministratore_di_sostegno or tutore");
                }
                s.guardian_kind = kind;
            } else if (s.guardian_kind.empty()) {
                invalid("guardian.kind: must be amministratore_di_sostegno or tutore");
            }
            set(*it, "name", "guardian.name", 200, s.guardian_name);
            if (const json* p = find(*it, "phone")) {
                s.guardian_phone = phone(*p, "guardian.phone");
            }
        }
        changed.push_back("guardian");
    }
    if (const auto it = req.find("gp"); it != req.end()) {
        if (it->is_null()) {
            s.gp_name.clear();
            s.gp_phone.clear();
        } else {
            if (!it->is_object()) {
                throw field_error{"bad_request", "field 'gp' must be an object"};
            }
            set(*it, "name", "gp.name", 200, s.gp_name);
            if (const json* p = find(*it, "phone")) {
                s.gp_phone = phone(*p, "gp.phone");
            }
        }
        changed.push_back("gp");
    }
}

// Contact fields from `req` onto `c`; priority and name required when adding.
void apply_contact_fields(const json& req, storage::contact& c, bool adding) {
    if (const json* v = find(req, "priority")) {
        if (!v->is_number_integer() || v->get<std::int64_t>() < 1 || v->get<std::int64_t>() > 99) {
            invalid("priority: must be an integer between 1 and 99");
        }
        c.priority = v->get<std::int64_t>();
    }
    if (const json* v = find(req, "name")) {
        c.name = text(*v, "name", 200);
    }
    if (adding && c.name.find_first_not_of(" \t") == std::string::npos) {
        invalid("name: must not be empty");
    }
    if (const json* v = find(req, "relation")) {
        c.relation = text(*v, "relation", 100);
    }
    if (const json* v = find(req, "phones")) {
        c.phones = phones(*v, "phones");
    }
    if (const json* v = find(req, "has_key")) {
        if (!v->is_boolean()) {
            throw field_error{"bad_request", "field 'has_key' must be a boolean"};
        }
        c.has_key = v->get<bool>();
    }
    if (const json* v = find(req, "reachable")) {
        c.reachable = text(*v, "reachable", 200);
    }
}

std::int64_t id_field(const json& req, const char* name) {
    const json* v = find(req, name);
    if (v == nullptr) {
        throw field_error{"bad_request", fmt::format("missing field '{}'", name)};
    }
    if (!v->is_number_integer() || v->get<std::int64_t>() < 1) {
        throw field_error{"bad_request",
                          fmt::format("field '{}' must be a positive integer", name)};
    }
    return v->get<std::int64_t>();
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += out.empty() ? "" : ",";
        out += n;
    }
    return out;
}

// The request whose writer job runs now on the writer thread (set around each job by
// sub_handler::write): audit() names its operator and peer.
thread_local const audit_source* current_source = nullptr;

security::audit_entry audit(std::string action, std::string target, std::string detail,
                            std::int64_t at_ms) {
    const std::string who = current_source != nullptr ? current_source->actor : std::string(actor);
    const std::string peer = current_source != nullptr ? current_source->peer : std::string();
    return security::audit_entry{
        0, at_ms, who, std::move(action), std::move(target), peer, std::move(detail)};
}

json contact_to_json(const storage::contact& c) {
    return json{{"id", c.id},
                {"priority", c.priority},
                {"name", c.name},
                {"relation", c.relation},
                {"phones", c.phones},
                {"has_key", c.has_key},
                {"reachable", c.reachable}};
}

// What a write job hands to its completion.
struct sub_state {
    std::string code;  ///< error code ("" when it went well)
    std::string message;
    std::optional<storage::subscriber> subscriber;
    std::vector<storage::device> devices;  ///< to hand to the registry and the engine
    json result;
};

class sub_handler {
public:
    sub_handler(admin_backend& backend, admin_reply reply)
        : backend_(backend), reply_(std::move(reply)) {}

    // Runs `work` in the writer; then pushes the devices it read to the registry and engine
    // and answers with state->result (or the error).
    void write(std::function<void(storage::database&, sub_state&)> work) {
        auto state = std::make_shared<sub_state>();
        auto self = std::make_shared<sub_handler>(*this);
        backend_.run_job(
            [state, work, src = reply_.source](storage::database& db) {
                current_source = &src;
                try {
                    work(db, *state);
                } catch (...) {
                    current_source = nullptr;
                    throw;
                }
                current_source = nullptr;
            },
            [self, state](std::error_code ec, const std::string& message) {
                if (ec) {
                    if (ec == storage::errc::queue_full) {
                        self->reply_.fail("busy", "storage queue full, retry later");
                    } else if (ec == storage::errc::stopped) {
                        self->reply_.fail("busy", "arcd is stopping");
                    } else {
                        self->reply_.fail("internal", message.empty() ? ec.message() : message);
                    }
                    return;
                }
                if (!state->code.empty()) {
                    self->reply_.fail(state->code, state->message);
                    return;
                }
                const auto now = engine::from_ms(self->backend_.now_ms());
                for (const storage::device& dev : state->devices) {
                    self->backend_.registry().put(dev);
                    self->backend_.alarms().set_device(dev, now);
                }
                self->reply_.ok(std::move(state->result));
            });
    }

    void add(const json& req) {
        storage::subscriber s;
        std::vector<std::string> changed;
        apply_subscriber_fields(req, s, true, changed);
        std::vector<storage::contact> contacts;
        if (const json* list = find(req, "contacts")) {
            if (!list->is_array() || list->size() > 20) {
                invalid("contacts: an array of at most 20 contacts");
            }
            std::int64_t next = 1;
            for (const json& c : *list) {
                if (!c.is_object()) {
                    invalid("contacts: each must be an object");
                }
                storage::contact contact;
                contact.priority = next;
                apply_contact_fields(c, contact, true);
                next = contact.priority + 1;
                contacts.push_back(std::move(contact));
            }
        }
        s.contacts = contacts;
        s.created_ms = backend_.now_ms();
        s.updated_ms = s.created_ms;
        const std::int64_t now = s.created_ms;
        write([s, changed, now](storage::database& db, sub_state& st) {
            if (storage::find_subscriber_by_code(db, s.code)) {
                st.code = "exists";
                st.message = fmt::format("subscriber {} already exists", s.code);
                return;
            }
            std::int64_t id = 0;
            try {
                id = storage::insert_subscriber(db, s);
            } catch (const storage::already_exists&) {
                st.code = "invalid";
                st.message = "contacts: two contacts with the same priority";
                return;
            }
            storage::append_audit(db, audit("subscriber.add", std::to_string(id),
                                            "fields=" + join(changed) +
                                                fmt::format(" contacts={}", s.contacts.size()),
                                            now));
            const auto stored = storage::find_subscriber(db, id);
            st.result = json{{"subscriber", subscriber_to_json(*stored, false, nullptr, now)}};
        });
    }

    void update(const json& req) {
        const std::int64_t id = id_field(req, "subscriber");
        const std::int64_t now = backend_.now_ms();
        // Validated here against an empty subscriber, then again on the stored one in the job.
        {
            storage::subscriber probe;
            probe.guardian_kind = "tutore";
            std::vector<std::string> ignored;
            apply_subscriber_fields(req, probe, false, ignored);
        }
        write([req, id, now](storage::database& db, sub_state& st) {
            auto s = storage::find_subscriber(db, id);
            if (!s) {
                st.code = "not_found";
                st.message = fmt::format("no subscriber {}", id);
                return;
            }
            std::vector<std::string> changed;
            try {
                apply_subscriber_fields(req, *s, false, changed);
            } catch (const field_error& e) {
                st.code = e.code;
                st.message = e.message;
                return;
            }
            if (const auto other = storage::find_subscriber_by_code(db, s->code);
                other && other->id != id) {
                st.code = "exists";
                st.message = fmt::format("subscriber {} already exists", s->code);
                return;
            }
            s->updated_ms = now;
            storage::update_subscriber(db, *s);
            std::string detail;
            for (const auto& name : changed) {
                detail += (detail.empty() ? "" : ", ") + name + " changed";
            }
            storage::append_audit(db, audit("subscriber.update", std::to_string(id), detail, now));
            st.result = json{{"subscriber", subscriber_to_json(*s, false, nullptr, now)}};
        });
    }

    void show(const json& req) {
        storage::database& db = backend_.read_db();
        std::optional<storage::subscriber> s;
        if (find(req, "account") != nullptr) {
            const json& a = req["account"];
            if (!a.is_string() || !device_registry::valid_account(a.get<std::string>())) {
                invalid("account: must be 3 to 16 hex digits");
            }
            const auto dev = storage::find_device(db, a.get<std::string>());
            if (!dev) {
                throw field_error{"not_found",
                                  fmt::format("no device with account {}", a.get<std::string>())};
            }
            if (!dev->subscriber_id) {
                throw field_error{"not_found",
                                  fmt::format("device {} has no subscriber", dev->account)};
            }
            s = storage::find_subscriber(db, *dev->subscriber_id);
        } else {
            const std::int64_t id = id_field(req, "subscriber");
            s = storage::find_subscriber(db, id);
            if (!s) {
                throw field_error{"not_found", fmt::format("no subscriber {}", id)};
            }
        }
        if (!s) {
            throw field_error{"not_found", "no such subscriber"};
        }
        bool sensitive = false;
        if (const json* v = find(req, "sensitive")) {
            if (!v->is_boolean()) {
                throw field_error{"bad_request", "field 'sensitive' must be a boolean"};
            }
            sensitive = v->get<bool>();
        }
        if (sensitive && reply_.may_view_sensitive && !reply_.may_view_sensitive(s->id)) {
            throw field_error{"forbidden",
                              "medical notes and key-safe code: take one of this subscriber's "
                              "alarms first"};
        }
        const std::vector<storage::device> devices = storage::subscriber_devices(db, s->id);
        const std::int64_t now = backend_.now_ms();
        json result{{"subscriber", subscriber_to_json(*s, sensitive, &devices, now)}};
        if (!sensitive) {
            reply_.ok(std::move(result));
            return;
        }
        // The sensitive view is audited before it is shown: no audit, no data.
        const std::int64_t id = s->id;
        write([id, now, result](storage::database& wdb, sub_state& st) {
            storage::append_audit(wdb, audit("subscriber.view_sensitive", std::to_string(id),
                                             "medical_notes, key_safe_code shown", now));
            st.result = result;
        });
    }

    // One page of the subscribers (by last name, first name) matching `search`, if given.
    void list(const json& req) {
        const auto count_field = [&](const char* name, std::int64_t fallback, std::int64_t lo,
                                     std::int64_t hi) {
            const json* v = find(req, name);
            if (v == nullptr) {
                return fallback;
            }
            if (!v->is_number_integer() || v->get<std::int64_t>() < lo ||
                v->get<std::int64_t>() > hi) {
                throw field_error{
                    "invalid", fmt::format("{}: must be an integer from {} to {}", name, lo, hi)};
            }
            return v->get<std::int64_t>();
        };
        const auto offset = static_cast<std::size_t>(count_field("offset", 0, 0, INT32_MAX));
        const auto limit =
            static_cast<std::size_t>(count_field("limit", static_cast<std::int64_t>(list_page_max),
                                                 1, static_cast<std::int64_t>(list_page_max)));
        const auto lower = [](std::string s) {
            for (char& c : s) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            return s;
        };
        std::string search;
        if (const json* v = find(req, "search")) {
            search = lower(text(*v, "search", 100));
        }
        storage::database& db = backend_.read_db();
        json out = json::array();
        const std::int64_t now = backend_.now_ms();
        std::size_t total = 0;
        for (const auto& s : storage::list_subscribers(db)) {
            if (!search.empty()) {
                const std::string hay =
                    lower(s.code + "\n" + s.last_name + "\n" + s.first_name + "\n" + s.first_name +
                          " " + s.last_name + "\n" + s.comune);
                if (hay.find(search) == std::string::npos) {
                    continue;
                }
            }
            if (total >= offset && total < offset + limit) {
                out.push_back(subscriber_to_json(s, false, nullptr, now));
            }
            ++total;
        }
        const std::size_t end = std::min(total, offset + limit);
        reply_.ok(json{{"subscribers", std::move(out)},
                       {"total", total},
                       {"offset", offset},
                       {"next", end < total ? json(end) : json(nullptr)}});
    }

    void remove(const json& req) {
        const std::int64_t id = id_field(req, "subscriber");
        const std::int64_t now = backend_.now_ms();
        write([id, now](storage::database& db, sub_state& st) {
            if (!storage::find_subscriber(db, id)) {
                st.code = "not_found";
                st.message = fmt::format("no subscriber {}", id);
                return;
            }
            const auto devices = storage::subscriber_devices(db, id);
            if (!devices.empty()) {
                st.code = "invalid";
                st.message = fmt::format(
                    "subscriber: {} device(s) still linked (first {}); assign them elsewhere first",
                    devices.size(), devices.front().account);
                return;
            }
            storage::delete_subscriber(db, id);
            storage::append_audit(db, audit("subscriber.remove", std::to_string(id), "", now));
            st.result = json{{"removed", id}};
        });
    }

    void set_status(const json& req) {
        const std::int64_t id = id_field(req, "subscriber");
        const json* sv = find(req, "status");
        if (sv == nullptr || !sv->is_string()) {
            throw field_error{"bad_request", "missing field 'status'"};
        }
        const auto status = storage::parse_subscriber_status(sv->get<std::string>());
        if (!status) {
            invalid("status: must be active, away, hospital or ended");
        }
        std::optional<std::int64_t> until;
        if (const json* u = find(req, "until")) {
            if (*status != storage::subscriber_status::away &&
                *status != storage::subscriber_status::hospital) {
                invalid("until: only with status away or hospital");
            }
            if (!u->is_string()) {
                throw field_error{"bad_request", "field 'until' must be a string"};
            }
            until = parse_until(u->get<std::string>());
            if (!until) {
                invalid("until: must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z (UTC)");
            }
            if (*until <= backend_.now_ms()) {
                invalid("until: must be in the future");
            }
        }
        const std::int64_t now = backend_.now_ms();
        write([id, status, until, now](storage::database& db, sub_state& st) {
            auto s = storage::find_subscriber(db, id);
            if (!s) {
                st.code = "not_found";
                st.message = fmt::format("no subscriber {}", id);
                return;
            }
            s->status = *status;
            s->away_until_ms = until;
            s->updated_ms = now;
            storage::update_subscriber(db, *s);
            std::string detail = fmt::format("status={}", storage::to_string(*status));
            if (until) {
                detail += " until=" + arc::api::iso8601_utc(*until);
            }
            storage::append_audit(db,
                                  audit("subscriber.set_status", std::to_string(id), detail, now));
            st.devices = storage::subscriber_devices(db, id);
            st.result = json{{"subscriber", subscriber_to_json(*s, false, &st.devices, now)}};
        });
    }

    void contact_add(const json& req) {
        const std::int64_t sid = id_field(req, "subscriber");
        storage::contact c;
        c.subscriber_id = sid;
        c.priority = 0;
        apply_contact_fields(req, c, true);
        const std::int64_t now = backend_.now_ms();
        write([c, now](storage::database& db, sub_state& st) {
            if (!storage::find_subscriber(db, c.subscriber_id)) {
                st.code = "not_found";
                st.message = fmt::format("no subscriber {}", c.subscriber_id);
                return;
            }
            storage::contact added = c;
            if (added.priority == 0) {  // none given: after the last one
                std::int64_t last = 0;
                for (const auto& other : storage::list_contacts(db, c.subscriber_id)) {
                    last = std::max(last, other.priority);
                }
                added.priority = last + 1;
            }
            try {
                added.id = storage::insert_contact(db, added);
            } catch (const storage::already_exists&) {
                st.code = "exists";
                st.message = fmt::format("priority: subscriber {} already has a contact {}",
                                         c.subscriber_id, added.priority);
                return;
            }
            storage::append_audit(
                db, audit("contact.add", std::to_string(c.subscriber_id),
                          fmt::format("contact={} priority={}", added.id, added.priority), now));
            st.result = json{{"contact", contact_to_json(added)}};
        });
    }

    void contact_update(const json& req) {
        const std::int64_t cid = id_field(req, "contact");
        {
            storage::contact probe;
            apply_contact_fields(req, probe, false);
        }
        const std::int64_t now = backend_.now_ms();
        write([req, cid, now](storage::database& db, sub_state& st) {
            auto c = storage::find_contact(db, cid);
            if (!c) {
                st.code = "not_found";
                st.message = fmt::format("no contact {}", cid);
                return;
            }
            apply_contact_fields(req, *c, false);
            try {
                storage::update_contact(db, *c);
            } catch (const storage::already_exists&) {
                st.code = "exists";
                st.message = fmt::format("priority: subscriber {} already has a contact {}",
                                         c->subscriber_id, c->priority);
                return;
            }
            storage::append_audit(db, audit("contact.update", std::to_string(c->subscriber_id),
                                            fmt::format("contact={}", cid), now));
            st.result = json{{"contact", contact_to_json(*c)}};
        });
    }

    void contact_remove(const json& req) {
        const std::int64_t cid = id_field(req, "contact");
        const std::int64_t now = backend_.now_ms();
        write([cid, now](storage::database& db, sub_state& st) {
            const auto c = storage::find_contact(db, cid);
            if (!c) {
                st.code = "not_found";
                st.message = fmt::format("no contact {}", cid);
                return;
            }
            storage::delete_contact(db, cid);
            storage::append_audit(db, audit("contact.remove", std::to_string(c->subscriber_id),
                                            fmt::format("contact={}", cid), now));
            st.result = json{{"removed", cid}};
        });
    }

    void device_assign(const json& req) {
        const json* a = find(req, "account");
        if (a == nullptr || !a->is_string()) {
            throw field_error{"bad_request", "missing field 'account'"};
        }
        if (!device_registry::valid_account(a->get<std::string>())) {
            invalid("account: must be 3 to 16 hex digits");
        }
        const std::string account = device_registry::normalise(a->get<std::string>());
        std::optional<std::int64_t> sid;
        try {
            sid = subscriber_id_field(req);
        } catch (const std::invalid_argument& e) {
            invalid(e.what());
        }
        const std::int64_t now = backend_.now_ms();
        write([account, sid, now](storage::database& db, sub_state& st) {
            if (sid && !storage::find_subscriber(db, *sid)) {
                st.code = "not_found";
                st.message = fmt::format("no subscriber {}", *sid);
                return;
            }
            if (!storage::set_device_subscriber(db, account, sid)) {
                st.code = "not_found";
                st.message = fmt::format("no device with account {}", account);
                return;
            }
            storage::append_audit(
                db, audit("device.assign", account,
                          sid ? fmt::format("subscriber={}", *sid) : std::string("subscriber=none"),
                          now));
            const auto dev = storage::find_device(db, account);
            st.devices.push_back(*dev);
            st.result = json{{"device", arc::api::device_to_json(*dev)}};
        });
    }

private:
    admin_backend& backend_;
    admin_reply reply_;
};

}  // namespace

storage::subscriber subscriber_from_request(const json& req) {
    storage::subscriber s;
    std::vector<std::string> changed;
    apply_subscriber_fields(req, s, true, changed);
    return s;
}

storage::contact contact_from_request(const json& req) {
    storage::contact c;
    c.priority = 0;
    apply_contact_fields(req, c, true);
    return c;
}

std::optional<std::int64_t> subscriber_id_field(const json& req) {
    const auto it = req.find("subscriber");
    if (it == req.end() || it->is_null()) {
        return std::nullopt;
    }
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
        throw std::invalid_argument("subscriber: must be a subscriber id (a positive integer)");
    }
    return it->get<std::int64_t>();
}

json subscriber_to_json(const storage::subscriber& s, bool sensitive,
                        const std::vector<storage::device>* devices, std::int64_t now_ms) {
    json out{{"id", s.id},
             {"code", s.code},
             {"first_name", s.first_name},
             {"last_name", s.last_name},
             {"birth_date", s.birth_date.empty() ? json(nullptr) : json(s.birth_date)},
             {"address",
              {{"comune", s.comune},
               {"street", s.street},
               {"number", s.number},
               {"floor", s.floor},
               {"access_notes", s.access_notes}}},
             {"phones", s.phones},
             {"language", s.language},
             {"living_situation", s.living_situation},
             {"vulnerability", s.vulnerability}};
    if (sensitive) {
        out["medical_notes"] = s.medical_notes;
        out["key_safe_code"] = s.key_safe_code;
    } else {
        out["sensitive_hidden"] = true;
    }
    out["guardian"] = s.guardian_kind.empty() ? json(nullptr)
                                              : json{{"kind", s.guardian_kind},
                                                     {"name", s.guardian_name},
                                                     {"phone", s.guardian_phone}};
    out["gp"] = s.gp_name.empty() && s.gp_phone.empty()
                    ? json(nullptr)
                    : json{{"name", s.gp_name}, {"phone", s.gp_phone}};
    json contacts = json::array();
    for (const auto& c : s.contacts) {
        contacts.push_back(contact_to_json(c));
    }
    out["contacts"] = std::move(contacts);
    // An absence whose end has passed reads as active, as the engine already treats it (its
    // pause ends at away_until); absence_ended says when.
    const bool absent = s.status == storage::subscriber_status::away ||
                        s.status == storage::subscriber_status::hospital;
    if (absent && s.away_until_ms && *s.away_until_ms <= now_ms) {
        out["status"] = "active";
        out["away_until"] = nullptr;
        out["absence_ended"] = arc::api::iso8601_utc_ms(*s.away_until_ms);
    } else {
        out["status"] = std::string(storage::to_string(s.status));
        out["away_until"] =
            s.away_until_ms ? json(arc::api::iso8601_utc_ms(*s.away_until_ms)) : json(nullptr);
    }
    if (devices != nullptr) {
        json list = json::array();
        for (const auto& dev : *devices) {
            list.push_back(arc::api::device_to_json(dev));
        }
        out["devices"] = std::move(list);
    }
    out["created"] = arc::api::iso8601_utc_ms(s.created_ms);
    out["updated"] = arc::api::iso8601_utc_ms(s.updated_ms);
    return out;
}

bool handle_subscriber_command(const std::string& cmd, const json& req, admin_backend& backend,
                               const admin_reply& reply) {
    return run_admin_command<sub_handler>(cmd, req, backend, reply,
                                          {{"subscriber.add", &sub_handler::add},
                                           {"subscriber.update", &sub_handler::update},
                                           {"subscriber.show", &sub_handler::show},
                                           {"subscriber.list", &sub_handler::list},
                                           {"subscriber.remove", &sub_handler::remove},
                                           {"subscriber.set_status", &sub_handler::set_status},
                                           {"contact.add", &sub_handler::contact_add},
                                           {"contact.update", &sub_handler::contact_update},
                                           {"contact.remove", &sub_handler::contact_remove},
                                           {"device.assign", &sub_handler::device_assign}});
}

}  // namespace arc::daemon
