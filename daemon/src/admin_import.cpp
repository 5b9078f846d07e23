#include "admin_import.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin_command.hpp"
#include "admin_teams.hpp"
#include "alarm_service.hpp"
#include <fmt/format.h>

#include "arc/engine/alarm.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/subscribers.hpp"
#include "arc/storage/teams.hpp"
#include "arc/teams/dispatch.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;
namespace security = arc::security;

// The CSV columns of each kind (README "Import and export"), in export order.
struct column {
    std::string_view name;
    std::vector<std::string_view> aliases;  // Italian headers accepted on import
    bool sensitive = false;
};

const std::vector<column> subscriber_columns{
    {"code", {"codice", "codice_utente"}},
    {"last_name", {"cognome"}},
    {"first_name", {"nome"}},
    {"date_of_birth", {"data_nascita", "data_di_nascita", "birth_date"}},
    {"comune", {"municipality", "city"}},
    {"street", {"indirizzo", "via"}},
    {"number", {"civico", "numero_civico"}},
    {"floor", {"piano"}},
    {"access_notes", {"note_accesso"}},
    {"phones", {"telefono", "telefoni", "phone"}},
    {"language", {"lingua"}},
    {"living_situation", {"situazione_abitativa"}},
    {"vulnerability", {"vulnerabilita"}},
    {"medical_notes", {"note_mediche"}, true},
    {"key_safe_code", {"codice_cassetta"}, true},
    {"guardian_kind", {"tipo_tutore"}},
    {"guardian_name", {"tutore"}},
    {"guardian_phone", {"telefono_tutore"}},
    {"gp_name", {"medico"}},
    {"gp_phone", {"telefono_medico"}},
};
const std::vector<column> contact_columns{
    {"subscriber_code", {"codice_assistito"}},
    {"priority", {"priorita"}},
    {"name", {"nome"}},
    {"relation", {"relazione", "parentela"}},
    {"phones", {"telefono", "telefoni", "phone"}},
    {"has_key", {"chiavi", "ha_chiavi"}},
    {"reachable", {"reperibilita"}},
};
const std::vector<column> device_columns{
    {"account", {}},
    {"subscriber_code", {"codice_assistito"}},
    {"protocol", {"protocollo"}},
    {"type", {"tipo"}},
    {"vendor", {"marca"}},
    {"label", {"etichetta"}},
    {"interval_s", {}},
    {"mode", {"modo"}},
    {"key", {"chiave"}, true},
};
// A team's members and comuni are lists in one cell ("|", "," or ";" between entries); its
// schedule is team.add's text ("outside-office-hours", "24x7", "mon-fri 17:00-08:00; ...").
const std::vector<column> team_columns{
    {"name", {"nome", "squadra", "team"}},
    {"phone", {"telefono"}},
    {"members", {"membri", "componenti"}},
    {"comuni", {"territory", "territorio", "comune"}},
    {"schedule", {"orario", "turni", "reperibilita"}},
    {"state", {"stato"}},
};

const std::vector<column>* columns_of(std::string_view kind) {
    if (kind == "subscribers") {
        return &subscriber_columns;
    }
    if (kind == "contacts") {
        return &contact_columns;
    }
    if (kind == "devices") {
        return &device_columns;
    }
    if (kind == "teams") {
        return &team_columns;
    }
    return nullptr;
}

