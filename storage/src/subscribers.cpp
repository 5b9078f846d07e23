#include "arc/storage/subscribers.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <span>
#include <string>
#include <utility>

#include "field_keys.hpp"
#include "sqlite_util.hpp"
#include <fmt/format.h>
#include <sqlite3.h>

#include "arc/security/field_crypto.hpp"

namespace arc::storage {

namespace sec = arc::security;

namespace {

constexpr std::string_view subscriber_columns =
    "id, code, first_name, last_name, birth_date, comune, street, number, floor, access_notes, "
    "phones, language, living_situation, vulnerability, medical_notes, key_safe_code, "
    "guardian_kind, guardian_name, guardian_phone, gp_name, gp_phone, status, away_until_ms, "
    "created_ms, updated_ms";

constexpr std::string_view contact_columns =
    "id, subscriber_id, priority, name, relation, phones, has_key, reachable";

// Phones as a JSON array of strings (the API validates them: digits, spaces, + - /), escaped
// anyway so that any text round-trips.
std::string phones_to_json(const std::vector<std::string>& phones) {
    std::string out = "[";
    for (std::size_t i = 0; i < phones.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += '"';
        for (const char c : phones[i]) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += c;
            } else if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            } else {
                out += c;
            }
        }
        out += '"';
    }
    out += ']';
    return out;
}

std::vector<std::string> phones_from_json(database& db, const std::string& text) {
    detail::statement stmt(db, "SELECT value FROM json_each(?1) ORDER BY key");
    stmt.bind_text(1, text);
    std::vector<std::string> out;
    while (stmt.step()) {
        out.push_back(stmt.column_bytes(0));
    }
    return out;
}

void bind_optional_text(detail::statement& stmt, int index, const std::string& text) {
    if (text.empty()) {
        stmt.bind_null(index);
    } else {
        stmt.bind_text(index, text);
    }
}

void bind_optional(detail::statement& stmt, int index, const std::optional<std::int64_t>& value) {
    if (value) {
        stmt.bind(index, *value);
    } else {
        stmt.bind_null(index);
    }
}

subscriber read_subscriber(database& db, const detail::statement& stmt) {
    subscriber s;
    s.id = stmt.column_int64(0);
    s.code = stmt.column_bytes(1);
    s.first_name = stmt.column_bytes(2);
    s.last_name = stmt.column_bytes(3);
    s.birth_date = stmt.column_bytes(4);
    s.comune = stmt.column_bytes(5);
    s.street = stmt.column_bytes(6);
    s.number = stmt.column_bytes(7);
    s.floor = stmt.column_bytes(8);
    s.access_notes = stmt.column_bytes(9);
    const std::string phones = stmt.column_bytes(10);
    s.language = stmt.column_bytes(11);
    s.living_situation = stmt.column_bytes(12);
    s.vulnerability = stmt.column_bytes(13);
    s.medical_notes =
        detail::secret_from_store(stmt, 14, fmt::format("subscriber {}", s.id), "medical_notes");
    s.key_safe_code =
        detail::secret_from_store(stmt, 15, fmt::format("subscriber {}", s.id), "key_safe_code");
    s.guardian_kind = stmt.column_bytes(16);
    s.guardian_name = stmt.column_bytes(17);
    s.guardian_phone = stmt.column_bytes(18);
    s.gp_name = stmt.column_bytes(19);
    s.gp_phone = stmt.column_bytes(20);
    s.status = parse_subscriber_status(stmt.column_bytes(21)).value_or(subscriber_status::active);
    if (!stmt.column_is_null(22)) {
        s.away_until_ms = stmt.column_int64(22);
    }
    s.created_ms = stmt.column_int64(23);
    s.updated_ms = stmt.column_int64(24);
    // Read after the row: json_each runs on another statement of the same connection.
    s.phones = phones_from_json(db, phones);
    return s;
}

contact read_contact(database& db, const detail::statement& stmt) {
    contact c;
    c.id = stmt.column_int64(0);
    c.subscriber_id = stmt.column_int64(1);
    c.priority = stmt.column_int64(2);
    c.name = stmt.column_bytes(3);
    c.relation = stmt.column_bytes(4);
    const std::string phones = stmt.column_bytes(5);
    c.has_key = stmt.column_int64(6) != 0;
    c.reachable = stmt.column_bytes(7);
    c.phones = phones_from_json(db, phones);
    return c;
}

