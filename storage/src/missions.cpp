#include "arc/storage/missions.hpp"

#include <string>

#include "field_keys.hpp"
#include "sqlite_util.hpp"
#include <fmt/format.h>
#include <sqlite3.h>

#include "arc/engine/engine.hpp"

namespace arc::storage {
namespace {

namespace eng = arc::engine;

constexpr std::string_view mission_columns =
    "id, alarm_id, team, operator, instructions, state, dispatched_ms, accepted_ms, "
    "on_the_way_ms, on_site_ms, done_ms, declined_ms, escalated_ms, decline_reason, outcome, note";

std::optional<std::int64_t> optional_int(const detail::statement& stmt, int index) {
    if (stmt.column_is_null(index)) {
        return std::nullopt;
    }
    return stmt.column_int64(index);
}

// A free text of the mission (instructions, decline reason, the team's note: personal data of
// the person visited), sealed with the field keys when they are set; '' stays '' (NOT NULL).
class sealed_text {
public:
    explicit sealed_text(const std::string& text) : stored_(detail::secret_to_store(text)) {}
    void bind(detail::statement& stmt, int index) const {
        if (stored_.null) {
            stmt.bind_text(index, "");
        } else {
            detail::bind_secret(stmt, index, stored_);
        }
    }

private:
    detail::stored_secret stored_;  // bound without a copy: outlives the step
};

mission read_mission(const detail::statement& stmt) {
    mission m;
    m.id = stmt.column_int64(0);
    const std::string owner = fmt::format("mission {}", m.id);
    m.alarm_id = stmt.column_int64(1);
    m.team = stmt.column_bytes(2);
    m.op = stmt.column_bytes(3);
    m.instructions = detail::secret_from_store(stmt, 4, owner, "instructions");
    m.state = stmt.column_bytes(5);
    m.dispatched_ms = stmt.column_int64(6);
    m.accepted_ms = optional_int(stmt, 7);
    m.on_the_way_ms = optional_int(stmt, 8);
    m.on_site_ms = optional_int(stmt, 9);
    m.done_ms = optional_int(stmt, 10);
    m.declined_ms = optional_int(stmt, 11);
    m.escalated_ms = optional_int(stmt, 12);
    m.decline_reason = detail::secret_from_store(stmt, 13, owner, "decline_reason");
    m.outcome = stmt.column_bytes(14);
    m.note = detail::secret_from_store(stmt, 15, owner, "note");
    return m;
}

// Moves the alarm's newest mission from `from` to `to`, stamping `column`; a mission that is
// not in `from` (none: dispatched before schema v8) is left alone.
void step(database& db, std::int64_t alarm_id, std::string_view from, std::string_view to,
          std::string_view column, std::int64_t at_ms) {
    detail::statement stmt(
        db, fmt::format("UPDATE missions SET state = ?3, {} = ?4 WHERE id = (SELECT max(id) FROM "
                        "missions WHERE alarm_id = ?1) AND state = ?2",
                        column));
    stmt.bind(1, alarm_id);
    stmt.bind_text(2, from);
    stmt.bind_text(3, to);
    stmt.bind(4, at_ms);
    stmt.step();
}

void set_outcome(database& db, std::int64_t alarm_id, std::string_view outcome,
                 const std::string& note) {
    detail::statement stmt(db,
                           "UPDATE missions SET outcome = ?2, note = ?3 WHERE id = (SELECT max(id) "
                           "FROM missions WHERE alarm_id = ?1) AND state = 'on_site'");
    const sealed_text sealed(note);
    stmt.bind(1, alarm_id);
    stmt.bind_text(2, outcome);
    sealed.bind(stmt, 3);
    stmt.step();
}

}  // namespace

void apply_mission_change(database& db, const eng::change& c) {
    const auto alarm_id = static_cast<std::int64_t>(c.alarm.id);
    const std::int64_t at = eng::to_ms(c.at);
    if (c.kind == eng::change_kind::escalated && c.alarm.state == eng::alarm_state::dispatched) {
        detail::statement stmt(db,
                               "UPDATE missions SET escalated_ms = coalesce(escalated_ms, ?2) "
                               "WHERE id = (SELECT max(id) FROM missions WHERE alarm_id = ?1) "
                               "AND state = 'dispatched'");
        stmt.bind(1, alarm_id);
        stmt.bind(2, at);
        stmt.step();
        return;
    }
    if (c.kind != eng::change_kind::transitioned || !c.transition) {
        return;
    }
    const eng::alarm_state from = c.transition->from;
    const eng::alarm_state to = c.transition->to;
    if (from == eng::alarm_state::acknowledged && to == eng::alarm_state::dispatched) {
        detail::statement stmt(db,
                               "INSERT INTO missions (alarm_id, team, operator, instructions, "
                               "dispatched_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
        const sealed_text instructions(c.note);
        stmt.bind(1, alarm_id);
        stmt.bind_text(2, c.transition->detail);
        stmt.bind_text(3, c.transition->actor);
        instructions.bind(stmt, 4);
        stmt.bind(5, at);
        stmt.step();
    } else if (from == eng::alarm_state::dispatched && to == eng::alarm_state::accepted) {
        step(db, alarm_id, "dispatched", "accepted", "accepted_ms", at);
    } else if (from == eng::alarm_state::accepted && to == eng::alarm_state::on_the_way) {
        step(db, alarm_id, "accepted", "on_the_way", "on_the_way_ms", at);
    } else if (from == eng::alarm_state::on_the_way && to == eng::alarm_state::on_site) {
        step(db, alarm_id, "on_the_way", "on_site", "on_site_ms", at);
    } else if (from == eng::alarm_state::on_site && to == eng::alarm_state::mission_done) {
        set_outcome(db, alarm_id, c.transition->detail, c.note);
        step(db, alarm_id, "on_site", "done", "done_ms", at);
    } else if (from == eng::alarm_state::dispatched && to == eng::alarm_state::acknowledged) {
        detail::statement stmt(db,
                               "UPDATE missions SET decline_reason = ?2 WHERE id = (SELECT "
                               "max(id) FROM missions WHERE alarm_id = ?1) AND state = "
                               "'dispatched'");
        const sealed_text reason(c.note);
        stmt.bind(1, alarm_id);
        reason.bind(stmt, 2);
        stmt.step();
        step(db, alarm_id, "dispatched", "declined", "declined_ms", at);
    }
}

std::vector<mission> missions_for_team(database& db, std::string_view team, std::size_t recent) {
    std::vector<mission> out;
    {
        detail::statement stmt(
            db, fmt::format("SELECT {} FROM missions WHERE team = ?1 COLLATE NOCASE AND state NOT "
                            "IN ('done', 'declined') ORDER BY id DESC",
                            mission_columns));
        stmt.bind_text(1, team);
        while (stmt.step()) {
            out.push_back(read_mission(stmt));
        }
    }
    detail::statement stmt(
        db, fmt::format("SELECT {} FROM missions WHERE team = ?1 COLLATE NOCASE AND state IN "
                        "('done', 'declined') ORDER BY id DESC LIMIT ?2",
                        mission_columns));
    stmt.bind_text(1, team);
    stmt.bind(2, static_cast<std::int64_t>(recent));
    while (stmt.step()) {
        out.push_back(read_mission(stmt));
    }
    return out;
}

std::optional<mission> latest_mission(database& db, std::int64_t alarm_id) {
    detail::statement stmt(
        db, fmt::format("SELECT {} FROM missions WHERE alarm_id = ?1 ORDER BY id DESC LIMIT 1",
                        mission_columns));
    stmt.bind(1, alarm_id);
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_mission(stmt);
}

const std::vector<std::string>& mission_outcomes() {
    static const std::vector<std::string> outcomes{
        "shelter_placement", "essential_goods_delivery", "health_services_accompaniment",
        "resolved_on_site", std::string(eng::engine::referral_outcome)};
    return outcomes;
}

}  // namespace arc::storage