std::vector<std::string_view> required_columns(std::string_view kind) {
    if (kind == "subscribers") {
        return {"code", "last_name", "first_name"};
    }
    if (kind == "contacts") {
        return {"subscriber_code", "name"};
    }
    if (kind == "teams") {
        return {"name", "comuni", "schedule"};
    }
    return {"account"};
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// "Data di nascita " -> "data_di_nascita".
std::string normal_header(std::string_view h) {
    while (!h.empty() && h.front() == ' ') {
        h.remove_prefix(1);
    }
    while (!h.empty() && h.back() == ' ') {
        h.remove_suffix(1);
    }
    std::string out = lower(h);
    std::replace(out.begin(), out.end(), ' ', '_');
    std::replace(out.begin(), out.end(), '-', '_');
    return out;
}

struct row_error {
    std::int64_t row = 0;
    std::string column;
    std::string message;
};

// One import's header: for each cell position the canonical column ("" none), and the file's
// name of each canonical column (for messages).
struct header_map {
    std::vector<std::string> canonical;
    std::map<std::string, std::string, std::less<>> as_given;

    std::string name(std::string_view canonical_name) const {
        const auto it = as_given.find(canonical_name);
        return it == as_given.end() ? std::string(canonical_name) : it->second;
    }
};

// Maps a header row; throws field_error naming the unknown, repeated or missing column.
header_map map_header(std::string_view kind, const json& header) {
    const auto& cols = *columns_of(kind);
    header_map out;
    for (const json& h : header) {
        if (!h.is_string()) {
            throw field_error{"bad_request", "field 'header' must be an array of strings"};
        }
        const std::string given = h.get<std::string>();
        const std::string n = normal_header(given);
        const auto it = std::find_if(cols.begin(), cols.end(), [&](const column& c) {
            return c.name == n ||
                   std::find(c.aliases.begin(), c.aliases.end(), n) != c.aliases.end();
        });
        if (it == cols.end()) {
            std::string known;
            for (const auto& c : cols) {
                known += (known.empty() ? "" : ", ") + std::string(c.name);
            }
            throw field_error{"invalid", fmt::format("header: unknown column \"{}\" for {} "
                                                     "(columns: {})",
                                                     given, kind, known)};
        }
        const std::string name(it->name);
        if (out.as_given.count(name) != 0) {
            throw field_error{"invalid",
                              fmt::format("header: columns \"{}\" and \"{}\" are both {}",
                                          out.as_given[name], given, name)};
        }
        out.as_given[name] = given;
        out.canonical.push_back(name);
    }
    for (const auto r : required_columns(kind)) {
        if (out.as_given.count(r) == 0) {
            throw field_error{"invalid", fmt::format("header: column {} is missing", r)};
        }
    }
    return out;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// YYYY-MM-DD or DD/MM/YYYY (a real day) as YYYY-MM-DD.
std::optional<std::string> iso_date(std::string_view s) {
    const auto digits = [&](std::size_t at, std::size_t n, int& v) {
        v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (s[i] < '0' || s[i] > '9') {
                return false;
            }
            v = v * 10 + (s[i] - '0');
        }
        return true;
    };
    int y = 0;
    int m = 0;
    int d = 0;
    if (s.size() != 10) {
        return std::nullopt;
    }
    if (s[4] == '-' && s[7] == '-') {
        if (!digits(0, 4, y) || !digits(5, 2, m) || !digits(8, 2, d)) {
            return std::nullopt;
        }
    } else if (s[2] == '/' && s[5] == '/') {
        if (!digits(0, 2, d) || !digits(3, 2, m) || !digits(6, 4, y)) {
            return std::nullopt;
        }
    } else {
        return std::nullopt;
    }
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days[m - 1] + (m == 2 && leap(y) ? 1 : 0)) {
        return std::nullopt;
    }
    return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

// "a | b, c" -> ["a", "b", "c"]: entries between any of `separators`, trimmed, empty ones dropped.
json split_list(std::string_view s, const char* separators = "|,") {
    json out = json::array();
    std::size_t start = 0;
    while (start <= s.size()) {
        std::size_t end = s.find_first_of(separators, start);
        if (end == std::string_view::npos) {
            end = s.size();
        }
        std::string_view p = s.substr(start, end - start);
        while (!p.empty() && p.front() == ' ') {
            p.remove_prefix(1);
        }
        while (!p.empty() && p.back() == ' ') {
            p.remove_suffix(1);
        }
        if (!p.empty()) {
            out.push_back(std::string(p));
        }
        start = end + 1;
    }
    return out;
}

std::optional<bool> yes_no(std::string_view s) {
    const std::string v = lower(s);
    if (v == "yes" || v == "y" || v == "true" || v == "1" || v == "si" || v == "sì" || v == "x") {
        return true;
    }
    if (v == "no" || v == "n" || v == "false" || v == "0") {
        return false;
    }
    return std::nullopt;
}

std::optional<std::int64_t> whole_number(std::string_view s) {
    if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return std::stoll(std::string(s));
}

// "address.comune: at most 100 bytes" -> (comune, "at most 100 bytes"); "missing field 'code'"
// -> (code, "missing").
std::pair<std::string, std::string> split_message(const std::string& message) {
    if (message.starts_with("missing field '") || message.starts_with("field '")) {
        const auto a = message.find('\'');
        const auto b = message.find('\'', a + 1);
        return {message.substr(a + 1, b - a - 1), message};
    }
    const auto colon = message.find(": ");
    if (colon == std::string::npos) {
        return {"", message};
    }
    std::string path = message.substr(0, colon);
    if (const auto br = path.find('['); br != std::string::npos) {
        path.erase(br);
    }
    if (path.starts_with("address.")) {
        path.erase(0, 8);
    }
    std::replace(path.begin(), path.end(), '.', '_');
    if (path == "birth_date") {
        path = "date_of_birth";
    }
    return {path, message.substr(colon + 2)};
}

// One row converted and checked against the rules of subscriber.add, contact.add and
// device.add; what the database must answer (codes, accounts) comes later, in the job.
struct parsed_row {
    std::int64_t row = 0;
    std::string subscriber_code;  // contacts, devices
    storage::subscriber subscriber;
    storage::contact contact;
    storage::device device;
    storage::team team;
};

std::optional<parsed_row> parse_row(std::string_view kind, const header_map& header,
                                    const json& item, std::vector<row_error>& errors) {
    parsed_row out;
    out.row = item.value("row", std::int64_t{0});
    const json& cells = item.at("cells");
    std::map<std::string, std::string, std::less<>> v;  // canonical column -> non-empty text
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const std::string text = cells[i].get<std::string>();
        if (text.empty()) {
            continue;  // an empty cell is "not set"
        }
        if (i >= header.canonical.size()) {
            errors.push_back({out.row, "-",
                              fmt::format("{} cells, the header has {}", cells.size(),
                                          header.canonical.size())});
            return std::nullopt;
        }
        v[header.canonical[i]] = text;
    }
    const std::size_t before = errors.size();
    const auto bad = [&](std::string_view col, std::string message) {
        errors.push_back({out.row, header.name(col), std::move(message)});
    };
    const auto get = [&](std::string_view col) -> const std::string* {
        const auto it = v.find(col);
        return it == v.end() ? nullptr : &it->second;
    };
    json req = json::object();
    const auto copy = [&](std::string_view col, json& into, const char* key) {
        if (const auto* t = get(col)) {
            into[key] = *t;
        }
    };
    if (kind == "subscribers") {
        copy("code", req, "code");
        copy("first_name", req, "first_name");
        copy("last_name", req, "last_name");
        if (const auto* t = get("date_of_birth")) {
            if (auto d = iso_date(*t)) {
                req["birth_date"] = *d;
            } else {
                bad("date_of_birth",
                    fmt::format("\"{}\" is not a date (YYYY-MM-DD or DD/MM/YYYY)", *t));
            }
        }
        json address = json::object();
        for (const char* k : {"comune", "street", "number", "floor", "access_notes"}) {
            copy(k, address, k);
        }
        req["address"] = address;
        if (const auto* t = get("phones")) {
            req["phones"] = split_list(*t);
        }
        for (const char* k :
             {"language", "living_situation", "vulnerability", "medical_notes", "key_safe_code"}) {
            copy(k, req, k);
        }
        if (get("guardian_kind") || get("guardian_name") || get("guardian_phone")) {
            json g = json::object();
            copy("guardian_kind", g, "kind");
            copy("guardian_name", g, "name");
            copy("guardian_phone", g, "phone");
            req["guardian"] = g;
        }
        if (get("gp_name") || get("gp_phone")) {
            json g = json::object();
            copy("gp_name", g, "name");
            copy("gp_phone", g, "phone");
            req["gp"] = g;
        }
        if (errors.size() == before) {
            try {
                out.subscriber = subscriber_from_request(req);
            } catch (const field_error& e) {
                auto [col, message] = split_message(e.message);
                bad(col, message);
            }
        }
    } else if (kind == "contacts") {
        if (const auto* t = get("subscriber_code")) {
            out.subscriber_code = *t;
        } else {
            bad("subscriber_code", "missing (the subscriber's code, e.g. TS-0042)");
        }
        if (const auto* t = get("priority")) {
            if (const auto p = whole_number(*t)) {
                req["priority"] = *p;
            } else {
                bad("priority", fmt::format("\"{}\" is not a whole number", *t));
            }
        }
        copy("name", req, "name");
        copy("relation", req, "relation");
        copy("reachable", req, "reachable");
        if (const auto* t = get("phones")) {
            req["phones"] = split_list(*t);
        }
        if (const auto* t = get("has_key")) {
            if (const auto b = yes_no(*t)) {
                req["has_key"] = *b;
            } else {
                bad("has_key", fmt::format("\"{}\" is not yes or no", *t));
            }
        }
        if (errors.size() == before) {
            try {
                out.contact = contact_from_request(req);
            } catch (const field_error& e) {
                auto [col, message] = split_message(e.message);
                bad(col, message);
            }
        }
    } else if (kind == "teams") {
        copy("name", req, "name");
        copy("phone", req, "phone");
        copy("schedule", req, "schedule");
        copy("state", req, "state");
        req["members"] = get("members") ? split_list(*get("members"), "|,;") : json::array();
        req["territory"] = get("comuni") ? split_list(*get("comuni"), "|,;") : json::array();
        try {
            out.team = team_from_request(req);
        } catch (const field_error& e) {
            auto [col, message] = split_message(e.message);
            if (col == "territory") {
                col = "comuni";  // team.add's field for the CSV's column
            }
            bad(col, message);
        }
    } else {
        if (const auto* t = get("subscriber_code")) {
            out.subscriber_code = *t;
        }
        for (const char* k : {"account", "type", "vendor", "label", "mode", "key"}) {
            copy(k, req, k);
        }
        req["protocol"] = get("protocol") ? *get("protocol") : std::string("dc09");
        if (const auto* t = get("interval_s")) {
            if (const auto n = whole_number(*t)) {
                req["interval_s"] = *n;
            } else {
                bad("interval_s", fmt::format("\"{}\" is not a whole number of seconds", *t));
            }
        }
        if (errors.size() == before) {
            if (auto problem = device_from_request(req, out.device)) {
                auto [col, message] = split_message(*problem);
                bad(col, message);
            }
        }
    }
    if (errors.size() != before) {
        return std::nullopt;
    }
    return out;
}

