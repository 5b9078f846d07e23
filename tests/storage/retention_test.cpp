// Retention (schema v7): legal holds and the bounded purge with an injected "now".
#include "arc/storage/retention.hpp"

#include <cstdint>
#include <string>

#include "test_db.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "arc/storage/security.hpp"
#include "arc/storage/subscribers.hpp"

namespace arc::storage {
namespace {

using testing::make_device;
using testing::make_event;
using testing::query_int;
using testing::temp_dir;

constexpr std::int64_t day = 86400 * 1000;
constexpr std::int64_t now = 2'000'000'000'000;  // the injected "now"
constexpr int days = 1095;
constexpr std::int64_t cutoff = retention_cutoff_ms(now, days);

class Retention : public ::testing::Test {
protected:
    Retention() : db_(database::open(":memory:")) {}

    std::int64_t event(const std::string& account, std::int64_t received_ms) {
        return insert_event(db_, make_event(account, received_ms));
    }

    // A closed (closed_ms set) or open alarm with one log row per event it refers to.
    std::int64_t alarm(const std::string& account, std::int64_t first_event,
                       std::optional<std::int64_t> closed_ms, std::int64_t second_event = 0) {
        db_.exec(fmt::format(
            "INSERT INTO alarms (class, kind, state, level, account, opened_ms, last_event_ms, "
            "closed_ms, event_count, first_event_id) VALUES ('critical', 'alarm', '{}', 0, "
            "'{}', 1, 1, {}, 1, {})",
            closed_ms ? "closed" : "new", account,
            closed_ms ? std::to_string(*closed_ms) : std::string("NULL"), first_event));
        const std::int64_t id = sqlite3_last_insert_rowid(db_.handle());
        db_.exec(
            fmt::format("INSERT INTO alarm_log (alarm_id, at_ms, change, event_id) VALUES "
                        "({0}, 1, 'opened', {1}); INSERT INTO alarm_log (alarm_id, at_ms, "
                        "change, detail) VALUES ({0}, 2, 'noted', 'called the daughter')",
                        id, first_event));
        if (second_event != 0) {
            db_.exec(
                fmt::format("INSERT INTO alarm_log (alarm_id, at_ms, change, event_id) "
                            "VALUES ({}, 3, 'event_added', {})",
                            id, second_event));
        }
        return id;
    }

