// Serial receiver output (PROTOCOLS.md §5): every vector of tests/data/surgard_vectors.json as its
// own test, each split at every offset and fed byte by byte; one test per malformed case.
#include "arc/protocol/surgard.hpp"

#include <string>
#include <vector>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "arc/protocol/error.hpp"

namespace arc::protocol {
namespace {

using nlohmann::json;
using test::opt_string;

const json& all_vectors() {
    static const json vectors = test::load_json("surgard_vectors.json");
    return vectors;
}

// The 685 vector is the only one framed LF..CR; everything else is Sur-Gard output.
receiver_format format_of(const std::string& raw) {
    return !raw.empty() && raw.front() == '\n' ? receiver_format::ademco685
                                               : receiver_format::surgard;
}

std::vector<expected<receiver_frame>> drain(receiver_framer& framer) {
    std::vector<expected<receiver_frame>> out;
    for (auto item = framer.next(); item || item.error() != error::need_more;
         item = framer.next()) {
        out.push_back(std::move(item));
    }
    return out;
}

// One packet through a fresh framer and the handler.
receiver_result handle_one(const std::string& raw,
                           receiver_format format = receiver_format::surgard) {
    receiver_framer framer;
    framer.feed(raw);
    auto frames = drain(framer);
    EXPECT_EQ(frames.size(), 1U) << raw;
    if (frames.size() != 1 || !frames.front()) {
        return {};
    }
    return handle_receiver_frame(*frames.front(), format);
}

std::string ack() { return {receiver_ack}; }
std::string nak() { return {receiver_nak}; }

std::vector<json> vector_list() {
    std::vector<json> out;
    for (const json& v : all_vectors()) {
        out.push_back(v);
    }
    return out;
}

std::string vector_name(const testing::TestParamInfo<json>& info) {
    std::string name = info.param.at("name").get<std::string>();
    for (char& ch : name) {
        const bool ok =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!ok) {
            ch = '_';
        }
    }
    return name;
}

class surgard_vector_test : public testing::TestWithParam<json> {};

TEST(surgard_vector_file, has_all_vectors) {
    ASSERT_TRUE(all_vectors().is_array());
    EXPECT_EQ(all_vectors().size(), 18U);
}

TEST_P(surgard_vector_test, decodes_and_replies_as_expected) {
    const json& v = GetParam();
    const json& f = v.at("fields");
    const std::string raw = v.at("raw").get<std::string>();
    const receiver_format format = format_of(raw);

    receiver_framer framer;
    framer.feed(raw);
    auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 1U);
    ASSERT_TRUE(frames.front());
    EXPECT_EQ(frames.front()->raw, raw);
    EXPECT_EQ(framer.buffered(), 0U);
    EXPECT_EQ(framer.discarded(), 0U);

    const receiver_result r = handle_receiver_frame(*frames.front(), format);
    ASSERT_TRUE(r.accepted) << r.error.message();
    ASSERT_TRUE(r.line);
    const receiver_line& line = *r.line;
    // The 685's handshake is unverified (host_reply null): arcd answers it as Sur-Gard's.
    const std::string expected_reply = opt_string(v, "host_reply").value_or(ack());
    EXPECT_EQ(r.reply_bytes, expected_reply);