// Shared between the commit's writer job and its completion (caller's thread).
struct commit_state {
    std::vector<row_error> errors;
    std::size_t imported = 0;
    std::vector<storage::device> devices;
};

json errors_json(std::vector<row_error>& errors) {
    std::stable_sort(errors.begin(), errors.end(),
                     [](const row_error& a, const row_error& b) { return a.row < b.row; });
    json out = json::array();
    for (std::size_t i = 0; i < errors.size() && i < import_max_errors; ++i) {
        out.push_back(json{
            {"row", errors[i].row}, {"column", errors[i].column}, {"message", errors[i].message}});
    }
    return out;
}

// The checks only the database answers, then (when nothing is wrong and it is not a dry run)
// every row inserted: runs inside one writer job, so all rows or none are stored.
void check_and_apply(storage::database& db, const std::string& kind, const header_map& header,
                     std::vector<parsed_row>& apply, bool syntax_errors, bool dry_run,
                     std::int64_t now, const security::audit_entry& audit_template,
                     commit_state& st) {
    std::map<std::string, std::optional<std::int64_t>> ids;  // lower-case code -> id
    const auto subscriber_id = [&](const std::string& code) {
        const std::string key = lower(code);
        if (const auto it = ids.find(key); it != ids.end()) {
            return it->second;
        }
        const auto s = storage::find_subscriber_by_code(db, code);
        ids[key] = s ? std::optional<std::int64_t>(s->id) : std::nullopt;
        return ids[key];
    };
    const auto bad = [&](const parsed_row& r, std::string_view col, std::string message) {
        st.errors.push_back({r.row, header.name(col), std::move(message)});
    };
    // Completed in place (ids, priorities): the job owns the rows, and a copy of 50,000 would
    // keep alarms waiting behind the writer longer.
    if (kind == "subscribers") {
        std::map<std::string, std::int64_t> seen;
        for (const auto& r : apply) {
            const std::string key = lower(r.subscriber.code);
            if (const auto it = seen.find(key); it != seen.end()) {
                bad(r, "code", fmt::format("{} is also on row {}", r.subscriber.code, it->second));
            } else if (subscriber_id(r.subscriber.code)) {
                bad(r, "code", fmt::format("subscriber {} already exists", r.subscriber.code));
            }
            seen.emplace(key, r.row);
        }
    } else if (kind == "contacts") {
        std::map<std::int64_t, std::set<std::int64_t>> used;  // subscriber id -> priorities
        for (auto& r : apply) {
            const auto sid = subscriber_id(r.subscriber_code);
            if (!sid) {
                bad(r, "subscriber_code", fmt::format("no subscriber {}", r.subscriber_code));
                continue;
            }
            auto [it, fresh] = used.try_emplace(*sid);
            if (fresh) {
                for (const auto& c : storage::list_contacts(db, *sid)) {
                    it->second.insert(c.priority);
                }
            }
            r.contact.subscriber_id = *sid;
            if (r.contact.priority == 0) {
                r.contact.priority = it->second.empty() ? 1 : *it->second.rbegin() + 1;
            } else if (it->second.count(r.contact.priority) != 0) {
                bad(r, "priority",
                    fmt::format("subscriber {} already has a contact with priority {}",
                                r.subscriber_code, r.contact.priority));
                continue;
            }
            it->second.insert(r.contact.priority);
        }
    } else if (kind == "teams") {
        std::map<std::string, std::int64_t> seen;  // lower-case name -> row
        for (const auto& r : apply) {
            const std::string key = lower(r.team.name);
            if (const auto it = seen.find(key); it != seen.end()) {
                bad(r, "name", fmt::format("team {} is also on row {}", r.team.name, it->second));
            } else if (storage::find_team_by_name(db, r.team.name)) {
                bad(r, "name", fmt::format("team {} already exists", r.team.name));
            }
            seen.emplace(key, r.row);
        }
    } else {
        std::map<std::string, std::int64_t> seen;
        for (auto& r : apply) {
            if (const auto it = seen.find(r.device.account); it != seen.end()) {
                bad(r, "account",
                    fmt::format("{} is also on row {}", r.device.account, it->second));
            } else if (storage::find_device(db, r.device.account)) {
                bad(r, "account", fmt::format("device {} is already registered", r.device.account));
            }
            seen.emplace(r.device.account, r.row);
            if (!r.subscriber_code.empty()) {
                const auto sid = subscriber_id(r.subscriber_code);
                if (!sid) {
                    bad(r, "subscriber_code", fmt::format("no subscriber {}", r.subscriber_code));
                }
                r.device.subscriber_id = sid;
            }
        }
    }
    if (syntax_errors || !st.errors.empty() || dry_run) {
        return;  // nothing written
    }
    for (auto& r : apply) {
        if (kind == "subscribers") {
            r.subscriber.created_ms = now;
            r.subscriber.updated_ms = now;
            storage::insert_subscriber(db, r.subscriber);
        } else if (kind == "contacts") {
            storage::insert_contact(db, r.contact);
        } else if (kind == "teams") {
            r.team.created_ms = now;
            r.team.updated_ms = now;
            storage::insert_team(db, r.team);
        } else {
            r.device.created_ms = now;
            storage::insert_device(db, r.device);
            st.devices.push_back(r.device);
        }
    }
    st.imported = apply.size();
    security::audit_entry entry = audit_template;
    entry.detail = fmt::format("rows={}", apply.size());
    storage::append_audit(db, std::move(entry));
}

