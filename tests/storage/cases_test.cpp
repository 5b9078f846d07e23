// Phone reports (arc/storage/cases.hpp): stored beside their alarm, personal fields sealed at
// rest, re-sealed by a key rotation.
#include "arc/storage/cases.hpp"

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

std::string file_bytes(const std::filesystem::path& db) {
    std::string out;
    for (const auto& p : {db, std::filesystem::path(db.string() + "-wal")}) {
        std::ifstream in(p, std::ios::binary);
        out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
}

phone_case violence_case(std::int64_t alarm_id) {
    phone_case c;
    c.alarm_id = alarm_id;
    c.category = "domestic_violence";
    c.caller_kind = "citizen";
    c.caller_name = "Giovanna Esposito";
    c.caller_phone = "333 7654321";
    c.person_name = "Lucia Ferraro";
    c.person_details = "circa 40 anni, due figli piccoli";
    c.comune = "Forlì";
    c.address = "Via Ravegnana 118, interno 4";
    c.summary = "urla e rumori dall'appartamento accanto";
    c.created_by = "anna";
    c.created_ms = 1'700'000'000'000;
    return c;
}

TEST(Cases, RoundTripWithoutAndWithFieldKeys) {
    const temp_dir dir;
    database db = database::open(dir / "arc.db");
    EXPECT_FALSE(find_case(db, 1));
    insert_case(db, violence_case(1));
    auto got = find_case(db, 1);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->person_name, "Lucia Ferraro");
    EXPECT_EQ(got->comune, "Forlì");
    EXPECT_FALSE(got->subscriber_id);

    const field_key_scope keys({sec::data_key::generate()});
    phone_case c = violence_case(2);
    c.subscriber_id = 42;
    insert_case(db, c);
    got = find_case(db, 2);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->caller_name, "Giovanna Esposito");
    EXPECT_EQ(got->caller_phone, "333 7654321");
    EXPECT_EQ(got->person_details, "circa 40 anni, due figli piccoli");
    EXPECT_EQ(got->address, "Via Ravegnana 118, interno 4");
    EXPECT_EQ(got->summary, "urla e rumori dall'appartamento accanto");
    EXPECT_EQ(got->subscriber_id, 42);
    EXPECT_EQ(got->created_by, "anna");
    EXPECT_EQ(got->created_ms, 1'700'000'000'000);
    EXPECT_EQ(find_case(db, 1)->person_name, "Lucia Ferraro") << "clear rows still read";
}

TEST(Cases, SealedFieldsAreNotInTheFileAndRotateWithTheKey) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    const sec::data_key old_key = sec::data_key::generate();
    {
        database db = database::open(path);
        const field_key_scope keys({old_key});
        insert_case(db, violence_case(7));
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    const std::string bytes = file_bytes(path);
    for (const char* secret : {"Lucia Ferraro", "Giovanna Esposito", "333 7654321", "Ravegnana",
                               "urla e rumori", "due figli"}) {
        EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
    }
    database db = database::open(path);
    EXPECT_THROW(find_case(db, 7), storage_error) << "no key loaded: refused, not garbage";
    const sec::data_key new_key = sec::data_key::generate();
    const std::vector<sec::data_key> openers{old_key};
    EXPECT_EQ(reseal_fields(db, openers, new_key), 6U);  // the six sealed fields of the case
    const field_key_scope keys({new_key});
    EXPECT_EQ(find_case(db, 7)->person_name, "Lucia Ferraro");
}

TEST(Cases, TheDatabaseRefusesUnknownCategoriesAndCallers) {
    const temp_dir dir;
    database db = database::open(dir / "arc.db");
    phone_case c = violence_case(3);
    c.category = "lost_cat";
    EXPECT_THROW(insert_case(db, c), storage_error);
    c = violence_case(3);
    c.caller_kind = "anonymous_letter";
    EXPECT_THROW(insert_case(db, c), storage_error);
}

}  // namespace
