// DC-09 parsing, malformed frames, the decision table's policy branches, replies and encoders.
#include "arc/protocol/dc09.hpp"

#include <string>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "arc/protocol/error.hpp"

namespace arc::protocol {
namespace {

constexpr std::int64_t now = test::generated_now;  // 10:15:30,03-14-2025
const aes_key key128 = test::key_from_hex("2B7E151628AED2A6ABF7158809CF4F3C");
const aes_key key192 = test::key_from_hex("8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B");
const aes_key key256 =
    test::key_from_hex("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4");

// Accounts: 1234 clear, ABCDEF encrypted (AES-128), 0012345678 encrypted (AES-256),
// 0192 encrypted (AES-192), 5555 known without key.
test::registry make_registry() {
    test::registry reg;
    reg.accounts["1234"];
    reg.accounts["ABCDEF"].key = key128;
    reg.accounts["0192"].key = key192;
    reg.accounts["0012345678"].key = key256;
    reg.accounts["5555"];
    return reg;
}

class dc09_decision : public testing::Test {
protected:
    dc09_result handle(std::string_view raw, std::int64_t at = now) {
        const receive_context ctx = test::make_context(reg_, policy_, at);
        return handle_dc09_frame(raw, ctx);
    }

    static std::string nak_at(std::int64_t t) {
        return build_dc09_frame("\"NAK\"0000R0L0A0[]_" + format_dc09_timestamp(t));
    }

    static dc09_message_spec sia(std::string acct, std::string data) {
        dc09_message_spec spec;
        spec.acct = std::move(acct);
        spec.data = std::move(data);
        spec.timestamp_unix = now;
        return spec;
    }

    std::string encrypted(const dc09_message_spec& spec, const aes_key& key) {
        return encode_dc09_encrypted(spec, key, test::counting_random).value();
    }

    test::registry reg_ = make_registry();
    receiver_policy policy_;
};

// --- CRC / frame construction ------------------------------------------------------------

TEST(dc09_frame_build, worked_example_from_protocols_md) {
    EXPECT_EQ(build_dc09_frame("\"SIA-DCS\"0001L0#1234[#1234|NFA0001]_03:04:05,01-02-2024"),
              "\nB2220037\"SIA-DCS\"0001L0#1234[#1234|NFA0001]_03:04:05,01-02-2024\r");
}

TEST(dc09_frame_build, nak_matches_swissdotnet_capture) {
    EXPECT_EQ(build_nak(parse_dc09_timestamp("16:09:09,04-14-2015").value()),
              "\n3C830025\"NAK\"0000R0L0A0[]_16:09:09,04-14-2015\r");
}

TEST(dc09_frame_build, ack_and_duh_echo_addressing) {
    const auto frame = parse_dc09_frame(
        "\n7ea80059\"SIA-DCS\"0000Rc0ffdL1234#080027E62A64[#080027E62A64|NHB0003]"
        "[E115000]_09:00:13,06-23-2015\r");
    ASSERT_TRUE(frame);
    EXPECT_EQ(build_ack(*frame), "\n7C830023\"ACK\"0000Rc0ffdL1234#080027E62A64[]\r");
    EXPECT_EQ(build_duh(*frame), build_dc09_frame("\"DUH\"0000Rc0ffdL1234#080027E62A64[]"));
}

// --- parse_dc09_frame: one test per malformed case --------------------------------------

TEST(dc09_parse, accepts_lower_case_crc_and_length) {
    const auto frame = parse_dc09_frame("\n525a0024\"NULL\"0000Rc0ffdL1234#080027E62A64[]\r");
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->crc, 0x525A);
    EXPECT_EQ(frame->length, 0x24U);
    EXPECT_EQ(frame->token, "NULL");
    EXPECT_EQ(frame->rcvr, "c0ffd");
    EXPECT_EQ(frame->body, "]");
}

TEST(dc09_parse, bad_crc) {
    const auto r = parse_dc09_frame(
        "\n0000003A\"SIA-DCS\"0013L0#1234[#1234|Nri1/MA001]_10:15:30,03-14-2025\r");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::bad_crc);
}

