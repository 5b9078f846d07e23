#include "arc/storage/alarms.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "test_db.hpp"
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "arc/engine/engine.hpp"

namespace arc::storage {
namespace {

namespace eng = arc::engine;
using namespace std::chrono_literals;
using testing::make_device;
using testing::make_event;
using testing::query_int;
using testing::query_text;
using testing::temp_dir;

const eng::time_point t0 = eng::from_ms(1'700'000'000'000);

// ---- schema v2 ----

TEST(SchemaV2, UpgradesV1DatabaseKeepingDevices) {
    const temp_dir dir;
    const auto path = dir / "v1.db";
    {
        // The v1 schema as released, written without the library.
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        const char* v1 = R"sql(
CREATE TABLE devices (
    account      TEXT PRIMARY KEY NOT NULL CHECK (account = upper(account)),
    protocol     TEXT NOT NULL,
    aes_key      BLOB,
    mode         TEXT NOT NULL CHECK (mode IN ('active', 'test', 'retired')),
    label        TEXT NOT NULL DEFAULT '',
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL, transport TEXT NOT NULL,
    peer TEXT NOT NULL, raw BLOB NOT NULL, protocol TEXT NOT NULL, account TEXT NOT NULL,
    token TEXT NOT NULL, seq TEXT NOT NULL, decoded_json TEXT NOT NULL,
    reply_kind TEXT NOT NULL, reply BLOB NOT NULL, error TEXT NOT NULL, accepted INTEGER NOT NULL
);
CREATE INDEX events_account_id ON events (account, id DESC);
INSERT INTO devices VALUES ('AB12', 'dc09', NULL, 'test', 'kitchen', 100, 200);
INSERT INTO events VALUES (41, 1, 'tcp', 'p', 'raw', 'dc09', 'AB12', 'SIA-DCS', '0001', '{}',
                           'ACK', 'ack', '', 1);
PRAGMA user_version = 1;
)sql";
        ASSERT_EQ(sqlite3_exec(raw, v1, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
    }
    database db = database::open(path);
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_GE(current_schema_version(), 2);
    const auto dev = find_device(db, "ab12");
    ASSERT_TRUE(dev);
    EXPECT_EQ(dev->mode, device_mode::test);
    EXPECT_EQ(dev->label, "kitchen");
    EXPECT_EQ(dev->created_ms, 100);
    EXPECT_EQ(dev->last_seen_ms, 200);
    EXPECT_EQ(dev->device_type, "home_unit");
    EXPECT_FALSE(dev->interval_s);
    EXPECT_FALSE(dev->test_until_ms);
    EXPECT_EQ(dev->vendor, "");
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM sqlite_master WHERE name IN ('alarms', "
                        "'alarm_log', 'meta', 'alarms_open', 'alarms_storm', "
                        "'alarms_account_id', 'alarm_log_alarm_id')"),
              7);
    // Events received before the upgrade are history: the engine starts after them instead of
    // raising their alarms again at the first start.
    EXPECT_EQ(engine_event_cursor(db), 41);
    EXPECT_TRUE(events_after(db, engine_event_cursor(db), 10).empty());
}

TEST(DevicesV2, NewFieldsRoundTrip) {
    database db = database::open(":memory:");
    device dev = make_device("CAFE", 5);
    dev.device_type = "gateway";
    dev.interval_s = 3600;
    dev.vendor = "acme";
    dev.mode = device_mode::test;
    dev.test_until_ms = 9000;
    insert_device(db, dev);
    device plain = make_device("BEEF", 6);
    plain.test_until_ms = 9000;  // not in test mode: not kept
    insert_device(db, plain);

    const auto got = find_device(db, "cafe");
    ASSERT_TRUE(got);
    EXPECT_EQ(got->device_type, "gateway");
    EXPECT_EQ(got->interval_s, 3600);
    EXPECT_EQ(got->vendor, "acme");
    EXPECT_EQ(got->test_until_ms, 9000);
    const auto all = list_devices(db);
    ASSERT_EQ(all.size(), 2U);
    EXPECT_EQ(all[0].account, "BEEF");
    EXPECT_EQ(all[0].device_type, "home_unit");
    EXPECT_FALSE(all[0].test_until_ms);

    ASSERT_TRUE(set_device_mode(db, "BEEF", device_mode::test, 12345));
    EXPECT_EQ(find_device(db, "BEEF")->test_until_ms, 12345);
    ASSERT_TRUE(set_device_mode(db, "BEEF", device_mode::active, 777));
    EXPECT_FALSE(find_device(db, "BEEF")->test_until_ms);
    EXPECT_EQ(find_device(db, "BEEF")->mode, device_mode::active);
    ASSERT_TRUE(set_device_mode(db, "CAFE", device_mode::retired));
    EXPECT_FALSE(find_device(db, "CAFE")->test_until_ms);
}

// ---- engine changes persisted and read back ----

void expect_same_alarm(const eng::alarm& want, const eng::alarm& got) {
    SCOPED_TRACE("alarm " + std::to_string(want.id));
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.cls, want.cls);
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.state, want.state);
    EXPECT_EQ(got.level, want.level);
    EXPECT_EQ(got.account, want.account);
    EXPECT_EQ(got.code, want.code);
    EXPECT_EQ(got.zone, want.zone);
    EXPECT_EQ(got.text, want.text);
    EXPECT_EQ(got.holder, want.holder);
    EXPECT_EQ(got.team, want.team);
    EXPECT_EQ(got.outcome, want.outcome);
    EXPECT_EQ(got.opened_at, want.opened_at);
    EXPECT_EQ(got.last_event_at, want.last_event_at);
    EXPECT_EQ(got.event_count, want.event_count);
    EXPECT_EQ(got.first_event_id, want.first_event_id);
    EXPECT_EQ(got.restored_at, want.restored_at);
    EXPECT_EQ(got.escalated_at, want.escalated_at);
    ASSERT_EQ(got.timeline.size(), want.timeline.size());
    for (std::size_t i = 0; i < want.timeline.size(); ++i) {
        SCOPED_TRACE("timeline " + std::to_string(i));
        EXPECT_EQ(got.timeline[i].from, want.timeline[i].from);
        EXPECT_EQ(got.timeline[i].to, want.timeline[i].to);
        EXPECT_EQ(got.timeline[i].at, want.timeline[i].at);
        EXPECT_EQ(got.timeline[i].actor, want.timeline[i].actor);
        EXPECT_EQ(got.timeline[i].detail, want.timeline[i].detail);
    }
    ASSERT_EQ(got.notes.size(), want.notes.size());
    for (std::size_t i = 0; i < want.notes.size(); ++i) {
        EXPECT_EQ(got.notes[i].at, want.notes[i].at);
        EXPECT_EQ(got.notes[i].author, want.notes[i].author);
        EXPECT_EQ(got.notes[i].text, want.notes[i].text);
    }
    EXPECT_EQ(got.storm, want.storm);
    EXPECT_EQ(got.members, want.members);
    EXPECT_EQ(got.storm_id, want.storm_id);
}

