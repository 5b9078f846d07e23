#include "arc/storage/store.hpp"

#include <string>

#include "test_db.hpp"
#include <gtest/gtest.h>

namespace arc::storage {
namespace {

using testing::make_event;
using testing::query_int;
using testing::query_text;
using testing::temp_dir;

TEST(Schema, MigratesFromEmpty) {
    database db = database::open(":memory:");
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_GE(current_schema_version(), 1);
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM sqlite_master WHERE name IN "
                        "('devices', 'events', 'events_account_id')"),
              3);
    EXPECT_EQ(query_int(db, "PRAGMA foreign_keys"), 1);
}

TEST(Schema, ReopenIsIdempotent) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    {
        database db = database::open(path);
        insert_event(db, make_event("1234", 1));
        EXPECT_EQ(db.schema_version(), current_schema_version());
        EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
        EXPECT_EQ(query_int(db, "PRAGMA synchronous"), 2);  // FULL
        EXPECT_EQ(query_int(db, "PRAGMA page_size"), 8192);
    }
    database db = database::open(path);
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_EQ(count_events(db), 1);
    EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
}

TEST(Schema, CreatesParentDirectory) {
    const temp_dir dir;
    const auto path = dir / "var/sub/arc.db";
    database::open(path);
    EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(Schema, NewerSchemaIsRefused) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    database::open(path).exec("PRAGMA user_version = 999");
    try {
        database::open(path);
        FAIL() << "opened a database from the future";
    } catch (const storage_error& e) {
        EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
    }
}

TEST(Schema, ErrorsNamePathAndSqliteMessage) {
    const temp_dir dir;
    const auto missing = dir / "missing.db";
    try {
        database::open_read_only(missing);
        FAIL() << "opened a missing file read-only";
    } catch (const storage_error& e) {
        EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("unable to open"), std::string::npos) << e.what();
    }
    database db = database::open(dir / "arc.db");
    try {
        db.exec("SELECT * FROM no_such_table");
        FAIL();
    } catch (const storage_error& e) {
        EXPECT_NE(std::string(e.what()).find((dir / "arc.db").string()), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("no such table"), std::string::npos) << e.what();
    }
}

TEST(Schema, ReadOnlyConnectionReadsButDoesNotWrite) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    database rw = database::open(path);
    insert_event(rw, make_event("1234", 1));
    database ro = database::open_read_only(path);
    EXPECT_EQ(count_events(ro), 1);
    EXPECT_THROW(insert_event(ro, make_event("1234", 2)), storage_error);
}

TEST(Devices, InsertFindListRemove) {
    database db = database::open(":memory:");
    device dev;
    dev.account = "ab12";
    dev.key = std::vector<std::uint8_t>{0x00, 0x01, 0xFF, 0x00};
    dev.mode = device_mode::test;
    dev.label = "Via Roma 1, Bologna";
    dev.created_ms = 1700000000000;
    insert_device(db, dev);
    insert_device(db, testing::make_device("0001", 5));

    const auto found = find_device(db, "AB12");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->account, "AB12");  // stored upper case
    EXPECT_EQ(found->protocol, "dc09");
    EXPECT_EQ(found->key, dev.key);
    EXPECT_EQ(found->mode, device_mode::test);
    EXPECT_EQ(found->label, dev.label);
    EXPECT_EQ(found->created_ms, dev.created_ms);
    EXPECT_FALSE(found->last_seen_ms);
    EXPECT_TRUE(find_device(db, "ab12"));  // matched case-insensitively

    const auto all = list_devices(db);
    ASSERT_EQ(all.size(), 2U);
    EXPECT_EQ(all[0].account, "0001");  // by account
    EXPECT_FALSE(all[0].key);
    EXPECT_EQ(all[1].account, "AB12");

    EXPECT_TRUE(delete_device(db, "ab12"));
    EXPECT_FALSE(delete_device(db, "AB12"));
    EXPECT_FALSE(find_device(db, "AB12"));
}

TEST(Devices, DuplicateIsAlreadyExists) {
    database db = database::open(":memory:");
    insert_device(db, testing::make_device("AB12"));
    EXPECT_THROW(insert_device(db, testing::make_device("ab12")), already_exists);
    EXPECT_EQ(list_devices(db).size(), 1U);
}

