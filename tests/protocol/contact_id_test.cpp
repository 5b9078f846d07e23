// Contact ID (DC-05): every cid_vectors.json vector, checksum examples, ADM-CID blocks.
#include "arc/protocol/contact_id.hpp"

#include <cctype>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "arc/protocol/error.hpp"

namespace arc::protocol {
namespace {

using nlohmann::json;

std::vector<json> cid_vectors() {
    std::vector<json> out;
    for (const json& v : test::load_json("cid_vectors.json")) {
        out.push_back(v);
    }
    return out;
}

std::string vector_name(const testing::TestParamInfo<json>& info) {
    std::string name = info.param.at("name").get<std::string>();
    for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) {
            ch = '_';
        }
    }
    return name;
}

class cid_vector_test : public testing::TestWithParam<json> {};

TEST(cid_vector_file, has_all_vectors) { EXPECT_EQ(cid_vectors().size(), 32U); }

TEST_P(cid_vector_test, parses_as_expected) {
    const json& v = GetParam();
    const std::string hex = v.at("hex").get<std::string>();
    const json& f = v.at("fields");
    const auto msg = parse_contact_id(hex);
    if (!v.at("valid").get<bool>()) {
        ASSERT_FALSE(msg);
        if (hex.size() == 16) {
            EXPECT_EQ(msg.error(), error::bad_checksum);
        } else {
            EXPECT_EQ(msg.error(), error::bad_data);
        }
    } else {
        ASSERT_TRUE(msg) << msg.error().message();
        EXPECT_EQ(msg->account, f.at("account").get<std::string>());
        EXPECT_EQ(msg->message_type, f.at("mt").get<std::string>());
        EXPECT_EQ(std::string(1, msg->event.qualifier), f.at("qualifier").get<std::string>());
        EXPECT_EQ(msg->event.code, f.at("event").get<std::string>());
        EXPECT_EQ(msg->event.group, f.at("group").get<std::string>());
        EXPECT_EQ(msg->event.zone, f.at("zone").get<std::string>());
        EXPECT_EQ(std::string(1, msg->checksum), f.at("checksum").get<std::string>());
        // The checksum digit is what contact_id_checksum computes from the first 15 digits.
        EXPECT_EQ(contact_id_checksum(hex.substr(0, 15)).value(), hex[15]);
        const std::string mt = f.at("mt").get<std::string>();
        if (mt == "18" || mt == "98") {
            EXPECT_TRUE(msg->event.known);
            EXPECT_FALSE(cid_code_meaning(msg->event.code).empty());
        }
    }
    if (v.contains("dc09_adm_cid_block") && v.at("dc09_adm_cid_block").is_string()) {
        std::string block = v.at("dc09_adm_cid_block").get<std::string>();
        block = block.substr(1, block.size() - 2);  // without brackets
        const auto b = parse_adm_cid(block);
        ASSERT_TRUE(b);
        EXPECT_EQ(b->account, f.at("account").get<std::string>());
        EXPECT_EQ(b->event.code, f.at("event").get<std::string>());
        EXPECT_EQ(b->event.group, f.at("group").get<std::string>());
        EXPECT_EQ(b->event.zone, f.at("zone").get<std::string>());
        EXPECT_EQ(encode_adm_cid(*b->account, b->event), block);
    }
}

INSTANTIATE_TEST_SUITE_P(cid, cid_vector_test, testing::ValuesIn(cid_vectors()), vector_name);

TEST(contact_id, checksum_examples_of_protocols_md) {
    EXPECT_EQ(contact_id_checksum("1234 18 1 131 01 015").value(), '8');
    EXPECT_EQ(contact_id_checksum("1111 18 1 101 01 008").value(), '0');
    EXPECT_EQ(contact_id_checksum("1111 18 1 101 01 003").value(), 'F');
    EXPECT_TRUE(parse_contact_id("1234 18 1 131 01 015 8"));
    EXPECT_EQ(parse_contact_id("1234 18 1 131 01 015 7").error(), error::bad_checksum);
}