// An import being committed: what run_blocking's worker thread converts, then hands to the
// writer job (owned by both, one after the other).
struct parse_work {
    import_staging::staged staged;
    header_map header;
    std::vector<parsed_row> parsed;
    std::vector<row_error> syntax;
    std::size_t total = 0;  // rows sent (staged.rows is emptied once they are converted)
    std::string failure;    // an exception the conversion ended with
};

class import_handler {
public:
    import_handler(admin_backend& backend, admin_reply reply)
        : backend_(backend), reply_(std::move(reply)) {}

    void begin(const json& req) {
        const std::string kind = string_field(req, "kind");
        if (columns_of(kind) == nullptr) {
            throw field_error{"invalid", "kind: must be subscribers, contacts, devices or teams"};
        }
        const json* header = req.contains("header") ? &req["header"] : nullptr;
        if (header == nullptr || !header->is_array()) {
            throw field_error{"bad_request", "missing field 'header' (the CSV header row)"};
        }
        (void)map_header(kind, *header);
        std::string file = req.contains("file") && req["file"].is_string()
                               ? req["file"].get<std::string>().substr(0, 200)
                               : std::string();
        auto& staging = backend_.imports();
        const std::int64_t now = backend_.now_ms();
        std::erase_if(staging.imports, [now](const auto& kv) {
            return now - kv.second.touched_ms > import_idle_ms;
        });
        if (staging.imports.size() >= import_max_staged) {
            throw field_error{"busy", fmt::format("{} imports are already staged; commit or "
                                                  "cancel one (or wait 10 minutes)",
                                                  import_max_staged)};
        }
        const std::string id = fmt::format("imp-{}", staging.next_id++);
        import_staging::staged s;
        s.kind = kind;
        s.file = file;
        s.touched_ms = now;
        s.rows.push_back(json{{"header", *header}});
        staging.imports.emplace(id, std::move(s));
        reply_.ok(json{{"import", id}, {"kind", kind}});
    }