TEST(dc09_parse, bad_length) {
    const std::string raw =
        "\n9224003B\"SIA-DCS\"0013L0#1234[#1234|Nri1/MA001]_10:15:30,03-14-2025\r";
    const auto r = parse_dc09_frame(raw);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::bad_length);
    const auto tolerated = parse_dc09_frame(raw, true);
    ASSERT_TRUE(tolerated);
    EXPECT_TRUE(tolerated->length_mismatch);
    EXPECT_EQ(tolerated->length, 0x3BU);
}

TEST(dc09_parse, non_hex_length) {
    const auto r =
        parse_dc09_frame("\n01fc003g\"ACK\"0000Rc0ffdL1234#080027E62A64[]_12:10:40,06-22-2015\r");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::bad_format);
}

TEST(dc09_parse, non_hex_crc) {
    const auto r = parse_dc09_frame("\nZZZZ0013\"NULL\"0000L0#1234[]\r");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::bad_format);
}

TEST(dc09_parse, bad_sequence) {
    for (const char* body :
         {"\"SIA-DCS\"00a1L0#1234[#1234|NRP]", "\"SIA-DCS\"001L0#1234[]", "\"SIA-DCS\"L0#1234[]"}) {
        const auto r = parse_dc09_frame(build_dc09_frame(body));
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error(), error::bad_header) << body;
    }
}

TEST(dc09_parse, bad_account) {
    for (const char* body :
         {"\"SIA-DCS\"0001L0#12[]", "\"SIA-DCS\"0001L0#12G4[]",
          "\"SIA-DCS\"0001L0#12345678901234567[]", "\"SIA-DCS\"0001L0[]", "\"SIA-DCS\"0001L0#[]"}) {
        const auto r = parse_dc09_frame(build_dc09_frame(body));
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error(), error::bad_header) << body;
    }
}

TEST(dc09_parse, bad_receiver_and_prefix) {
    for (const char* body : {"\"SIA-DCS\"0001R1234567L0#1234[]", "\"SIA-DCS\"0001RL0#1234[]",
                             "\"SIA-DCS\"0001L1234567#1234[]", "\"SIA-DCS\"0001#1234[]"}) {
        const auto r = parse_dc09_frame(build_dc09_frame(body));
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error(), error::bad_header) << body;
    }
}

TEST(dc09_parse, missing_open_bracket) {
    const auto r = parse_dc09_frame(build_dc09_frame("\"SIA-DCS\"0001L0#1234#1234|NRP]"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::bad_format);
    const auto r2 = parse_dc09_frame(build_dc09_frame("\"SIA-DCS\"0001L0#1234"));
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error(), error::bad_format);
}

TEST(dc09_parse, truncated_frames) {
    const std::string good = "\n1EF20013\"NULL\"0000L0#1234[]\r";
    ASSERT_TRUE(parse_dc09_frame(good));
    for (std::size_t n = 0; n < good.size(); ++n) {
        EXPECT_FALSE(parse_dc09_frame(std::string_view(good).substr(0, n))) << n;
    }
    // CR present but bytes lost in the middle: CRC catches it.
    const auto r = parse_dc09_frame("\n1EF20013\"NULL\"0000L0#124[]\r");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::bad_crc);
}

TEST(dc09_parse, bad_token_characters) {
    const auto r = parse_dc09_frame(build_dc09_frame("\"sia-dcs\"0001L0#1234[]"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::bad_format);
    const auto r2 = parse_dc09_frame(build_dc09_frame("\"\"0001L0#1234[]"));
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error(), error::bad_format);
}

TEST(dc09_parse, nak_literal_account) {
    const auto frame = parse_dc09_frame("\nE5630025\"NAK\"0000R0L0A0[]_10:10:18,07-30-2024\r");
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->acct, "A0");
    EXPECT_EQ(frame->pref, "0");
    EXPECT_EQ(frame->rcvr, "0");
}

// --- decode_clear_body / timestamps --------------------------------------------------------

TEST(dc09_body, clear_body_with_xdata_and_timestamp) {
    const auto c = decode_clear_body(
        "#1234|NRP]"
        "[X1][Yabc]_10:15:30,03-14-2025");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->data, "#1234|NRP");
    EXPECT_EQ(c->xdata, (std::vector<std::string>{"X1", "Yabc"}));
    EXPECT_EQ(c->timestamp, "10:15:30,03-14-2025");
    EXPECT_EQ(c->timestamp_unix, now);
}

