#include "arc/api/json.hpp"

#include <gtest/gtest.h>

#include "arc/protocol/dc09.hpp"
#include "arc/storage/store.hpp"

namespace {

using arc::api::device_to_json;
using arc::api::event_to_json;
using arc::api::iso8601_utc_ms;
using arc::api::to_json;

TEST(api_json, iso8601) {
    EXPECT_EQ(iso8601_utc_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(iso8601_utc_ms(1722334218123), "2024-07-30T10:10:18.123Z");
    EXPECT_EQ(arc::api::iso8601_utc(1722334218999), "2024-07-30T10:10:18Z");
}

TEST(api_json, decoded_sia_frame) {
    arc::protocol::dc09_result r;
    r.frame = arc::protocol::dc09_frame{};
    r.frame->token = "SIA-DCS";
    r.frame->encrypted = true;
    r.frame->seq = "0002";
    r.frame->rcvr = "R1";
    r.frame->pref = "L0";
    r.frame->acct = "1234";
    r.content = arc::protocol::dc09_content{};
    r.content->data = "#1234|Nri1/QA015";
    r.content->xdata = {"X115000"};
    r.content->timestamp = "10:10:18,07-30-2024";
    r.skew_s = -3;
    arc::protocol::sia_block sia;
    sia.account = "1234";
    arc::protocol::sia_event ev;
    ev.code = "QA";
    ev.address = "015";
    ev.modifiers = {{"ri", "1"}};
    ev.known = true;
    sia.events.push_back(ev);
    r.sia = sia;

    const auto j = to_json(r);
    EXPECT_EQ(j["token"], "SIA-DCS");
    EXPECT_EQ(j["encrypted"], true);
    EXPECT_EQ(j["seq"], "0002");
    EXPECT_EQ(j["rcvr"], "R1");
    EXPECT_EQ(j["acct"], "1234");
    EXPECT_EQ(j["data"], "#1234|Nri1/QA015");
    EXPECT_EQ(j["xdata"][0], "X115000");
    EXPECT_EQ(j["timestamp"], "10:10:18,07-30-2024");
    EXPECT_EQ(j["skew_s"], -3);
    EXPECT_EQ(j["outside_window"], false);
    EXPECT_EQ(j["sia"]["account"], "1234");
    ASSERT_EQ(j["sia"]["events"].size(), 1U);
    EXPECT_EQ(j["sia"]["events"][0]["function"], "N");
    EXPECT_EQ(j["sia"]["events"][0]["code"], "QA");
    EXPECT_EQ(j["sia"]["events"][0]["address"], "015");
    EXPECT_EQ(j["sia"]["events"][0]["modifiers"]["ri"], "1");
    EXPECT_EQ(j["sia"]["events"][0]["known"], true);
    EXPECT_TRUE(j["sia"]["events"][0]["meaning"].is_string());
    EXPECT_FALSE(j.contains("cid"));
}

TEST(api_json, decoded_cid_and_absent_fields) {
    arc::protocol::dc09_result r;
    r.frame = arc::protocol::dc09_frame{};
    r.frame->token = "ADM-CID";
    r.frame->seq = "0001";
    r.frame->acct = "AB12";
    arc::protocol::cid_block cid;
    cid.event.qualifier = '1';
    cid.event.code = "101";
    cid.event.group = "01";
    cid.event.zone = "015";
    cid.event.known = true;
    r.cid = cid;
    const auto j = to_json(r);
    EXPECT_FALSE(j.contains("rcvr"));
    EXPECT_FALSE(j.contains("data"));
    EXPECT_FALSE(j.contains("skew_s"));
    EXPECT_FALSE(j.contains("outside_window"));
    EXPECT_FALSE(j.contains("sia"));
    EXPECT_FALSE(j["cid"].contains("account"));
    EXPECT_EQ(j["cid"]["qualifier"], "1");
    EXPECT_EQ(j["cid"]["code"], "101");
    EXPECT_EQ(j["cid"]["zone"], "015");
}

TEST(api_json, nothing_decoded_is_empty_object) {
    const auto j = to_json(arc::protocol::dc09_result{});
    EXPECT_TRUE(j.is_object());
    EXPECT_TRUE(j.empty());
}

TEST(api_json, device_never_shows_key) {
    arc::storage::device dev;
    dev.account = "ABC123";
    dev.key = std::vector<std::uint8_t>(16, 0x41);
    dev.mode = arc::storage::device_mode::test;
    dev.label = "pendant";
    dev.created_ms = 1722334218123;
    const auto j = device_to_json(dev);
    EXPECT_EQ(j["account"], "ABC123");
    EXPECT_EQ(j["encrypted"], true);
    EXPECT_EQ(j["key_bits"], 128);
    EXPECT_EQ(j["mode"], "test");
    EXPECT_EQ(j["created"], "2024-07-30T10:10:18Z");
    EXPECT_TRUE(j["last_seen"].is_null());
    EXPECT_FALSE(j.contains("key"));
    EXPECT_EQ(j.dump().find("AAAA"), std::string::npos);
    EXPECT_EQ(j.dump().find("4141"), std::string::npos);

    dev.key.reset();
    dev.last_seen_ms = 1722334218123;
    const auto k = device_to_json(dev);
    EXPECT_EQ(k["encrypted"], false);
    EXPECT_EQ(k["key_bits"], 0);
    EXPECT_EQ(k["last_seen"], "2024-07-30T10:10:18Z");
}

TEST(api_json, event_record) {
    arc::storage::event_record ev;
    ev.id = 7;
    ev.received_ms = 1722334218123;
    ev.transport = "tcp";
    ev.peer = "127.0.0.1:5000";
    ev.raw = "\nABCD0010\"NULL\"\r";
    ev.decoded_json = R"({"token":"NULL"})";
    ev.reply_kind = "ACK";
    ev.accepted = true;
    const auto j = event_to_json(ev);
    EXPECT_EQ(j["id"], 7);
    EXPECT_EQ(j["received"], "2024-07-30T10:10:18.123Z");
    EXPECT_EQ(j["decoded"]["token"], "NULL");
    EXPECT_EQ(j["raw"], ev.raw);
    EXPECT_EQ(j["accepted"], true);

    ev.decoded_json = "not json";
    EXPECT_TRUE(event_to_json(ev)["decoded"].empty());
}

}  // namespace
