#include <string>

#include "test_db.hpp"
#include <gtest/gtest.h>

#include "arc/storage/store.hpp"

namespace arc::storage {
namespace {

using testing::make_event;

event_record with(event_record ev, std::string reply_kind, std::string error, bool accepted,
                  std::string decoded = R"({"token":"SIA-DCS"})") {
    ev.reply_kind = std::move(reply_kind);
    ev.error = std::move(error);
    ev.accepted = accepted;
    ev.decoded_json = std::move(decoded);
    return ev;
}

// As the receiver stores a frame whose header did not parse: no account, no token.
event_record unparsed(const std::string& account, std::int64_t at, std::string error) {
    event_record ev = make_event(account, at, false);
    ev.account.clear();
    ev.token.clear();
    ev.seq.clear();
    ev.decoded_json = "{}";
    ev.reply_kind = "NAK";
    ev.error = std::move(error);
    return ev;
}

TEST(device_events_test, summary_counts_a_known_history) {
    database db = database::open(":memory:");
    insert_event(db, with(make_event("1234", 1), "ACK", "", true,
                          R"({"skew_s":30,"outside_window":false})"));
    insert_event(db, with(make_event("1234", 2), "ACK", "", true));
    insert_event(db, unparsed("1234", 3, "CRC mismatch"));
    insert_event(db, unparsed("abcd", 4, "CRC mismatch"));  // another device
    insert_event(db, with(make_event("1234", 5), "NAK", "timestamp outside the window", false,
                          R"({"skew_s":-400,"outside_window":true})"));
    insert_event(db, with(make_event("1234", 6), "DUH", "unknown event code", false));
    insert_event(db, with(make_event("5678", 7), "NAK", "decryption failed", false));

    const device_event_summary s = summarise_device_events(db, "1234");
    EXPECT_EQ(s.frames, 5);
    EXPECT_EQ(s.accepted, 2);
    EXPECT_EQ(s.outside_window, 1);
    ASSERT_TRUE(s.max_skew_s);
    EXPECT_EQ(*s.max_skew_s, -400);
    std::int64_t crc = 0;
    std::int64_t duh = 0;
    for (const event_group& g : s.groups) {
        crc += g.error == "CRC mismatch" ? g.frames : 0;
        duh += g.reply_kind == "DUH" ? g.frames : 0;
    }
    EXPECT_EQ(crc, 1);
    EXPECT_EQ(duh, 1);

    const auto frames = device_frames(db, "1234", 10);
    ASSERT_EQ(frames.size(), 5U);
    EXPECT_EQ(frames[0].received_ms, 6);  // newest first
    EXPECT_EQ(frames[2].received_ms, 3);  // the unparsed one, found by its raw header
    EXPECT_EQ(frames[4].received_ms, 1);
    EXPECT_EQ(device_frames(db, "1234", 2).size(), 2U);
    const auto later = device_frames(db, "1234", 10, frames[2].id);
    ASSERT_EQ(later.size(), 2U);
    EXPECT_EQ(later[1].received_ms, 5);

    EXPECT_EQ(summarise_device_events(db, "9999").frames, 0);
    EXPECT_FALSE(summarise_device_events(db, "9999").max_skew_s);
}

}  // namespace
}  // namespace arc::storage