    void rows(const json& req) {
        auto& s = staged_import(req);
        const json* rows = req.contains("rows") ? &req["rows"] : nullptr;
        if (rows == nullptr || !rows->is_array()) {
            throw field_error{"bad_request", "missing field 'rows'"};
        }
        for (const json& r : *rows) {
            const bool ok = r.is_object() && r.contains("row") && r["row"].is_number_integer() &&
                            r.contains("cells") && r["cells"].is_array() &&
                            std::all_of(r["cells"].begin(), r["cells"].end(),
                                        [](const json& c) { return c.is_string(); });
            if (!ok) {
                throw field_error{"bad_request",
                                  "rows: each must be {\"row\":N,\"cells\":[strings]}"};
            }
        }
        const std::size_t bytes = rows->dump().size();
        if (s.rows.size() - 1 + rows->size() > import_max_rows) {
            throw field_error{"invalid",
                              fmt::format("rows: at most {} rows in one import", import_max_rows)};
        }
        if (s.bytes + bytes > import_max_bytes) {
            throw field_error{"invalid", fmt::format("rows: at most {} MiB in one import",
                                                     import_max_bytes / (1024 * 1024))};
        }
        s.bytes += bytes;
        s.touched_ms = backend_.now_ms();
        s.rows.insert(s.rows.end(), rows->begin(), rows->end());
        reply_.ok(json{{"staged", s.rows.size() - 1}});
    }