TEST(dc09_body, clear_body_errors) {
    EXPECT_EQ(decode_clear_body("#1234|NRP").error(), error::bad_format);
    EXPECT_EQ(decode_clear_body("#1234|NRP][X1").error(), error::bad_format);
    EXPECT_EQ(decode_clear_body("#1234|NRP]junk").error(), error::bad_format);
    EXPECT_EQ(decode_clear_body("#1234|NRP]_10:15:30").error(), error::bad_timestamp);
    EXPECT_EQ(decode_clear_body("#1234|NRP]_25:15:30,03-14-2025").error(), error::bad_timestamp);
}

TEST(dc09_timestamp, known_values) {
    EXPECT_EQ(parse_dc09_timestamp("00:00:00,01-01-1970").value(), 0);
    EXPECT_EQ(parse_dc09_timestamp("03:04:05,01-02-2024").value(), 1704164645);
    EXPECT_EQ(parse_dc09_timestamp("23:59:59,02-29-2000").value(), 951868799);
    EXPECT_EQ(format_dc09_timestamp(1741947330), "10:15:30,03-14-2025");
    EXPECT_EQ(format_dc09_timestamp(-1), "23:59:59,12-31-1969");
    EXPECT_EQ(format_dc09_timestamp(951868799), "23:59:59,02-29-2000");
}

TEST(dc09_timestamp, round_trip_over_many_days) {
    for (std::int64_t t = -86400LL * 400; t < 86400LL * 365 * 120; t += 86400 * 13 + 3607) {
        const std::string text = format_dc09_timestamp(t);
        EXPECT_EQ(parse_dc09_timestamp(text).value(), t) << text;
    }
}

TEST(dc09_timestamp, invalid_dates_and_shapes) {
    for (const char* text : {"10:15:30,02-30-2025", "10:15:30,02-29-2025", "10:15:30,02-29-1900",
                             "10:15:30,13-01-2025", "10:15:30,00-01-2025", "10:15:30,01-00-2025",
                             "24:00:00,01-01-2025", "10:60:00,01-01-2025", "10:15:60,01-01-2025",
                             "10-15-30,03-14-2025", "10:15:30 03-14-2025", "1:15:30,03-14-2025", "",
                             "10:15:30,03-14-25"}) {
        EXPECT_EQ(parse_dc09_timestamp(text).error(), error::bad_timestamp) << text;
    }
    EXPECT_TRUE(parse_dc09_timestamp("10:15:30,02-29-2024"));
}

// --- decryption -----------------------------------------------------------------------------

TEST(dc09_decrypt, bad_cipher_hex) {
    EXPECT_EQ(decrypt_body(key128, std::string(31, 'A') + "G").error(), error::decrypt_failed);
    EXPECT_EQ(decrypt_body(key128, std::string(31, 'A')).error(), error::decrypt_failed);
    EXPECT_EQ(decrypt_body(key128, "").error(), error::decrypt_failed);
}

TEST(dc09_decrypt, cipher_not_multiple_of_16) {
    EXPECT_EQ(decrypt_body(key128, std::string(40, 'A')).error(), error::decrypt_failed);
}

TEST(dc09_decrypt, wrong_key) {
    dc09_message_spec spec;
    spec.acct = "ABCDEF";
    spec.data = "#ABCDEF|Nri1/MA001";
    spec.timestamp_unix = now;
    const auto raw = encode_dc09_encrypted(spec, key128, test::counting_random).value();
    const auto frame = parse_dc09_frame(raw).value();
    ASSERT_TRUE(decrypt_body(key128, frame.body));
    const auto r = decrypt_body(key256, frame.body);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error() == error::decrypt_failed || r.error() == error::bad_timestamp);
}

TEST(dc09_decrypt, missing_timestamp_in_encrypted) {
    const std::string plain = "0123456789|#ABCDEF|Nri1/MA001]";  // 30 bytes: pad to 32
    const std::string padded = "x" + std::string("y") + plain;
    ASSERT_EQ(padded.size(), 32U);
    const auto cipher = aes_cbc_encrypt(key128, padded).value();
    EXPECT_EQ(decrypt_body(key128, hex_encode(cipher)).error(), error::bad_timestamp);
}

