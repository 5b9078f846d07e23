// Missions in storage (schema v8): the engine's mission steps persisted with the alarm batch,
// the team's list, operator accounts linked to a team, and the migration from v8.
#include "arc/storage/missions.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "test_db.hpp"
#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"
#include "arc/security/field_crypto.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/teams.hpp"

namespace arc::storage {
namespace {

namespace eng = arc::engine;
using namespace std::chrono_literals;
using testing::query_int;
using testing::temp_dir;

const eng::time_point t0 = eng::from_ms(1'700'000'000'000);

class MissionStorage : public ::testing::Test {
protected:
    static eng::engine_config config() {
        eng::engine_config c;
        c.mission_accept_timeout = 120s;
        return c;
    }

    void persist(const eng::changes& out) {
        alarm_batch batch;
        batch.changes = out;
        for (const eng::change& c : out) {
            if (c.kind == eng::change_kind::opened) {
                batch.created.push_back(*engine_.find(c.alarm.id));
            }
        }
        db_.exec("BEGIN");
        persist_alarm_batch(db_, batch);
        db_.exec("COMMIT");
    }

    void persist(const eng::expected<eng::changes>& out) {
        ASSERT_TRUE(out) << out.error().message();
        persist(*out);
    }

    // A fall of `account`, taken, acknowledged and dispatched by anna to `team`.
    eng::alarm_id dispatched(const std::string& account, const std::string& team) {
        eng::event ev;
        ev.account = account;
        ev.device_type = "pendant";
        ev.received = now_;
        ev.cls = eng::alarm_class::critical;
        ev.kind = eng::event_kind::fall;
        ev.event_id = ++event_id_;
        const eng::changes out = engine_.ingest(ev, now_);
        persist(out);
        const eng::alarm_id id = out.back().alarm.id;
        persist(engine_.take(id, "anna", now_));
        persist(engine_.acknowledge(id, "anna", now_));
        persist(engine_.dispatch(id, "anna", team, "suonare al 2° piano", now_));
        return id;
    }