    if (const auto p = opt_string(f, "protocol")) {
        EXPECT_EQ(std::string(1, line.protocol), *p);
    }
    if (const auto kind = opt_string(f, "kind")) {
        EXPECT_EQ(*kind, "supervisory heartbeat");
        EXPECT_TRUE(r.is_heartbeat());
    }
    if (v.at("name") == "b32_header_tcp_heartbeat") {
        EXPECT_TRUE(frames.front()->b32);
        EXPECT_EQ(frames.front()->b32_length, 27U);
        EXPECT_TRUE(r.is_heartbeat());
        EXPECT_EQ(line.receiver, "01");
        EXPECT_EQ(line.line_number, "000");
    }
    if (format == receiver_format::ademco685) {
        EXPECT_EQ(line.receiver, f.at("receiver").get<std::string>());
        EXPECT_EQ(line.line_number, f.at("group").get<std::string>());
        ASSERT_TRUE(line.cid);
        EXPECT_EQ(line.cid->group, f.at("group2").get<std::string>());
        EXPECT_EQ(std::string(1, line.zone_kind), f.at("zone_kind").get<std::string>());
    } else if (const auto rr = opt_string(f, "receiver")) {
        EXPECT_EQ(line.receiver, *rr);
        EXPECT_EQ(line.line_number, f.at("line").get<std::string>());
    }
    if (const auto account = opt_string(f, "account")) {
        EXPECT_EQ(line.account, *account);
    }
    if (const auto mt = opt_string(f, "mt")) {
        EXPECT_EQ(line.kind, receiver_line_kind::contact_id);
        EXPECT_EQ(line.message_type, *mt);
        ASSERT_TRUE(line.cid);
        const char q = f.at("qualifier").get<std::string>().at(0);
        EXPECT_EQ(line.cid->qualifier, q == 'R' ? '3' : q == 'P' ? '6' : '1');
        EXPECT_EQ(line.cid->code, f.at("event").get<std::string>());
        EXPECT_EQ(line.cid->zone, f.at("zone").get<std::string>());
        if (format == receiver_format::surgard) {
            EXPECT_EQ(line.cid->group, f.at("group").get<std::string>());
        }
        EXPECT_TRUE(line.cid->known);
    }
    if (const auto data = opt_string(f, "data")) {
        EXPECT_EQ(line.kind, receiver_line_kind::sia);
        EXPECT_EQ(line.sia_data, *data);
        ASSERT_TRUE(line.sia);
        EXPECT_FALSE(line.sia->events.empty());
    }
    if (const auto user = opt_string(f, "user")) {
        EXPECT_EQ(line.kind, receiver_line_kind::basic);
        EXPECT_EQ(line.basic_event, f.at("event").get<std::string>());
        EXPECT_EQ(line.basic_group, f.at("group").get<std::string>());
        EXPECT_EQ(line.basic_zone, *user);
    }
}

INSTANTIATE_TEST_SUITE_P(vectors, surgard_vector_test, testing::ValuesIn(vector_list()),
                         vector_name);

TEST(receiver_framer, every_vector_split_at_every_offset) {
    for (const json& v : all_vectors()) {
        const std::string raw = v.at("raw").get<std::string>();
        for (std::size_t cut = 0; cut <= raw.size(); ++cut) {
            receiver_framer framer;
            framer.feed(std::string_view(raw).substr(0, cut));
            auto frames = drain(framer);
            framer.feed(std::string_view(raw).substr(cut));
            auto late = drain(framer);
            frames.insert(frames.end(), late.begin(), late.end());
            ASSERT_EQ(frames.size(), 1U) << "cut " << cut << " of " << v.at("name");
            ASSERT_TRUE(frames.front());
            EXPECT_EQ(frames.front()->raw, raw);
            EXPECT_TRUE(handle_receiver_frame(*frames.front(), format_of(raw)).accepted);
        }
    }
}

TEST(receiver_framer, every_vector_byte_by_byte_back_to_back) {
    std::string stream;
    for (const json& v : all_vectors()) {
        stream += v.at("raw").get<std::string>();
    }
    receiver_framer framer;
    std::vector<expected<receiver_frame>> frames;
    for (const char c : stream) {
        framer.feed(std::string_view(&c, 1));
        auto got = drain(framer);
        frames.insert(frames.end(), got.begin(), got.end());
    }
    ASSERT_EQ(frames.size(), all_vectors().size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        ASSERT_TRUE(frames[i]);
        EXPECT_EQ(frames[i]->raw, all_vectors()[i].at("raw").get<std::string>());
    }
    EXPECT_EQ(framer.buffered(), 0U);
    EXPECT_EQ(framer.discarded(), 0U);
}

TEST(receiver_framer, empty_framer_needs_more) {
    receiver_framer framer;
    const auto item = framer.next();
    ASSERT_FALSE(item);
    EXPECT_EQ(item.error(), error::need_more);
}

TEST(receiver_framer, partial_line_is_held_until_its_terminator) {
    receiver_framer framer;
    framer.feed("501001 181234E101");
    EXPECT_EQ(drain(framer).size(), 0U);
    EXPECT_EQ(framer.buffered(), 17U);
    framer.feed("01015\x14");
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames.front()->line, "501001 181234E10101015");
}