    void cancel(const json& req) {
        const std::string id = string_field(req, "import");
        staged_import(req);
        backend_.imports().imports.erase(id);
        reply_.ok(json{{"cancelled", id}});
    }

    void commit(const json& req) {
        const std::string id = string_field(req, "import");
        bool dry_run = false;
        if (req.contains("dry_run")) {
            if (!req["dry_run"].is_boolean()) {
                throw field_error{"bad_request", "field 'dry_run' must be a boolean"};
            }
            dry_run = req["dry_run"].get<bool>();
        }
        staged_import(req);
        auto node = backend_.imports().imports.extract(id);  // consumed, whatever the outcome
        import_staging::staged s = std::move(node.mapped());
        const header_map header = map_header(s.kind, s.rows.front()["header"]);
        // The rows are converted and checked on a worker thread (run_blocking): at 50,000 rows
        // that takes long enough to hold up every socket on the io thread. Then one writer job.
        auto work = std::make_shared<parse_work>();
        work->staged = std::move(s);
        work->header = header;
        auto self = std::make_shared<import_handler>(*this);
        const bool started = backend_.run_blocking(
            [work](const std::atomic<bool>& /*cancelled*/) {
                try {
                    const auto& rows = work->staged.rows;
                    work->parsed.reserve(rows.size() - 1);
                    for (std::size_t i = 1; i < rows.size(); ++i) {
                        if (auto r =
                                parse_row(work->staged.kind, work->header, rows[i], work->syntax)) {
                            work->parsed.push_back(std::move(*r));
                        }
                    }
                    work->total = rows.size() - 1;
                    work->staged.rows = {};  // freed here too, not on the io thread
                } catch (const std::exception& e) {
                    work->failure = e.what();
                }
            },
            [self, work, dry_run]() { self->apply(dry_run, *work); });
        if (!started) {
            // Not consumed: `import.commit` of the same id can be sent again.
            work->staged.touched_ms = backend_.now_ms();
            backend_.imports().imports.emplace(id, std::move(work->staged));
            throw field_error{"busy",
                              "a backup, retention run or other import is being worked on; "
                              "commit again in a moment (the rows stay staged)"};
        }
    }

