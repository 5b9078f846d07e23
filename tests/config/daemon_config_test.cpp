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

TEST_F(ConfigTest, EmptyFileGivesDefaults) {
    const daemon_config c = load_daemon_config(write(""));
    EXPECT_EQ(c.storage_queue_limit, 100000U);
    EXPECT_EQ(c.storage_max_batch, 8192U);
    EXPECT_FALSE(c.dc09.ack_unknown_account);
    EXPECT_EQ(c.dc09.window_past_s, 40);
}

TEST_F(ConfigTest, ReadsEveryKind) {
    const daemon_config c = load_daemon_config(write(R"(
[storage]
path = "/srv/arc/arc.db"
queue_limit = 10
max_batch = 5
[listen]
dc09_tcp = "[::1]:12001"
dc09_udp = ""
api = "run/arcd.sock"
[limits]
idle_timeout_s = 30
max_udp_in_flight = 7
[dc09]
ack_unknown_account = true
window_future_s = 0
[log]
level = "debug"
file = "var/arcd.log"
)"));
    EXPECT_EQ(c.storage_path, "/srv/arc/arc.db");
    EXPECT_EQ(c.storage_queue_limit, 10U);
    EXPECT_EQ(c.storage_max_batch, 5U);
    EXPECT_EQ(c.dc09_tcp.host, "::1");
    EXPECT_EQ(c.dc09_tcp.port, 12001);
    EXPECT_FALSE(c.dc09_udp.enabled);  // empty string: listener off
    EXPECT_EQ(c.api_socket, "run/arcd.sock");
    EXPECT_EQ(c.idle_timeout, std::chrono::seconds(30));
    EXPECT_EQ(c.max_udp_in_flight, 7U);
    EXPECT_TRUE(c.dc09.ack_unknown_account);
    EXPECT_EQ(c.dc09.window_future_s, 0);
    EXPECT_EQ(c.log_level, "debug");
    EXPECT_EQ(c.log_file, "var/arcd.log");  // relative paths stay relative
}

// One TEST per error kind: the file, the line of the offending key, the key, and one line.
struct error_case {
    const char* name;
    const char* toml;
    int line;
    const char* key;
    const char* says;
};

class ConfigErrors : public ConfigTest, public ::testing::WithParamInterface<error_case> {};

TEST_P(ConfigErrors, NameFileLineAndKey) {
    const error_case& c = GetParam();
    const auto path = write(c.toml);
    const config_error e = error_of(path);
    EXPECT_EQ(e.file(), path.string());
    EXPECT_EQ(e.line(), c.line) << e.what();
    EXPECT_EQ(e.key(), c.key) << e.what();
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path.string() + ":" + std::to_string(c.line) + ": " + c.key + ": ", 0), 0U)
        << what;
    EXPECT_NE(what.find(c.says), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ConfigErrors,
    ::testing::Values(
        error_case{"syntax", "[storage]\npath = \"a\"\nqueue_limit = = 3\n", 3, "syntax", ""},
        error_case{"unterminated", "[log]\nlevel = \"info\n", 2, "syntax", ""},
        error_case{"unknown_key", "[limits]\nmax_frame = 10\nmax_frmae = 20\n", 3,
                   "limits.max_frmae", "unknown key (did you mean limits.max_frame?)"},
        error_case{"unknown_key_far", "[log]\nverbosity = 3\n", 2, "log.verbosity",
                   "unknown key (known in [log]: level, file)"},
        error_case{"unknown_section", "\n\n[storgae]\npath = \"x\"\n", 3, "storgae",
                   "unknown section"},
        error_case{"top_level_key", "path = \"x\"\n", 1, "path", "unknown section"},
        error_case{"section_not_table", "storage = 3\n", 1, "storage", "expected a table"},
        error_case{"wrong_type", "[limits]\n\nmax_frame = \"1024\"\n", 3, "limits.max_frame",
                   "expected an integer, got a string"},
        error_case{"float_for_int", "[limits]\nidle_timeout_s = 1.5\n", 2, "limits.idle_timeout_s",
                   "expected an integer"},
        error_case{"wrong_bool", "[dc09]\naccept_clear_text = \"yes\"\n", 2,
                   "dc09.accept_clear_text", "expected a boolean"},
        error_case{"negative_size", "[storage]\nqueue_limit = -5\n", 2, "storage.queue_limit",
                   "out of range"},
        error_case{"zero_size", "[storage]\nmax_batch = 0\n", 2, "storage.max_batch",
                   "out of range"},
        error_case{"negative_window", "[dc09]\nwindow_past_s = -1\n", 2, "dc09.window_past_s",
                   "out of range"},
        error_case{"port_range", "[listen]\ndc09_tcp = \"127.0.0.1:70000\"\n", 2, "listen.dc09_tcp",
                   "port out of range"},
        error_case{"no_port", "[listen]\n\n\ndc09_udp = \"localhost\"\n", 4, "listen.dc09_udp",
                   "missing port"},
        error_case{"bad_port", "[listen]\ndc09_tcp = \"127.0.0.1:http\"\n", 2, "listen.dc09_tcp",
                   "not a number"},
        error_case{"empty_path", "[storage]\npath = \"\"\n", 2, "storage.path",
                   "must not be empty"},
        error_case{"log_level", "[log]\nlevel = \"verbose\"\n", 2, "log.level",
                   "unknown log level"}),
    [](const ::testing::TestParamInfo<error_case>& param_info) {
        return std::string(param_info.param.name);
    });

