// Device AES keys sealed at rest with the process-wide data key (arc/storage/security.hpp).
#include <fstream>
#include <functional>
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

// Field keys are process-wide: each test that sets them clears them again.
class field_key_scope {
public:
    explicit field_key_scope(std::vector<sec::data_key> keys) { set_field_keys(std::move(keys)); }
    field_key_scope(const field_key_scope&) = delete;
    field_key_scope& operator=(const field_key_scope&) = delete;
    ~field_key_scope() { set_field_keys({}); }
};

const std::vector<std::uint8_t> raw_key{0x5a, 0x17, 0xc3, 0x9e, 0x01, 0xf4, 0x66, 0xb2,
                                        0x8d, 0x3c, 0x70, 0xe5, 0x2b, 0x94, 0xa8, 0x4f};

device keyed_device(std::string account) {
    device dev = make_device(std::move(account), 100);
    dev.key = raw_key;
    return dev;
}

// The database file and its WAL, as a thief copying them would read them.
std::string files_bytes(const std::filesystem::path& db) {
    std::string out;
    for (const auto& p : {db, std::filesystem::path(db.string() + "-wal")}) {
        std::ifstream in(p, std::ios::binary);
        out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
}

bool contains_key(const std::string& bytes) {
    // As chars: comparing char with uint8_t would never match bytes >= 0x80.
    return bytes.find(std::string(raw_key.begin(), raw_key.end())) != std::string::npos;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const storage_error& e) {
        return e.what();
    }
    return "";
}

TEST(FieldEncryption, OffByDefaultKeysStoredAsBefore) {
    ASSERT_FALSE(field_encryption_enabled());
    database db = database::open(":memory:");
    insert_device(db, keyed_device("AB12"));
    EXPECT_EQ(query_int(db, "SELECT length(aes_key) FROM devices"), 16);
    EXPECT_EQ(find_device(db, "AB12")->key, raw_key);
}

TEST(FieldEncryption, SealedOnInsertOpenedOnRead) {
    const field_key_scope keys({sec::data_key::generate()});
    database db = database::open(":memory:");
    insert_device(db, keyed_device("AB12"));
    insert_device(db, make_device("CD34", 100));
    EXPECT_EQ(query_int(db, "SELECT length(aes_key) FROM devices WHERE account = 'AB12'"),
              16 + static_cast<std::int64_t>(sec::sealed_overhead));
    EXPECT_EQ(query_int(db, "SELECT aes_key IS NULL FROM devices WHERE account = 'CD34'"), 1);
    EXPECT_EQ(find_device(db, "ab12")->key, raw_key);
    const auto all = list_devices(db);
    ASSERT_EQ(all.size(), 2U);
    EXPECT_EQ(all[0].key, raw_key);
    EXPECT_FALSE(all[1].key);
}

TEST(FieldEncryption, KeyBytesAreNotInTheDatabaseFiles) {
    const field_key_scope keys({sec::data_key::generate()});
    temp_dir dir;
    const auto path = dir / "arc.db";
    {
        database db = database::open(path);
        insert_device(db, keyed_device("AB12"));
        EXPECT_FALSE(contains_key(files_bytes(path)));
        EXPECT_EQ(find_device(db, "AB12")->key, raw_key);
    }
    EXPECT_FALSE(contains_key(files_bytes(path)));
}

TEST(FieldEncryption, PlainKeysFromBeforeAreSealedAndLeaveNoTrace) {
    temp_dir dir;
    const auto path = dir / "arc.db";
    {
        database db = database::open(path);
        insert_device(db, keyed_device("AB12"));
        insert_device(db, make_device("CD34", 100));
    }
    ASSERT_TRUE(contains_key(files_bytes(path))) << "the test must start from a clear key";

    const field_key_scope keys({sec::data_key::generate()});
    database db = database::open(path);
    // Readable before sealing (clear rows stay usable until the one-shot pass).
    EXPECT_EQ(find_device(db, "AB12")->key, raw_key);
    EXPECT_EQ(seal_plain_device_keys(db, 777), 1U);
    EXPECT_EQ(query_int(db, "SELECT value FROM meta WHERE key = 'device_keys_sealed_ms'"), 777);
    EXPECT_EQ(find_device(db, "AB12")->key, raw_key);
    EXPECT_FALSE(contains_key(files_bytes(path)));
    EXPECT_EQ(seal_plain_device_keys(db, 888), 0U) << "one-shot: nothing left to seal";
    EXPECT_EQ(query_int(db, "SELECT value FROM meta WHERE key = 'device_keys_sealed_ms'"), 777);
}

TEST(FieldEncryption, SealingNeedsAKey) {
    database db = database::open(":memory:");
    EXPECT_THROW(seal_plain_device_keys(db, 1), storage_error);
}

TEST(FieldEncryption, WrongKeyIsAnErrorNamingTheAccount) {
    database db = database::open(":memory:");
    {
        const field_key_scope keys({sec::data_key::generate()});
        insert_device(db, keyed_device("AB12"));
    }
    {
        const field_key_scope other({sec::data_key::generate()});
        const std::string error = error_of([&] { (void)find_device(db, "AB12"); });
        EXPECT_NE(error.find("device AB12"), std::string::npos) << error;
        EXPECT_NE(error.find("cannot be decrypted"), std::string::npos) << error;
        EXPECT_NE(error_of([&] { (void)list_devices(db); }), "");
    }
    const std::string error = error_of([&] { (void)find_device(db, "AB12"); });
    EXPECT_NE(error.find("device AB12"), std::string::npos) << error;
    EXPECT_NE(error.find("no data key"), std::string::npos) << error;
}

TEST(FieldEncryption, AlteredRowIsAnErrorNeverKeyless) {
    const field_key_scope keys({sec::data_key::generate()});
    database db = database::open(":memory:");
    insert_device(db, keyed_device("AB12"));
    // One byte changed for sure (the sealed bytes are random: a fixed value would be no change
    // one time in 256). `||` makes TEXT: cast back, or the truncation below would count
    // characters and stop at a NUL byte, leaving a value too short to look sealed.
    db.exec(
        "UPDATE devices SET aes_key = CAST(substr(aes_key, 1, 50) || "
        "CASE WHEN substr(aes_key, 51, 1) = x'00' THEN x'01' ELSE x'00' END || "
        "substr(aes_key, 52) AS BLOB) WHERE account = 'AB12'");
    EXPECT_NE(error_of([&] { (void)find_device(db, "AB12"); }).find("device AB12"),
              std::string::npos);
    db.exec("UPDATE devices SET aes_key = substr(aes_key, 1, 50) WHERE account = 'AB12'");
    EXPECT_NE(error_of([&] { (void)find_device(db, "AB12"); }).find("device AB12"),
              std::string::npos);
}

TEST(FieldEncryption, OldKeyStillOpensAfterARotation) {
    const sec::data_key old_key = sec::data_key::generate();
    database db = database::open(":memory:");
    {
        const field_key_scope keys({old_key});
        insert_device(db, keyed_device("AB12"));
    }
    const field_key_scope keys({sec::data_key::generate(), old_key});
    insert_device(db, keyed_device("CD34"));
    EXPECT_EQ(find_device(db, "AB12")->key, raw_key);
    EXPECT_EQ(find_device(db, "CD34")->key, raw_key);
}

}  // namespace