    // Second half of commit, on the caller's thread: the checks only the database answers and
    // the inserts, in one writer job.
    void apply(bool dry_run, parse_work& work) {
        if (!work.failure.empty()) {
            reply_.fail("internal", fmt::format("nothing imported: {}", work.failure));
            return;
        }
        const import_staging::staged& s = work.staged;
        auto syntax = std::make_shared<std::vector<row_error>>(std::move(work.syntax));
        const std::int64_t now = backend_.now_ms();
        const security::audit_entry entry{
            0, now, reply_.source.actor, "import." + s.kind, s.file, reply_.source.peer, ""};
        const std::size_t total = work.total;
        auto state = std::make_shared<commit_state>();
        const bool syntax_errors = !syntax->empty();
        auto self = std::make_shared<import_handler>(*this);
        backend_.run_job(
            [state, kind = s.kind, header = work.header, parsed = std::move(work.parsed),
             syntax_errors, dry_run, now, entry](storage::database& db) mutable {
                check_and_apply(db, kind, header, parsed, syntax_errors, dry_run, now, entry,
                                *state);
            },
            [self, state, syntax, kind = s.kind, file = s.file, total, dry_run](
                std::error_code ec, const std::string& message) {
                if (ec) {
                    self->reply_.fail(ec == storage::errc::queue_full ? "busy" : "internal",
                                      fmt::format("nothing imported: {}",
                                                  message.empty() ? ec.message() : message));
                    return;
                }
                const auto now_tp = engine::from_ms(self->backend_.now_ms());
                for (const storage::device& dev : state->devices) {
                    self->backend_.registry().put(dev);
                    self->backend_.alarms().set_device(dev, now_tp);
                }
                std::vector<row_error> all = *syntax;
                all.insert(all.end(), state->errors.begin(), state->errors.end());
                const std::size_t n_errors = all.size();
                self->reply_.ok(json{{"kind", kind},
                                     {"file", file},
                                     {"rows", total},
                                     {"dry_run", dry_run},
                                     {"committed", state->imported > 0 || (total == 0 && !dry_run)},
                                     {"imported", state->imported},
                                     {"errors_total", n_errors},
                                     {"errors", errors_json(all)}});
            });
    }

    void export_rows(const json& req) {
        const std::string kind = string_field(req, "kind");
        const auto* cols = columns_of(kind);
        if (cols == nullptr) {
            throw field_error{"invalid", "kind: must be subscribers, contacts, devices or teams"};
        }
        const bool sensitive = req.contains("sensitive") && req["sensitive"].is_boolean() &&
                               req["sensitive"].get<bool>();
        const std::size_t offset = size_field(req, "offset", 0, SIZE_MAX / 2);
        const std::size_t limit = size_field(req, "limit", export_max_page, export_max_page);
        std::vector<std::string> names;
        std::vector<std::string> hidden;
        for (const auto& c : *cols) {
            if (c.sensitive && !sensitive) {
                continue;
            }
            names.emplace_back(c.name);
            if (c.sensitive) {
                hidden.emplace_back(c.name);
            }
        }
        storage::database& db = backend_.read_db();
        std::vector<storage::subscriber> subs = storage::list_subscribers(db);
        std::sort(subs.begin(), subs.end(),
                  [](const auto& a, const auto& b) { return a.code < b.code; });
        std::vector<std::map<std::string, std::string>> all;
        if (kind == "subscribers") {
            for (const auto& s : subs) {
                std::string phones;
                for (const auto& p : s.phones) {
                    phones += (phones.empty() ? "" : " | ") + p;
                }
                all.push_back({{"code", s.code},
                               {"last_name", s.last_name},
                               {"first_name", s.first_name},
                               {"date_of_birth", s.birth_date},
                               {"comune", s.comune},
                               {"street", s.street},
                               {"number", s.number},
                               {"floor", s.floor},
                               {"access_notes", s.access_notes},
                               {"phones", phones},
                               {"language", s.language},
                               {"living_situation", s.living_situation},
                               {"vulnerability", s.vulnerability},
                               {"medical_notes", s.medical_notes},
                               {"key_safe_code", s.key_safe_code},
                               {"guardian_kind", s.guardian_kind},
                               {"guardian_name", s.guardian_name},
                               {"guardian_phone", s.guardian_phone},
                               {"gp_name", s.gp_name},
                               {"gp_phone", s.gp_phone}});
            }
        } else if (kind == "contacts") {
            for (const auto& s : subs) {
                for (const auto& c : s.contacts) {
                    std::string phones;
                    for (const auto& p : c.phones) {
                        phones += (phones.empty() ? "" : " | ") + p;
                    }
                    all.push_back({{"subscriber_code", s.code},
                                   {"priority", std::to_string(c.priority)},
                                   {"name", c.name},
                                   {"relation", c.relation},
                                   {"phones", phones},
                                   {"has_key", c.has_key ? "yes" : "no"},
                                   {"reachable", c.reachable}});
                }
            }
        } else if (kind == "teams") {
            const auto joined = [](const std::vector<std::string>& items) {
                std::string out;
                for (const auto& i : items) {
                    out += (out.empty() ? "" : " | ") + i;
                }
                return out;
            };
            auto teams = storage::list_teams(db);
            std::sort(teams.begin(), teams.end(),
                      [](const auto& a, const auto& b) { return lower(a.name) < lower(b.name); });
            for (const auto& t : teams) {
                all.push_back({{"name", t.name},
                               {"phone", t.phone},
                               {"members", joined(t.members)},
                               {"comuni", joined(t.territory)},
                               {"schedule", t.schedule},
                               {"state", std::string(arc::teams::to_string(t.state))}});
            }
        } else {
            std::map<std::int64_t, std::string> codes;
            for (const auto& s : subs) {
                codes[s.id] = s.code;
            }
            auto devices = storage::list_devices(db);
            std::sort(devices.begin(), devices.end(),
                      [](const auto& a, const auto& b) { return a.account < b.account; });
            for (const auto& d : devices) {
                std::string key;
                if (d.key) {
                    for (const std::uint8_t b : *d.key) {
                        key += fmt::format("{:02x}", b);
                    }
                }
                all.push_back({{"account", d.account},
                               {"subscriber_code", d.subscriber_id ? codes[*d.subscriber_id] : ""},
                               {"protocol", d.protocol},
                               {"type", d.device_type},
                               {"vendor", d.vendor},
                               {"label", d.label},
                               {"interval_s", d.interval_s ? std::to_string(*d.interval_s) : ""},
                               {"mode", std::string(storage::to_string(d.mode))},
                               {"key", key}});
            }
        }
        json rows = json::array();
        for (std::size_t i = offset; i < all.size() && i < offset + limit; ++i) {
            json r = json::array();
            for (const auto& n : names) {
                r.push_back(all[i][n]);
            }
            rows.push_back(std::move(r));
        }
        const std::size_t end = std::min(all.size(), offset + limit);
        json result{{"kind", kind},     {"columns", names},
                    {"rows", rows},     {"total", all.size()},
                    {"offset", offset}, {"next", end < all.size() ? json(end) : json(nullptr)}};
        if (hidden.empty() || rows.empty()) {
            reply_.ok(std::move(result));
            return;
        }
        // Sensitive columns are audited before they are answered: no audit, no data.
        std::string cols_text;
        for (const auto& h : hidden) {
            cols_text += (cols_text.empty() ? "" : ",") + h;
        }
        const security::audit_entry entry{
            0,
            backend_.now_ms(),
            reply_.source.actor,
            "export.sensitive",
            kind,
            reply_.source.peer,
            fmt::format("rows={} offset={} columns={}", rows.size(), offset, cols_text)};
        auto self = std::make_shared<import_handler>(*this);
        backend_.run_job([entry](storage::database& wdb) { storage::append_audit(wdb, entry); },
                         [self, result = std::move(result)](std::error_code ec,
                                                            const std::string& message) mutable {
                             if (ec) {
                                 self->reply_.fail(
                                     "internal",
                                     fmt::format("not audited, not shown: {}",
                                                 message.empty() ? ec.message() : message));
                                 return;
                             }
                             self->reply_.ok(std::move(result));
                         });
    }

private:
    static std::string string_field(const json& req, const char* name) {
        const auto it = req.find(name);
        if (it == req.end() || !it->is_string()) {
            throw field_error{"bad_request", fmt::format("missing field '{}'", name)};
        }
        return it->get<std::string>();
    }

