#include "arc/console/text.hpp"

#include <gtest/gtest.h>

#include "arc/console/i18n.hpp"

namespace arc::console {
namespace {

TEST(ConsoleText, AgesAndTimes) {
    EXPECT_EQ(format_age(0), "00:00");
    EXPECT_EQ(format_age(133'000), "02:13");
    EXPECT_EQ(format_age(3'599'999), "59:59");
    EXPECT_EQ(format_age(3'600'000), "1:00");
    EXPECT_EQ(format_age(26 * 3'600'000 + 5 * 60'000), "26:05");
    EXPECT_EQ(format_age(-5000), "00:00");
    EXPECT_EQ(parse_iso8601_ms("2026-12-05T10:00:00.000Z"), 1796464800000);
    EXPECT_EQ(parse_iso8601_ms("2026-12-05T10:00:01Z"), 1796464801000);
    EXPECT_FALSE(parse_iso8601_ms("2026-12-05 10:00:00"));
    EXPECT_FALSE(parse_iso8601_ms(""));
    EXPECT_EQ(clock_of("2026-12-05T10:02:03.456Z"), "10:02:03");
    EXPECT_EQ(age_in_years("1939-12-06", 1796464800000), 86);
    EXPECT_EQ(age_in_years("1939-12-05", 1796464800000), 87);
    EXPECT_FALSE(age_in_years("1939-13-01", 1796464800000));
}

TEST(ConsoleText, ControlCharactersNeverReachTheScreen) {
    EXPECT_EQ(encode_utf8(decode_utf8("a\x1b[2Jb\n")), "a?[2Jb?");
    EXPECT_EQ(decode_utf8("\xff").size(), 1u);
    EXPECT_EQ(columns("Niccolò ▲"), 9u);
    EXPECT_EQ(fit("abcdef", 4), "abc…");
    EXPECT_EQ(fit("abcdef", 4, true, true), "abc~");
    EXPECT_EQ(pad("ab", 4, true), "  ab");
}

TEST(ConsoleLabels, ItalianAndEnglish) {
    EXPECT_EQ(tr(lang::en, "take"), "take");
    EXPECT_EQ(tr(lang::it, "take"), "prendi");
    EXPECT_EQ(tr(lang::it, "no such label"), "no such label");
    EXPECT_EQ(state_label(lang::it, "taken"), "preso");
    EXPECT_EQ(kind_label(lang::en, "personal_emergency"), "Emergency call");
    EXPECT_EQ(class_label(lang::it, "technical"), "TECN");
}

}  // namespace
}  // namespace arc::console
