// arcctl's subscriber renderers: what an operator reads in `arcctl subscriber show/list`.
#include "subscribers_cli.hpp"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

namespace {

using nlohmann::json;

json maria(bool sensitive) {
    json s{{"id", 7},
           {"code", "TS-0042"},
           {"first_name", "Maria"},
           {"last_name", "Rossi"},
           {"birth_date", "1938-04-02"},
           {"address",
            {{"comune", "Torino"},
             {"street", "Via Roma"},
             {"number", "12"},
             {"floor", "3"},
             {"access_notes", "citofono 'Rossi M.'"}}},
           {"phones", {"+39 011 123 4567"}},
           {"language", "it"},
           {"living_situation", "vive sola"},
           {"vulnerability", "anziano_solo"},
           {"guardian", nullptr},
           {"gp", {{"name", "Dr. Bianchi"}, {"phone", "011 765 4321"}}},
           {"contacts",
            {{{"id", 3},
              {"priority", 1},
              {"name", "Anna Rossi"},
              {"relation", "figlia"},
              {"phones", {"333 111 2222"}},
              {"has_key", true},
              {"reachable", "sere"}}}},
           {"status", "away"},
           {"away_until", "2026-12-21T00:00:00.000Z"},
           {"devices", json::array()},
           {"created", "2026-12-05T10:00:00.000Z"},
           {"updated", "2026-12-05T11:00:00.000Z"}};
    if (sensitive) {
        s["medical_notes"] = "diabete";
        s["key_safe_code"] = "4711";
    } else {
        s["sensitive_hidden"] = true;
    }
    return s;
}

TEST(SubscriberText, ShowsPersonHomeContactsAndStatusButHidesSensitiveFields) {
    const std::string text = arc::arcctl::subscriber_to_text(maria(false));
    EXPECT_NE(text.find("Maria Rossi"), std::string::npos) << text;
    EXPECT_NE(text.find("Via Roma 12, Torino"), std::string::npos) << text;
    EXPECT_NE(text.find("away until 2026-12-21T00:00:00.000Z"), std::string::npos) << text;
    EXPECT_NE(text.find("Anna Rossi"), std::string::npos) << text;
    EXPECT_NE(text.find("figlia"), std::string::npos) << text;
    EXPECT_NE(text.find("(hidden: --sensitive shows it, audited)"), std::string::npos) << text;
    EXPECT_EQ(text.find("4711"), std::string::npos) << text;
    EXPECT_NE(text.find("devices:\n  none"), std::string::npos) << text;
}

TEST(SubscriberText, SensitiveViewShowsMedicalNotesAndKeySafeCode) {
    const std::string text = arc::arcctl::subscriber_to_text(maria(true));
    EXPECT_NE(text.find("diabete"), std::string::npos) << text;
    EXPECT_NE(text.find("4711"), std::string::npos) << text;
    EXPECT_EQ(text.find("hidden"), std::string::npos) << text;
}

TEST(SubscriberText, ControlCharactersInFreeTextAreNeutralised) {
    json s = maria(false);
    s["address"]["access_notes"] = "gate\x1b[2J";
    const std::string text = arc::arcctl::subscriber_to_text(s);
    EXPECT_EQ(text.find('\x1b'), std::string::npos);
    EXPECT_NE(text.find("gate?[2J"), std::string::npos) << text;
}

TEST(SubscribersText, OneRowEachWithStatusAndContactCount) {
    json other = maria(false);
    other["id"] = 8;
    other["code"] = "TS-0043";
    other["first_name"] = "Luigi";
    other["status"] = "active";
    other["away_until"] = nullptr;
    other["contacts"] = json::array();
    const std::string text = arc::arcctl::subscribers_to_text(json::array({maria(false), other}));
    EXPECT_NE(text.find("TS-0042"), std::string::npos) << text;
    EXPECT_NE(text.find("TS-0043"), std::string::npos) << text;
    EXPECT_NE(text.find("Rossi Luigi"), std::string::npos) << text;
    EXPECT_NE(text.find("2026-12-21T00:00:00.000Z"), std::string::npos) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;  // header + 2 rows
}

TEST(SubscribersText, EmptyListSaysHowToAddOne) {
    EXPECT_NE(arc::arcctl::subscribers_to_text(json::array()).find("arcctl subscriber add"),
              std::string::npos);
}

}  // namespace
