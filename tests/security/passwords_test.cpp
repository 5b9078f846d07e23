#include "arc/security/passwords.hpp"

#include <array>
#include <string>

#include <gtest/gtest.h>
#include <sodium.h>

#include "arc/security/sodium.hpp"

namespace {

namespace sec = arc::security;

TEST(passwords, hash_is_argon2id_and_verifies) {
    const std::string hash = sec::hash_password("correct horse battery");
    EXPECT_EQ(hash.rfind("$argon2id$", 0), 0U) << hash;
    EXPECT_TRUE(sec::verify_password(hash, "correct horse battery"));
    EXPECT_FALSE(sec::password_needs_rehash(hash));
}

TEST(passwords, wrong_password_refused) {
    const std::string hash = sec::hash_password("correct horse battery");
    EXPECT_FALSE(sec::verify_password(hash, "correct horse batterY"));
    EXPECT_FALSE(sec::verify_password(hash, ""));
    EXPECT_FALSE(sec::verify_password(hash, "correct horse battery "));
}

TEST(passwords, same_password_gets_a_new_salt) {
    EXPECT_NE(sec::hash_password("correct horse battery"),
              sec::hash_password("correct horse battery"));
}

TEST(passwords, short_or_blank_password_refused_with_a_clear_message) {
    EXPECT_EQ(sec::password_problem("short"), "password: at least 10 characters");
    EXPECT_EQ(sec::password_problem("          "), "password: must not be empty or blank");
    EXPECT_EQ(sec::password_problem(""), "password: must not be empty or blank");
    EXPECT_EQ(sec::password_problem(std::string(1025, 'x')), "password: at most 1024 characters");
    EXPECT_EQ(sec::password_problem("0123456789"), std::nullopt);
    try {
        (void)sec::hash_password("short");
        FAIL() << "a short password was hashed";
    } catch (const sec::security_error& e) {
        EXPECT_STREQ(e.what(), "password: at least 10 characters");
    }
}

TEST(passwords, malformed_hash_never_verifies_and_needs_rehash) {
    EXPECT_FALSE(sec::verify_password("", "correct horse battery"));
    EXPECT_FALSE(sec::verify_password("$argon2id$garbage", "correct horse battery"));
    EXPECT_TRUE(sec::password_needs_rehash("$argon2id$garbage"));
    EXPECT_TRUE(sec::password_needs_rehash(""));
}

TEST(passwords, weaker_parameters_need_rehash) {
    // A hash made with the minimum cost (as an older release might have): still verifies, but
    // is flagged for rehashing at the next login.
    std::array<char, crypto_pwhash_STRBYTES> out{};
    ASSERT_EQ(
        crypto_pwhash_str_alg(out.data(), "correct horse battery", 21, crypto_pwhash_OPSLIMIT_MIN,
                              crypto_pwhash_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13),
        0);
    EXPECT_TRUE(sec::verify_password(out.data(), "correct horse battery"));
    EXPECT_TRUE(sec::password_needs_rehash(out.data()));
}

}  // namespace
