// SIA DC-03 data blocks (PROTOCOLS.md §2.1) and the code table.
#include "arc/protocol/sia_dcs.hpp"

#include <gtest/gtest.h>

#include "arc/protocol/error.hpp"

namespace arc::protocol {
namespace {

using modifiers = std::vector<std::pair<std::string, std::string>>;

TEST(sia_dcs, account_and_one_event) {
    const auto b = parse_sia_dcs("#1234|Nri1/MA001").value();
    EXPECT_EQ(b.account, "1234");
    ASSERT_EQ(b.events.size(), 1U);
    EXPECT_EQ(b.events[0].function, 'N');
    EXPECT_EQ(b.events[0].code, "MA");
    EXPECT_EQ(b.events[0].address, "001");
    EXPECT_EQ(b.events[0].modifiers, (modifiers{{"ri", "1"}}));
    EXPECT_TRUE(b.events[0].known);
}

TEST(sia_dcs, modifiers_persist_across_packets) {
    const auto b = parse_sia_dcs("#1234|Nri1/AT/XT003").value();
    ASSERT_EQ(b.events.size(), 2U);
    EXPECT_EQ(b.events[0].code, "AT");
    EXPECT_EQ(b.events[0].address, "");
    EXPECT_EQ(b.events[1].code, "XT");
    EXPECT_EQ(b.events[1].address, "003");
    EXPECT_EQ(b.events[1].modifiers, (modifiers{{"ri", "1"}}));
}

TEST(sia_dcs, modifier_changed_between_events) {
    const auto b = parse_sia_dcs("Nri1/BA01/ri2/BA02").value();
    ASSERT_EQ(b.events.size(), 2U);
    EXPECT_EQ(b.events[0].modifiers, (modifiers{{"ri", "1"}}));
    EXPECT_EQ(b.events[1].modifiers, (modifiers{{"ri", "2"}}));
}

TEST(sia_dcs, date_time_user_modifiers) {
    const auto b = parse_sia_dcs("#1234|Nda04-22-94ti16:02:15/id22/CL/PA31").value();
    ASSERT_EQ(b.events.size(), 2U);
    const modifiers expected{{"da", "04-22-94"}, {"ti", "16:02:15"}, {"id", "22"}};
    EXPECT_EQ(b.events[0].code, "CL");
    EXPECT_EQ(b.events[0].modifiers, expected);
    EXPECT_EQ(b.events[1].code, "PA");
    EXPECT_EQ(b.events[1].address, "31");
    EXPECT_EQ(b.events[1].modifiers, expected);
}

TEST(sia_dcs, missing_separator_after_modifier) {
    const auto b = parse_sia_dcs("#000110|Nri1BA503^Volum.Taverna   Appartam.Giorno ^").value();
    ASSERT_EQ(b.events.size(), 1U);
    EXPECT_EQ(b.events[0].code, "BA");
    EXPECT_EQ(b.events[0].address, "503");
    EXPECT_EQ(b.events[0].text, "Volum.Taverna   Appartam.Giorno ");
    EXPECT_EQ(b.events[0].modifiers, (modifiers{{"ri", "1"}}));
    const auto cl = parse_sia_dcs("Nri1CL0").value();
    EXPECT_EQ(cl.events.at(0).code, "CL");
    EXPECT_EQ(cl.events.at(0).address, "0");
}

TEST(sia_dcs, nnl2_function_then_event) {
    const auto b = parse_sia_dcs("#1234|NNL2").value();
    ASSERT_EQ(b.events.size(), 1U);
    EXPECT_EQ(b.events[0].function, 'N');
    EXPECT_EQ(b.events[0].code, "NL");
    EXPECT_EQ(b.events[0].address, "2");
}

TEST(sia_dcs, text_with_slash_free_names_and_modifier_text) {
    const auto b = parse_sia_dcs("#7878|Nri01^TOTAL^/LX901^centrale d'alarme JA-106K(R)^").value();
    ASSERT_EQ(b.events.size(), 1U);
    EXPECT_EQ(b.events[0].code, "LX");
    EXPECT_EQ(b.events[0].address, "901");
    EXPECT_EQ(b.events[0].text, "centrale d'alarme JA-106K(R)");
    EXPECT_EQ(b.events[0].modifiers, (modifiers{{"ri", "01"}}));
    // '/' and '|' inside ^...^ do not split.
    const auto c = parse_sia_dcs("NBA1^a/b|c^/BA2").value();
    ASSERT_EQ(c.events.size(), 2U);
    EXPECT_EQ(c.events[0].text, "a/b|c");
}

TEST(sia_dcs, ascii_text_block) {
    const auto b = parse_sia_dcs("#1234|NRR|Atest").value();
    ASSERT_EQ(b.events.size(), 1U);
    EXPECT_EQ(b.events[0].code, "RR");
    EXPECT_EQ(b.ascii_text, "test");
}

TEST(sia_dcs, inner_account_optional) {
    const auto a = parse_sia_dcs("|Nri1/WA000").value();
    EXPECT_FALSE(a.account);
    EXPECT_EQ(a.events.at(0).code, "WA");
    const auto b = parse_sia_dcs("Nri1/WA000").value();
    EXPECT_FALSE(b.account);
    EXPECT_EQ(b.events.at(0).address, "000");
}

TEST(sia_dcs, old_and_listen_in_functions) {
    const auto b = parse_sia_dcs("#1234|Lri1BA01|OBA02").value();
    ASSERT_EQ(b.events.size(), 2U);
    EXPECT_EQ(b.events[0].function, 'L');
    EXPECT_EQ(b.events[1].function, 'O');
    EXPECT_TRUE(b.events[1].modifiers.empty());  // modifiers do not cross blocks
}

TEST(sia_dcs, empty_blocks) {
    EXPECT_EQ(parse_sia_dcs("").error(), error::empty_data);
    EXPECT_EQ(parse_sia_dcs("#1234|").error(), error::empty_data);
    EXPECT_EQ(parse_sia_dcs("#1234").error(), error::empty_data);
    EXPECT_EQ(parse_sia_dcs("#1234|Atext only").error(), error::empty_data);
    EXPECT_EQ(parse_sia_dcs("#1234|Nri1").error(), error::empty_data);
}

TEST(sia_dcs, unparsable_blocks) {
    EXPECT_EQ(parse_sia_dcs("#1234|N1234").error(), error::bad_data);
    EXPECT_EQ(parse_sia_dcs("#1234|nri1/BA01").error(), error::bad_data);
    EXPECT_EQ(parse_sia_dcs("#1234|NB").error(), error::bad_data);
    EXPECT_EQ(parse_sia_dcs("#1234|Nri1/BA01/$").error(), error::bad_data);
}

TEST(sia_dcs, unknown_code_is_parsed_and_marked) {
    const auto b = parse_sia_dcs("#1234|Nri1/QQ99").value();
    ASSERT_EQ(b.events.size(), 1U);
    EXPECT_EQ(b.events[0].code, "QQ");
    EXPECT_FALSE(b.events[0].known);
}

TEST(sia_codes, table_lookups) {
    EXPECT_TRUE(is_known_sia_code("MA"));
    EXPECT_EQ(sia_code_meaning("MA"), "Medical Alarm");
    EXPECT_EQ(sia_code_meaning("QA"), "Emergency Alarm");
    EXPECT_EQ(sia_code_meaning("RP"), "Automatic Test");
    EXPECT_EQ(sia_code_meaning("AA"), "Alarm - Panel Substitution");
    EXPECT_EQ(sia_code_meaning("YX"), "Service Required");
    EXPECT_EQ(sia_code_meaning("ZA"), "Freeze Alarm");
    EXPECT_EQ(sia_code_meaning("NA"), "No Activity");
    EXPECT_FALSE(is_known_sia_code("QQ"));
    EXPECT_FALSE(is_known_sia_code("ma"));
    EXPECT_FALSE(is_known_sia_code("M"));
    EXPECT_TRUE(sia_code_meaning("QQ").empty());
}

TEST(sia_codes, telecare_codes_of_protocols_md_are_known) {
    for (const char* code :
         {"MA", "MH", "MR", "MT", "MJ", "MS", "MB", "MU", "QA", "QH", "QR", "QT", "QJ", "QS", "QB",
          "QU", "PA", "PR", "PH", "HA", "FA", "FH", "GA", "GH", "KA", "KH", "WA", "WH", "ZA", "ZH",
          "NA", "NS", "AT", "AR", "YT", "YR", "YM", "XT", "XR", "RP", "RX", "TX", "RY", "YC", "YK",
          "YS", "LT", "LR", "NT", "NR", "XQ", "XH", "XL", "XS", "UT", "UR", "TA", "TR", "OP", "CL",
          "RR", "YX", "YP", "YQ", "BA", "BB", "BC", "HB", "CQ", "LX", "NL"}) {
        EXPECT_TRUE(is_known_sia_code(code)) << code;
        EXPECT_FALSE(sia_code_meaning(code).empty()) << code;
    }
}

TEST(sia_dcs, encode_round_trip) {
    std::vector<sia_event> events(3);
    events[0].code = "MA";
    events[0].address = "001";
    events[0].modifiers = {{"ri", "1"}, {"id", "22"}};
    events[0].text = "Bagno camera";
    events[1].code = "QA";
    events[1].address = "015";
    events[1].modifiers = {{"ri", "1"}, {"id", "22"}};
    events[2].code = "RP";
    events[2].modifiers = {{"ri", "2"}, {"id", "22"}};
    const std::string text = encode_sia_dcs("1234", events);
    EXPECT_EQ(text, "#1234|Nri1id22/MA001^Bagno camera^/QA015/ri2/RP");
    const auto b = parse_sia_dcs(text).value();
    EXPECT_EQ(b.account, "1234");
    ASSERT_EQ(b.events.size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(b.events[i].code, events[i].code);
        EXPECT_EQ(b.events[i].address, events[i].address);
        EXPECT_EQ(b.events[i].modifiers, events[i].modifiers);
        EXPECT_EQ(b.events[i].text, events[i].text);
        EXPECT_TRUE(b.events[i].known);
    }
}

TEST(sia_dcs, encode_opens_new_block_when_modifiers_are_dropped_or_reordered) {
    std::vector<sia_event> events(3);
    events[0].code = "BA";
    events[0].modifiers = {{"ri", "1"}, {"id", "2"}};
    events[1].code = "BA";
    events[1].modifiers = {{"id", "2"}};  // ri dropped
    events[2].code = "BA";
    events[2].modifiers = {{"pi", "3"}, {"id", "2"}};  // id no longer first
    const std::string text = encode_sia_dcs("1", events);
    EXPECT_EQ(text, "#1|Nri1id2/BA|Nid2/BA|Npi3id2/BA");
    const auto b = parse_sia_dcs(text).value();
    ASSERT_EQ(b.events.size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(b.events[i].modifiers, events[i].modifiers) << i;
    }
}

TEST(sia_dcs, encode_without_account_or_modifiers) {
    sia_event ev;
    ev.code = "RR";
    EXPECT_EQ(encode_sia_dcs("", {ev}), "NRR");
    const auto b = parse_sia_dcs("NRR").value();
    EXPECT_FALSE(b.account);
    EXPECT_EQ(b.events.at(0).code, "RR");
}

}  // namespace
}  // namespace arc::protocol
