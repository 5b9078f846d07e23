#include "arc/storage/teams.hpp"

#include <functional>
#include <string>

#include "sqlite_util.hpp"
#include <fmt/format.h>
#include <sqlite3.h>

namespace arc::storage {
namespace {

constexpr std::string_view team_columns =
    "id, name, members, phone, territory, schedule, state, created_ms, updated_ms";

// A JSON array of strings, escaped so that any text round-trips.
std::string to_json_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        out += i > 0 ? ",\"" : "\"";
        for (const char c : items[i]) {
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

std::vector<std::string> from_json_array(database& db, const std::string& text) {
    detail::statement stmt(db, "SELECT value FROM json_each(?1) ORDER BY key");
    stmt.bind_text(1, text);
    std::vector<std::string> out;
    while (stmt.step()) {
        out.push_back(stmt.column_bytes(0));
    }
    return out;
}

// The row's columns; members and territory come back as JSON text, read after the row.
struct raw_team {
    team t;
    std::string members;
    std::string territory;
};

raw_team read_row(const detail::statement& stmt) {
    raw_team r;
    r.t.id = stmt.column_int64(0);
    r.t.name = stmt.column_bytes(1);
    r.members = stmt.column_bytes(2);
    r.t.phone = stmt.column_bytes(3);
    r.territory = stmt.column_bytes(4);
    r.t.schedule = stmt.column_bytes(5);
    r.t.state = arc::teams::parse_team_state(stmt.column_bytes(6))
                    .value_or(arc::teams::team_state::available);
    r.t.created_ms = stmt.column_int64(7);
    r.t.updated_ms = stmt.column_int64(8);
    return r;
}

team finish(database& db, raw_team r) {
    // json_each runs on another statement of the same connection: after the row is read.
    r.t.members = from_json_array(db, r.members);
    r.t.territory = from_json_array(db, r.territory);
    return std::move(r.t);
}

std::vector<team> select_teams(database& db, std::string_view where,
                               const std::function<void(detail::statement&)>& bind) {
    std::vector<raw_team> rows;
    {
        detail::statement stmt(
            db, fmt::format("SELECT {} FROM teams {} ORDER BY name COLLATE NOCASE, id",
                            team_columns, where));
        bind(stmt);
        while (stmt.step()) {
            rows.push_back(read_row(stmt));
        }
    }
    std::vector<team> out;
    out.reserve(rows.size());
    for (raw_team& r : rows) {
        out.push_back(finish(db, std::move(r)));
    }
    return out;
}

bool name_taken(database& db, std::string_view name, std::int64_t except_id) {
    detail::statement stmt(db, "SELECT 1 FROM teams WHERE name = ?1 AND id != ?2");
    stmt.bind_text(1, name);
    stmt.bind(2, except_id);
    return stmt.step();
}

void bind_team(detail::statement& stmt, const team& t, const std::string& members,
               const std::string& territory) {
    stmt.bind_text(2, t.name);
    stmt.bind_text(3, members);
    stmt.bind_text(4, t.phone);
    stmt.bind_text(5, territory);
    stmt.bind_text(6, t.schedule);
    stmt.bind_text(7, arc::teams::to_string(t.state));
    stmt.bind(8, t.created_ms);
    stmt.bind(9, t.updated_ms);
}

}  // namespace

std::int64_t insert_team(database& db, const team& t) {
    if (name_taken(db, t.name, 0)) {
        throw already_exists(
            fmt::format("{}: team {} already exists", detail::db_name(db.handle()), t.name));
    }
    const std::string members = to_json_array(t.members);
    const std::string territory = to_json_array(t.territory);
    detail::statement stmt(
        db, fmt::format("INSERT INTO teams ({}) VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        team_columns));
    bind_team(stmt, t, members, territory);
    stmt.step();
    return sqlite3_last_insert_rowid(db.handle());
}

bool update_team(database& db, const team& t) {
    if (name_taken(db, t.name, t.id)) {
        throw already_exists(
            fmt::format("{}: team {} already exists", detail::db_name(db.handle()), t.name));
    }
    const std::string members = to_json_array(t.members);
    const std::string territory = to_json_array(t.territory);
    detail::statement stmt(db,
                           "UPDATE teams SET name = ?2, members = ?3, phone = ?4, territory = ?5, "
                           "schedule = ?6, state = ?7, created_ms = ?8, updated_ms = ?9 "
                           "WHERE id = ?1");
    stmt.bind(1, t.id);
    bind_team(stmt, t, members, territory);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

bool set_team_state(database& db, std::int64_t id, arc::teams::team_state state,
                    std::int64_t now_ms) {
    detail::statement stmt(db, "UPDATE teams SET state = ?2, updated_ms = ?3 WHERE id = ?1");
    stmt.bind(1, id);
    stmt.bind_text(2, arc::teams::to_string(state));
    stmt.bind(3, now_ms);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

bool delete_team(database& db, std::int64_t id) {
    detail::statement stmt(db, "DELETE FROM teams WHERE id = ?1");
    stmt.bind(1, id);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

std::optional<team> find_team(database& db, std::int64_t id) {
    auto rows = select_teams(db, "WHERE id = ?1", [id](detail::statement& s) { s.bind(1, id); });
    if (rows.empty()) {
        return std::nullopt;
    }
    return std::move(rows.front());
}

std::optional<team> find_team_by_name(database& db, std::string_view name) {
    auto rows =
        select_teams(db, "WHERE name = ?1", [name](detail::statement& s) { s.bind_text(1, name); });
    if (rows.empty()) {
        return std::nullopt;
    }
    return std::move(rows.front());
}

std::vector<team> list_teams(database& db) {
    return select_teams(db, "", [](detail::statement&) {});
}

}  // namespace arc::storage
