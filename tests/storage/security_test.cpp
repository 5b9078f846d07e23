#include "arc/storage/security.hpp"

#include <string>
#include <vector>

#include "test_db.hpp"
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "arc/security/session_token.hpp"
#include "arc/storage/store.hpp"

namespace {

using namespace arc::storage;
using namespace arc::storage::testing;
namespace sec = arc::security;

operator_account make_operator(std::string username,
                               operator_role role = operator_role::operator_) {
    operator_account op;
    op.username = std::move(username);
    op.display_name = "Anna Rossi";
    op.role = role;
    op.password_hash = "$argon2id$placeholder";
    op.created_ms = 1000;
    op.updated_ms = 1000;
    return op;
}

sec::audit_entry audit(std::string action, std::string target, std::int64_t at_ms = 5000) {
    return sec::audit_entry{
        0, at_ms, "admin-socket", std::move(action), std::move(target), "", "role=operator"};
}

TEST(SchemaV3, TablesAndAnEmptyAuditHead) {
    database db = database::open(":memory:");
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_GE(current_schema_version(), 3);
    EXPECT_EQ(query_int(db,
                        "SELECT count(*) FROM sqlite_master WHERE name IN ('operators', "
                        "'sessions', 'audit', 'meta_blob', 'sessions_operator')"),
              5);
    const audit_head head = read_audit_head(db);
    EXPECT_EQ(head.seq, 0);
    EXPECT_EQ(head.hash, sec::zero_hash);
    EXPECT_TRUE(verify_audit(db).ok);
}

TEST(SchemaV3, UpgradesAVersion2DatabaseKeepingItsDevices) {
    temp_dir dir;
    const auto path = dir / "arc.db";
    {
        database db = database::open(path);
        insert_device(db, make_device("AB12", 100));
        db.exec(
            "DROP TABLE operators; DROP TABLE sessions; DROP TABLE audit; DROP TABLE meta_blob;"
            "DROP INDEX events_unparsed;"
            "DROP INDEX devices_subscriber; ALTER TABLE devices DROP COLUMN subscriber_id;"
            "DROP TABLE contacts; DROP TABLE subscribers; DROP TABLE teams;"
            "DROP TABLE legal_holds; DROP TABLE cases; DROP INDEX alarm_log_event; DROP INDEX "
            "alarms_first_event;"
            "DROP TABLE missions;"
            "DELETE FROM meta WHERE key = 'audit_head_seq'; PRAGMA user_version = 2;");
    }
    database db = database::open(path);
    EXPECT_EQ(db.schema_version(), current_schema_version());
    EXPECT_TRUE(find_device(db, "ab12"));
    EXPECT_EQ(read_audit_head(db).seq, 0);
    EXPECT_EQ(append_audit(db, audit("device.add", "AB12")).entry.seq, 1);
}

TEST(Operators, InsertFindCaseInsensitiveListUpdate) {
    database db = database::open(":memory:");
    const std::int64_t id = insert_operator(db, make_operator("Anna", operator_role::supervisor));
    EXPECT_GT(id, 0);
    insert_operator(db, make_operator("bruno"));
    const auto anna = find_operator(db, "ANNA");
    ASSERT_TRUE(anna);
    EXPECT_EQ(anna->id, id);
    EXPECT_EQ(anna->username, "Anna") << "stored as given";
    EXPECT_EQ(anna->role, operator_role::supervisor);
    EXPECT_EQ(anna->display_name, "Anna Rossi");
    EXPECT_FALSE(find_operator(db, "carla"));
    EXPECT_THROW(insert_operator(db, make_operator("anna")), already_exists);

    const auto all = list_operators(db);
    ASSERT_EQ(all.size(), 2U);
    EXPECT_EQ(all[0].username, "Anna");
    EXPECT_EQ(all[1].username, "bruno");

    operator_account changed = *anna;
    changed.disabled = true;
    changed.role = operator_role::admin;
    changed.updated_ms = 2000;
    EXPECT_TRUE(update_operator(db, changed));
    const auto after = find_operator(db, id);
    ASSERT_TRUE(after);
    EXPECT_TRUE(after->disabled);
    EXPECT_EQ(after->role, operator_role::admin);
    EXPECT_EQ(after->updated_ms, 2000);
    changed.id = 999;
    EXPECT_FALSE(update_operator(db, changed));
}

TEST(Operators, RoleNamesRoundTripAndTheSchemaRefusesOthers) {
    for (const auto* name : {"operator", "supervisor", "installer", "admin", "team"}) {
        const auto role = parse_operator_role(name);
        ASSERT_TRUE(role) << name;
        EXPECT_EQ(to_string(*role), name);
    }
    EXPECT_FALSE(parse_operator_role("root"));
    database db = database::open(":memory:");
    EXPECT_THROW(db.exec("INSERT INTO operators (username, role, password_hash, created_ms, "
                         "updated_ms) VALUES ('x', 'root', 'h', 0, 0)"),
                 storage_error);
}

TEST(Operators, FiveFailuresLockFor15MinutesAndSuccessResets) {
    database db = database::open(":memory:");
    const std::int64_t id = insert_operator(db, make_operator("anna"));
    const std::int64_t now = 1'000'000;
    for (int i = 1; i < max_failed_logins; ++i) {
        const auto op = record_failed_login(db, id, now + i);
        ASSERT_TRUE(op);
        EXPECT_EQ(op->failed_logins, i);
        EXPECT_FALSE(op->locked(now + i));
    }
    const auto locked = record_failed_login(db, id, now + 10);
    ASSERT_TRUE(locked);
    EXPECT_TRUE(locked->locked(now + 10));
    EXPECT_EQ(locked->locked_until_ms, now + 10 + 15 * 60 * 1000);
    const auto stored = find_operator(db, id);
    ASSERT_TRUE(stored);
    EXPECT_TRUE(stored->locked(now + 10 + 15 * 60 * 1000 - 1));
    EXPECT_FALSE(stored->locked(now + 10 + 15 * 60 * 1000));

    // A success after the lock expired clears everything.
    record_failed_login(db, id, now + 20 * 60 * 1000);
    EXPECT_EQ(find_operator(db, id)->failed_logins, 1);
    EXPECT_TRUE(record_successful_login(db, id, now + 20 * 60 * 1000));
    EXPECT_EQ(find_operator(db, id)->failed_logins, 0);
    EXPECT_EQ(find_operator(db, id)->locked_until_ms, 0);
    EXPECT_FALSE(record_failed_login(db, 999, now));
}

TEST(Sessions, StoredByHashFoundTouchedAndDeleted) {
    database db = database::open(":memory:");
    const std::int64_t anna = insert_operator(db, make_operator("anna"));
    const std::int64_t bruno = insert_operator(db, make_operator("bruno"));
    const sec::session_token token = sec::new_session_token();
    insert_session(db, session_row{token.hash, anna, 100, 1100, 100, "127.0.0.1:5000"});
    insert_session(db, session_row{sec::new_session_token().hash, anna, 100, 200, 100, ""});
    insert_session(db, session_row{sec::new_session_token().hash, bruno, 100, 5000, 100, ""});

    const auto found = find_session(db, *sec::hash_session_token(token.text));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->operator_id, anna);
    EXPECT_EQ(found->peer, "127.0.0.1:5000");
    // The token text itself is nowhere in the table.
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM sessions WHERE hex(token_hash) = upper('" +
                                token.text + "')"),
              0);

    EXPECT_TRUE(touch_session(db, token.hash, 500, 1500));
    EXPECT_EQ(find_session(db, token.hash)->expires_ms, 1500);
    EXPECT_EQ(delete_expired_sessions(db, 300), 1U);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM sessions"), 2);
    EXPECT_EQ(delete_operator_sessions(db, bruno), 1U);
    EXPECT_TRUE(delete_session(db, token.hash));
    EXPECT_FALSE(delete_session(db, token.hash));
    EXPECT_FALSE(find_session(db, token.hash));
}

