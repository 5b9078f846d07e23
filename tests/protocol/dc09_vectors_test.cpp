// Every vector of tests/data/dc09_vectors.json through the framer and the decision table.
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "arc/protocol/dc09.hpp"

namespace arc::protocol {
namespace {

using nlohmann::json;
using test::opt_string;

const json& all_vectors() {
    static const json vectors = test::load_json("dc09_vectors.json");
    return vectors;
}

// The registry the brief describes: every vector's account is known except 9999 and FEDCBA;
// accounts with key_hex have that key. ABCDEF is provisioned as encrypted and must refuse clear
// text (gen_plain_but_account_requires_encryption). The Swissdotnet (080027E62A64) and Hikvision
// (AAAB) captures show the same account sending clear and encrypted frames, so those accounts
// carry the per-account accept_clear_text override.
test::registry vector_registry() {
    static const std::set<std::string> unknown{"9999", "FEDCBA"};
    static const std::set<std::string> mixed{"080027E62A64", "AAAB"};
    test::registry reg;
    for (const json& v : all_vectors()) {
        const auto acct = opt_string(v.at("expect"), "acct");
        if (!acct || *acct == "A0" || unknown.contains(*acct)) {
            continue;
        }
        account_info& info = reg.accounts[*acct];
        if (v.contains("key_hex")) {
            info.key = test::key_from_hex(v.at("key_hex").get<std::string>());
        }
        if (mixed.contains(*acct)) {
            info.accept_clear_text = true;
        }
    }
    reg.accounts["1234"];  // frames of the two-frame TCP vector have no per-frame "acct"
    return reg;
}

const test::registry& registry_instance() {
    static const test::registry reg = vector_registry();
    return reg;
}

// pysiaalarm's reference policy, which the vectors siad_unknown_sia_code and dc09rs_empty_data
// encode (DUH for an unknown code); the default telecare policy is tested in dc09_test.cpp.
receiver_policy vector_policy() {
    receiver_policy policy;
    policy.ack_unknown_code = false;
    return policy;
}

std::int64_t receiver_time(const json& v) {
    const json& e = v.at("expect");
    if (const auto t = opt_string(e, "receiver_time_utc")) {
        return test::iso_utc(*t);
    }
    if (const auto ts = opt_string(e, "timestamp")) {
        return parse_dc09_timestamp(*ts).value();
    }
    return test::generated_now;
}

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

class dc09_vector_test : public testing::TestWithParam<json> {};

TEST(dc09_vector_file, has_all_vectors) {
    ASSERT_TRUE(all_vectors().is_array());
    EXPECT_EQ(all_vectors().size(), 59U);
}

// Checks an *ACK: addressing echoed, and the plaintext is exactly pad|]_<receiver time>.
void expect_encrypted_ack(const std::string& reply, const json& e, const aes_key& key,
                          std::int64_t now) {
    const auto frame = parse_dc09_frame(reply);
    ASSERT_TRUE(frame) << frame.error().message();
    EXPECT_TRUE(frame->encrypted);
    EXPECT_EQ(frame->token, "ACK");
    EXPECT_EQ(frame->seq, e.at("seq").get<std::string>());
    EXPECT_EQ(frame->rcvr, opt_string(e, "rcvr"));
    EXPECT_EQ(frame->pref, e.at("pref").get<std::string>());
    EXPECT_EQ(frame->acct, e.at("acct").get<std::string>());
    const auto cipher = hex_decode(frame->body);
    ASSERT_TRUE(cipher);
    const auto plain = aes_cbc_decrypt(key, *cipher);
    ASSERT_TRUE(plain);
    ASSERT_EQ(plain->size() % 16, 0U);
    const auto pipe = plain->find('|');
    ASSERT_NE(pipe, std::string::npos);
    EXPECT_GE(pipe, 1U);
    EXPECT_LE(pipe, 16U);
    EXPECT_EQ(plain->substr(0, pipe).find_first_of("[]"), std::string::npos);
    EXPECT_EQ(plain->substr(pipe + 1), "]_" + format_dc09_timestamp(now));
}

TEST_P(dc09_vector_test, decodes_and_replies_as_expected) {
    const json& v = GetParam();
    const json& e = v.at("expect");
    const std::string raw = v.at("raw").get<std::string>();
    const std::int64_t now = receiver_time(v);
    const receiver_policy policy = vector_policy();
    const receive_context ctx = test::make_context(registry_instance(), policy, now);

    // Every vector goes through the framer, as a listener would feed it.
    dc09_framer framer;
    framer.feed(raw);
    std::vector<dc09_result> results;
    for (auto frame = framer.next(); frame; frame = framer.next()) {
        results.push_back(handle_dc09_frame(*frame, ctx));
    }
    EXPECT_EQ(framer.buffered(), 0U);
    const std::size_t frames = e.value("frames", std::size_t{1});
    ASSERT_EQ(results.size(), frames);

    const std::string kind = e.at("response_kind").get<std::string>();
    std::string replies;
    for (const dc09_result& r : results) {
        EXPECT_EQ(to_string(r.reply), kind) << r.error.message();
        EXPECT_EQ(r.accepted, e.at("accepted").get<bool>());
        replies += r.reply_bytes;
    }
    if (const auto expected_raw = opt_string(e, "expected_response_raw")) {
        EXPECT_EQ(replies, *expected_raw);
    }
    if (kind == "NONE") {
        EXPECT_TRUE(replies.empty());
    }
    if (kind == "NAK") {
        EXPECT_EQ(replies, build_dc09_frame("\"NAK\"0000R0L0A0[]_" + format_dc09_timestamp(now)));
    }
    if (frames != 1) {
        return;
    }
    const dc09_result& r = results.front();

    if (const auto id = opt_string(e, "id")) {
        ASSERT_TRUE(r.frame);
        EXPECT_EQ((r.frame->encrypted ? "*" : "") + r.frame->token, *id);
        EXPECT_EQ(r.frame->seq, e.at("seq").get<std::string>());
        EXPECT_EQ(r.frame->rcvr, opt_string(e, "rcvr"));
        EXPECT_EQ(r.frame->pref, e.at("pref").get<std::string>());
        EXPECT_EQ(r.frame->acct, e.at("acct").get<std::string>());
    }
    if (const auto data = opt_string(e, "data")) {
        ASSERT_TRUE(r.content);
        EXPECT_EQ(r.content->data, *data);
        if (e.contains("timestamp")) {
            EXPECT_EQ(r.content->timestamp, opt_string(e, "timestamp"));
        }
        if (e.contains("xdata")) {
            EXPECT_EQ(r.content->xdata, e.at("xdata").get<std::vector<std::string>>());
        }
        if (v.contains("computed") && v.at("computed").contains("pad_len")) {
            EXPECT_EQ(r.content->pad_length, v.at("computed").at("pad_len").get<std::size_t>());
        }
    }
    if (e.contains("cid")) {
        const json& cid = e.at("cid");
        ASSERT_TRUE(r.cid);
        EXPECT_EQ(std::string(1, r.cid->event.qualifier), cid.at("qualifier").get<std::string>());
        EXPECT_EQ(r.cid->event.code, cid.at("event").get<std::string>());
        EXPECT_EQ(r.cid->event.group, cid.at("group").get<std::string>());
        EXPECT_EQ(r.cid->event.zone, cid.at("zone").get<std::string>());
    }
    if (e.contains("timestamp_skew_s")) {
        EXPECT_EQ(r.skew_s, e.at("timestamp_skew_s").get<std::int64_t>());
        EXPECT_TRUE(r.outside_window);
    }
    if (kind == "ACK_ENCRYPTED") {
        expect_encrypted_ack(r.reply_bytes, e,
                             test::key_from_hex(v.at("key_hex").get<std::string>()), now);
    }
    if (kind == "ACK" && r.frame && r.frame->token == "SIA-DCS") {
        ASSERT_TRUE(r.sia);
        EXPECT_FALSE(r.sia->events.empty());
    }
}

INSTANTIATE_TEST_SUITE_P(dc09, dc09_vector_test, testing::ValuesIn(vector_list()), vector_name);

}  // namespace
}  // namespace arc::protocol