TEST(dc09_decrypt, ascii_zero_pad_and_no_pipe) {
    // pysiaalarm-style ASCII '0' pad, 16 bytes.
    const std::string zero_pad = std::string(16, '0') + "|Nri1/WA000]_16:04:02,07-09-2020";
    const auto c1 = decrypt_body(key128, hex_encode(aes_cbc_encrypt(key128, zero_pad).value()));
    ASSERT_TRUE(c1);
    EXPECT_EQ(c1->data, "Nri1/WA000");
    EXPECT_EQ(c1->pad_length, 16U);
    // Hikvision: pad without '|'.
    const std::string no_pipe = std::string(11, 'p') + "]_18:24:52,07-05-2020";
    const auto c2 = decrypt_body(key128, hex_encode(aes_cbc_encrypt(key128, no_pipe).value()));
    ASSERT_TRUE(c2);
    EXPECT_EQ(c2->data, "");
    EXPECT_EQ(c2->pad_length, 11U);
    EXPECT_EQ(c2->timestamp, "18:24:52,07-05-2020");
}

// --- decision table -------------------------------------------------------------------------

TEST_F(dc09_decision, clear_sia_is_acked_with_decoded_event) {
    const auto r = handle(encode_dc09(sia("1234", "#1234|Nri1/MA001")));
    EXPECT_EQ(r.reply, reply_kind::ack);
    EXPECT_TRUE(r.accepted);
    EXPECT_FALSE(r.error);
    ASSERT_TRUE(r.sia);
    ASSERT_EQ(r.sia->events.size(), 1U);
    EXPECT_EQ(r.sia->events[0].code, "MA");
    EXPECT_EQ(r.skew_s, 0);
}

TEST_F(dc09_decision, bad_crc_gets_nak_with_receiver_time) {
    std::string raw = encode_dc09(sia("1234", "#1234|Nri1/MA001"));
    raw[1] = raw[1] == '0' ? '1' : '0';
    const auto r = handle(raw);
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_EQ(r.reply_bytes, nak_at(now));
    EXPECT_EQ(r.error, error::bad_crc);
    EXPECT_FALSE(r.accepted);
}

TEST_F(dc09_decision, garbage_gets_nak) {
    const auto r = handle("\nthis is not a SIA frame\r");
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_EQ(r.error, error::bad_format);
    EXPECT_FALSE(r.frame);
}

TEST_F(dc09_decision, corrupt_reply_frame_gets_no_reply) {
    const auto r = handle("\n0000002E\"ACK\"0001L0#080027E62A64[]_16:07:07,04-14-2015\r");
    EXPECT_EQ(r.reply, reply_kind::none);
    EXPECT_TRUE(r.reply_bytes.empty());
    EXPECT_EQ(r.error, error::bad_crc);
}

TEST_F(dc09_decision, length_mismatch_nak_unless_account_tolerates_it) {
    std::string raw = encode_dc09(sia("1234", "#1234|Nri1/MA001"));
    raw[8] = raw[8] == 'F' ? 'E' : 'F';  // last length digit
    const auto r = handle(raw);
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_EQ(r.error, error::bad_length);
    reg_.accounts["1234"].tolerate_length_mismatch = true;
    const auto tolerated = handle(raw);
    EXPECT_EQ(tolerated.reply, reply_kind::ack);
    ASSERT_TRUE(tolerated.frame);
    EXPECT_TRUE(tolerated.frame->length_mismatch);
}

TEST_F(dc09_decision, unknown_token_gets_duh) {
    dc09_message_spec spec = sia("1234", "#1234|Nri1/MA001");
    spec.token = "XYZ-ABC";
    const auto r = handle(encode_dc09(spec));
    EXPECT_EQ(r.reply, reply_kind::duh);
    EXPECT_EQ(r.error, error::unknown_token);
    EXPECT_EQ(r.reply_bytes, build_dc09_frame("\"DUH\"0001L0#1234[]"));
}

TEST_F(dc09_decision, unknown_account_nak_by_default) {
    const auto r = handle(encode_dc09(sia("9999", "#9999|Nri1/MA001")));
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_EQ(r.error, error::unknown_account);
    EXPECT_FALSE(r.accepted);
}