    eng::engine engine_{config()};
    database db_ = database::open(":memory:");
    eng::time_point now_ = t0;
    std::uint64_t event_id_ = 0;
};

TEST_F(MissionStorage, TimelineIsPersistedStepByStep) {
    const eng::alarm_id id = dispatched("1001", "PIS Nord");
    auto m = latest_mission(db_, static_cast<std::int64_t>(id));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->team, "PIS Nord");
    EXPECT_EQ(m->op, "anna");
    EXPECT_EQ(m->instructions, "suonare al 2° piano");
    EXPECT_EQ(m->state, "dispatched");
    EXPECT_EQ(m->dispatched_ms, eng::to_ms(t0));
    EXPECT_TRUE(m->open());
    now_ += 1min;
    persist(engine_.accept(id, "pis-nord", now_));
    now_ += 1min;
    persist(engine_.depart(id, "pis-nord", now_));
    now_ += 20min;
    persist(engine_.arrive(id, "pis-nord", now_));
    now_ += 10min;
    persist(engine_.complete_mission(id, "pis-nord", "shelter_placement", "accolta in struttura",
                                     now_));
    m = latest_mission(db_, static_cast<std::int64_t>(id));
    EXPECT_EQ(m->state, "done");
    EXPECT_FALSE(m->open());
    EXPECT_EQ(m->accepted_ms, eng::to_ms(t0 + 1min));
    EXPECT_EQ(m->on_the_way_ms, eng::to_ms(t0 + 2min));
    EXPECT_EQ(m->on_site_ms, eng::to_ms(t0 + 22min));
    EXPECT_EQ(m->done_ms, eng::to_ms(t0 + 32min));
    EXPECT_EQ(m->outcome, "shelter_placement");
    EXPECT_EQ(m->note, "accolta in struttura");
    EXPECT_FALSE(m->escalated_ms);
    EXPECT_FALSE(m->declined_ms);
    // The alarm's log has the on_the_way step, which the engine reads back at a restart.
    const alarm_snapshot snap = load_open_alarms(db_);
    ASSERT_EQ(snap.open.size(), 1U);
    EXPECT_EQ(snap.open[0].state, eng::alarm_state::mission_done);
    EXPECT_EQ(snap.open[0].timeline[5].to, eng::alarm_state::on_the_way);
}

TEST_F(MissionStorage, DeclineKeepsTheReasonAndARedispatchIsANewMission) {
    const eng::alarm_id id = dispatched("1001", "PIS Nord");
    now_ += 30s;
    persist(engine_.decline(id, "pis-nord", "già su un altro intervento", now_));
    auto m = latest_mission(db_, static_cast<std::int64_t>(id));
    EXPECT_EQ(m->state, "declined");
    EXPECT_EQ(m->decline_reason, "già su un altro intervento");
    EXPECT_EQ(m->declined_ms, eng::to_ms(now_));
    EXPECT_EQ(find_alarm(db_, id)->team, "");
    EXPECT_EQ(find_alarm(db_, id)->header.state, eng::alarm_state::acknowledged);
    persist(engine_.dispatch(id, "anna", "PIS Sud", now_));
    m = latest_mission(db_, static_cast<std::int64_t>(id));
    EXPECT_EQ(m->team, "PIS Sud");
    EXPECT_EQ(m->state, "dispatched");
    EXPECT_EQ(query_int(db_, "SELECT count(*) FROM missions"), 2);
}

TEST_F(MissionStorage, EscalationIsStamped) {
    const eng::alarm_id id = dispatched("1001", "PIS Nord");
    now_ += 120s;
    persist(engine_.advance(now_));
    const auto m = latest_mission(db_, static_cast<std::int64_t>(id));
    EXPECT_EQ(m->escalated_ms, eng::to_ms(t0 + 120s));
    EXPECT_EQ(find_alarm(db_, id)->header.level, 1);
}

TEST_F(MissionStorage, TeamListHasOpenMissionsThenRecentOnes) {
    const eng::alarm_id a = dispatched("1001", "PIS Nord");
    const eng::alarm_id b = dispatched("1002", "PIS Nord");
    const eng::alarm_id c = dispatched("1003", "PIS Nord");
    dispatched("1004", "PIS Sud");
    persist(engine_.decline(a, "pis-nord", "no", now_));
    persist(engine_.decline(b, "pis-nord", "no", now_));
    const auto all = missions_for_team(db_, "pis nord", 10);
    ASSERT_EQ(all.size(), 3U);
    EXPECT_EQ(all[0].alarm_id, static_cast<std::int64_t>(c));
    EXPECT_EQ(all[1].alarm_id, static_cast<std::int64_t>(b));
    EXPECT_EQ(all[2].alarm_id, static_cast<std::int64_t>(a));
    const auto recent_one = missions_for_team(db_, "PIS Nord", 1);
    ASSERT_EQ(recent_one.size(), 2U);
    EXPECT_EQ(recent_one[1].alarm_id, static_cast<std::int64_t>(b));
    EXPECT_TRUE(missions_for_team(db_, "PIS Est", 10).empty());
}

TEST_F(MissionStorage, OperatorIsLinkedToATeam) {
    team t;
    t.name = "PIS Nord";
    t.schedule = "always";
    const std::int64_t team_id = insert_team(db_, t);
    operator_account op;
    op.username = "pis-nord";
    op.role = operator_role::team;
    op.password_hash = "x";
    op.team_id = team_id;
    const std::int64_t id = insert_operator(db_, op);
    EXPECT_EQ(find_operator(db_, id)->team_id, team_id);
    op.username = "anna";
    op.role = operator_role::operator_;
    op.team_id.reset();
    EXPECT_FALSE(find_operator(db_, insert_operator(db_, op))->team_id);
    op.username = "ghost";
    op.team_id = 999;  // no such team: the foreign key refuses it
    EXPECT_THROW(insert_operator(db_, op), storage_error);
}

// With field keys set, what people wrote about the person (the operator's instructions and
// notes, the team's decline reason and note) is sealed at rest, read back in clear, re-sealed by
// a key rotation; codes and instants stay clear for the reports.
TEST_F(MissionStorage, FreeTextsAreSealedWithFieldKeys) {
    const security::data_key key = security::data_key::generate();
    set_field_keys({key});
    const eng::alarm_id first = dispatched("1001", "PIS Nord");
    persist(engine_.add_note(first, "anna", "la figlia dice: diabetica, vive sola", now_));
    persist(engine_.decline(first, "pis-nord", "squadra ferma in via Po", now_));
    persist(engine_.dispatch(first, "anna", "PIS Sud", "portare coperte", now_));
    persist(engine_.accept(first, "pis-sud", now_));
    persist(engine_.depart(first, "pis-sud", now_));
    persist(engine_.arrive(first, "pis-sud", now_));
    persist(engine_.complete_mission(first, "pis-sud", "social_services_referral",
                                     "segnalata al SSP, serve assistenza domiciliare", now_));
    EXPECT_EQ(query_int(db_, "SELECT count(*) FROM missions WHERE typeof(instructions) = 'blob'"),
              2);
    EXPECT_EQ(query_int(db_, "SELECT count(*) FROM missions WHERE typeof(decline_reason) = 'blob'"),
              1);
    EXPECT_EQ(query_int(db_, "SELECT count(*) FROM missions WHERE typeof(note) = 'blob'"), 1);
    EXPECT_EQ(query_int(db_,
                        "SELECT count(*) FROM missions WHERE outcome = "
                        "'social_services_referral'"),
              1);
    EXPECT_EQ(query_int(db_,
                        "SELECT count(*) FROM alarm_log WHERE change = 'noted' AND "
                        "typeof(detail) = 'blob'"),
              1);
    EXPECT_EQ(query_int(db_,
                        "SELECT count(*) FROM alarm_log WHERE instr(detail, 'diabetica') > 0 "
                        "OR instr(detail, 'SSP') > 0 OR instr(detail, 'via Po') > 0"),
              0);
    EXPECT_EQ(query_int(db_,
                        "SELECT count(*) FROM alarm_log WHERE change = 'transitioned' AND "
                        "to_state = 'acknowledged' AND typeof(detail) = 'blob'"),
              1);

    const auto read_back = [&] {
        const auto m = latest_mission(db_, static_cast<std::int64_t>(first));
        ASSERT_TRUE(m);
        EXPECT_EQ(m->instructions, "portare coperte");
        EXPECT_EQ(m->note, "segnalata al SSP, serve assistenza domiciliare");
        const auto all = missions_for_team(db_, "PIS Nord", 10);
        ASSERT_EQ(all.size(), 1U);
        EXPECT_EQ(all[0].decline_reason, "squadra ferma in via Po");
        EXPECT_EQ(all[0].instructions, "suonare al 2° piano");
        const alarm_snapshot snap = load_open_alarms(db_);
        ASSERT_EQ(snap.open.size(), 1U);
        ASSERT_EQ(snap.open[0].notes.size(), 1U);
        EXPECT_EQ(snap.open[0].notes[0].text, "la figlia dice: diabetica, vive sola");
        bool declined = false;  // the operator still reads why the first team declined
        for (const auto& step : snap.open[0].timeline) {
            declined = declined || step.detail == "declined: squadra ferma in via Po";
        }
        EXPECT_TRUE(declined);
        bool shown = false;
        for (const alarm_log_entry& e : alarm_log_for(db_, first, 100)) {
            shown = shown || e.detail == "la figlia dice: diabetica, vive sola";
        }
        EXPECT_TRUE(shown);
    };
    read_back();

    // Without the key: an error naming the mission, never the sealed bytes as text.
    set_field_keys({});
    EXPECT_THROW(latest_mission(db_, static_cast<std::int64_t>(first)), storage_error);
    EXPECT_THROW(load_open_alarms(db_), storage_error);

    // A rotation re-seals them with the new key: 2 instructions + 1 reason + 1 note + 1 alarm
    // note + the decline step's detail.
    const security::data_key next = security::data_key::generate();
    const std::vector<security::data_key> openers{key};
    EXPECT_EQ(reseal_fields(db_, openers, next), 6U);
    set_field_keys({next});
    read_back();
    set_field_keys({});
}

TEST(MissionSchema, MigrationFromV8KeepsOperators) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    {
        database db = database::open(path);
        operator_account op;
        op.username = "anna";
        op.password_hash = "x";
        insert_operator(db, op);
        db.exec(
            "DROP TABLE missions; ALTER TABLE operators DROP COLUMN team_id; "
            "PRAGMA user_version = 8;");
    }
    database db = database::open(path);
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_GE(current_schema_version(), 9);
    const auto anna = find_operator(db, "anna");
    ASSERT_TRUE(anna);
    EXPECT_FALSE(anna->team_id);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM missions"), 0);
}

TEST(MissionOutcomes, AreTheIssuesFiveWithTheReferral) {
    const auto& outcomes = mission_outcomes();
    ASSERT_EQ(outcomes.size(), 5U);
    EXPECT_EQ(outcomes.back(), eng::engine::referral_outcome);
}

}  // namespace
}  // namespace arc::storage