    static std::size_t size_field(const json& req, const char* name, std::size_t fallback,
                                  std::size_t max) {
        const auto it = req.find(name);
        if (it == req.end() || it->is_null()) {
            return fallback;
        }
        if (!it->is_number_unsigned() || it->get<std::size_t>() > max) {
            throw field_error{"invalid",
                              fmt::format("{}: must be an integer from 0 to {}", name, max)};
        }
        return it->get<std::size_t>();
    }

    import_staging::staged& staged_import(const json& req) {
        const std::string id = string_field(req, "import");
        auto& imports = backend_.imports().imports;
        const auto it = imports.find(id);
        if (it == imports.end()) {
            throw field_error{"not_found",
                              fmt::format("no staged import {} (committed, cancelled or idle "
                                          "for 10 minutes)",
                                          id)};
        }
        return it->second;
    }

    admin_backend& backend_;
    admin_reply reply_;
};

}  // namespace

bool handle_import_command(const std::string& cmd, const json& req, admin_backend& backend,
                           const admin_reply& reply) {
    return run_admin_command<import_handler>(cmd, req, backend, reply,
                                             {{"import.begin", &import_handler::begin},
                                              {"import.rows", &import_handler::rows},
                                              {"import.commit", &import_handler::commit},
                                              {"import.cancel", &import_handler::cancel},
                                              {"export", &import_handler::export_rows}});
}

}  // namespace arc::daemon