// Binds ?2.. ?24 with the subscriber's fields (?1 is the id or unused); the secrets must stay
// alive until the statement is done.
void bind_subscriber(detail::statement& stmt, const subscriber& s, const std::string& phones,
                     const detail::stored_secret& medical, const detail::stored_secret& key_safe) {
    stmt.bind_text(2, s.code);
    stmt.bind_text(3, s.first_name);
    stmt.bind_text(4, s.last_name);
    bind_optional_text(stmt, 5, s.birth_date);
    stmt.bind_text(6, s.comune);
    stmt.bind_text(7, s.street);
    stmt.bind_text(8, s.number);
    stmt.bind_text(9, s.floor);
    stmt.bind_text(10, s.access_notes);
    stmt.bind_text(11, phones);
    stmt.bind_text(12, s.language);
    stmt.bind_text(13, s.living_situation);
    stmt.bind_text(14, s.vulnerability);
    detail::bind_secret(stmt, 15, medical);
    detail::bind_secret(stmt, 16, key_safe);
    bind_optional_text(stmt, 17, s.guardian_kind);
    stmt.bind_text(18, s.guardian_name);
    stmt.bind_text(19, s.guardian_phone);
    stmt.bind_text(20, s.gp_name);
    stmt.bind_text(21, s.gp_phone);
    stmt.bind_text(22, to_string(s.status));
    bind_optional(stmt, 23, s.away_until_ms);
    stmt.bind(24, s.created_ms);
    stmt.bind(25, s.updated_ms);
}

bool code_taken(database& db, std::string_view code, std::int64_t except_id) {
    detail::statement stmt(db, "SELECT 1 FROM subscribers WHERE code = ?1 AND id != ?2");
    stmt.bind_text(1, code);
    stmt.bind(2, except_id);
    return stmt.step();
}

bool priority_taken(database& db, const contact& c) {
    detail::statement stmt(
        db, "SELECT 1 FROM contacts WHERE subscriber_id = ?1 AND priority = ?2 AND id != ?3");
    stmt.bind(1, c.subscriber_id);
    stmt.bind(2, c.priority);
    stmt.bind(3, c.id);
    return stmt.step();
}

std::optional<subscriber> find_where(database& db, std::string_view where,
                                     const std::function<void(detail::statement&)>& bind) {
    std::optional<subscriber> out;
    {
        detail::statement stmt(
            db, fmt::format("SELECT {} FROM subscribers WHERE {}", subscriber_columns, where));
        bind(stmt);
        if (!stmt.step()) {
            return std::nullopt;
        }
        out = read_subscriber(db, stmt);
    }
    out->contacts = list_contacts(db, out->id);
    return out;
}

}  // namespace

std::string_view to_string(subscriber_status status) noexcept {
    switch (status) {
        case subscriber_status::active:
            return "active";
        case subscriber_status::away:
            return "away";
        case subscriber_status::hospital:
            return "hospital";
        case subscriber_status::ended:
            return "ended";
    }
    return "active";
}

std::optional<subscriber_status> parse_subscriber_status(std::string_view text) noexcept {
    for (const auto s : {subscriber_status::active, subscriber_status::away,
                         subscriber_status::hospital, subscriber_status::ended}) {
        if (text == to_string(s)) {
            return s;
        }
    }
    return std::nullopt;
}

std::int64_t insert_subscriber(database& db, const subscriber& s) {
    if (code_taken(db, s.code, 0)) {
        throw already_exists(
            fmt::format("{}: subscriber {} already exists", detail::db_name(db.handle()), s.code));
    }
    const std::string phones = phones_to_json(s.phones);
    const detail::stored_secret medical = detail::secret_to_store(s.medical_notes);
    const detail::stored_secret key_safe = detail::secret_to_store(s.key_safe_code);
    std::int64_t id = 0;
    {
        detail::statement stmt(
            db, fmt::format("INSERT INTO subscribers ({}) VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, "
                            "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
                            "?22, ?23, ?24, ?25)",
                            subscriber_columns));
        bind_subscriber(stmt, s, phones, medical, key_safe);
        stmt.step();
        id = sqlite3_last_insert_rowid(db.handle());
    }
    for (contact c : s.contacts) {
        c.id = 0;
        c.subscriber_id = id;
        insert_contact(db, c);
    }
    return id;
}