TEST_F(dc09_decision, unknown_account_ack_and_flag_when_policy_says_so) {
    policy_.ack_unknown_account = true;
    const auto r = handle(encode_dc09(sia("9999", "#9999|Nri1/MA001")));
    EXPECT_EQ(r.reply, reply_kind::ack);
    EXPECT_EQ(r.error, error::unknown_account);
    EXPECT_TRUE(r.accepted);
    // Encrypted from an unknown account cannot be read: still NAK.
    const auto enc = handle(encrypted(sia("9999", "#9999|Nri1/MA001"), key128));
    EXPECT_EQ(enc.reply, reply_kind::nak);
}

TEST_F(dc09_decision, encrypted_without_key_gets_nak) {
    const auto r = handle(encrypted(sia("5555", "#5555|Nri1/MA001"), key128));
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_EQ(r.error, error::no_key);
}

TEST_F(dc09_decision, encrypted_with_wrong_key_gets_nak) {
    const auto r = handle(encrypted(sia("ABCDEF", "#ABCDEF|Nri1/MA001"), key256));
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_TRUE(r.error == error::decrypt_failed || r.error == error::bad_timestamp);
    EXPECT_EQ(r.reply_bytes, nak_at(now));
}

TEST_F(dc09_decision, encrypted_bad_cipher_hex_gets_nak) {
    const auto r =
        handle(build_dc09_frame("\"*SIA-DCS\"0001L0#ABCDEF[" + std::string(31, '0') + "Z"));
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_EQ(r.error, error::decrypt_failed);
}

TEST_F(dc09_decision, encrypted_cipher_not_multiple_of_16_gets_nak) {
    const auto r = handle(build_dc09_frame("\"*SIA-DCS\"0001L0#ABCDEF[" + std::string(40, '0')));
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_EQ(r.error, error::decrypt_failed);
}

TEST_F(dc09_decision, encrypted_window_boundaries) {
    const std::string raw = encrypted(sia("ABCDEF", "#ABCDEF|Nri1/MA001"), key128);
    struct boundary {
        std::int64_t skew;  // message time minus receiver time
        reply_kind reply;
    };
    for (const boundary b :
         {boundary{-40, reply_kind::ack_encrypted}, boundary{-41, reply_kind::nak},
          boundary{20, reply_kind::ack_encrypted}, boundary{21, reply_kind::nak},
          boundary{0, reply_kind::ack_encrypted}}) {
        const std::int64_t receiver = now - b.skew;
        const auto r = handle(raw, receiver);
        EXPECT_EQ(r.reply, b.reply) << b.skew;
        EXPECT_EQ(r.skew_s, b.skew);
        if (b.reply == reply_kind::nak) {
            EXPECT_EQ(r.error, error::outside_window);
            EXPECT_TRUE(r.outside_window);
            EXPECT_FALSE(r.accepted);
            EXPECT_EQ(r.reply_bytes, nak_at(receiver));
        } else {
            EXPECT_TRUE(r.accepted);
            EXPECT_FALSE(r.outside_window);
        }
    }
}

TEST_F(dc09_decision, clear_text_outside_window_acked_and_flagged) {
    const std::string raw = encode_dc09(sia("1234", "#1234|Nri1/MA001"));
    const auto r = handle(raw, now + 3600);
    EXPECT_EQ(r.reply, reply_kind::ack);
    EXPECT_TRUE(r.accepted);
    EXPECT_TRUE(r.outside_window);
    EXPECT_EQ(r.skew_s, -3600);

    reg_.accounts["1234"].window_for_clear_text = true;
    const auto per_account = handle(raw, now + 3600);
    EXPECT_EQ(per_account.reply, reply_kind::nak);
    EXPECT_EQ(per_account.error, error::outside_window);

    reg_.accounts["1234"].window_for_clear_text.reset();
    policy_.window_for_clear_text = true;
    EXPECT_EQ(handle(raw, now + 3600).reply, reply_kind::nak);
    EXPECT_EQ(handle(raw, now + 40).reply, reply_kind::ack);
    EXPECT_EQ(handle(raw, now + 41).reply, reply_kind::nak);
    EXPECT_EQ(handle(raw, now - 20).reply, reply_kind::ack);
    EXPECT_EQ(handle(raw, now - 21).reply, reply_kind::nak);
}