TEST_F(ConfigTest, MissingFileIsLineZero) {
    const auto path = dir_ / "nope.toml";
    const config_error e = error_of(path);
    EXPECT_EQ(e.file(), path.string());
    EXPECT_EQ(e.line(), 0);
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
}

TEST_F(ConfigTest, OverridesApply) {
    const daemon_config c = load_daemon_config(
        shipped, {"limits.max_frame=2048", R"(listen.dc09_tcp="127.0.0.1:0")",
                  "listen.dc09_udp=127.0.0.1:0", "dc09.accept_clear_text=true", "log.level=debug",
                  "storage.path=/tmp/x y.db", "listen.dc09_udp="});
    EXPECT_EQ(c.max_frame, 2048U);
    EXPECT_EQ(c.dc09_tcp.port, 0);
    EXPECT_TRUE(c.dc09_tcp.enabled);
    EXPECT_FALSE(c.dc09_udp.enabled);  // the later override wins
    EXPECT_TRUE(c.dc09.accept_clear_text);
    EXPECT_EQ(c.log_level, "debug");
    EXPECT_EQ(c.storage_path, "/tmp/x y.db");
    EXPECT_EQ(c.max_api_clients, 64U);  // untouched keys keep the file's value
}

TEST_F(ConfigTest, OverrideAddsMissingSection) {
    const daemon_config c =
        load_daemon_config(write("[log]\nlevel = \"warn\"\n"), {"limits.max_api_clients=3"});
    EXPECT_EQ(c.max_api_clients, 3U);
    EXPECT_EQ(c.log_level, "warn");
}

TEST_F(ConfigTest, OverrideErrorsNameSetAndPosition) {
    struct override_case {
        std::vector<std::string> overrides;
        int line;
        const char* key;
        const char* says;
    };
    const override_case cases[] = {
        {{"log.level=info", "limits.max_frame=-1"}, 2, "limits.max_frame", "out of range"},
        {{"limits.max_frame=big"}, 1, "limits.max_frame", "expected an integer, got a string"},
        {{"log.level=info", "log.level=info", "limits.max_frmae=1"},
         3,
         "limits.max_frmae",
         "unknown key"},
        {{"nosuch.key=1"}, 1, "nosuch.key", "unknown section"},
        {{"max_frame=1"}, 1, "max_frame", "expected section.key"},
        {{"limits.max_frame"}, 1, "limits.max_frame", "expected key=value"},
        {{"listen.dc09_tcp=127.0.0.1:99999"}, 1, "listen.dc09_tcp", "port out of range"},
        {{"log.level=loud"}, 1, "log.level", "unknown log level"},
    };
    for (const auto& c : cases) {
        const config_error e = error_of(shipped, c.overrides);
        EXPECT_EQ(e.file(), "--set") << e.what();
        EXPECT_EQ(e.line(), c.line) << e.what();
        EXPECT_EQ(e.key(), c.key) << e.what();
        EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("--set:" + std::to_string(c.line) + ": ", 0), 0U)
            << e.what();
    }
}

TEST_F(ConfigTest, FileErrorStillNamesFileWhenOtherKeysOverridden) {
    const auto path = write("[limits]\nmax_frame = 0\n");
    const config_error e = error_of(path, {"limits.max_api_clients=5"});
    EXPECT_EQ(e.file(), path.string());
    EXPECT_EQ(e.line(), 2);
}

TEST(ParseEndpoint, Ipv4) {
    const endpoint e = parse_endpoint("127.0.0.1:12000");
    EXPECT_EQ(e.host, "127.0.0.1");
    EXPECT_EQ(e.port, 12000);
    EXPECT_TRUE(e.enabled);
}

TEST(ParseEndpoint, HostName) {
    const endpoint e = parse_endpoint("localhost:0");
    EXPECT_EQ(e.host, "localhost");
    EXPECT_EQ(e.port, 0);
}

TEST(ParseEndpoint, Ipv6InBrackets) {
    const endpoint e = parse_endpoint("[::1]:65535");
    EXPECT_EQ(e.host, "::1");
    EXPECT_EQ(e.port, 65535);
}

TEST(ParseEndpoint, Rejects) {
    for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":12000", "127.0.0.1:70000",
                            "127.0.0.1:99999999999999999999", "127.0.0.1:-1", "127.0.0.1:12a",
                            "::1:12000", "[::1]", "[::1]12000", "[::1:12000", "[]:1"}) {
        EXPECT_THROW(parse_endpoint(bad), std::invalid_argument) << bad;
    }
}

TEST(ParseEndpoint, MessagesSayWhy) {
    try {
        parse_endpoint("10.0.0.1:70000");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("port out of range"), std::string::npos);
    }
    try {
        parse_endpoint("10.0.0.1");
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("missing port"), std::string::npos);
    }
}

}  // namespace
}  // namespace arc::config
