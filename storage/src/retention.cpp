#include "arc/storage/retention.hpp"

#include <string>
#include <utility>
#include <vector>

#include "sqlite_util.hpp"
#include <fmt/format.h>

namespace arc::storage {

namespace {

// Active holds as SQL subqueries (a hold is active until released).
#define ARC_HELD_ALARMS                             \
    "SELECT CAST(ref AS INTEGER) FROM legal_holds " \
    "WHERE scope = 'alarm' AND released_ms IS NULL"
#define ARC_HELD_ACCOUNTS                                                                     \
    "SELECT ref FROM legal_holds WHERE scope = 'account' AND released_ms IS NULL "            \
    "UNION SELECT d.account FROM devices d JOIN legal_holds h ON h.scope = 'subscriber' AND " \
    "h.released_ms IS NULL AND d.subscriber_id = CAST(h.ref AS INTEGER)"

// Alarm `A` may go (?1 = cutoff): closed before the cutoff, not the newest row (the engine
// numbers new alarms after the highest id), not held itself, through its storm or its storm's
// member, or through its account or subscriber.
#define ARC_ALARM_PURGEABLE(A)                                                                \
    "(" A ".state = 'closed' AND " A ".closed_ms IS NOT NULL AND " A ".closed_ms < ?1 AND " A \
    ".id < (SELECT max(id) FROM alarms) AND " A ".id NOT IN (" ARC_HELD_ALARMS                \
    ") AND "                                                                                  \
    "coalesce(" A ".storm_id, 0) NOT IN (" ARC_HELD_ALARMS ") AND " A                         \
    ".id NOT IN "                                                                             \
    "(SELECT storm_id FROM alarms WHERE storm_id IS NOT NULL AND id IN (" ARC_HELD_ALARMS     \
    ")) "                                                                                     \
    "AND " A ".account NOT IN (" ARC_HELD_ACCOUNTS "))"

// Event `e` may go (?1 = cutoff): received before the cutoff, already seen by the engine (at or
// below its cursor), not the newest row (a new event must never get an id at or below the
// cursor), not of a held account, and no alarm that stays refers to it.
#define ARC_EVENT_PURGEABLE \
    "(e.received_ms < ?1 AND e.id <= coalesce((SELECT value FROM meta WHERE key = "           \
    "'engine_event_cursor'), 0) AND e.id < (SELECT max(id) FROM events) AND e.account NOT IN " \
    "(" ARC_HELD_ACCOUNTS ") AND NOT EXISTS (SELECT 1 FROM alarm_log l JOIN alarms k ON k.id " \
    "= l.alarm_id WHERE l.event_id = e.id AND NOT " ARC_ALARM_PURGEABLE("k")                   \
    ") AND NOT EXISTS (SELECT 1 FROM alarms k WHERE k.first_event_id = e.id AND NOT "          \
    ARC_ALARM_PURGEABLE("k") "))"

constexpr std::string_view hold_columns =
    "id, scope, ref, reason, created_by, created_ms, released_by, released_ms, release_reason";

legal_hold read_hold(detail::statement& stmt) {
    legal_hold h;
    h.id = stmt.column_int64(0);
    h.scope = parse_hold_scope(stmt.column_bytes(1)).value_or(hold_scope::alarm);
    h.ref = stmt.column_bytes(2);
    h.reason = stmt.column_bytes(3);
    h.created_by = stmt.column_bytes(4);
    h.created_ms = stmt.column_int64(5);
    h.released_by = stmt.column_bytes(6);
    if (!stmt.column_is_null(7)) {
        h.released_ms = stmt.column_int64(7);
    }
    h.release_reason = stmt.column_bytes(8);
    return h;
}

std::int64_t count(database& db, std::string_view sql, std::int64_t cutoff_ms) {
    detail::statement stmt(db, sql);
    stmt.bind(1, cutoff_ms);
    return stmt.step() ? stmt.column_int64(0) : 0;
}

purge_counts purge_alarms(database& db, std::int64_t cutoff_ms, std::size_t batch,
                          purge_cursor& cursor) {
    purge_counts out;
    std::int64_t last = 0;
    std::int64_t rows = 0;
    {
        detail::statement window(db,
                                 "SELECT max(id), count(*) FROM (SELECT id FROM alarms "
                                 "WHERE id > ?1 ORDER BY id LIMIT ?2)");
        window.bind(1, cursor.alarm_after);
        window.bind(2, static_cast<std::int64_t>(batch));
        window.step();
        last = window.column_int64(0);
        rows = window.column_int64(1);
    }
    if (rows == 0) {
        cursor.alarms_done = true;
        return out;
    }
    std::vector<std::int64_t> ids;
    {
        detail::statement pick(db,
                               "SELECT a.id FROM alarms a WHERE a.id > ?2 AND a.id <= ?3 "
                               "AND " ARC_ALARM_PURGEABLE("a"));
        pick.bind(1, cutoff_ms);
        pick.bind(2, cursor.alarm_after);
        pick.bind(3, last);
        while (pick.step()) {
            ids.push_back(pick.column_int64(0));
        }
    }
    for (const std::int64_t id : ids) {
        {
            detail::statement log(db, "DELETE FROM alarm_log WHERE alarm_id = ?1");
            log.bind(1, id);
            log.step();
            out.alarm_log += sqlite3_changes64(db.handle());
        }
        {
            // Members of a purged storm stay (they may be kept); they just leave it.
            detail::statement members(db, "UPDATE alarms SET storm_id = NULL WHERE storm_id = ?1");
            members.bind(1, id);
            members.step();
        }
        {
            detail::statement phone_case(db, "DELETE FROM cases WHERE alarm_id = ?1");
            phone_case.bind(1, id);
            phone_case.step();
        }
        {
            // Its missions go with it: their instructions and notes are about the person.
            detail::statement missions(db, "DELETE FROM missions WHERE alarm_id = ?1");
            missions.bind(1, id);
            missions.step();
        }
        detail::statement alarm(db, "DELETE FROM alarms WHERE id = ?1");
        alarm.bind(1, id);
        alarm.step();
        out.alarms += sqlite3_changes64(db.handle());
    }
    cursor.alarm_after = last;
    if (rows < static_cast<std::int64_t>(batch)) {
        cursor.alarms_done = true;
    }
    return out;
}

purge_counts purge_events(database& db, std::int64_t cutoff_ms, std::size_t batch,
                          purge_cursor& cursor) {
    purge_counts out;
    std::int64_t last = 0;
    std::int64_t rows = 0;
    std::int64_t oldest = 0;
    {
        detail::statement window(db,
                                 "SELECT max(id), count(*), min(received_ms) FROM (SELECT id, "
                                 "received_ms FROM events WHERE id > ?1 ORDER BY id LIMIT ?2)");
        window.bind(1, cursor.event_after);
        window.bind(2, static_cast<std::int64_t>(batch));
        window.step();
        last = window.column_int64(0);
        rows = window.column_int64(1);
        oldest = window.column_int64(2);
    }
    // Ids follow receipt: once a whole window is newer than the cutoff, so is the rest.
    if (rows == 0 || oldest >= cutoff_ms) {
        cursor.events_done = true;
        return out;
    }
    {
        detail::statement del(
            db, "DELETE FROM events AS e WHERE e.id > ?2 AND e.id <= ?3 AND " ARC_EVENT_PURGEABLE);
        del.bind(1, cutoff_ms);
        del.bind(2, cursor.event_after);
        del.bind(3, last);
        del.step();
        out.events = sqlite3_changes64(db.handle());
    }
    cursor.event_after = last;
    if (rows < static_cast<std::int64_t>(batch)) {
        cursor.events_done = true;
    }
    return out;
}

}  // namespace

std::string_view to_string(hold_scope scope) noexcept {
    switch (scope) {
        case hold_scope::alarm:
            return "alarm";
        case hold_scope::subscriber:
            return "subscriber";
        case hold_scope::account:
            return "account";
    }
    return "alarm";
}

std::optional<hold_scope> parse_hold_scope(std::string_view text) noexcept {
    for (const hold_scope s : {hold_scope::alarm, hold_scope::subscriber, hold_scope::account}) {
        if (text == to_string(s)) {
            return s;
        }
    }
    return std::nullopt;
}

std::int64_t insert_hold(database& db, const legal_hold& hold) {
    detail::statement stmt(db,
                           "INSERT INTO legal_holds (scope, ref, reason, created_by, created_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?5)");
    const std::string_view scope = to_string(hold.scope);
    stmt.bind_text(1, scope);
    stmt.bind_text(2, hold.ref);
    stmt.bind_text(3, hold.reason);
    stmt.bind_text(4, hold.created_by);
    stmt.bind(5, hold.created_ms);
    stmt.step();
    return sqlite3_last_insert_rowid(db.handle());
}

std::optional<legal_hold> find_hold(database& db, std::int64_t id) {
    detail::statement stmt(db,
                           fmt::format("SELECT {} FROM legal_holds WHERE id = ?1", hold_columns));
    stmt.bind(1, id);
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_hold(stmt);
}

bool release_hold(database& db, std::int64_t id, std::string_view by, std::int64_t at_ms,
                  std::string_view reason) {
    detail::statement stmt(db,
                           "UPDATE legal_holds SET released_by = ?2, released_ms = ?3, "
                           "release_reason = ?4 WHERE id = ?1 AND released_ms IS NULL");
    stmt.bind(1, id);
    stmt.bind_text(2, by);
    stmt.bind(3, at_ms);
    stmt.bind_text(4, reason);
    stmt.step();
    return sqlite3_changes64(db.handle()) == 1;
}

std::vector<legal_hold> list_holds(database& db, bool include_released) {
    detail::statement stmt(db,
                           fmt::format("SELECT {} FROM legal_holds {} ORDER BY id", hold_columns,
                                       include_released ? "" : "WHERE released_ms IS NULL"));
    std::vector<legal_hold> out;
    while (stmt.step()) {
        out.push_back(read_hold(stmt));
    }
    return out;
}

purge_counts purge_batch(database& db, std::int64_t cutoff_ms, std::size_t batch,
                         purge_cursor& cursor) {
    if (batch == 0) {
        batch = 1;
    }
    if (!cursor.alarms_done) {
        return purge_alarms(db, cutoff_ms, batch, cursor);
    }
    if (!cursor.events_done) {
        return purge_events(db, cutoff_ms, batch, cursor);
    }
    return {};
}

purge_counts count_purgeable(database& db, std::int64_t cutoff_ms) {
    purge_counts out;
    out.alarms =
        count(db, "SELECT count(*) FROM alarms a WHERE " ARC_ALARM_PURGEABLE("a"), cutoff_ms);
    out.alarm_log = count(db,
                          "SELECT count(*) FROM alarm_log WHERE alarm_id IN (SELECT a.id FROM "
                          "alarms a WHERE " ARC_ALARM_PURGEABLE("a") ")",
                          cutoff_ms);
    out.events =
        count(db, "SELECT count(*) FROM events AS e WHERE " ARC_EVENT_PURGEABLE, cutoff_ms);
    return out;
}

std::vector<event_alarm_link> alarms_of_event(database& db, std::int64_t event_id) {
    detail::statement stmt(db,
                           "SELECT l.alarm_id, l.change, a.class, a.state FROM alarm_log l JOIN "
                           "alarms a ON a.id = l.alarm_id WHERE l.event_id = ?1 ORDER BY l.id");
    stmt.bind(1, event_id);
    std::vector<event_alarm_link> out;
    while (stmt.step()) {
        out.push_back({stmt.column_int64(0), stmt.column_bytes(1), stmt.column_bytes(2),
                       stmt.column_bytes(3)});
    }
    return out;
}

#undef ARC_EVENT_PURGEABLE
#undef ARC_ALARM_PURGEABLE
#undef ARC_HELD_ACCOUNTS
#undef ARC_HELD_ALARMS

}  // namespace arc::storage
