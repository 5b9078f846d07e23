#include "arc/api/json.hpp"

#include <array>
#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "arc/protocol/contact_id.hpp"
#include "arc/protocol/dc09.hpp"
#include "arc/protocol/sia_dcs.hpp"
#include "arc/storage/store.hpp"

namespace {

using arc::api::device_to_json;
using arc::api::event_to_json;
using arc::api::iso8601_utc_ms;
using arc::api::to_json;

// The DOM rendering arcd stored before append_decoded_json: the reference its text must equal.
nlohmann::json reference_json(const arc::protocol::dc09_result& result) {
    using nlohmann::json;
    json out = json::object();
    if (result.frame) {
        const auto& f = *result.frame;
        out["token"] = f.token;
        out["encrypted"] = f.encrypted;
        out["seq"] = f.seq;
        if (f.rcvr) {
            out["rcvr"] = *f.rcvr;
        }
        out["pref"] = f.pref;
        out["acct"] = f.acct;
    }
    if (result.content) {
        out["data"] = result.content->data;
        out["xdata"] = result.content->xdata;
        if (result.content->timestamp) {
            out["timestamp"] = *result.content->timestamp;
        }
    }
    if (result.skew_s) {
        out["skew_s"] = *result.skew_s;
    }
    if (result.skew_s || result.outside_window) {
        out["outside_window"] = result.outside_window;
    }
    if (result.sia) {
        json sia = json::object();
        if (result.sia->account) {
            sia["account"] = *result.sia->account;
        }
        json events = json::array();
        for (const auto& ev : result.sia->events) {
            json mods = json::object();
            for (const auto& [name, value] : ev.modifiers) {
                mods[name] = value;
            }
            events.push_back(
                json{{"function", std::string(1, ev.function)},
                     {"code", ev.code},
                     {"address", ev.address},
                     {"modifiers", std::move(mods)},
                     {"text", ev.text},
                     {"known", ev.known},
                     {"meaning", std::string(arc::protocol::sia_code_meaning(ev.code))}});
        }
        sia["events"] = std::move(events);
        sia["text"] = result.sia->ascii_text;
        out["sia"] = std::move(sia);
    }
    if (result.cid) {
        const auto& cid = *result.cid;
        json c = json::object();
        if (cid.account) {
            c["account"] = *cid.account;
        }
        c["qualifier"] = std::string(1, cid.event.qualifier);
        c["code"] = cid.event.code;
        c["group"] = cid.event.group;
        c["zone"] = cid.event.zone;
        c["known"] = cid.event.known;
        c["meaning"] = std::string(arc::protocol::cid_code_meaning(cid.event.code));
        out["cid"] = std::move(c);
    }
    return out;
}

std::string reference_text(const arc::protocol::dc09_result& result) {
    return reference_json(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string fast_text(const arc::protocol::dc09_result& result) {
    std::string out;
    arc::api::append_decoded_json(out, result);
    return out;
}

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

TEST(api_json, device_type_supervision_and_test_end) {
    arc::storage::device dev;
    dev.account = "ABC123";
    dev.created_ms = 1722334218123;
    const auto j = device_to_json(dev);
    EXPECT_EQ(j["type"], "home_unit");
    EXPECT_TRUE(j["interval_s"].is_null());
    EXPECT_TRUE(j["test_until"].is_null());
    EXPECT_EQ(j["vendor"], "");

    dev.device_type = "pendant";
    dev.interval_s = 3600;
    dev.vendor = "acme";
    dev.mode = arc::storage::device_mode::test;
    dev.test_until_ms = 1722334218123 + 7'200'000;
    const auto k = device_to_json(dev);
    EXPECT_EQ(k["type"], "pendant");
    EXPECT_EQ(k["interval_s"], 3600);
    EXPECT_EQ(k["test_until"], "2024-07-30T12:10:18Z");
    EXPECT_EQ(k["vendor"], "acme");

    // An end left over from an earlier test period is not shown for an active device.
    dev.mode = arc::storage::device_mode::active;
    EXPECT_TRUE(device_to_json(dev)["test_until"].is_null());
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

TEST(api_json, fast_writer_matches_dom_rendering) {
    arc::protocol::dc09_result empty;
    EXPECT_EQ(fast_text(empty), "{}");
    EXPECT_EQ(fast_text(empty), reference_text(empty));

    arc::protocol::dc09_result r;
    r.frame = arc::protocol::dc09_frame{};
    r.frame->token = "SIA-DCS";
    r.frame->seq = "0002";
    r.frame->acct = "1234";
    EXPECT_EQ(fast_text(r), reference_text(r));
    r.frame->rcvr = "R\"1\\";
    r.frame->encrypted = true;
    r.content = arc::protocol::dc09_content{};
    EXPECT_EQ(fast_text(r), reference_text(r));
    r.content->data = "#1234|Nri1/QA015^caf\xC3\xA9 \x01\x7F\t^";
    r.content->xdata = {"X115000", "", "bad \xFF\xC3"};
    r.content->timestamp = "10:10:18,07-30-2024";
    r.outside_window = true;
    EXPECT_EQ(fast_text(r), reference_text(r));
    r.skew_s = -9223372036854775807LL;
    arc::protocol::sia_block sia;
    sia.account = "12\n34";
    arc::protocol::sia_event ev;
    ev.function = '\xE9';
    ev.code = "QA";
    ev.address = "015";
    ev.modifiers = {{"ri", "1"}, {"id", "22"}, {"ri", "2"}, {"\x80", "x"}, {"", ""}};
    ev.text = "room \"7\"";
    ev.known = true;
    sia.events.push_back(ev);
    sia.events.emplace_back();
    sia.ascii_text = "hello";
    r.sia = sia;
    EXPECT_EQ(fast_text(r), reference_text(r));
    for (int i = 0; i < 40; ++i) {
        r.sia->events.front().modifiers.emplace_back(std::to_string(40 - i % 7), std::to_string(i));
    }
    EXPECT_EQ(fast_text(r), reference_text(r));
    r.sia.reset();
    r.skew_s = 12;
    arc::protocol::cid_block cid;
    cid.event.code = "101";
    cid.event.group = "01";
    cid.event.zone = "015";
    cid.event.known = true;
    r.cid = cid;
    EXPECT_EQ(fast_text(r), reference_text(r));
    r.cid->account = "1234";
    r.cid->event.qualifier = '\0';
    EXPECT_EQ(fast_text(r), reference_text(r));
    EXPECT_EQ(to_json(r).dump(), reference_text(r));
}

TEST(api_json, string_escaping_matches_nlohmann_for_any_bytes) {
    // Invalid UTF-8 of every kind: stray continuation bytes, overlong leads, surrogates, cut
    // sequences, beyond U+10FFFF; random byte strings biased towards the interesting bytes.
    const std::vector<std::string> cases = {"",
                                            "plain",
                                            "\x80",
                                            "\xC0\xAF",
                                            "\xC2",
                                            "\xC2\x41",
                                            "\xE0\x80\x80",
                                            "\xE0\xA0\x80",
                                            "\xED\xA0\x80",
                                            "\xED\x9F\xBF",
                                            "\xF0\x8F\xBF\xBF",
                                            "\xF0\x90\x80\x80",
                                            "\xF4\x90\x80\x80",
                                            "\xF4\x8F\xBF\xBF",
                                            "\xF5",
                                            "\xFF\xFE",
                                            "\xE2\x82",
                                            "\xE2\x82\xAC",
                                            "\xF0\x9F\x98",
                                            std::string("\0a\x1F\x7F\"\\/", 8)};
    for (const auto& text : cases) {
        std::string out;
        arc::api::append_json_string(out, text);
        EXPECT_EQ(out, nlohmann::json(text).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace))
            << nlohmann::json(text).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    }
    std::mt19937 gen(12345);
    constexpr std::array<unsigned char, 16> interesting = {0x00, 0x0A, 0x22, 0x5C, 0x41, 0x7F,
                                                           0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xED,
                                                           0xEF, 0xF0, 0xF4, 0xFF};
    for (int round = 0; round < 20000; ++round) {
        std::string text(gen() % 12, '\0');
        for (char& ch : text) {
            const auto v = gen();
            ch = static_cast<char>(v % 2 == 0 ? interesting.at((v >> 1U) % interesting.size())
                                              : (v >> 1U) & 0xFFU);
        }
        std::string out;
        arc::api::append_json_string(out, text);
        ASSERT_EQ(out, nlohmann::json(text).dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace));
    }
}

}  // namespace