TEST(contact_id, malformed_messages) {
    EXPECT_EQ(parse_contact_id("123418113101015").error(), error::bad_data);    // 15 digits
    EXPECT_EQ(parse_contact_id("12341811310101588").error(), error::bad_data);  // 17 digits
    EXPECT_EQ(parse_contact_id("1234181131010A58").error(), error::bad_data);   // hex A
    EXPECT_EQ(parse_contact_id("1234-18-1131-01").error(), error::bad_data);
    EXPECT_EQ(contact_id_checksum("12341811310101").error(), error::bad_data);
}

TEST(contact_id, lower_case_hex_digits_accepted) {
    const auto msg = parse_contact_id("b2c418110100001d").value();
    EXPECT_EQ(msg.account, "B2C4");
    EXPECT_EQ(msg.checksum, 'D');
}

TEST(adm_cid, with_and_without_spaces_and_account) {
    const auto a = parse_adm_cid("#1234|1101 01 015").value();
    EXPECT_EQ(a.account, "1234");
    EXPECT_EQ(a.event.qualifier, '1');
    EXPECT_EQ(a.event.code, "101");
    const auto b = parse_adm_cid("#1234|110101015").value();
    EXPECT_EQ(b.event.group, "01");
    EXPECT_EQ(b.event.zone, "015");
    const auto c = parse_adm_cid("3401 03 005").value();
    EXPECT_FALSE(c.account);
    EXPECT_EQ(c.event.qualifier, '3');
    const auto d = parse_adm_cid("|1BCD EF 0B0").value();
    EXPECT_EQ(d.event.code, "BCD");
    EXPECT_FALSE(d.event.known);
}

TEST(adm_cid, empty_and_bad_blocks) {
    EXPECT_EQ(parse_adm_cid("").error(), error::empty_data);
    EXPECT_EQ(parse_adm_cid("#1234|").error(), error::empty_data);
    EXPECT_EQ(parse_adm_cid("#1234").error(), error::empty_data);
    EXPECT_EQ(parse_adm_cid("#1234|1101 01").error(), error::bad_data);
    EXPECT_EQ(parse_adm_cid("#1234|1101 01 0155").error(), error::bad_data);
    EXPECT_EQ(parse_adm_cid("#1234|1A01 01 015").error(), error::bad_data);
    EXPECT_EQ(parse_adm_cid("#1234|1101_01_015").error(), error::bad_data);
}

TEST(cid_codes, table_lookups) {
    EXPECT_EQ(cid_code_meaning("101"), "Personal emergency");
    EXPECT_EQ(cid_code_meaning("100"), "Medical");
    EXPECT_EQ(cid_code_meaning("654"), "System inactivity");
    EXPECT_EQ(cid_code_meaning("999"), "32 hour no read of event log");
    EXPECT_FALSE(is_known_cid_code("777"));
    EXPECT_FALSE(is_known_cid_code("10"));
    EXPECT_TRUE(cid_code_meaning("").empty());
    for (const char* code :
         {"100", "101", "102", "110", "111", "114", "118", "120", "121", "122", "123",
          "137", "144", "147", "151", "154", "158", "159", "162", "301", "302", "305",
          "309", "311", "344", "350", "351", "354", "355", "380", "381", "383", "384",
          "401", "406", "407", "601", "602", "603", "608", "641", "654"}) {
        EXPECT_TRUE(is_known_cid_code(code)) << code;
    }
}

TEST(adm_cid, encode_round_trip) {
    const cid_event ev{'6', "302", "00", "000", true};
    const std::string text = encode_adm_cid("1234", ev);
    EXPECT_EQ(text, "#1234|6302 00 000");
    const auto b = parse_adm_cid(text).value();
    EXPECT_EQ(b.event.qualifier, '6');
    EXPECT_EQ(b.event.code, "302");
    EXPECT_TRUE(b.event.known);
    EXPECT_EQ(encode_adm_cid("", ev), "6302 00 000");
}

}  // namespace
}  // namespace arc::protocol