eng::event make_alarm_event(std::string account, eng::alarm_class cls, eng::event_kind kind,
                            eng::time_point at, std::uint64_t event_id) {
    eng::event ev;
    ev.event_id = event_id;
    ev.account = std::move(account);
    ev.device_type = "pendant";
    ev.received = at;
    ev.cls = cls;
    ev.kind = kind;
    ev.code = "1101";
    ev.zone = "001";
    ev.text = "label of " + std::string(arc::config::to_string(kind));
    return ev;
}

eng::event make_restore(std::string account, eng::event_kind kind, eng::time_point at,
                        std::uint64_t event_id) {
    eng::event ev =
        make_alarm_event(std::move(account), eng::alarm_class::log_only, kind, at, event_id);
    ev.is_restore = true;
    return ev;
}

// An engine with a clock, whose every change is persisted as the daemon will do it.
class AlarmPersistence : public ::testing::Test {
protected:
    static eng::engine_config small_storms() {
        eng::engine_config cfg;
        cfg.storm_threshold = 4;
        return cfg;
    }

    AlarmPersistence() : engine_(cfg_), db_(database::open(":memory:")) {}

    // Persists `out` in one transaction, with the copies of the alarms it created.
    void persist(const eng::changes& out, std::int64_t cursor = 0) {
        alarm_batch batch;
        batch.changes = out;
        batch.event_cursor = cursor;
        for (const eng::change& c : out) {
            max_id_ = std::max(max_id_, c.alarm.id);
            if (c.kind == eng::change_kind::opened || c.kind == eng::change_kind::storm_grouped) {
                if (const eng::alarm* a = engine_.find(c.alarm.id); a != nullptr) {
                    batch.created.push_back(*a);
                }
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

    eng::changes ingest(const eng::event& ev) {
        eng::changes out = engine_.ingest(ev, now_);
        persist(out, static_cast<std::int64_t>(ev.event_id));
        return out;
    }

    eng::alarm_id open(const std::string& account, eng::alarm_class cls, eng::event_kind kind) {
        const eng::changes out = ingest(make_alarm_event(account, cls, kind, now_, ++event_id_));
        for (const eng::change& c : out) {
            if (c.kind == eng::change_kind::opened) {
                return c.alarm.id;
            }
        }
        ADD_FAILURE() << "no alarm opened";
        return 0;
    }

    void wait(eng::duration d) {
        now_ += d;
        persist(engine_.advance(now_));
    }

    // The open alarms read back equal the engine's, and rebuild from them queues the same.
    void expect_loaded_matches_engine() {
        const alarm_snapshot snap = load_open_alarms(db_);
        const std::vector<eng::alarm> want = engine_.open_alarms();
        ASSERT_EQ(snap.open.size(), want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
            expect_same_alarm(want[i], snap.open[i]);
        }
        EXPECT_EQ(snap.max_id, max_id_);
        EXPECT_EQ(snap.event_cursor, static_cast<std::int64_t>(event_id_));
        eng::engine rebuilt = eng::engine::rebuild(cfg_, snap.open, {}, now_, snap.max_id);
        EXPECT_EQ(rebuilt.queue(), engine_.queue());
        EXPECT_EQ(rebuilt.next_deadline(), engine_.next_deadline());
        // New ids go on above every id ever assigned, closed alarms' included.
        const eng::changes next = rebuilt.ingest(
            make_alarm_event("9999", eng::alarm_class::urgent, eng::event_kind::medical, now_, 0),
            now_);
        ASSERT_FALSE(next.empty());
        EXPECT_EQ(next.front().alarm.id, max_id_ + 1);
    }

    eng::engine_config cfg_ = small_storms();
    eng::engine engine_;
    database db_;
    eng::time_point now_ = t0;
    std::uint64_t event_id_ = 0;
    eng::alarm_id max_id_ = 0;
};

TEST_F(AlarmPersistence, EngineSequenceReadsBackAsTheEngineHoldsIt) {
    using eng::alarm_class;
    using eng::event_kind;
    // A pendant press, pressed again, taken, noted, dispatched.
    const eng::alarm_id press = open("1001", alarm_class::critical, event_kind::personal_emergency);
    now_ += 10s;
    ingest(make_alarm_event("1001", alarm_class::critical, event_kind::personal_emergency, now_,
                            ++event_id_));
    now_ += 5s;
    persist(engine_.take(press, "anna", now_));
    persist(engine_.add_note(press, "anna", "la signora risponde, caduta in bagno", now_));
    persist(engine_.acknowledge(press, "anna", now_));
    persist(engine_.dispatch(press, "anna", "PIS-3", now_));
    now_ += 1min;
    persist(engine_.accept(press, "PIS-3", now_));

    // A fall nobody takes: escalates twice; its restore is only noted.
    const eng::alarm_id fall = open("1002", alarm_class::critical, event_kind::fall);
    wait(60s);
    wait(120s);
    ASSERT_EQ(engine_.find(fall)->level, 2);
    now_ += 3s;
    const eng::time_point fall_restored = now_;
    ingest(make_restore("1002", event_kind::fall, now_, ++event_id_));
    ASSERT_TRUE(engine_.find(fall)->restored_at);

    // A technical alarm that restores closes by itself.
    const eng::alarm_id battery = open("1003", alarm_class::technical, event_kind::low_battery);
    now_ += 30s;
    ingest(make_restore("1003", event_kind::low_battery, now_, ++event_id_));
    ASSERT_EQ(engine_.find(battery), nullptr);

    // A power cut: four mains_loss make a storm, a fifth joins it, one member restores.
    std::vector<eng::alarm_id> cut;
    for (int i = 0; i < 5; ++i) {
        now_ += 2s;
        cut.push_back(
            open("20" + std::to_string(10 + i), alarm_class::technical, event_kind::mains_loss));
    }
    const eng::alarm_id storm = *engine_.find(cut[0])->storm_id;
    ASSERT_EQ(engine_.find(storm)->members.size(), 5U);
    now_ += 1s;
    ingest(make_restore("2011", event_kind::mains_loss, now_, ++event_id_));
    ASSERT_EQ(engine_.find(cut[1]), nullptr);

    expect_loaded_matches_engine();

    // The storm is handled and closed: its open members close with it.
    now_ += 1min;
    persist(engine_.take(storm, "bruno", now_));
    persist(engine_.acknowledge(storm, "bruno", now_));
    persist(engine_.close(storm, "bruno", "blackout ENEL, rientrato", now_));
    ASSERT_EQ(engine_.find(cut[0]), nullptr);

    expect_loaded_matches_engine();

    // What a user sees afterwards.
    const auto closed_storm = find_alarm(db_, storm);
    ASSERT_TRUE(closed_storm);
    EXPECT_EQ(closed_storm->header.state, eng::alarm_state::closed);
    EXPECT_TRUE(closed_storm->header.storm);
    EXPECT_EQ(closed_storm->outcome, "blackout ENEL, rientrato");
    EXPECT_EQ(closed_storm->closed_ms, eng::to_ms(now_));
    EXPECT_EQ(closed_storm->header.holder, "bruno");
    EXPECT_EQ(closed_storm->text, "storm: mains_loss");
    EXPECT_EQ(storm_members(db_, storm, 100), cut);
    EXPECT_EQ(storm_members(db_, storm, 2),
              std::vector<eng::alarm_id>(cut.begin(), cut.begin() + 2));

    const auto member = find_alarm(db_, cut[0]);
    ASSERT_TRUE(member);
    EXPECT_EQ(member->header.state, eng::alarm_state::closed);
    EXPECT_EQ(member->header.storm_id, storm);
    EXPECT_EQ(member->outcome, "closed with storm " + std::to_string(storm));
    EXPECT_EQ(member->closed_ms, eng::to_ms(now_));
    const auto member_log = alarm_log_for(db_, cut[0], 100);
    ASSERT_GE(member_log.size(), 3U);
    EXPECT_EQ(member_log.front().change, "opened");
    EXPECT_EQ(member_log[1].change, "storm_joined");
    EXPECT_EQ(member_log[1].detail, "storm #" + std::to_string(storm));
    EXPECT_EQ(member_log.back().change, "storm_closed");
    EXPECT_EQ(member_log.back().from_state, "new");
    EXPECT_EQ(member_log.back().to_state, "closed");

    const auto restored = find_alarm(db_, cut[1]);
    ASSERT_TRUE(restored);
    EXPECT_EQ(restored->outcome, "restored");  // closed on its own before the storm

    const auto bat = find_alarm(db_, battery);
    ASSERT_TRUE(bat);
    EXPECT_EQ(bat->header.state, eng::alarm_state::closed);
    EXPECT_EQ(bat->outcome, "restored");
    EXPECT_TRUE(bat->closed_ms);
    EXPECT_EQ(bat->code, "1101");
    EXPECT_EQ(bat->text, "label of low_battery");

    const auto pressed = find_alarm(db_, press);
    ASSERT_TRUE(pressed);
    EXPECT_EQ(pressed->header.state, eng::alarm_state::accepted);
    EXPECT_EQ(pressed->team, "PIS-3");
    EXPECT_EQ(pressed->header.event_count, 2U);
    EXPECT_EQ(pressed->first_event_id, 1);
    EXPECT_FALSE(pressed->closed_ms);
    const auto log = alarm_log_for(db_, press, 100);
    std::vector<std::string> changes;
    for (const auto& e : log) {
        changes.push_back(e.change);
    }
    EXPECT_EQ(changes, (std::vector<std::string>{"opened", "merged", "transitioned", "noted",
                                                 "transitioned", "transitioned", "transitioned"}));
    EXPECT_EQ(log[1].event_id, 2);
    EXPECT_EQ(log[3].actor, "anna");
    EXPECT_EQ(log[3].detail, "la signora risponde, caduta in bagno");
    EXPECT_EQ(log[5].to_state, "dispatched");
    EXPECT_EQ(log[5].detail, "PIS-3");
    EXPECT_EQ(alarm_log_for(db_, press, 2).size(), 2U);

    const auto fall_log = alarm_log_for(db_, fall, 100);
    ASSERT_EQ(fall_log.size(), 4U);
    EXPECT_EQ(fall_log[1].change, "escalated");
    EXPECT_EQ(fall_log[1].detail, "level 1");
    EXPECT_EQ(fall_log[3].change, "restore_noted");
    EXPECT_EQ(find_alarm(db_, fall)->restored_ms, eng::to_ms(fall_restored));

    const auto history = alarms_for_account(db_, "1001", 10);
    ASSERT_EQ(history.size(), 1U);
    EXPECT_EQ(history[0].header.id, press);
    EXPECT_FALSE(find_alarm(db_, 999));
}

TEST_F(AlarmPersistence, AccountHistoryIsNewestFirst) {
    using eng::alarm_class;
    using eng::event_kind;
    const eng::alarm_id first = open("abcd", alarm_class::technical, event_kind::low_battery);
    now_ += 1s;
    ingest(make_restore("abcd", event_kind::low_battery, now_, ++event_id_));
    const eng::alarm_id second = open("abcd", alarm_class::technical, event_kind::low_battery);
    const eng::alarm_id other = open("ABCE", alarm_class::critical, event_kind::fall);
    const auto rows = alarms_for_account(db_, "abcd", 10);
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[0].header.id, second);
    EXPECT_EQ(rows[1].header.id, first);
    EXPECT_EQ(rows[1].outcome, "restored");
    EXPECT_EQ(alarms_for_account(db_, "abcd", 1).size(), 1U);
    ASSERT_EQ(alarms_for_account(db_, "abce", 10).size(), 1U);
    EXPECT_EQ(alarms_for_account(db_, "abce", 10)[0].header.id, other);
}

TEST_F(AlarmPersistence, ChangeWithoutCreatedCopyStillMakesTheRow) {
    // A technical alarm opened and restored before the batch was taken: no copy exists.
    eng::changes out = engine_.ingest(make_alarm_event("1003", eng::alarm_class::technical,
                                                       eng::event_kind::low_battery, now_, 1),
                                      now_);
    const eng::changes restore =
        engine_.ingest(make_restore("1003", eng::event_kind::low_battery, now_, 2), now_);
    out.insert(out.end(), restore.begin(), restore.end());
    persist(out, 2);
    const auto row = find_alarm(db_, out.front().alarm.id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->header.state, eng::alarm_state::closed);
    EXPECT_EQ(row->header.kind, eng::event_kind::low_battery);
    EXPECT_EQ(row->header.account, "1003");
    EXPECT_EQ(row->outcome, "restored");
    EXPECT_EQ(row->code, "");
    EXPECT_EQ(alarm_log_for(db_, out.front().alarm.id, 10).size(), 2U);
}

TEST_F(AlarmPersistence, EndOfTestModeActivatesTheDevice) {
    device dev = make_device("7777");
    dev.mode = device_mode::test;
    dev.test_until_ms = eng::to_ms(t0 + 1h);
    insert_device(db_, dev);
    insert_device(db_, make_device("8888"));
    eng::device_state state;
    state.account = "7777";
    state.device_type = "pendant";
    state.mode = eng::device_mode::test;
    state.test_until = t0 + 1h;
    persist(engine_.set_device(state, now_));
    now_ += 2h;
    const eng::changes ended = engine_.advance(now_);
    ASSERT_EQ(ended.size(), 1U);
    EXPECT_EQ(ended[0].kind, eng::change_kind::mode_changed);
    EXPECT_EQ(ended[0].alarm.account, "7777");
    persist(ended);
    EXPECT_EQ(find_device(db_, "7777")->mode, device_mode::active);
    EXPECT_FALSE(find_device(db_, "7777")->test_until_ms);
    EXPECT_EQ(find_device(db_, "8888")->mode, device_mode::active);
}

TEST_F(AlarmPersistence, CursorNeverDecreases) {
    EXPECT_EQ(engine_event_cursor(db_), 0);
    persist({}, 10);
    EXPECT_EQ(engine_event_cursor(db_), 10);
    persist({}, 7);
    EXPECT_EQ(engine_event_cursor(db_), 10);
    persist({}, 0);
    EXPECT_EQ(engine_event_cursor(db_), 10);
    persist({}, 11);
    EXPECT_EQ(engine_event_cursor(db_), 11);
    EXPECT_EQ(load_open_alarms(db_).event_cursor, 11);
}

TEST(EventsAfter, AcceptedEventsAfterAnIdOldestFirst) {
    database db = database::open(":memory:");
    std::vector<std::int64_t> accepted;
    for (int i = 0; i < 10; ++i) {
        const std::int64_t id = insert_event(db, make_event("AB12", 1000 + i, i % 3 != 0));
        if (i % 3 != 0) {
            accepted.push_back(id);
        }
    }
    const auto all = events_after(db, 0, 100);
    std::vector<std::int64_t> ids;
    for (const auto& ev : all) {
        ids.push_back(ev.id);
        EXPECT_TRUE(ev.accepted);
    }
    EXPECT_EQ(ids, accepted);
    const auto tail = events_after(db, accepted[2], 2);
    ASSERT_EQ(tail.size(), 2U);
    EXPECT_EQ(tail[0].id, accepted[3]);
    EXPECT_EQ(tail[1].id, accepted[4]);
    EXPECT_EQ(tail[0].account, "AB12");
    EXPECT_TRUE(events_after(db, accepted.back(), 10).empty());
}

// The daemon's worst burst: a region-wide blackout grouped into one storm, then closed.
TEST(AlarmPersistenceScale, StormOfFiftyThousandPersistsQuickly) {
    const temp_dir dir;
    database db = database::open(dir / "arc.db");
    constexpr std::uint64_t n = 50'000;
    alarm_batch opened;
    for (std::uint64_t i = 1; i <= n; ++i) {
        eng::alarm a;
        a.id = i;
        a.cls = eng::alarm_class::technical;
        a.kind = eng::event_kind::mains_loss;
        a.account = "A" + std::to_string(i);
        a.opened_at = t0;
        a.last_event_at = t0;
        eng::change c;
        c.kind = eng::change_kind::opened;
        c.at = t0;
        c.event_id = i;
        c.alarm = eng::header_of(a);
        c.actor = "system";
        opened.changes.push_back(std::move(c));
        opened.created.push_back(std::move(a));
    }
    db.exec("BEGIN");
    persist_alarm_batch(db, opened);
    db.exec("COMMIT");

    eng::alarm storm;
    storm.id = n + 1;
    storm.cls = eng::alarm_class::technical;
    storm.kind = eng::event_kind::mains_loss;
    storm.storm = true;
    storm.opened_at = t0;
    storm.last_event_at = t0;
    storm.event_count = static_cast<std::uint32_t>(n);
    alarm_batch grouped;
    eng::change g;
    g.kind = eng::change_kind::storm_grouped;
    g.at = t0 + 1s;
    g.alarm = eng::header_of(storm);
    g.actor = "system";
    for (std::uint64_t i = 1; i <= n; ++i) {
        g.members.push_back(i);
        storm.members.push_back(i);
    }
    grouped.created.push_back(storm);
    grouped.changes.push_back(std::move(g));

    auto start = std::chrono::steady_clock::now();
    db.exec("BEGIN");
    persist_alarm_batch(db, grouped);
    db.exec("COMMIT");
    const double group_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    alarm_batch closed;
    eng::change c;
    c.kind = eng::change_kind::storm_closed;
    c.at = t0 + 1h;
    storm.state = eng::alarm_state::closed;
    c.alarm = eng::header_of(storm);
    c.detail = "closed with storm " + std::to_string(storm.id);
    c.transition = eng::transition_record{eng::alarm_state::new_alarm, eng::alarm_state::closed,
                                          c.at, "op", c.detail};
    c.members = storm.members;
    closed.changes.push_back(std::move(c));
    start = std::chrono::steady_clock::now();
    db.exec("BEGIN");
    persist_alarm_batch(db, closed);
    db.exec("COMMIT");
    const double close_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    RecordProperty("group_ms", std::to_string(group_ms));
    RecordProperty("close_ms", std::to_string(close_ms));
    std::printf("storm of %llu: grouped in %.0f ms, closed in %.0f ms\n",
                static_cast<unsigned long long>(n), group_ms, close_ms);
    // Generous for sanitizer builds; an optimised build takes a fraction of this.
    EXPECT_LT(group_ms, 3000);
    EXPECT_LT(close_ms, 3000);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM alarms WHERE storm_id = " +
                                std::to_string(n + 1) + " AND state = 'closed'"),
              static_cast<std::int64_t>(n));
    EXPECT_EQ(storm_members(db, n + 1, 3), (std::vector<eng::alarm_id>{1, 2, 3}));
    EXPECT_EQ(query_text(db, "SELECT outcome FROM alarms WHERE id = 7"),
              "closed with storm " + std::to_string(n + 1));
}