bool update_subscriber(database& db, const subscriber& s) {
    if (code_taken(db, s.code, s.id)) {
        throw already_exists(
            fmt::format("{}: subscriber {} already exists", detail::db_name(db.handle()), s.code));
    }
    const std::string phones = phones_to_json(s.phones);
    const detail::stored_secret medical = detail::secret_to_store(s.medical_notes);
    const detail::stored_secret key_safe = detail::secret_to_store(s.key_safe_code);
    detail::statement stmt(
        db,
        "UPDATE subscribers SET code = ?2, first_name = ?3, last_name = ?4, birth_date = ?5, "
        "comune = ?6, street = ?7, number = ?8, floor = ?9, access_notes = ?10, phones = ?11, "
        "language = ?12, living_situation = ?13, vulnerability = ?14, medical_notes = ?15, "
        "key_safe_code = ?16, guardian_kind = ?17, guardian_name = ?18, guardian_phone = ?19, "
        "gp_name = ?20, gp_phone = ?21, status = ?22, away_until_ms = ?23, created_ms = ?24, "
        "updated_ms = ?25 WHERE id = ?1");
    stmt.bind(1, s.id);
    bind_subscriber(stmt, s, phones, medical, key_safe);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

bool delete_subscriber(database& db, std::int64_t id) {
    detail::statement stmt(db, "DELETE FROM subscribers WHERE id = ?1");
    stmt.bind(1, id);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

std::optional<subscriber> find_subscriber(database& db, std::int64_t id) {
    return find_where(db, "id = ?1", [id](detail::statement& stmt) { stmt.bind(1, id); });
}

std::optional<subscriber> find_subscriber_by_code(database& db, std::string_view code) {
    return find_where(db, "code = ?1",
                      [code](detail::statement& stmt) { stmt.bind_text(1, code); });
}

std::vector<subscriber> list_subscribers(database& db) {
    std::vector<subscriber> out;
    {
        detail::statement stmt(
            db, fmt::format("SELECT {} FROM subscribers ORDER BY last_name, first_name, id",
                            subscriber_columns));
        while (stmt.step()) {
            out.push_back(read_subscriber(db, stmt));
        }
    }
    for (subscriber& s : out) {
        s.contacts = list_contacts(db, s.id);
    }
    return out;
}

std::vector<contact> list_contacts(database& db, std::int64_t subscriber_id) {
    std::vector<contact> out;
    detail::statement stmt(
        db, fmt::format("SELECT {} FROM contacts WHERE subscriber_id = ?1 ORDER BY priority, id",
                        contact_columns));
    stmt.bind(1, subscriber_id);
    while (stmt.step()) {
        out.push_back(read_contact(db, stmt));
    }
    return out;
}

std::int64_t insert_contact(database& db, const contact& c) {
    if (priority_taken(db, c)) {
        throw already_exists(fmt::format("{}: subscriber {} already has a contact of priority {}",
                                         detail::db_name(db.handle()), c.subscriber_id,
                                         c.priority));
    }
    const std::string phones = phones_to_json(c.phones);
    detail::statement stmt(db,
                           "INSERT INTO contacts (subscriber_id, priority, name, relation, "
                           "phones, has_key, reachable) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    stmt.bind(1, c.subscriber_id);
    stmt.bind(2, c.priority);
    stmt.bind_text(3, c.name);
    stmt.bind_text(4, c.relation);
    stmt.bind_text(5, phones);
    stmt.bind(6, c.has_key ? 1 : 0);
    stmt.bind_text(7, c.reachable);
    stmt.step();
    return sqlite3_last_insert_rowid(db.handle());
}

bool update_contact(database& db, const contact& c) {
    if (priority_taken(db, c)) {
        throw already_exists(fmt::format("{}: subscriber {} already has a contact of priority {}",
                                         detail::db_name(db.handle()), c.subscriber_id,
                                         c.priority));
    }
    const std::string phones = phones_to_json(c.phones);
    detail::statement stmt(db,
                           "UPDATE contacts SET priority = ?2, name = ?3, relation = ?4, "
                           "phones = ?5, has_key = ?6, reachable = ?7 WHERE id = ?1");
    stmt.bind(1, c.id);
    stmt.bind(2, c.priority);
    stmt.bind_text(3, c.name);
    stmt.bind_text(4, c.relation);
    stmt.bind_text(5, phones);
    stmt.bind(6, c.has_key ? 1 : 0);
    stmt.bind_text(7, c.reachable);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

bool delete_contact(database& db, std::int64_t contact_id) {
    detail::statement stmt(db, "DELETE FROM contacts WHERE id = ?1");
    stmt.bind(1, contact_id);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

std::optional<contact> find_contact(database& db, std::int64_t contact_id) {
    detail::statement stmt(db,
                           fmt::format("SELECT {} FROM contacts WHERE id = ?1", contact_columns));
    stmt.bind(1, contact_id);
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_contact(db, stmt);
}

bool set_device_subscriber(database& db, std::string_view account,
                           std::optional<std::int64_t> subscriber_id) {
    detail::statement stmt(db, "UPDATE devices SET subscriber_id = ?2 WHERE account = upper(?1)");
    stmt.bind_text(1, account);
    bind_optional(stmt, 2, subscriber_id);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

std::vector<device> subscriber_devices(database& db, std::int64_t subscriber_id) {
    std::vector<std::string> accounts;
    {
        detail::statement stmt(
            db, "SELECT account FROM devices WHERE subscriber_id = ?1 ORDER BY account");
        stmt.bind(1, subscriber_id);
        while (stmt.step()) {
            accounts.push_back(stmt.column_bytes(0));
        }
    }
    std::vector<device> out;
    for (const std::string& account : accounts) {
        if (auto dev = find_device(db, account)) {
            out.push_back(std::move(*dev));
        }
    }
    return out;
}

}  // namespace arc::storage
