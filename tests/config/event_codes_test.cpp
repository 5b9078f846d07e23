#include "arc/config/event_codes.hpp"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace arc::config {
namespace {

const std::filesystem::path shipped =
    std::filesystem::path(ARC_SOURCE_DIR) / "config/event-codes.toml";

class EventCodesTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "arc-codes-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::filesystem::path write(const std::string& text, const std::string& name = "codes.toml") {
        const auto path = dir_ / name;
        std::ofstream(path) << text;
        return path;
    }

    static config_error error_of(const std::filesystem::path& path) {
        try {
            load_event_codes(path);
        } catch (const config_error& e) {
            return e;
        }
        ADD_FAILURE() << "no error for " << path;
        return config_error("", 0, "", "");
    }

    std::filesystem::path dir_;
};

TEST_F(EventCodesTest, ShippedMapLoads) {
    const event_code_map map = load_event_codes(shipped);
    EXPECT_GT(map.size(code_family::sia), 40U);
    EXPECT_GT(map.size(code_family::cid), 30U);
    EXPECT_GT(map.size(code_family::scaip), 0U);
}

TEST_F(EventCodesTest, PendantIsCriticalPersonalEmergency) {
    const event_code_map map = load_event_codes(shipped);
    const auto sia = map.classify(code_family::sia, "QA");
    EXPECT_EQ(sia.cls, alarm_class::critical);
    EXPECT_EQ(sia.kind, event_kind::personal_emergency);
    EXPECT_FALSE(sia.is_restore);
    EXPECT_TRUE(sia.known);
    EXPECT_EQ(sia.label_it, "Richiesta di soccorso");
    const auto cid = map.classify(code_family::cid, "101", '1');
    EXPECT_EQ(cid.cls, alarm_class::critical);
    EXPECT_EQ(cid.kind, event_kind::personal_emergency);
    EXPECT_EQ(map.classify(code_family::cid, "100").kind, event_kind::medical);
}

TEST_F(EventCodesTest, SiaRestoresPairWithTheirAlarm) {
    const event_code_map map = load_event_codes(shipped);
    for (const char* code : {"MH", "MR"}) {
        const auto restore = map.classify(code_family::sia, code);
        EXPECT_TRUE(restore.is_restore) << code;
        EXPECT_EQ(restore.kind, event_kind::medical) << code;
        EXPECT_EQ(restore.cls, alarm_class::log_only) << code;
    }
    EXPECT_EQ(map.classify(code_family::sia, "AR").kind, event_kind::mains_loss);
    EXPECT_EQ(map.classify(code_family::sia, "NS").kind, event_kind::inactivity);
    EXPECT_EQ(map.classify(code_family::scaip, "86").kind, event_kind::mains_loss);
}

TEST_F(EventCodesTest, ContactIdQualifiers) {
    const event_code_map map = load_event_codes(shipped);
    const auto restore = map.classify(code_family::cid, "301", '3');
    EXPECT_TRUE(restore.is_restore);
    EXPECT_EQ(restore.kind, event_kind::mains_loss);
    EXPECT_EQ(restore.label_en, "Restore: AC loss");
    const auto status = map.classify(code_family::cid, "301", '6');
    EXPECT_TRUE(status.is_status);
    EXPECT_EQ(status.cls, alarm_class::technical);
    EXPECT_EQ(map.classify(code_family::cid, "401", '3').label_en, "Closing by user");
}

TEST_F(EventCodesTest, Cid120IsPanicExceptOnClimaxMpers) {
    const event_code_map map = load_event_codes(shipped);
    EXPECT_EQ(map.classify(code_family::cid, "120").kind, event_kind::panic);
    EXPECT_EQ(map.classify(code_family::cid, "120").cls, alarm_class::critical);
    const auto climax = map.classify(code_family::cid, "120", '1', "climax_mpers");
    EXPECT_EQ(climax.kind, event_kind::fall);
    EXPECT_EQ(climax.cls, alarm_class::critical);
    // Codes the vendor table does not mention fall back to the base table.
    EXPECT_EQ(map.classify(code_family::cid, "101", '1', "climax_mpers").kind,
              event_kind::personal_emergency);
}

TEST_F(EventCodesTest, UnknownCodeIsUrgentUnknown) {
    const event_code_map map = load_event_codes(shipped);
    const auto sia = map.classify(code_family::sia, "ZZ");
    EXPECT_FALSE(sia.known);
    EXPECT_EQ(sia.cls, alarm_class::urgent);
    EXPECT_EQ(sia.kind, event_kind::unknown);
    EXPECT_EQ(sia.label_en, "Unknown event (sia ZZ)");
    EXPECT_EQ(map.classify(code_family::cid, "999").cls, alarm_class::urgent);
}

TEST_F(EventCodesTest, OverrideFileReplacesEntries) {
    const auto override_file = write(R"([cid.120]
class = "critical"
kind = "fall"
it = "Caduta"
en = "Fall"

[sia.XX]
class = "technical"
kind = "trouble"
it = "Prova"
en = "Test entry"
)");
    const event_code_map map = load_event_codes(shipped, {override_file});
    EXPECT_EQ(map.classify(code_family::cid, "120").kind, event_kind::fall);
    EXPECT_EQ(map.classify(code_family::sia, "XX").cls, alarm_class::technical);
    EXPECT_EQ(map.classify(code_family::sia, "QA").kind, event_kind::personal_emergency);
}

TEST_F(EventCodesTest, UnknownClassNamesFileLineKey) {
    const auto path =
        write("[sia.QA]\nclass = \"critcal\"\nkind = \"fall\"\nit = \"a\"\nen = \"b\"\n");
    const config_error e = error_of(path);
    EXPECT_EQ(e.file(), path.string());
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "sia.QA.class");
    EXPECT_NE(std::string(e.what()).find("unknown class 'critcal'"), std::string::npos);
}

TEST_F(EventCodesTest, UnknownKindAndKeyAndSection) {
    EXPECT_EQ(error_of(write("[cid.101]\nclass = \"critical\"\nkind = \"falls\"\n")).key(),
              "cid.101.kind");
    const config_error key = error_of(write("[cid.101]\nclas = \"critical\"\n"));
    EXPECT_EQ(key.key(), "cid.101.clas");
    EXPECT_EQ(key.line(), 2);
    const config_error section = error_of(write("\n[sai.QA]\nclass = \"critical\"\n"));
    EXPECT_EQ(section.key(), "sai");
    EXPECT_EQ(section.line(), 2);
}

TEST_F(EventCodesTest, MissingLabelOrClassIsAnError) {
    EXPECT_EQ(
        error_of(write("[cid.101]\nclass = \"critical\"\nkind = \"fall\"\nen = \"x\"\n")).key(),
        "cid.101.it");
    EXPECT_EQ(error_of(write("[cid.101]\nkind = \"fall\"\nit = \"a\"\nen = \"x\"\n")).key(),
              "cid.101.class");
}

TEST_F(EventCodesTest, RestoreOfUnknownCodeIsAnError) {
    const auto path = write("\n\n[sia.MH]\nrestores = \"MQ\"\nit = \"a\"\nen = \"b\"\n");
    const config_error e = error_of(path);
    EXPECT_EQ(e.key(), "sia.MH.restores");
    EXPECT_EQ(e.line(), 3);
}

TEST_F(EventCodesTest, SyntaxErrorAndMissingFile) {
    EXPECT_EQ(error_of(write("[sia.QA\n")).key(), "syntax");
    EXPECT_EQ(error_of(dir_ / "absent.toml").key(), "file");
}

}  // namespace
}  // namespace arc::config