// Rebuild reads 100,000 open alarms in a few queries.
TEST(AlarmPersistenceScale, LoadsManyOpenAlarms) {
    database db = database::open(":memory:");
    constexpr std::uint64_t n = 100'000;
    alarm_batch batch;
    for (std::uint64_t i = 1; i <= n; ++i) {
        eng::alarm a;
        a.id = i;
        a.cls = eng::alarm_class::urgent;
        a.kind = eng::event_kind::medical;
        a.account = "A" + std::to_string(i % 977);
        a.opened_at = t0 + std::chrono::seconds(i);
        a.last_event_at = a.opened_at;
        eng::change c;
        c.kind = eng::change_kind::opened;
        c.at = a.opened_at;
        c.alarm = eng::header_of(a);
        c.actor = "system";
        batch.changes.push_back(std::move(c));
        batch.created.push_back(std::move(a));
    }
    db.exec("BEGIN");
    persist_alarm_batch(db, batch);
    db.exec("COMMIT");
    const auto start = std::chrono::steady_clock::now();
    const alarm_snapshot snap = load_open_alarms(db);
    const double load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%llu open alarms loaded in %.0f ms\n", static_cast<unsigned long long>(n),
                load_ms);
    ASSERT_EQ(snap.open.size(), n);
    EXPECT_EQ(snap.max_id, n);
    EXPECT_EQ(snap.open.back().timeline.size(), 1U);
    EXPECT_LT(load_ms, 10000);
}

}  // namespace
}  // namespace arc::storage
