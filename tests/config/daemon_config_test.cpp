#include "arc/config/daemon_config.hpp"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace arc::config {
namespace {

const std::filesystem::path shipped = std::filesystem::path(ARC_SOURCE_DIR) / "config/arcd.toml";

// A fresh directory per test for the small TOML files the tests write.
class ConfigTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "arc-config-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::filesystem::path write(const std::string& text, const std::string& name = "arcd.toml") {
        const auto path = dir_ / name;
        std::ofstream(path) << text;
        return path;
    }

    // The error a load throws (fails the test when it does not throw).
    static config_error error_of(const std::filesystem::path& path,
                                 const std::vector<std::string>& overrides = {}) {
        try {
            load_daemon_config(path, overrides);
        } catch (const config_error& e) {
            return e;
        }
        ADD_FAILURE() << "no config_error for " << path;
        return config_error("", 0, "", "");
    }

    std::filesystem::path dir_;
};

TEST_F(ConfigTest, ShippedConfigLoads) {
    const daemon_config c = load_daemon_config(shipped);
    EXPECT_EQ(c.source, shipped);
    EXPECT_EQ(c.storage_path, "var/arc.db");
    EXPECT_EQ(c.api_socket, "var/arcd.sock");
    EXPECT_EQ(c.dc09_tcp.host, "127.0.0.1");
    EXPECT_EQ(c.dc09_tcp.port, 12000);
    EXPECT_TRUE(c.dc09_tcp.enabled);
    EXPECT_EQ(c.dc09_udp.host, "127.0.0.1");
    EXPECT_EQ(c.dc09_udp.port, 12000);
    EXPECT_TRUE(c.dc09_udp.enabled);
    EXPECT_EQ(c.log_level, "info");
    EXPECT_TRUE(c.log_file.empty());
    EXPECT_EQ(c.max_frame, 1024U);
    EXPECT_EQ(c.idle_timeout, std::chrono::seconds(60));
}

TEST_F(ConfigTest, ShippedConfigHasEveryKey) {
    std::ifstream in(shipped);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* key : {"path",
                            "queue_limit",
                            "max_batch",
                            "dc09_tcp",
                            "dc09_udp",
                            "api",
                            "max_frame",
                            "idle_timeout_s",
                            "max_connections",
                            "max_connections_per_peer",
                            "max_udp_in_flight",
                            "max_api_clients",
                            "ack_unknown_account",
                            "accept_clear_text",
                            "ack_unknown_code",
                            "window_for_clear_text",
                            "window_past_s",
                            "window_future_s",
                            "level",
                            "file"}) {
        EXPECT_NE(text.find("\n" + std::string(key) + " = "), std::string::npos) << key;
    }
}

}  // namespace
}  // namespace arc::config