TEST(receiver_framer, line_ends_and_blanks_between_packets_are_skipped) {
    receiver_framer framer;
    framer.feed(
        "\r\n  \x14"
        "501001 181234E10101015\x14\r ");
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 1U);
    EXPECT_EQ(frames.front()->line, "501001 181234E10101015");
    EXPECT_EQ(framer.buffered(), 0U);
}

TEST(receiver_framer, oversize_line_is_reported_once_and_the_next_line_parses) {
    receiver_framer framer(64);
    framer.feed(std::string(500, '5') + "\x14" + "501001 181234E10101015\x14");
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 2U);
    ASSERT_FALSE(frames[0]);
    EXPECT_EQ(frames[0].error(), error::frame_too_large);
    ASSERT_TRUE(frames[1]);
    EXPECT_EQ(frames[1]->line, "501001 181234E10101015");
    EXPECT_EQ(framer.discarded(), 501U);
    EXPECT_LE(framer.buffered(), 64U);
}

TEST(receiver_framer, lf_inside_a_line_drops_the_broken_part_and_resyncs) {
    receiver_framer framer;
    framer.feed("501001 1812\n11 1234 18 E101 01 C015\r");
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 1U);
    ASSERT_TRUE(frames.front());
    EXPECT_EQ(frames.front()->line, "11 1234 18 E101 01 C015");
    EXPECT_EQ(framer.discarded(), 11U);
}

// Found by fuzz_surgard: a run of LFs grew the buffer without bound.
TEST(receiver_framer, run_of_line_feeds_stays_bounded) {
    receiver_framer framer(64);
    framer.feed(std::string(10000, '\n'));
    EXPECT_EQ(framer.buffered(), 1U);
    framer.feed("11 1234 18 E101 01 C015\r");
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 1U);
    ASSERT_TRUE(frames.front());
    EXPECT_EQ(frames.front()->raw, "\n11 1234 18 E101 01 C015\r");
    EXPECT_EQ(framer.discarded(), 9999U);
}

TEST(receiver_framer, nul_noise_that_is_no_b32_header_resyncs) {
    receiver_framer framer;
    framer.feed(std::string("\0", 1) + "501001 181234E10101015\x14");
    const auto frames = drain(framer);
    ASSERT_EQ(frames.size(), 1U);
    ASSERT_TRUE(frames.front());
    EXPECT_FALSE(frames.front()->b32);
    EXPECT_EQ(frames.front()->line, "501001 181234E10101015");
    EXPECT_EQ(framer.discarded(), 1U);
}

// ---- malformed lines: NAK, and the reason -------------------------------------------------

void expect_nak(const std::string& raw, error why,
                receiver_format format = receiver_format::surgard) {
    const receiver_result r = handle_one(raw, format);
    EXPECT_FALSE(r.accepted);
    EXPECT_FALSE(r.line);
    EXPECT_EQ(r.error, why) << r.error.message();
    EXPECT_EQ(r.reply_bytes, nak());
}

TEST(surgard_malformed, unknown_protocol_id) {
    expect_nak("601001 181234E10101015\x14", error::bad_format);
}

TEST(surgard_malformed, receiver_and_line_digits_too_short) {
    expect_nak("501 181234E10101015\x14", error::bad_header);
}

TEST(surgard_malformed, receiver_and_line_digits_too_long) {
    expect_nak("50100123456 181234E10101015\x14", error::bad_header);
}

TEST(surgard_malformed, contact_id_without_separator) {
    expect_nak("501001181234E10101015\x14", error::bad_header);
}

TEST(surgard_malformed, contact_id_truncated) {
    expect_nak("501001 181234E1010101\x14", error::bad_format);
}

TEST(surgard_malformed, contact_id_unknown_qualifier) {
    expect_nak("501001 181234X10101015\x14", error::bad_data);
}

TEST(surgard_malformed, contact_id_wrong_message_type) {
    expect_nak("501001 171234E10101015\x14", error::bad_data);
}

TEST(surgard_malformed, contact_id_account_not_hex) {
    expect_nak("501001 1812G4E10101015\x14", error::bad_data);
}

TEST(surgard_malformed, ten_digit_account_with_message_type_18) {
    expect_nak("Q01001 180012345678E10101015\x14", error::bad_data);
}