    void cursor_at(std::int64_t id) {
        db_.exec(
            fmt::format("INSERT INTO meta (key, value) VALUES ('engine_event_cursor', {}) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        id));
    }

    std::int64_t hold(hold_scope scope, std::string ref) {
        legal_hold h;
        h.scope = scope;
        h.ref = std::move(ref);
        h.reason = "procura di Torino, fascicolo 123/26";
        h.created_by = "admin-socket";
        h.created_ms = now - day;
        return insert_hold(db_, h);
    }

    // Runs batches until done; returns the total and counts the batches.
    purge_counts purge_all(std::size_t batch, int* batches = nullptr) {
        purge_cursor cursor;
        purge_counts total;
        int n = 0;
        while (!cursor.done()) {
            total += purge_batch(db_, cutoff, batch, cursor);
            ++n;
            EXPECT_LT(n, 10000) << "purge does not end";
            if (n >= 10000) {
                break;
            }
        }
        if (batches != nullptr) {
            *batches = n;
        }
        return total;
    }

    bool event_exists(std::int64_t id) {
        return query_int(db_, fmt::format("SELECT count(*) FROM events WHERE id = {}", id)) == 1;
    }
    bool alarm_exists(std::int64_t id) {
        return query_int(db_, fmt::format("SELECT count(*) FROM alarms WHERE id = {}", id)) == 1;
    }
    std::int64_t log_rows(std::int64_t id) {
        return query_int(db_,
                         fmt::format("SELECT count(*) FROM alarm_log WHERE alarm_id = {}", id));
    }

    database db_;
};

TEST_F(Retention, CutoffIsDaysBeforeNow) {
    EXPECT_EQ(retention_cutoff_ms(now, 1095), now - std::int64_t{1095} * 86400000);
    EXPECT_EQ(retention_cutoff_ms(now, 0), now);
}

TEST_F(Retention, PurgesJustBeforeTheCutoffKeepsJustAfter) {
    const std::int64_t old_event = event("AB12", cutoff - 1);
    const std::int64_t new_event = event("AB12", cutoff);
    const std::int64_t old_event2 = event("AB12", cutoff - 2 * day);
    const std::int64_t old_alarm_event = event("AB12", cutoff - 3 * day);
    const std::int64_t kept_alarm_event = event("AB12", cutoff - 4 * day);
    const std::int64_t newest = event("AB12", now);
    cursor_at(newest);
    const std::int64_t purged = alarm("AB12", old_alarm_event, cutoff - 1);
    const std::int64_t closed_recently = alarm("AB12", kept_alarm_event, cutoff);
    const std::int64_t open_alarm = alarm("AB12", newest, std::nullopt);
    // Each dispatched once: a mission goes with its alarm, and only then.
    for (const std::int64_t a : {purged, closed_recently}) {
        db_.exec(
            fmt::format("INSERT INTO missions (alarm_id, team, operator, instructions, state, "
                        "dispatched_ms) VALUES ({}, 'PIS Nord', 'anna', 'portare coperte', "
                        "'done', 1)",
                        a));
    }
    const auto missions_of = [&](std::int64_t a) {
        return query_int(db_, fmt::format("SELECT count(*) FROM missions WHERE alarm_id = {}", a));
    };

    const purge_counts would = count_purgeable(db_, cutoff);
    EXPECT_EQ(would.alarms, 1);
    EXPECT_EQ(would.alarm_log, 2);
    EXPECT_EQ(would.events, 3);  // old_event, old_event2, old_alarm_event
    EXPECT_TRUE(alarm_exists(purged)) << "a count changes nothing";

    const purge_counts did = purge_all(5000);
    EXPECT_EQ(did.alarms, would.alarms);
    EXPECT_EQ(did.alarm_log, would.alarm_log);
    EXPECT_EQ(did.events, would.events);
    EXPECT_FALSE(event_exists(old_event));
    EXPECT_FALSE(event_exists(old_event2));
    EXPECT_FALSE(event_exists(old_alarm_event));
    EXPECT_FALSE(alarm_exists(purged));
    EXPECT_EQ(log_rows(purged), 0);
    EXPECT_EQ(missions_of(purged), 0);
    EXPECT_EQ(missions_of(closed_recently), 1);
    EXPECT_TRUE(event_exists(new_event));
    EXPECT_TRUE(alarm_exists(closed_recently));
    EXPECT_EQ(log_rows(closed_recently), 2);
    EXPECT_TRUE(event_exists(kept_alarm_event)) << "its alarm stays, so does the event";
    EXPECT_TRUE(alarm_exists(open_alarm));
    EXPECT_TRUE(event_exists(newest));
    EXPECT_EQ(count_purgeable(db_, cutoff).events, 0);
}

TEST_F(Retention, OpenAlarmKeepsItsOldEvents) {
    const std::int64_t first = event("AB12", cutoff - 10 * day);
    const std::int64_t second = event("AB12", cutoff - 9 * day);
    const std::int64_t newest = event("CD34", now);
    cursor_at(newest);
    const std::int64_t open_alarm = alarm("AB12", first, std::nullopt, second);
    alarm("CD34", newest, now);  // the newest alarm row
    purge_all(5000);
    EXPECT_TRUE(alarm_exists(open_alarm));
    EXPECT_EQ(log_rows(open_alarm), 3);
    EXPECT_TRUE(event_exists(first));
    EXPECT_TRUE(event_exists(second));
}

TEST_F(Retention, HeldAlarmKeepsEverythingUntilReleased) {
    const std::int64_t e1 = event("AB12", cutoff - 10 * day);
    const std::int64_t e2 = event("AB12", cutoff - 10 * day);
    const std::int64_t other = event("AB12", cutoff - 10 * day);
    const std::int64_t newest = event("CD34", now);
    cursor_at(newest);
    const std::int64_t held = alarm("AB12", e1, cutoff - 5 * day, e2);
    const std::int64_t member = alarm("AB12", other, cutoff - 5 * day);
    db_.exec(
        fmt::format("UPDATE alarms SET storm = 1 WHERE id = {0}; UPDATE alarms SET "
                    "storm_id = {0} WHERE id = {1}",
                    held, member));
    alarm("CD34", newest, now);
    const std::int64_t h = hold(hold_scope::alarm, std::to_string(held));

    purge_all(5000);
    EXPECT_TRUE(alarm_exists(held));
    EXPECT_EQ(log_rows(held), 3);
    EXPECT_TRUE(event_exists(e1));
    EXPECT_TRUE(event_exists(e2));
    EXPECT_TRUE(alarm_exists(member)) << "the storm's member stays with it";
    EXPECT_TRUE(event_exists(other));

    ASSERT_TRUE(release_hold(db_, h, "admin-socket", now, "case closed"));
    EXPECT_FALSE(release_hold(db_, h, "admin-socket", now, "again")) << "released once";
    purge_all(5000);
    EXPECT_FALSE(alarm_exists(held));
    EXPECT_FALSE(alarm_exists(member));
    EXPECT_FALSE(event_exists(e1));
    EXPECT_FALSE(event_exists(e2));
    EXPECT_FALSE(event_exists(other));
}

TEST_F(Retention, HeldSubscriberAndAccountKeepTheirDevices) {
    subscriber s;
    s.code = "TS-0001";
    s.first_name = "Maria";
    s.last_name = "Rossi";
    const std::int64_t sid = insert_subscriber(db_, s);
    insert_device(db_, make_device("AB12"));
    insert_device(db_, make_device("AB13"));
    insert_device(db_, make_device("EF56"));
    ASSERT_TRUE(set_device_subscriber(db_, "AB12", sid));
    ASSERT_TRUE(set_device_subscriber(db_, "AB13", sid));
    const std::int64_t sub_event = event("AB13", cutoff - 10 * day);
    const std::int64_t sub_alarm_event = event("AB12", cutoff - 10 * day);
    const std::int64_t acct_event = event("EF56", cutoff - 10 * day);
    const std::int64_t free_event = event("9999", cutoff - 10 * day);
    const std::int64_t newest = event("CD34", now);
    cursor_at(newest);
    const std::int64_t sub_alarm = alarm("AB12", sub_alarm_event, cutoff - 5 * day);
    const std::int64_t acct_alarm = alarm("EF56", acct_event, cutoff - 5 * day);
    alarm("CD34", newest, now);
    hold(hold_scope::subscriber, std::to_string(sid));
    hold(hold_scope::account, "EF56");

    const purge_counts did = purge_all(5000);
    EXPECT_EQ(did.events, 1);
    EXPECT_EQ(did.alarms, 0);
    EXPECT_FALSE(event_exists(free_event));
    EXPECT_TRUE(event_exists(sub_event));
    EXPECT_TRUE(event_exists(sub_alarm_event));
    EXPECT_TRUE(alarm_exists(sub_alarm));
    EXPECT_TRUE(event_exists(acct_event));
    EXPECT_TRUE(alarm_exists(acct_alarm));
}

TEST_F(Retention, NeverPastTheEngineCursorNorTheNewestRows) {
    const std::int64_t seen = event("AB12", cutoff - 10 * day);
    const std::int64_t unseen = event("AB12", cutoff - 10 * day);
    const std::int64_t last = event("AB12", cutoff - 10 * day);
    cursor_at(seen);
    const std::int64_t only_alarm = alarm("AB12", 0, cutoff - 5 * day);
    purge_all(5000);
    EXPECT_FALSE(event_exists(seen));
    EXPECT_TRUE(event_exists(unseen)) << "the engine's replay still needs it";
    EXPECT_TRUE(event_exists(last));
    EXPECT_TRUE(alarm_exists(only_alarm)) << "the newest alarm keeps the id sequence";
}

TEST_F(Retention, BoundedBatchesEachSmall) {
    for (int i = 0; i < 250; ++i) {
        event("AB12", cutoff - day - i);
    }
    const std::int64_t newest = event("AB12", now);
    cursor_at(newest);
    int batches = 0;
    const purge_counts did = purge_all(100, &batches);
    EXPECT_EQ(did.events, 250);
    // One empty alarm window, then three event windows (100, 100, 51 rows).
    EXPECT_EQ(batches, 4);
    EXPECT_EQ(query_int(db_, "SELECT count(*) FROM events"), 1);
}

TEST_F(Retention, AuditChainStillVerifies) {
    for (int i = 0; i < 3; ++i) {
        append_audit(db_, security::audit_entry{0, cutoff - 100 * day, "admin-socket", "device.add",
                                                "AB12", "", "old"});
    }
    const std::int64_t e = event("AB12", cutoff - 10 * day);
    const std::int64_t newest = event("AB12", now);
    cursor_at(newest);
    alarm("AB12", e, cutoff - 5 * day);
    alarm("AB12", newest, now);
    purge_all(5000);
    EXPECT_FALSE(event_exists(e));
    append_audit(db_, security::audit_entry{0, now, "retention", "retention.purge", "", "", "x"});
    EXPECT_EQ(query_int(db_, "SELECT count(*) FROM audit"), 4);
    const auto result = verify_audit(db_);
    EXPECT_TRUE(result.ok) << result.reason;
    EXPECT_EQ(result.last_seq, 4);
}

TEST_F(Retention, HoldsListAndRelease) {
    const std::int64_t a = hold(hold_scope::alarm, "7");
    const std::int64_t b = hold(hold_scope::account, "AB12");
    ASSERT_TRUE(release_hold(db_, a, "anna", now, "archived"));
    const auto active = list_holds(db_, false);
    ASSERT_EQ(active.size(), 1U);
    EXPECT_EQ(active[0].id, b);
    EXPECT_EQ(active[0].scope, hold_scope::account);
    EXPECT_EQ(active[0].ref, "AB12");
    const auto all = list_holds(db_, true);
    ASSERT_EQ(all.size(), 2U);
    EXPECT_EQ(all[0].released_by, "anna");
    EXPECT_EQ(all[0].released_ms, now);
    EXPECT_EQ(all[0].release_reason, "archived");
    EXPECT_FALSE(find_hold(db_, 99));
    EXPECT_FALSE(release_hold(db_, 99, "anna", now, "none"));
    legal_hold empty_reason;
    empty_reason.ref = "1";
    EXPECT_THROW(insert_hold(db_, empty_reason), storage_error) << "a hold needs a reason";
    EXPECT_EQ(parse_hold_scope("subscriber"), hold_scope::subscriber);
    EXPECT_FALSE(parse_hold_scope("device"));
}

TEST(RetentionSchema, MigrationFromV5KeepsData) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    std::int64_t ev = 0;
    {
        database db = database::open(path);
        ev = insert_event(db, make_event("AB12", 5));
        db.exec(
            "INSERT INTO alarms (class, kind, state, level, account, opened_ms, "
            "last_event_ms, event_count) VALUES ('critical', 'alarm', 'closed', 0, 'AB12', "
            "1, 1, 1); DROP TABLE cases; DROP TABLE teams; DROP TABLE legal_holds; DROP INDEX "
            "alarm_log_event; DROP "
            "INDEX "
            "alarms_first_event; DROP TABLE missions; ALTER TABLE operators DROP COLUMN team_id; "
            "PRAGMA user_version = 5;");
    }
    database db = database::open(path);
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_EQ(query_int(db, fmt::format("SELECT count(*) FROM events WHERE id = {}", ev)), 1);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM alarms"), 1);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM legal_holds"), 0);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'alarm_log_event'"),
              1);
}

}  // namespace
}  // namespace arc::storage
