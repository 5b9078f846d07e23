// PIS teams in storage (schema v6): round trip, unique names whatever the case, state, the
// migration from v5.
#include "arc/storage/teams.hpp"

#include <string>

#include "test_db.hpp"
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "arc/storage/store.hpp"

namespace {

using namespace arc::storage;
using namespace arc::storage::testing;
using arc::teams::team_state;

team notte() {
    team t;
    t.name = "PIS Notte";
    t.members = {"Giulia Bianchi", "Marco \"Il Rosso\" Neri"};
    t.phone = "+39 335 1234567";
    t.territory = {"Torino", "Moncalieri",
                   "Sant\xE2\x80\x99"
                   "Ambrogio"};
    t.schedule = "outside-office-hours; holiday 06-24";
    t.created_ms = 1000;
    t.updated_ms = 1000;
    return t;
}

TEST(Teams, RoundTrip) {
    database db = database::open(":memory:");
    const std::int64_t id = insert_team(db, notte());
    const auto t = find_team(db, id);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->name, "PIS Notte");
    EXPECT_EQ(t->members, notte().members);
    EXPECT_EQ(t->phone, "+39 335 1234567");
    EXPECT_EQ(t->territory, notte().territory);
    EXPECT_EQ(t->schedule, "outside-office-hours; holiday 06-24");
    EXPECT_EQ(t->state, team_state::available);
    EXPECT_EQ(t->created_ms, 1000);
    EXPECT_EQ(find_team_by_name(db, "pis notte")->id, id);
    EXPECT_FALSE(find_team_by_name(db, "PIS Giorno"));
    EXPECT_FALSE(find_team(db, id + 1));
}

TEST(Teams, NamesAreUniqueWhateverTheCase) {
    database db = database::open(":memory:");
    insert_team(db, notte());
    team other = notte();
    other.name = "pis NOTTE";
    EXPECT_THROW(insert_team(db, other), already_exists);
    other.name = "PIS Giorno";
    const std::int64_t id = insert_team(db, other);
    other.id = id;
    other.name = "PIS notte";
    EXPECT_THROW(update_team(db, other), already_exists);
    other.name = "PIS Giorno e Notte";
    other.territory = {"Chieri"};
    EXPECT_TRUE(update_team(db, other));
    EXPECT_EQ(find_team(db, id)->territory, std::vector<std::string>{"Chieri"});
    const auto all = list_teams(db);
    ASSERT_EQ(all.size(), 2U);
    EXPECT_EQ(all[0].name, "PIS Giorno e Notte");  // by name
    EXPECT_EQ(all[1].name, "PIS Notte");
}

TEST(Teams, StateAndRemoval) {
    database db = database::open(":memory:");
    const std::int64_t id = insert_team(db, notte());
    EXPECT_TRUE(set_team_state(db, id, team_state::off_duty, 2000));
    EXPECT_EQ(find_team(db, id)->state, team_state::off_duty);
    EXPECT_EQ(find_team(db, id)->updated_ms, 2000);
    EXPECT_FALSE(set_team_state(db, id + 1, team_state::available, 2000));
    // The CHECK keeps states to the three names.
    EXPECT_THROW(db.exec("UPDATE teams SET state = 'busy'"), storage_error);
    EXPECT_TRUE(delete_team(db, id));
    EXPECT_FALSE(delete_team(db, id));
    EXPECT_TRUE(list_teams(db).empty());
}

TEST(Teams, MigrationFromV5KeepsSubscribersAndDevices) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        // The tables v6 sits beside, as v5 left them (only what this test reads).
        const char* sql =
            "CREATE TABLE devices (account TEXT PRIMARY KEY NOT NULL, protocol TEXT NOT NULL, "
            "aes_key BLOB, mode TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', created_ms INTEGER "
            "NOT NULL, last_seen_ms INTEGER, device_type TEXT NOT NULL DEFAULT 'home_unit', "
            "interval_s INTEGER, test_until_ms INTEGER, vendor TEXT NOT NULL DEFAULT '', "
            "subscriber_id INTEGER);"
            "CREATE TABLE subscribers (id INTEGER PRIMARY KEY, status TEXT NOT NULL, "
            "away_until_ms INTEGER);"
            // The v2 tables that v7 (retention) indexes.
            "CREATE TABLE alarms (id INTEGER PRIMARY KEY, first_event_id INTEGER NOT NULL "
            "DEFAULT 0);"
            "CREATE TABLE alarm_log (id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL DEFAULT 0);"
            // The v3 table that v8 (missions) links to a team.
            "CREATE TABLE operators (id INTEGER PRIMARY KEY);"
            "INSERT INTO devices (account, protocol, mode, label, created_ms) "
            "VALUES ('AB12', 'dc09', 'active', 'kitchen', 7);"
            "PRAGMA user_version = 5;";
        ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
    }
    database db = database::open(path);
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_GE(current_schema_version(), 6);
    EXPECT_EQ(find_device(db, "AB12")->label, "kitchen");
    EXPECT_TRUE(list_teams(db).empty());
    const std::int64_t id = insert_team(db, notte());
    EXPECT_EQ(find_team(db, id)->name, "PIS Notte");
}

}  // namespace