TEST(surgard_malformed, sia_without_closing_bracket) {
    expect_nak("S01001[#1234|Nri1/MA001\x14", error::bad_format);
}

TEST(surgard_malformed, sia_with_text_after_the_block) {
    expect_nak("S01001[#1234|Nri1/MA001]xx\x14", error::bad_format);
}

TEST(surgard_malformed, sia_block_without_event) {
    expect_nak("S01001[#1234|]\x14", error::bad_data);
}

TEST(surgard_malformed, heartbeat_with_junk) {
    expect_nak("101000    X      @    \x14", error::bad_format);
}

TEST(surgard_malformed, basic_unknown_event_letter) {
    expect_nak("1011      0012 K1128\x14", error::bad_data);
}

TEST(surgard_malformed, b32_length_disagrees_with_packet) {
    const receiver_result r =
        handle_one(std::string("\0\0\0\x30", 4) + "101000           @    \x14");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(r.error, error::bad_length);
    EXPECT_EQ(r.reply_bytes, std::string("\0\0\0\x05\x15", 5));
}

TEST(ademco685_malformed, bad_zone_kind) {
    expect_nak("\n11 1234 18 E101 01 X015\r", error::bad_format, receiver_format::ademco685);
}

TEST(ademco685_malformed, bad_receiver_digits) {
    expect_nak("\n1 1234 18 E101 01 C015\r", error::bad_header, receiver_format::ademco685);
}

TEST(ademco685_malformed, missing_group) {
    expect_nak("\n11 1234 18 E101 C015\r", error::bad_format, receiver_format::ademco685);
}

TEST(ademco685_malformed, unknown_qualifier) {
    expect_nak("\n11 1234 18 Q101 01 C015\r", error::bad_data, receiver_format::ademco685);
}

TEST(ademco685_malformed, surgard_line_on_a_685_port) {
    expect_nak("501001 181234E10101015\x14", error::bad_header, receiver_format::ademco685);
}

// ---- other accepted shapes ----------------------------------------------------------------

TEST(surgard, cid_with_98_message_type_and_lower_case_account) {
    const receiver_result r = handle_one("501001 98abcdE10101015\x14");
    ASSERT_TRUE(r.accepted) << r.error.message();
    EXPECT_EQ(r.line->account, "ABCD");
    EXPECT_EQ(r.line->message_type, "98");
}

TEST(surgard, unknown_contact_id_code_is_acked_and_flagged_unknown) {
    const receiver_result r = handle_one("501001 181234E05501015\x14");
    ASSERT_TRUE(r.accepted);
    EXPECT_EQ(r.reply_bytes, ack());
    ASSERT_TRUE(r.line->cid);
    EXPECT_FALSE(r.line->cid->known);
}

TEST(ademco685, silentknight_heartbeat) {
    const receiver_result r = handle_one("\n11 OKAY @ \r", receiver_format::ademco685);
    ASSERT_TRUE(r.accepted) << r.error.message();
    EXPECT_TRUE(r.is_heartbeat());
}

TEST(ademco685, basic_4x2_line) {
    const receiver_result r = handle_one("\n11 1234 E 3\r", receiver_format::ademco685);
    ASSERT_TRUE(r.accepted) << r.error.message();
    EXPECT_EQ(r.line->kind, receiver_line_kind::basic);
    EXPECT_EQ(r.line->basic_event, "E");
    EXPECT_EQ(r.line->basic_zone, "3");
}

TEST(surgard, encoder_round_trips) {
    cid_event ev;
    ev.qualifier = '3';
    ev.code = "101";
    ev.group = "01";
    ev.zone = "015";
    const std::string raw = encode_surgard_cid("01", "001", "1234", ev);
    EXPECT_EQ(raw, "501001 181234R10101015\x14");
    const receiver_result r = handle_one(raw);
    ASSERT_TRUE(r.accepted);
    EXPECT_EQ(r.line->cid->qualifier, '3');
}

TEST(surgard, b32_reply_is_five_bytes) {
    EXPECT_EQ(build_receiver_reply(receiver_ack, true), std::string("\0\0\0\x05\x06", 5));
    EXPECT_EQ(build_receiver_reply(receiver_nak, false), nak());
}

}  // namespace
}  // namespace arc::protocol
