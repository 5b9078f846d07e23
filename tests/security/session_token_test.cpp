#include "arc/security/session_token.hpp"

#include <cctype>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace sec = arc::security;

TEST(session_token, text_is_64_hex_and_hash_matches_it) {
    const sec::session_token t = sec::new_session_token();
    ASSERT_EQ(t.text.size(), 64U);
    for (const char c : t.text) {
        EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) != 0) << t.text;
    }
    EXPECT_EQ(sec::hash_session_token(t.text), t.hash);
    // What is stored is not the token: presenting the stored hash as a token does not match.
    std::string stored_hex;
    for (const auto b : t.hash) {
        stored_hex += "0123456789abcdef"[b >> 4U];
        stored_hex += "0123456789abcdef"[b & 15U];
    }
    EXPECT_NE(stored_hex, t.text);
    EXPECT_NE(sec::hash_session_token(stored_hex), t.hash);
    std::string upper = t.text;
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    EXPECT_EQ(sec::hash_session_token(upper), t.hash);
}

TEST(session_token, tokens_differ) {
    EXPECT_NE(sec::new_session_token().text, sec::new_session_token().text);
}

TEST(session_token, other_or_malformed_text_does_not_match) {
    const sec::session_token t = sec::new_session_token();
    std::string other = t.text;
    other[10] = other[10] == '0' ? '1' : '0';
    EXPECT_NE(sec::hash_session_token(other), t.hash);
    EXPECT_EQ(sec::hash_session_token(t.text.substr(0, 63)), std::nullopt);
    EXPECT_EQ(sec::hash_session_token(t.text + "0"), std::nullopt);
    EXPECT_EQ(sec::hash_session_token(std::string(64, 'g')), std::nullopt);
    EXPECT_EQ(sec::hash_session_token(""), std::nullopt);
}

}  // namespace