TEST_F(dc09_decision, clear_text_from_encrypted_account) {
    const std::string raw = encode_dc09(sia("ABCDEF", "#ABCDEF|Nri1/MA001"));
    const auto refused = handle(raw);
    EXPECT_EQ(refused.reply, reply_kind::nak);
    EXPECT_EQ(refused.error, error::encryption_required);
    ASSERT_TRUE(refused.content);  // recorded for diagnostics
    EXPECT_EQ(refused.content->data, "#ABCDEF|Nri1/MA001");

    policy_.accept_clear_text = true;
    EXPECT_EQ(handle(raw).reply, reply_kind::ack);

    reg_.accounts["ABCDEF"].accept_clear_text = false;  // the account overrides the policy
    EXPECT_EQ(handle(raw).reply, reply_kind::nak);
}

TEST_F(dc09_decision, null_link_test_clear_and_encrypted) {
    dc09_message_spec spec;
    spec.token = "NULL";
    spec.seq = "0000";
    spec.acct = "1234";
    const auto clear = handle(encode_dc09(spec));
    EXPECT_EQ(clear.reply, reply_kind::ack);
    EXPECT_TRUE(clear.accepted);
    EXPECT_TRUE(clear.is_link_test());

    spec.acct = "ABCDEF";
    spec.timestamp_unix = now;
    spec.data = "#0000|0000 00 000";  // any data in a NULL
    const auto enc = handle(encrypted(spec, key128));
    EXPECT_EQ(enc.reply, reply_kind::ack_encrypted);
    EXPECT_TRUE(enc.accepted);
    EXPECT_TRUE(enc.is_link_test());
}

TEST_F(dc09_decision, empty_sia_and_cid_get_duh) {
    const auto sia_empty = handle(encode_dc09(sia("1234", "")));
    EXPECT_EQ(sia_empty.reply, reply_kind::duh);
    EXPECT_EQ(sia_empty.error, error::empty_data);
    EXPECT_FALSE(sia_empty.accepted);

    dc09_message_spec cid = sia("1234", "#1234|");
    cid.token = "ADM-CID";
    const auto cid_empty = handle(encode_dc09(cid));
    EXPECT_EQ(cid_empty.reply, reply_kind::duh);
    EXPECT_EQ(cid_empty.error, error::empty_data);
}

TEST_F(dc09_decision, default_policy_acks_unknown_code_with_flag) {
    const std::string raw = "\n99A80025\"SIA-DCS\"0001L0#1234[#1234|Nri1/QQ99]\r";
    const auto r = handle(raw);
    EXPECT_EQ(r.reply, reply_kind::ack);
    EXPECT_TRUE(r.accepted);
    EXPECT_EQ(r.error, error::unknown_code);
    EXPECT_EQ(r.reply_bytes, "\n1BC10012\"ACK\"0001L0#1234[]\r");
    ASSERT_TRUE(r.sia);
    EXPECT_FALSE(r.sia->events.at(0).known);

    policy_.ack_unknown_code = false;
    const auto duh = handle(raw);
    EXPECT_EQ(duh.reply, reply_kind::duh);
    EXPECT_EQ(duh.error, error::unknown_code);
    EXPECT_EQ(duh.reply_bytes, "\n251F0012\"DUH\"0001L0#1234[]\r");
}

TEST_F(dc09_decision, unknown_cid_code_follows_the_same_policy) {
    dc09_message_spec spec = sia("1234", "#1234|1999 01 001");  // 999 is known
    spec.token = "ADM-CID";
    EXPECT_FALSE(handle(encode_dc09(spec)).error);
    spec.data = "#1234|1777 01 001";
    const auto r = handle(encode_dc09(spec));
    EXPECT_EQ(r.reply, reply_kind::ack);
    EXPECT_EQ(r.error, error::unknown_code);
    policy_.ack_unknown_code = false;
    EXPECT_EQ(handle(encode_dc09(spec)).reply, reply_kind::duh);
}

