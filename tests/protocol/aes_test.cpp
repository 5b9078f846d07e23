// AES-CBC (zero IV, no padding), key text parsing and hex helpers.
#include "arc/protocol/aes.hpp"

#include <string>
#include <vector>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "arc/protocol/error.hpp"

namespace arc::protocol {
namespace {

TEST(aes_key_text, hex_keys_of_three_sizes) {
    EXPECT_EQ(parse_aes_key("2b7e151628aed2a6abf7158809cf4f3c").value().size(), 16U);
    EXPECT_EQ(parse_aes_key("8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B").value().size(),
              24U);
    EXPECT_EQ(
        parse_aes_key("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4")->size(),
        32U);
    EXPECT_EQ(key_to_hex(parse_aes_key("2b7e151628aed2a6abf7158809cf4f3c").value()),
              "2B7E151628AED2A6ABF7158809CF4F3C");
}

TEST(aes_key_text, ascii_keys) {
    const auto k = parse_aes_key("AAAAAAAAAAAAAAAA").value();
    EXPECT_EQ(key_to_hex(k), "41414141414141414141414141414141");
    EXPECT_EQ(parse_aes_key(std::string(24, 'x')).value().size(), 24U);
    // 32 characters that are not all hex: raw bytes.
    EXPECT_EQ(parse_aes_key("this is a 32 byte ascii key text").value().size(), 32U);
}

TEST(aes_key_text, bad_lengths) {
    for (const std::string& text :
         std::vector<std::string>{"", "abc", "0123456789ABCDEF0", std::string(33, 'a')}) {
        EXPECT_EQ(parse_aes_key(text).error(), error::bad_key) << text;
    }
    EXPECT_EQ(parse_aes_key(std::string(48, 'G')).error(), error::bad_key);  // 48 non-hex
}

TEST(aes_cbc, nist_first_block_with_zero_iv) {
    // With IV = 0, CBC's first block is plain ECB: SP 800-38A F.1.1 ECB-AES128 block 1.
    const auto key = test::key_from_hex("2B7E151628AED2A6ABF7158809CF4F3C");
    const auto plain = hex_decode("6bc1bee22e409f96e93d7e117393172a").value();
    const auto cipher = aes_cbc_encrypt(key, plain).value();
    EXPECT_EQ(hex_encode(cipher), "3AD77BB40D7A3660A89ECAF32466EF97");
    EXPECT_EQ(aes_cbc_decrypt(key, cipher).value(), plain);
}

TEST(aes_cbc, nist_ecb_first_block_192_and_256) {
    const auto plain = hex_decode("6bc1bee22e409f96e93d7e117393172a").value();
    const auto k192 = test::key_from_hex("8E73B0F7DA0E6452C810F32B809079E562F8EAD2522C6B7B");
    EXPECT_EQ(hex_encode(aes_cbc_encrypt(k192, plain).value()), "BD334F1D6E45F25FF712A214571FA5CC");
    const auto k256 =
        test::key_from_hex("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4");
    EXPECT_EQ(hex_encode(aes_cbc_encrypt(k256, plain).value()), "F3EED1BDB5D2A03C064B5A7E3DB181F8");
}

TEST(aes_cbc, decrypts_swissdotnet_vector) {
    const auto key = test::key_from_hex("ABCDABCDABCDABCDABCDABCDABCDABCD");
    const auto cipher =
        hex_decode("70D7DC480FA7DC0DE428CE02447BA2E2981A161EA14CB780D2CD917208059E11");
    const auto plain = aes_cbc_decrypt(key, cipher.value()).value();
    EXPECT_EQ(hex_encode(plain),
              "4CF8588F492EEA78CFAE7C5D5F31333A34333A30392C30362D32322D32303135");
}

TEST(aes_cbc, no_library_padding) {
    const auto key = test::key_from_hex("2B7E151628AED2A6ABF7158809CF4F3C");
    EXPECT_EQ(aes_cbc_encrypt(key, std::string(32, 'a')).value().size(), 32U);
    EXPECT_EQ(aes_cbc_encrypt(key, std::string(31, 'a')).error(), error::decrypt_failed);
    EXPECT_EQ(aes_cbc_decrypt(key, std::string(17, 'a')).error(), error::decrypt_failed);
}

TEST(aes_cbc, bad_key_size) {
    EXPECT_EQ(aes_cbc_decrypt(aes_key(15, 0), std::string(16, 'a')).error(), error::bad_key);
}

TEST(hex, round_trip_and_errors) {
    const std::string bytes("\x00\x7F\x80\xFF|", 5);
    EXPECT_EQ(hex_encode(bytes), "007F80FF7C");
    EXPECT_EQ(hex_decode("007f80ff7C").value(), bytes);
    EXPECT_EQ(hex_decode("ABC").error(), error::decrypt_failed);
    EXPECT_EQ(hex_decode("0G").error(), error::decrypt_failed);
    EXPECT_EQ(hex_decode("").value(), "");
}

}  // namespace
}  // namespace arc::protocol
