#include "arc/security/field_crypto.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "arc/security/sodium.hpp"

namespace {

namespace sec = arc::security;
namespace fs = std::filesystem;

class temp_dir {
public:
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "arc-security-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The error message of load_or_create_key_file, or "" when it succeeded.
std::string load_error(const fs::path& p) {
    try {
        (void)sec::load_or_create_key_file(p);
    } catch (const sec::security_error& e) {
        return e.what();
    }
    return "";
}

TEST(key_file, created_with_mode_0600_in_a_new_directory_and_reloaded) {
    const temp_dir dir;
    const fs::path path = dir / "var/keys/arc.key";
    const sec::data_key key = sec::load_or_create_key_file(path);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777U, 0600U);
    EXPECT_EQ(st.st_size, 32);
    const std::string bytes = read_file(path);
    EXPECT_EQ(bytes, std::string(key.bytes().begin(), key.bytes().end()));
    EXPECT_NE(bytes, std::string(32, '\0'));
    // The second start reads the same key (rows sealed before stay readable).
    const sec::data_key again = sec::load_or_create_key_file(path);
    EXPECT_EQ(again.bytes(), key.bytes());
    EXPECT_EQ(again.id(), key.id());
}

TEST(key_file, refused_when_group_or_others_can_read_it) {
    const temp_dir dir;
    const fs::path path = dir / "arc.key";
    (void)sec::load_or_create_key_file(path);
    ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
    const std::string error = load_error(path);
    EXPECT_NE(error.find(path.string()), std::string::npos) << error;
    EXPECT_NE(error.find("0644"), std::string::npos) << error;
    EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
    ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
    EXPECT_NE(load_error(path), "");
    ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
    EXPECT_EQ(load_error(path), "") << "read-only for the owner is fine";
}

TEST(key_file, refused_when_truncated_or_too_long) {
    const temp_dir dir;
    const fs::path path = dir / "arc.key";
    (void)sec::load_or_create_key_file(path);
    fs::resize_file(path, 31);
    std::string error = load_error(path);
    EXPECT_NE(error.find(path.string()), std::string::npos) << error;
    EXPECT_NE(error.find("31 bytes, expected 32"), std::string::npos) << error;
    fs::resize_file(path, 0);
    EXPECT_NE(load_error(path).find("0 bytes"), std::string::npos);
    fs::resize_file(path, 33);
    EXPECT_NE(load_error(path).find("33 bytes"), std::string::npos);
    // Never silently replaced by a new key: the file is left as it was.
    EXPECT_EQ(fs::file_size(path), 33U);
}

TEST(key_file, a_directory_in_its_place_is_refused) {
    const temp_dir dir;
    fs::create_directories(dir / "arc.key");
    EXPECT_NE(load_error(dir / "arc.key").find("not a regular file"), std::string::npos);
}

TEST(field_crypto, seal_open_round_trip) {
    const sec::data_key key = sec::data_key::generate();
    const std::string secret = "chiave nella cassetta: 4711";
    const std::vector<std::uint8_t> blob = sec::seal(key, secret);
    ASSERT_EQ(blob.size(), secret.size() + sec::sealed_overhead);
    EXPECT_EQ(blob[0], sec::sealed_version);
    EXPECT_EQ(std::string(blob.begin(), blob.end()).find("4711"), std::string::npos);
    EXPECT_EQ(sec::open(key, blob), secret);
    // Empty plaintext too.
    EXPECT_EQ(sec::open(key, sec::seal(key, std::string_view())), "");
    // Two seals of the same text differ (random nonce).
    EXPECT_NE(sec::seal(key, secret), blob);
}

TEST(field_crypto, any_flipped_bit_is_refused) {
    const sec::data_key key = sec::data_key::generate();
    const std::vector<std::uint8_t> blob = sec::seal(key, "0123456789abcdef");
    for (std::size_t i = 0; i < blob.size(); ++i) {
        for (unsigned bit = 0; bit < 8; ++bit) {
            std::vector<std::uint8_t> bad = blob;
            bad[i] = static_cast<std::uint8_t>(bad[i] ^ (1U << bit));
            ASSERT_EQ(sec::open(key, bad), std::nullopt) << "byte " << i << " bit " << bit;
        }
    }
    std::vector<std::uint8_t> cut(blob.begin(), blob.end() - 1);
    EXPECT_EQ(sec::open(key, cut), std::nullopt);
    EXPECT_EQ(sec::open(key, std::vector<std::uint8_t>{}), std::nullopt);
}

TEST(field_crypto, wrong_key_is_refused) {
    const sec::data_key key = sec::data_key::generate();
    const sec::data_key other = sec::data_key::generate();
    ASSERT_NE(key.id(), other.id());
    const auto blob = sec::seal(key, "secret");
    EXPECT_EQ(sec::open(other, blob), std::nullopt);
    // The same id with other bytes (a forged key file) does not open it either.
    std::vector<std::uint8_t> relabelled = sec::seal(other, "secret");
    std::copy(blob.begin() + 1, blob.begin() + 5, relabelled.begin() + 1);
    EXPECT_EQ(sec::open(key, relabelled), std::nullopt);
}

TEST(field_crypto, key_id_selects_among_keys_after_a_rotation) {
    const sec::data_key old_key = sec::data_key::generate();
    const sec::data_key new_key = sec::data_key::generate();
    const auto old_blob = sec::seal(old_key, "old row");
    const auto new_blob = sec::seal(new_key, "new row");
    const std::vector<sec::data_key> keys{new_key, old_key};
    EXPECT_EQ(sec::open(keys, old_blob), "old row");
    EXPECT_EQ(sec::open(keys, new_blob), "new row");
    EXPECT_EQ(sec::open(new_key, old_blob), std::nullopt);
}

TEST(field_crypto, plain_aes_keys_do_not_look_sealed) {
    const std::vector<std::uint8_t> aes128(16, 1);
    const std::vector<std::uint8_t> aes256(32, 1);
    EXPECT_FALSE(sec::looks_sealed(aes128));
    EXPECT_FALSE(sec::looks_sealed(aes256));
    EXPECT_TRUE(sec::looks_sealed(sec::seal(sec::data_key::generate(), "x")));
}

}  // namespace