TEST(Audit, AppendChainsFromTheStoredHeadAndReadsBack) {
    database db = database::open(":memory:");
    const auto first = append_audit(db, audit("operator.add", "anna", 5000));
    const auto second = append_audit(db, audit("operator.disable", "anna", 6000));
    EXPECT_EQ(first.entry.seq, 1);
    EXPECT_EQ(first.prev_hash, sec::zero_hash);
    EXPECT_EQ(second.entry.seq, 2);
    EXPECT_EQ(second.prev_hash, first.hash);
    const audit_head head = read_audit_head(db);
    EXPECT_EQ(head.seq, 2);
    EXPECT_EQ(head.hash, second.hash);

    const auto all = read_audit(db, 1, 10);
    ASSERT_EQ(all.size(), 2U);
    EXPECT_EQ(all[1].entry.action, "operator.disable");
    EXPECT_EQ(all[1].entry.at_ms, 6000);
    EXPECT_EQ(all[1].hash, second.hash);
    EXPECT_EQ(read_audit(db, 2, 10).size(), 1U);
    EXPECT_EQ(read_audit(db, 1, 1).size(), 1U);
    EXPECT_TRUE(verify_audit(db).ok);
}

TEST(Audit, RolledBackWithTheJobItRecords) {
    database db = database::open(":memory:");
    append_audit(db, audit("operator.add", "anna"));
    db.exec("BEGIN IMMEDIATE");
    append_audit(db, audit("operator.add", "bruno"));
    db.exec("ROLLBACK");
    EXPECT_EQ(read_audit_head(db).seq, 1);
    EXPECT_EQ(append_audit(db, audit("operator.add", "carla")).entry.seq, 2);
    EXPECT_TRUE(verify_audit(db).ok);
}

