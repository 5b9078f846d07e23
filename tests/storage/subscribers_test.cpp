// Subscribers (assistiti), contacts and devices linked to them (schema v5); medical notes and
// key-safe codes sealed at rest.
#include "arc/storage/subscribers.hpp"

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "test_db.hpp"
#include <gtest/gtest.h>

#include "arc/security/field_crypto.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/store.hpp"

namespace {

using namespace arc::storage;
using namespace arc::storage::testing;
namespace sec = arc::security;

class field_key_scope {
public:
    explicit field_key_scope(std::vector<sec::data_key> keys) { set_field_keys(std::move(keys)); }
    field_key_scope(const field_key_scope&) = delete;
    field_key_scope& operator=(const field_key_scope&) = delete;
    ~field_key_scope() { set_field_keys({}); }
};

const std::string medical = "diabete tipo 2, insulina alle 8; allergia alla penicillina";
const std::string key_safe = "cassetta 4711 dietro il vaso";

subscriber maria() {
    subscriber s;
    s.code = "TS-0042";
    s.first_name = "Maria";
    s.last_name = "Rossi";
    s.birth_date = "1938-04-12";
    s.comune = "Torino";
    s.street = "Via Roma";
    s.number = "12";
    s.floor = "3";
    s.access_notes = "citofono Rossi, scala B";
    s.phones = {"011 555 1234", "+39 333 1234567"};
    s.living_situation = "alone";
    s.vulnerability = "anziano_solo";
    s.medical_notes = medical;
    s.key_safe_code = key_safe;
    s.guardian_kind = "amministratore_di_sostegno";
    s.guardian_name = "Avv. Bianchi";
    s.guardian_phone = "011 555 9999";
    s.gp_name = "Dr. Verdi";
    s.gp_phone = "011 555 0000";
    s.created_ms = 1000;
    s.updated_ms = 1000;
    contact c;
    c.priority = 2;
    c.name = "Luca Rossi";
    c.relation = "figlio";
    c.phones = {"347 1111111"};
    c.has_key = true;
    c.reachable = "sere";
    s.contacts.push_back(c);
    c.priority = 1;
    c.name = "Anna Neri";
    c.relation = "vicina";
    c.phones = {"011 222 3333", "340 2222222"};
    c.has_key = false;
    c.reachable = "sempre";
    s.contacts.push_back(c);
    return s;
}

std::string files_bytes(const std::filesystem::path& db) {
    std::string out;
    for (const auto& p : {db, std::filesystem::path(db.string() + "-wal")}) {
        std::ifstream in(p, std::ios::binary);
        out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
}

TEST(Subscribers, RoundTripWithContactsByPriority) {
    database db = database::open(":memory:");
    const std::int64_t id = insert_subscriber(db, maria());
    const auto s = find_subscriber(db, id);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->code, "TS-0042");
    EXPECT_EQ(s->last_name, "Rossi");
    EXPECT_EQ(s->birth_date, "1938-04-12");
    EXPECT_EQ(s->phones, (std::vector<std::string>{"011 555 1234", "+39 333 1234567"}));
    EXPECT_EQ(s->medical_notes, medical);
    EXPECT_EQ(s->key_safe_code, key_safe);
    EXPECT_EQ(s->guardian_kind, "amministratore_di_sostegno");
    EXPECT_EQ(s->status, subscriber_status::active);
    ASSERT_EQ(s->contacts.size(), 2U);
    EXPECT_EQ(s->contacts[0].name, "Anna Neri");
    EXPECT_EQ(s->contacts[0].phones.size(), 2U);
    EXPECT_EQ(s->contacts[1].name, "Luca Rossi");
    EXPECT_TRUE(s->contacts[1].has_key);
    EXPECT_EQ(find_subscriber_by_code(db, "ts-0042")->id, id);
    EXPECT_EQ(list_subscribers(db).size(), 1U);
}

TEST(Subscribers, CodeIsUniqueWhateverTheCase) {
    database db = database::open(":memory:");
    insert_subscriber(db, maria());
    subscriber other = maria();
    other.code = "ts-0042";
    EXPECT_THROW(insert_subscriber(db, other), already_exists);
}

TEST(Subscribers, UpdateStatusAndContacts) {
    database db = database::open(":memory:");
    const std::int64_t id = insert_subscriber(db, maria());
    subscriber s = *find_subscriber(db, id);
    s.status = subscriber_status::hospital;
    s.away_until_ms = 5000;
    s.medical_notes.clear();
    ASSERT_TRUE(update_subscriber(db, s));
    const auto after = find_subscriber(db, id);
    EXPECT_EQ(after->status, subscriber_status::hospital);
    EXPECT_EQ(after->away_until_ms, 5000);
    EXPECT_EQ(after->medical_notes, "");
    EXPECT_TRUE(after->paused(4999));
    EXPECT_FALSE(after->paused(5000));

    contact c = after->contacts[0];
    c.priority = 2;  // taken by Luca
    EXPECT_THROW(update_contact(db, c), already_exists);
    c.priority = 3;
    EXPECT_TRUE(update_contact(db, c));
    EXPECT_EQ(find_subscriber(db, id)->contacts.back().name, "Anna Neri");
    EXPECT_TRUE(delete_contact(db, c.id));
    EXPECT_EQ(list_contacts(db, id).size(), 1U);
}

TEST(Subscribers, DevicesLinkAndBlockRemoval) {
    database db = database::open(":memory:");
    const std::int64_t id = insert_subscriber(db, maria());
    insert_device(db, make_device("AB12", 1));
    device linked = make_device("CD34", 1);
    linked.subscriber_id = id;
    insert_device(db, linked);
    EXPECT_TRUE(set_device_subscriber(db, "ab12", id));
    EXPECT_FALSE(set_device_subscriber(db, "FFFF", id));
    const auto devices = subscriber_devices(db, id);
    ASSERT_EQ(devices.size(), 2U);
    EXPECT_EQ(devices[0].subscriber_id, id);
    EXPECT_THROW(delete_subscriber(db, id), storage_error);  // devices still linked
    set_device_subscriber(db, "AB12", std::nullopt);
    set_device_subscriber(db, "CD34", std::nullopt);
    EXPECT_TRUE(delete_subscriber(db, id));
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM contacts"), 0);
    EXPECT_FALSE(find_device(db, "AB12")->subscriber_id);
}

TEST(Subscribers, SensitiveFieldsSealedAtRest) {
    const field_key_scope keys({sec::data_key::generate()});
    const temp_dir dir;
    const auto path = dir / "arc.db";
    {
        database db = database::open(path);
        const std::int64_t id = insert_subscriber(db, maria());
        EXPECT_EQ(query_int(db, "SELECT typeof(medical_notes) = 'blob' FROM subscribers"), 1);
        EXPECT_EQ(find_subscriber(db, id)->medical_notes, medical);
        EXPECT_EQ(find_subscriber(db, id)->key_safe_code, key_safe);
        const std::string bytes = files_bytes(path);
        EXPECT_NE(bytes.find("Via Roma"), std::string::npos);  // the files were read
        EXPECT_EQ(bytes.find("insulina"), std::string::npos);
        EXPECT_EQ(bytes.find("4711"), std::string::npos);
    }
    set_field_keys({sec::data_key::generate()});
    database db = database::open(path);
    EXPECT_THROW(list_subscribers(db), storage_error);  // another key: refused, never blank
}

TEST(Subscribers, KeyRotationSealsEveryFieldWithTheNewKeyOnly) {
    const sec::data_key old_key = sec::data_key::generate();
    const sec::data_key new_key = sec::data_key::generate();
    const temp_dir dir;
    const auto path = dir / "arc.db";
    std::int64_t id = 0;
    const std::vector<std::uint8_t> aes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    {
        const field_key_scope keys({old_key});
        database db = database::open(path);
        id = insert_subscriber(db, maria());
        device dev = make_device("AB12", 1);
        dev.key = aes;
        insert_device(db, dev);
        // A wrong opener set is refused and changes nothing.
        const std::vector<sec::data_key> wrong{sec::data_key::generate()};
        try {
            reseal_fields(db, wrong, new_key);
            ADD_FAILURE() << "no error";
        } catch (const storage_error& e) {
            EXPECT_NE(std::string(e.what()).find("devices row"), std::string::npos) << e.what();
        }
        EXPECT_EQ(find_subscriber(db, id)->medical_notes, medical);
        const std::vector<sec::data_key> openers{old_key, new_key};
        EXPECT_EQ(reseal_fields(db, openers, new_key), 3U);  // AES key, notes, key-safe code
    }
    {
        // The new key alone opens everything; the old one alone opens nothing any more.
        const field_key_scope keys({new_key});
        database db = database::open(path);
        EXPECT_EQ(find_subscriber(db, id)->medical_notes, medical);
        EXPECT_EQ(find_subscriber(db, id)->key_safe_code, key_safe);
        EXPECT_EQ(find_device(db, "AB12")->key, aes);
        EXPECT_EQ(files_bytes(path).find("insulina"), std::string::npos);
    }
    const field_key_scope keys({old_key});
    database db = database::open(path);
    EXPECT_THROW(find_subscriber(db, id), storage_error);
    EXPECT_THROW(find_device(db, "AB12"), storage_error);
}

TEST(Subscribers, MigrationFromV4KeepsDevices) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    {
        sqlite3* raw = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        // The devices table as versions 1 and 2 made it; the other v1-v4 tables play no part.
        const char* sql =
            "CREATE TABLE devices (account TEXT PRIMARY KEY NOT NULL, protocol TEXT NOT NULL, "
            "aes_key BLOB, mode TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', created_ms INTEGER "
            "NOT NULL, last_seen_ms INTEGER, device_type TEXT NOT NULL DEFAULT 'home_unit', "
            "interval_s INTEGER, test_until_ms INTEGER, vendor TEXT NOT NULL DEFAULT '');"
            // The v2 tables that v7 indexes.
            "CREATE TABLE alarms (id INTEGER PRIMARY KEY, first_event_id INTEGER NOT NULL "
            "DEFAULT 0);"
            "CREATE TABLE alarm_log (id INTEGER PRIMARY KEY, event_id INTEGER NOT NULL DEFAULT 0);"
            // The v3 table that v8 (missions) links to a team.
            "CREATE TABLE operators (id INTEGER PRIMARY KEY);"
            "INSERT INTO devices (account, protocol, mode, label, created_ms) "
            "VALUES ('AB12', 'dc09', 'active', 'kitchen', 7);"
            "PRAGMA user_version = 4;";
        ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(raw);
    }
    database db = database::open(path);
    EXPECT_EQ(db.schema_version(), current_schema_version());
    const auto dev = find_device(db, "AB12");
    ASSERT_TRUE(dev);
    EXPECT_EQ(dev->label, "kitchen");
    EXPECT_FALSE(dev->subscriber_id);
    const std::int64_t id = insert_subscriber(db, maria());
    EXPECT_TRUE(set_device_subscriber(db, "AB12", id));
    EXPECT_EQ(find_device(db, "AB12")->subscriber_id, id);
}

}  // namespace
