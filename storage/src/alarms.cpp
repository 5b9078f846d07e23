#include "arc/storage/alarms.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "field_keys.hpp"
#include "sqlite_util.hpp"
#include <fmt/format.h>
#include <sqlite3.h>

#include "arc/config/event_codes.hpp"
#include "arc/storage/missions.hpp"

namespace arc::storage {

namespace {

namespace eng = arc::engine;

constexpr std::string_view cursor_key = "engine_event_cursor";

// The detail of the mode_changed the engine reports when a device's test mode runs out (its
// device in alarm.account): the one mode change storage records itself, since every other one
// comes from an operator whose request already stored the new mode.
constexpr std::string_view test_mode_ended = "test mode ended";

std::int64_t sql_id(eng::alarm_id id) { return static_cast<std::int64_t>(id); }

std::int64_t sql_limit(std::size_t limit) {
    return static_cast<std::int64_t>(
        std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

std::optional<eng::alarm_state> parse_alarm_state(std::string_view text) noexcept {
    for (int i = 0; i <= static_cast<int>(eng::alarm_state::closed); ++i) {
        const auto state = static_cast<eng::alarm_state>(i);
        if (text == eng::to_string(state)) {
            return state;
        }
    }
    return std::nullopt;
}

void bind_optional(detail::statement& stmt, int index, const std::optional<std::int64_t>& value) {
    if (value) {
        stmt.bind(index, *value);
    } else {
        stmt.bind_null(index);
    }
}

std::optional<std::int64_t> column_optional(const detail::statement& stmt, int index) {
    if (stmt.column_is_null(index)) {
        return std::nullopt;
    }
    return stmt.column_int64(index);
}

// Persists one change; a member of the batch's writes, in the batch's order.
class batch_writer {
public:
    explicit batch_writer(database& db) : db_(db) {}

    void upsert(const eng::alarm& a) {
        detail::statement stmt(
            db_,
            "INSERT OR REPLACE INTO alarms (id, class, kind, state, level, account, code, zone, "
            "text, holder, team, outcome, opened_ms, last_event_ms, closed_ms, event_count, "
            "first_event_id, restored_ms, storm, storm_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)");
        stmt.bind(1, sql_id(a.id));
        stmt.bind_text(2, arc::config::to_string(a.cls));
        stmt.bind_text(3, arc::config::to_string(a.kind));
        stmt.bind_text(4, eng::to_string(a.state));
        stmt.bind(5, a.level);
        stmt.bind_text(6, a.account);
        stmt.bind_text(7, a.code);
        stmt.bind_text(8, a.zone);
        stmt.bind_text(9, a.text);
        stmt.bind_text(10, a.holder);
        stmt.bind_text(11, a.team);
        stmt.bind_text(12, a.outcome);
        stmt.bind(13, eng::to_ms(a.opened_at));
        stmt.bind(14, eng::to_ms(a.last_event_at));
        std::optional<std::int64_t> closed_ms;
        if (a.state == eng::alarm_state::closed && !a.timeline.empty()) {
            closed_ms = eng::to_ms(a.timeline.back().at);
        }
        bind_optional(stmt, 15, closed_ms);
        stmt.bind(16, a.event_count);
        stmt.bind(17, static_cast<std::int64_t>(a.first_event_id));
        bind_optional(stmt, 18,
                      a.restored_at ? std::optional(eng::to_ms(*a.restored_at)) : std::nullopt);
        stmt.bind(19, a.storm ? 1 : 0);
        bind_optional(stmt, 20, a.storm_id ? std::optional(sql_id(*a.storm_id)) : std::nullopt);
        stmt.step();
    }

    void apply(const eng::change& c) {
        if (c.kind == eng::change_kind::mode_changed) {
            end_test_mode(c);
            return;
        }
        if (c.alarm.id == 0) {
            return;  // test_event, ignored, logged, retransmitted: the events table has them
        }
        update_header(c.alarm);
        const std::int64_t id = sql_id(c.alarm.id);
        const std::int64_t at = eng::to_ms(c.at);
        switch (c.kind) {
            case eng::change_kind::opened:
            case eng::change_kind::merged:
            case eng::change_kind::retransmitted:
                log(id, c, c.detail);
                break;
            case eng::change_kind::noted:
                // An operator's note or call log names people, numbers and health: sealed
                // with the field keys when they are set.
                log(id, c, c.detail, true);
                break;
            case eng::change_kind::escalated:
                log(id, c, c.detail.empty() ? std::to_string(c.alarm.level) : c.detail);
                apply_mission_change(db_, c);
                break;
            case eng::change_kind::restore_noted:
                set_int(id, "UPDATE alarms SET restored_ms = ?2 WHERE id = ?1", at);
                log(id, c, c.detail);
                break;
            case eng::change_kind::transitioned:
                if (c.transition && c.transition->to == eng::alarm_state::dispatched) {
                    set_text(id, "UPDATE alarms SET team = ?2 WHERE id = ?1", c.transition->detail);
                }
                if (is_decline(c)) {
                    set_text(id, "UPDATE alarms SET team = ?2 WHERE id = ?1", "");
                }
                // A decline's detail carries the team's reason, free text: sealed like a note.
                log(id, c, c.detail, is_decline(c));
                apply_mission_change(db_, c);
                break;
            case eng::change_kind::closed:
                close(id, at, c.detail);
                if (c.detail == "restored") {
                    // Closed by its restore (the engine's outcome for it): when it restored.
                    set_int(
                        id,
                        "UPDATE alarms SET restored_ms = coalesce(restored_ms, ?2) WHERE id = ?1",
                        at);
                }
                log(id, c, c.detail);
                break;
            case eng::change_kind::storm_grouped: {
                log(id, c, fmt::format("{} members", c.members.size()));
                const std::string joined = fmt::format("storm #{}", id);
                for (const eng::alarm_id member : c.members) {
                    join_storm(id, member, c, joined);
                }
                break;
            }
            case eng::change_kind::storm_joined:
                if (!c.members.empty()) {
                    log(id, c, fmt::format("alarm #{}", c.members.front()));
                    join_storm(id, c.members.front(), c, fmt::format("storm #{}", id));
                }
                break;
            case eng::change_kind::storm_closed: {
                const std::string& outcome = c.transition ? c.transition->detail : c.detail;
                for (const eng::alarm_id member : c.members) {
                    const std::int64_t member_id = sql_id(member);
                    detail::statement stmt(db_,
                                           "UPDATE alarms SET state = 'closed', closed_ms = ?2, "
                                           "outcome = ?3 WHERE id = ?1");
                    stmt.bind(1, member_id);
                    stmt.bind(2, at);
                    stmt.bind_text(3, outcome);
                    stmt.step();
                    log(member_id, c, outcome);
                }
                break;
            }
            case eng::change_kind::test_event:
            case eng::change_kind::ignored:
            case eng::change_kind::logged:
            case eng::change_kind::mode_changed:
                break;
        }
    }

private:
    void update_header(const eng::alarm_header& h) {
        {
            detail::statement stmt(db_,
                                   "UPDATE alarms SET state = ?2, level = ?3, holder = ?4, "
                                   "last_event_ms = ?5, event_count = ?6, storm = ?7, "
                                   "storm_id = ?8 WHERE id = ?1");
            bind_header(stmt, h);
            stmt.step();
        }
        if (sqlite3_changes(db_.handle()) > 0) {
            return;
        }
        // No `created` copy reached us (opened and closed within one engine call): the header
        // still makes a row, so that the log has an alarm to belong to.
        detail::statement stmt(db_,
                               "INSERT INTO alarms (id, state, level, holder, last_event_ms, "
                               "event_count, storm, storm_id, class, kind, account, opened_ms) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        bind_header(stmt, h);
        stmt.bind_text(9, arc::config::to_string(h.cls));
        stmt.bind_text(10, arc::config::to_string(h.kind));
        stmt.bind_text(11, h.account);
        stmt.bind(12, eng::to_ms(h.opened_at));
        stmt.step();
    }

    static void bind_header(detail::statement& stmt, const eng::alarm_header& h) {
        stmt.bind(1, sql_id(h.id));
        stmt.bind_text(2, eng::to_string(h.state));
        stmt.bind(3, h.level);
        stmt.bind_text(4, h.holder);
        stmt.bind(5, eng::to_ms(h.last_event_at));
        stmt.bind(6, h.event_count);
        stmt.bind(7, h.storm ? 1 : 0);
        bind_optional(stmt, 8, h.storm_id ? std::optional(sql_id(*h.storm_id)) : std::nullopt);
    }

    static bool is_decline(const eng::change& c) {
        return c.transition && c.transition->from == eng::alarm_state::dispatched &&
               c.transition->to == eng::alarm_state::acknowledged;
    }

    void log(std::int64_t alarm_id, const eng::change& c, std::string_view text,
             bool sealed = false) {
        const detail::stored_secret secret =
            sealed ? detail::secret_to_store(std::string(text)) : detail::stored_secret{};
        detail::statement stmt(db_,
                               "INSERT INTO alarm_log (alarm_id, at_ms, change, event_id, actor, "
                               "from_state, to_state, detail) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        stmt.bind(1, alarm_id);
        stmt.bind(2, eng::to_ms(c.at));
        stmt.bind_text(3, eng::to_string(c.kind));
        stmt.bind(4, static_cast<std::int64_t>(c.event_id));
        const bool step = c.transition && (c.kind == eng::change_kind::transitioned ||
                                           c.kind == eng::change_kind::closed ||
                                           c.kind == eng::change_kind::storm_closed);
        stmt.bind_text(5, step ? std::string_view(c.transition->actor) : c.actor);
        if (step) {
            stmt.bind_text(6, eng::to_string(c.transition->from));
            stmt.bind_text(7, eng::to_string(c.transition->to));
        } else {
            stmt.bind_null(6);
            stmt.bind_null(7);
        }
        if (sealed && !secret.null) {
            detail::bind_secret(stmt, 8, secret);  // bound without a copy: outlives the step
        } else {
            stmt.bind_text(8, text);
        }
        stmt.step();
    }

    void join_storm(std::int64_t storm, eng::alarm_id member, const eng::change& c,
                    std::string_view text) {
        const std::int64_t member_id = sql_id(member);
        set_int(member_id, "UPDATE alarms SET storm_id = ?2 WHERE id = ?1", storm);
        detail::statement stmt(db_,
                               "INSERT INTO alarm_log (alarm_id, at_ms, change, event_id, actor, "
                               "detail) VALUES (?1, ?2, 'storm_joined', ?3, ?4, ?5)");
        stmt.bind(1, member_id);
        stmt.bind(2, eng::to_ms(c.at));
        stmt.bind(3, static_cast<std::int64_t>(c.event_id));
        stmt.bind_text(4, c.actor);
        stmt.bind_text(5, text);
        stmt.step();
    }

    void close(std::int64_t id, std::int64_t at, std::string_view outcome) {
        detail::statement stmt(db_, "UPDATE alarms SET closed_ms = ?2, outcome = ?3 WHERE id = ?1");
        stmt.bind(1, id);
        stmt.bind(2, at);
        stmt.bind_text(3, outcome);
        stmt.step();
    }

    void set_int(std::int64_t id, std::string_view sql, std::int64_t value) {
        detail::statement stmt(db_, sql);
        stmt.bind(1, id);
        stmt.bind(2, value);
        stmt.step();
    }

    void set_text(std::int64_t id, std::string_view sql, std::string_view value) {
        detail::statement stmt(db_, sql);
        stmt.bind(1, id);
        stmt.bind_text(2, value);
        stmt.step();
    }

    void end_test_mode(const eng::change& c) {
        if (c.detail != test_mode_ended || c.alarm.account.empty()) {
            return;
        }
        // Only a device still in test mode: an operator may have changed it meanwhile.
        detail::statement stmt(db_,
                               "UPDATE devices SET mode = 'active', test_until_ms = NULL "
                               "WHERE account = upper(?1) AND mode = 'test'");
        stmt.bind_text(1, c.alarm.account);
        stmt.step();
    }

    database& db_;
};

constexpr std::string_view alarm_columns =
    "id, class, kind, state, level, account, code, zone, text, holder, team, outcome, opened_ms, "
    "last_event_ms, closed_ms, event_count, first_event_id, restored_ms, storm, storm_id";

eng::alarm_header read_header(const detail::statement& stmt) {
    eng::alarm_header h;
    h.id = static_cast<eng::alarm_id>(stmt.column_int64(0));
    h.cls = arc::config::parse_alarm_class(stmt.column_bytes(1)).value_or(eng::alarm_class::urgent);
    h.kind = arc::config::parse_event_kind(stmt.column_bytes(2)).value_or(eng::event_kind::unknown);
    h.state = parse_alarm_state(stmt.column_bytes(3)).value_or(eng::alarm_state::new_alarm);
    h.level = static_cast<int>(stmt.column_int64(4));
    h.account = stmt.column_bytes(5);
    h.holder = stmt.column_bytes(9);
    h.opened_at = eng::from_ms(stmt.column_int64(12));
    h.last_event_at = eng::from_ms(stmt.column_int64(13));
    h.event_count = static_cast<std::uint32_t>(stmt.column_int64(15));
    h.storm = stmt.column_int64(18) != 0;
    if (!stmt.column_is_null(19)) {
        h.storm_id = static_cast<eng::alarm_id>(stmt.column_int64(19));
    }
    return h;
}

alarm_row read_row(const detail::statement& stmt) {
    alarm_row row;
    row.header = read_header(stmt);
    row.code = stmt.column_bytes(6);
    row.zone = stmt.column_bytes(7);
    row.text = stmt.column_bytes(8);
    row.team = stmt.column_bytes(10);
    row.outcome = stmt.column_bytes(11);
    row.closed_ms = column_optional(stmt, 14);
    row.first_event_id = stmt.column_int64(16);
    row.restored_ms = column_optional(stmt, 17);
    return row;
}

eng::alarm read_alarm(const detail::statement& stmt) {
    const alarm_row row = read_row(stmt);
    eng::alarm a;
    a.id = row.header.id;
    a.cls = row.header.cls;
    a.kind = row.header.kind;
    a.state = row.header.state;
    a.level = row.header.level;
    a.account = row.header.account;
    a.code = row.code;
    a.zone = row.zone;
    a.text = row.text;
    a.holder = row.header.holder;
    a.team = row.team;
    a.outcome = row.outcome;
    a.opened_at = row.header.opened_at;
    a.last_event_at = row.header.last_event_at;
    a.event_count = row.header.event_count;
    a.first_event_id = static_cast<std::uint64_t>(row.first_event_id);
    if (row.restored_ms) {
        a.restored_at = eng::from_ms(*row.restored_ms);
    }
    a.storm = row.header.storm;
    a.storm_id = row.header.storm_id;
    return a;
}

// The alarm with `id` in `open` (sorted by id), or nullptr.
eng::alarm* find_in(std::vector<eng::alarm>& open, eng::alarm_id id) {
    const auto it = std::lower_bound(open.begin(), open.end(), id,
                                     [](const eng::alarm& a, eng::alarm_id v) { return a.id < v; });
    return it != open.end() && it->id == id ? &*it : nullptr;
}

}  // namespace

void persist_alarm_batch(database& db, const alarm_batch& batch) {
    batch_writer out(db);
    for (const eng::alarm& a : batch.created) {
        out.upsert(a);
    }
    for (const eng::change& c : batch.changes) {
        out.apply(c);
    }
    for (const auto& rows : batch.also) {
        rows(db);
    }
    if (batch.event_cursor > 0) {
        detail::statement stmt(db,
                               "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) "
                               "DO UPDATE SET value = max(value, excluded.value)");
        stmt.bind_text(1, cursor_key);
        stmt.bind(2, batch.event_cursor);
        stmt.step();
    }
}

std::int64_t engine_event_cursor(database& db) {
    detail::statement stmt(db, "SELECT value FROM meta WHERE key = ?1");
    stmt.bind_text(1, cursor_key);
    return stmt.step() ? stmt.column_int64(0) : 0;
}

alarm_snapshot load_open_alarms(database& db) {
    alarm_snapshot out;
    {
        detail::statement stmt(
            db, fmt::format("SELECT {} FROM alarms WHERE state != 'closed' ORDER BY id",
                            alarm_columns));
        while (stmt.step()) {
            out.open.push_back(read_alarm(stmt));
        }
    }
    {
        // One pass over the log of every open alarm, in order: the lifecycle steps (with the
        // opening, the timeline's first step), escalations and notes.
        detail::statement stmt(
            db,
            "SELECT l.alarm_id, l.at_ms, l.change, l.actor, l.from_state, l.to_state, l.detail "
            "FROM alarm_log l JOIN alarms a ON a.id = l.alarm_id "
            "WHERE a.state != 'closed' AND l.change IN ('opened', 'storm_grouped', "
            "'transitioned', 'closed', 'escalated', 'noted') ORDER BY l.alarm_id, l.id");
        eng::alarm* a = nullptr;
        while (stmt.step()) {
            const auto id = static_cast<eng::alarm_id>(stmt.column_int64(0));
            if (a == nullptr || a->id != id) {
                a = find_in(out.open, id);
                if (a == nullptr) {
                    continue;
                }
            }
            const eng::time_point at = eng::from_ms(stmt.column_int64(1));
            const std::string change = stmt.column_bytes(2);
            if (change == "escalated") {
                a->escalated_at.push_back(at);
            } else if (change == "noted") {
                a->notes.push_back({at, stmt.column_bytes(3),
                                    detail::secret_from_store(
                                        stmt, 6, fmt::format("alarm {} note", id), "detail")});
            } else if (change == "opened" || change == "storm_grouped") {
                a->timeline.push_back({eng::alarm_state::new_alarm,
                                       eng::alarm_state::new_alarm,
                                       at,
                                       stmt.column_bytes(3),
                                       {}});
            } else {
                eng::transition_record record;
                record.from =
                    parse_alarm_state(stmt.column_bytes(4)).value_or(eng::alarm_state::new_alarm);
                record.to =
                    parse_alarm_state(stmt.column_bytes(5)).value_or(eng::alarm_state::new_alarm);
                record.at = at;
                record.actor = stmt.column_bytes(3);
                record.detail = detail::secret_from_store(  // a decline's reason is sealed
                    stmt, 6, fmt::format("alarm {} step", id), "detail");
                a->timeline.push_back(std::move(record));
            }
        }
    }
    {
        detail::statement stmt(db,
                               "SELECT m.storm_id, m.id FROM alarms m JOIN alarms s "
                               "ON s.id = m.storm_id WHERE s.state != 'closed' AND s.storm = 1 "
                               "ORDER BY m.storm_id, m.id");
        eng::alarm* storm = nullptr;
        while (stmt.step()) {
            const auto id = static_cast<eng::alarm_id>(stmt.column_int64(0));
            if (storm == nullptr || storm->id != id) {
                storm = find_in(out.open, id);
                if (storm == nullptr) {
                    continue;
                }
            }
            storm->members.push_back(static_cast<eng::alarm_id>(stmt.column_int64(1)));
        }
    }
    {
        detail::statement stmt(db, "SELECT coalesce(max(id), 0) FROM alarms");
        stmt.step();
        out.max_id = static_cast<eng::alarm_id>(stmt.column_int64(0));
    }
    out.event_cursor = engine_event_cursor(db);
    return out;
}

std::optional<alarm_row> find_alarm(database& db, eng::alarm_id id) {
    detail::statement stmt(db, fmt::format("SELECT {} FROM alarms WHERE id = ?1", alarm_columns));
    stmt.bind(1, sql_id(id));
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_row(stmt);
}

std::vector<alarm_log_entry> alarm_log_for(database& db, eng::alarm_id id, std::size_t limit) {
    detail::statement stmt(db,
                           "SELECT id, alarm_id, at_ms, change, event_id, actor, from_state, "
                           "to_state, detail FROM alarm_log WHERE alarm_id = ?1 ORDER BY id "
                           "LIMIT ?2");
    stmt.bind(1, sql_id(id));
    stmt.bind(2, sql_limit(limit));
    std::vector<alarm_log_entry> out;
    while (stmt.step()) {
        alarm_log_entry e;
        e.id = stmt.column_int64(0);
        e.alarm_id = stmt.column_int64(1);
        e.at_ms = stmt.column_int64(2);
        e.change = stmt.column_bytes(3);
        e.event_id = stmt.column_int64(4);
        e.actor = stmt.column_bytes(5);
        e.from_state = stmt.column_bytes(6);
        e.to_state = stmt.column_bytes(7);
        e.detail = detail::secret_from_store(
            stmt, 8, fmt::format("alarm {} log {}", e.alarm_id, e.id), "detail");
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<eng::alarm_id> storm_members(database& db, eng::alarm_id id, std::size_t limit) {
    detail::statement stmt(db, "SELECT id FROM alarms WHERE storm_id = ?1 ORDER BY id LIMIT ?2");
    stmt.bind(1, sql_id(id));
    stmt.bind(2, sql_limit(limit));
    std::vector<eng::alarm_id> out;
    while (stmt.step()) {
        out.push_back(static_cast<eng::alarm_id>(stmt.column_int64(0)));
    }
    return out;
}

std::vector<alarm_row> alarms_for_account(database& db, std::string_view account,
                                          std::size_t limit) {
    // Accounts are kept as the engine had them; devices and events keep them upper case, so
    // either spelling finds them.
    detail::statement stmt(db, fmt::format("SELECT {} FROM alarms WHERE account IN (?1, upper(?1)) "
                                           "ORDER BY id DESC LIMIT ?2",
                                           alarm_columns));
    stmt.bind_text(1, account);
    stmt.bind(2, sql_limit(limit));
    std::vector<alarm_row> out;
    while (stmt.step()) {
        out.push_back(read_row(stmt));
    }
    return out;
}

}  // namespace arc::storage