TEST(Devices, SetMode) {
    database db = database::open(":memory:");
    insert_device(db, testing::make_device("AB12"));
    EXPECT_TRUE(set_device_mode(db, "ab12", device_mode::retired));
    EXPECT_EQ(find_device(db, "AB12")->mode, device_mode::retired);
    EXPECT_FALSE(set_device_mode(db, "FFFF", device_mode::test));
}

TEST(Devices, ModeNames) {
    for (const auto mode : {device_mode::active, device_mode::test, device_mode::retired}) {
        EXPECT_EQ(parse_device_mode(to_string(mode)), mode);
    }
    EXPECT_FALSE(parse_device_mode("Active"));
    EXPECT_FALSE(parse_device_mode(""));
}

TEST(Events, RoundTripKeepsBinaryBytes) {
    database db = database::open(":memory:");
    event_record ev = make_event("AB12", 1700000000123, false);
    ev.raw = std::string("\n\x00\x01\xFF\"*SIA-DCS\"\x00\r", 14);
    ev.reply = std::string("\nNAK\x00\r", 6);
    ev.error = "bad crc";
    ev.transport = "udp";
    ev.decoded_json = "{}";
    ev.reply_kind = "NAK";
    ev.id = insert_event(db, ev);
    EXPECT_GT(ev.id, 0);

    const auto got = events_for_account(db, "ab12", 10);
    ASSERT_EQ(got.size(), 1U);
    const event_record& back = got[0];
    EXPECT_EQ(back.id, ev.id);
    EXPECT_EQ(back.received_ms, ev.received_ms);
    EXPECT_EQ(back.transport, ev.transport);
    EXPECT_EQ(back.peer, ev.peer);
    EXPECT_EQ(back.raw, ev.raw);
    EXPECT_EQ(back.raw.size(), 14U);
    EXPECT_EQ(back.protocol, ev.protocol);
    EXPECT_EQ(back.account, ev.account);
    EXPECT_EQ(back.token, ev.token);
    EXPECT_EQ(back.seq, ev.seq);
    EXPECT_EQ(back.decoded_json, ev.decoded_json);
    EXPECT_EQ(back.reply_kind, ev.reply_kind);
    EXPECT_EQ(back.reply, ev.reply);
    EXPECT_EQ(back.error, ev.error);
    EXPECT_FALSE(back.accepted);
}

TEST(Events, EmptyFieldsAreEmptyNotNull) {
    database db = database::open(":memory:");
    event_record ev;  // a frame that did not even parse
    insert_event(db, ev);
    EXPECT_EQ(count_events(db), 1);
    const auto got = events_for_account(db, "", 10);
    ASSERT_EQ(got.size(), 1U);
    EXPECT_TRUE(got[0].raw.empty());
}

TEST(Events, AccountIsStoredUpperCase) {
    database db = database::open(":memory:");
    insert_event(db, make_event("ab12", 1));
    insert_event(db, make_event("AB12", 2));
    EXPECT_EQ(events_for_account(db, "AB12", 10).size(), 2U);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM events WHERE account = 'AB12'"), 2);
}

TEST(Events, NewestFirstWithLimit) {
    database db = database::open(":memory:");
    for (int i = 0; i < 10; ++i) {
        insert_event(db, make_event(i % 2 == 0 ? "AAAA" : "BBBB", i));
    }
    EXPECT_EQ(count_events(db), 10);
    const auto some = events_for_account(db, "AAAA", 3);
    ASSERT_EQ(some.size(), 3U);
    EXPECT_EQ(some[0].received_ms, 8);
    EXPECT_EQ(some[1].received_ms, 6);
    EXPECT_EQ(some[2].received_ms, 4);
    EXPECT_GT(some[0].id, some[1].id);
    EXPECT_EQ(events_for_account(db, "BBBB", 100).size(), 5U);
    EXPECT_TRUE(events_for_account(db, "CCCC", 100).empty());
    EXPECT_TRUE(events_for_account(db, "AAAA", 0).empty());
}

TEST(Errc, Messages) {
    const std::error_code ec = errc::commit_failed;
    EXPECT_EQ(&ec.category(), &storage_category());
    EXPECT_EQ(ec.message(), "storage transaction did not commit");
    EXPECT_STREQ(storage_category().name(), "arc.storage");
}

}  // namespace
}  // namespace arc::storage