class AuditTamper : public ::testing::Test {
protected:
    void SetUp() override {
        for (int i = 0; i < 5; ++i) {
            append_audit(db_, audit("device.add", "ACCT" + std::to_string(i), 5000 + i));
        }
    }
    void expect_broken(std::int64_t seq, const std::string& kind) {
        const sec::chain_result r = verify_audit(db_);
        EXPECT_FALSE(r.ok);
        EXPECT_EQ(r.bad_seq, seq) << r.reason;
        EXPECT_EQ(r.reason.rfind(kind + ":", 0), 0U) << r.reason;
    }
    // Inserts a row the way a tamperer with the database file would (plain SQL).
    void insert_raw(const sec::chained_entry& e) {
        sqlite3_stmt* stmt = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(db_.handle(),
                                     "INSERT INTO audit (seq, at_ms, actor, action, target, peer, "
                                     "detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                     -1, &stmt, nullptr),
                  SQLITE_OK);
        sqlite3_bind_int64(stmt, 1, e.entry.seq);
        sqlite3_bind_int64(stmt, 2, e.entry.at_ms);
        sqlite3_bind_text(stmt, 3, e.entry.actor.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 4, e.entry.action.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 5, e.entry.target.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 6, e.entry.peer.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 7, e.entry.detail.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(stmt, 8, e.prev_hash.data(), 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(stmt, 9, e.hash.data(), 32, SQLITE_TRANSIENT);
        EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
        sqlite3_finalize(stmt);
    }
    database db_ = database::open(":memory:");
};

TEST_F(AuditTamper, EditedField) {
    db_.exec("UPDATE audit SET actor = 'mallory' WHERE seq = 3");
    expect_broken(3, "edited");
}

TEST_F(AuditTamper, DeletedEntry) {
    db_.exec("DELETE FROM audit WHERE seq = 2");
    expect_broken(2, "deleted");
}

TEST_F(AuditTamper, InsertedEntryWithLaterOnesRenumbered) {
    // A forged entry chained properly after seq 2, the later rows moved up to make room.
    db_.exec(
        "UPDATE audit SET seq = seq + 100 WHERE seq >= 3; "
        "UPDATE audit SET seq = seq - 99 WHERE seq >= 103");
    const auto second = read_audit(db_, 2, 1).at(0);
    insert_raw(sec::chain_entry(
        second.hash, sec::audit_entry{3, 5002, "mallory", "operator.add", "mallory", "", ""}));
    db_.exec("UPDATE meta SET value = 6 WHERE key = 'audit_head_seq'");
    expect_broken(3, "inserted");
}

TEST_F(AuditTamper, SwappedPair) {
    db_.exec(
        "UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; "
        "UPDATE audit SET seq = 3 WHERE seq = -1");
    expect_broken(2, "reordered");
}

TEST_F(AuditTamper, TruncatedTailCaughtByTheHead) {
    db_.exec("DELETE FROM audit WHERE seq >= 4");
    expect_broken(4, "truncated");
}

TEST_F(AuditTamper, AppendedBehindTheHeadsBack) {
    // A well-formed entry added with the library's own hashing but without moving the head.
    const auto last = read_audit(db_, 5, 1).at(0);
    const auto forged = sec::chain_entry(
        last.hash, sec::audit_entry{6, 9000, "mallory", "operator.add", "mallory", "", ""});
    insert_raw(forged);
    expect_broken(6, "inserted");
}

}  // namespace