TEST_F(dc09_decision, unparsable_data_follows_the_unknown_code_policy) {
    dc09_message_spec spec = sia("1234", "#1234|1101 01");  // ADM-CID short of the zone
    spec.token = "ADM-CID";
    const auto r = handle(encode_dc09(spec));
    EXPECT_EQ(r.reply, reply_kind::ack);
    EXPECT_EQ(r.error, error::bad_data);
    policy_.ack_unknown_code = false;
    EXPECT_EQ(handle(encode_dc09(spec)).reply, reply_kind::duh);
}

TEST_F(dc09_decision, missing_policy_and_lookup_do_not_crash) {
    receive_context ctx;
    ctx.now_unix = now;
    const auto r = handle_dc09_frame(encode_dc09(sia("1234", "#1234|Nri1/MA001")), ctx);
    EXPECT_EQ(r.reply, reply_kind::nak);
    EXPECT_EQ(r.error, error::unknown_account);
}

// --- encrypted ACK --------------------------------------------------------------------------

TEST(dc09_encrypted_ack, plaintext_layout_and_pad_bytes) {
    const auto frame = parse_dc09_frame(
                           "\n81AD007A\"*SIA-DCS\"0101R1L1#ABCDEF[A472324113872D4EF7D6CFA55B51134A"
                           "F8E46DBD3D8ADDA56228764442EA1700F85DD3547D2665EF4629EDBF02DD3EBC\r")
                           .value();
    // A random source that returns only structural bytes: all must be replaced.
    const auto hostile = [](std::span<std::uint8_t> out) {
        const std::uint8_t bad[] = {'|', '[', ']', 0};
        for (std::size_t i = 0; i < out.size(); ++i) {
            out[i] = bad[i % 4];
        }
    };
    const auto reply = build_encrypted_ack(frame, key128, now, hostile).value();
    const auto ack = parse_dc09_frame(reply).value();
    EXPECT_EQ(ack.token, "ACK");
    EXPECT_TRUE(ack.encrypted);
    EXPECT_EQ(ack.seq, "0101");
    EXPECT_EQ(ack.rcvr, "1");
    EXPECT_EQ(ack.pref, "1");
    EXPECT_EQ(ack.acct, "ABCDEF");
    const auto plain = aes_cbc_decrypt(key128, hex_decode(ack.body).value()).value();
    ASSERT_EQ(plain.size(), 32U);
    EXPECT_EQ(plain.substr(10), "|]_10:15:30,03-14-2025");
    for (std::size_t i = 0; i < 10; ++i) {
        EXPECT_NE(plain[i], '|');
        EXPECT_NE(plain[i], '[');
        EXPECT_NE(plain[i], ']');
        EXPECT_NE(plain[i], '\0');
    }
}

TEST(dc09_encrypted_ack, bad_key_is_an_error) {
    dc09_frame frame;
    frame.seq = "0001";
    frame.acct = "1234";
    const auto r = build_encrypted_ack(frame, aes_key(5, 1), now, test::counting_random);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::bad_key);
}

// --- encoder -> decoder round trips ---------------------------------------------------------

TEST_F(dc09_decision, round_trip_clear_sia_with_xdata) {
    dc09_message_spec spec = sia("1234", "#1234|Nri1/MA001/QA015");
    spec.seq = "0042";
    spec.rcvr = "C0FFD";
    spec.pref = "77";
    spec.xdata = {"X012W34.1", "Y045N12.2", "IHello"};
    const auto r = handle(encode_dc09(spec));
    EXPECT_EQ(r.reply, reply_kind::ack);
    ASSERT_TRUE(r.frame && r.content && r.sia);
    EXPECT_EQ(r.frame->seq, "0042");
    EXPECT_EQ(r.frame->rcvr, "C0FFD");
    EXPECT_EQ(r.frame->pref, "77");
    EXPECT_EQ(r.content->data, spec.data);
    EXPECT_EQ(r.content->xdata, spec.xdata);
    EXPECT_EQ(r.content->timestamp_unix, now);
    ASSERT_EQ(r.sia->events.size(), 2U);
    EXPECT_EQ(r.sia->events[1].code, "QA");
    EXPECT_EQ(r.sia->events[1].address, "015");
}

TEST_F(dc09_decision, round_trip_clear_adm_cid_without_timestamp) {
    dc09_message_spec spec = sia("1234", encode_adm_cid("1234", {'1', "101", "01", "015", true}));
    spec.token = "ADM-CID";
    spec.timestamp_unix.reset();
    const auto r = handle(encode_dc09(spec));
    EXPECT_EQ(r.reply, reply_kind::ack);
    ASSERT_TRUE(r.cid);
    EXPECT_EQ(r.cid->account, "1234");
    EXPECT_EQ(r.cid->event.code, "101");
    EXPECT_EQ(r.cid->event.zone, "015");
    EXPECT_FALSE(r.content->timestamp);
    EXPECT_FALSE(r.skew_s);
}

TEST_F(dc09_decision, round_trip_encrypted_all_key_sizes) {
    struct account_key {
        const char* acct;
        const aes_key* key;
    };
    for (const account_key ak : {account_key{"ABCDEF", &key128}, account_key{"0192", &key192},
                                 account_key{"0012345678", &key256}}) {
        // Data lengths 0..40 cover every pad length 1..16.
        for (std::size_t n = 0; n <= 40; ++n) {
            dc09_message_spec spec =
                sia(ak.acct, "#" + std::string(ak.acct) + "|Nri1/MA" + std::string(n, '1'));
            spec.xdata = {"M0026B9E4268B"};
            const std::string raw = encrypted(spec, *ak.key);
            const auto r = handle(raw);
            ASSERT_EQ(r.reply, reply_kind::ack_encrypted) << ak.acct << " " << n;
            ASSERT_TRUE(r.content);
            EXPECT_EQ(r.content->data, spec.data);
            EXPECT_EQ(r.content->xdata, spec.xdata);
            EXPECT_GE(r.content->pad_length, 1U);
            EXPECT_LE(r.content->pad_length, 16U);
            ASSERT_TRUE(r.sia);
            EXPECT_EQ(r.sia->events.at(0).address, std::string(n, '1'));
            // The reply decrypts with the same key to pad|]_now.
            const auto ack = parse_dc09_frame(r.reply_bytes).value();
            const auto plain = aes_cbc_decrypt(*ak.key, hex_decode(ack.body).value()).value();
            EXPECT_EQ(plain.substr(plain.find('|')), "|]_10:15:30,03-14-2025");
        }
    }
}

TEST_F(dc09_decision, round_trip_encrypted_null) {
    dc09_message_spec spec;
    spec.token = "*NULL";  // a leading '*' in the spec is tolerated
    spec.seq = "0000";
    spec.acct = "ABCDEF";
    spec.timestamp_unix = now - 10;
    const auto r = handle(encrypted(spec, key128));
    EXPECT_EQ(r.reply, reply_kind::ack_encrypted);
    EXPECT_TRUE(r.is_link_test());
    EXPECT_EQ(r.skew_s, -10);
}

TEST(dc09_encode, encrypted_requires_timestamp_and_valid_key) {
    dc09_message_spec spec;
    spec.acct = "1234";
    EXPECT_EQ(encode_dc09_encrypted(spec, key128, test::counting_random).error(),
              error::bad_timestamp);
    spec.timestamp_unix = now;
    EXPECT_EQ(encode_dc09_encrypted(spec, aes_key(7, 0), test::counting_random).error(),
              error::bad_key);
}

TEST(dc09_reply_kind, names_match_vector_file) {
    EXPECT_EQ(to_string(reply_kind::none), "NONE");
    EXPECT_EQ(to_string(reply_kind::ack), "ACK");
    EXPECT_EQ(to_string(reply_kind::ack_encrypted), "ACK_ENCRYPTED");
    EXPECT_EQ(to_string(reply_kind::nak), "NAK");
    EXPECT_EQ(to_string(reply_kind::duh), "DUH");
}

}  // namespace
}  // namespace arc::protocol

TEST(escape_frame, shows_control_bytes_and_keeps_text) {
    EXPECT_EQ(arc::protocol::escape_frame(std::string_view("\n12\"A\\\x01\x7f\xc3\xa0\r\0", 12)),
              "\\n12\"A\\\\\\x01\\x7F\xc3\xa0\\r\\0");
}
