#include "arc/config/daemon_config.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

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
                            "file",
                            "escalation_critical_s",
                            "escalation_urgent_s",
                            "escalation_technical_s",
                            "retransmission_window_s",
                            "storm_threshold",
                            "storm_window_s",
                            "supervision_grace_percent",
                            "supervision_grace_fixed_s",
                            "retired_devices",
                            "mission_accept_timeout_s",
                            "event_codes",
                            "event_code_overrides",
                            "home_unit",
                            "gps_mobile",
                            "gateway",
                            "operator",
                            "outcomes"}) {
        EXPECT_NE(text.find("\n" + std::string(key) + " = "), std::string::npos) << key;
    }
}

TEST_F(ConfigTest, ShippedConfigHasTheOperatorApiAndOutcomes) {
    const daemon_config c = load_daemon_config(shipped);
    EXPECT_TRUE(c.operator_api.enabled);
    EXPECT_EQ(c.operator_api.host, "127.0.0.1");
    EXPECT_EQ(c.operator_api.port, 12001);
    EXPECT_EQ(c.outcomes, daemon_config{}.outcomes);
    const auto path = write("[alarms]\noutcomes = [\"resolved_by_phone\", \"guardia_medica\"]\n");
    EXPECT_EQ(load_daemon_config(path).outcomes,
              (std::vector<std::string>{"resolved_by_phone", "guardia_medica"}));
    EXPECT_FALSE(load_daemon_config(write("")).operator_api.enabled);
}

TEST_F(ConfigTest, Retention) {
    const daemon_config shipped_config = load_daemon_config(shipped);
    EXPECT_EQ(shipped_config.retention.days, 1095);
    EXPECT_EQ(shipped_config.retention.run_at_minute, 3 * 60 + 30);
    EXPECT_EQ(shipped_config.retention.batch, 5000U);
    const daemon_config empty = load_daemon_config(write(""));
    EXPECT_EQ(empty.retention.days, 1095);
    EXPECT_EQ(empty.retention.run_at_minute, 210);
    const auto path = write("[retention]\ndays = 0\nrun_at = \"23:59\"\nbatch = 100\n");
    const daemon_config c = load_daemon_config(path);
    EXPECT_EQ(c.retention.days, 0);
    EXPECT_EQ(c.retention.run_at_minute, 23 * 60 + 59);
    EXPECT_EQ(c.retention.batch, 100U);
    EXPECT_EQ(load_daemon_config(path, {R"(retention.run_at="00:00")"}).retention.run_at_minute, 0);
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
        error_case{"bad_outcome", "[alarms]\noutcomes = [\"ok\",\n  \"Falso Allarme\"]\n", 3,
                   "alarms.outcomes", "an outcome code is 1 to 40 of a-z, 0-9 and _"},
        error_case{"twice_outcome", "[alarms]\noutcomes = [\"ok\", \"ok\"]\n", 2, "alarms.outcomes",
                   "'ok' is listed twice"},
        error_case{"retention_days", "[retention]\ndays = -1\n", 2, "retention.days",
                   "out of range (0 to 36500)"},
        error_case{"retention_run_at", "[retention]\nbatch = 5000\nrun_at = \"3:30\"\n", 3,
                   "retention.run_at", "'3:30' is not a local time of day HH:MM"},
        error_case{"retention_run_at_hour", "[retention]\nrun_at = \"24:00\"\n", 2,
                   "retention.run_at", "not a local time of day"},
        error_case{"retention_batch", "[retention]\nbatch = 10\n", 2, "retention.batch",
                   "out of range (100 to 100000)"},
        error_case{"tls_half", "\n[operator_tls]\ncert = \"a.pem\"\n", 2, "operator_tls",
                   "cert and key go together"},
        error_case{"operator_off_loopback", "[listen]\noperator = \"0.0.0.0:12001\"\n", 2,
                   "listen.operator", "not a loopback address"},
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
                   "unknown log level"},
        error_case{"escalation_descending", "[engine]\nescalation_critical_s = [180, 60]\n", 2,
                   "engine.escalation_critical_s", "ages must be ascending (60 after 180)"},
        error_case{"escalation_equal", "[engine]\nescalation_urgent_s = [180, 180]\n", 2,
                   "engine.escalation_urgent_s", "ascending"},
        error_case{"escalation_element_line",
                   "[engine]\nescalation_technical_s = [\n  3600,\n  14400,\n  7200,\n]\n", 5,
                   "engine.escalation_technical_s", "ages must be ascending"},
        error_case{"escalation_negative", "[engine]\nescalation_critical_s = [-60, 180]\n", 2,
                   "engine.escalation_critical_s", "-60 is out of range"},
        error_case{"escalation_zero", "[engine]\nescalation_critical_s = [0]\n", 2,
                   "engine.escalation_critical_s", "out of range"},
        error_case{"escalation_empty", "[engine]\nescalation_critical_s = []\n", 2,
                   "engine.escalation_critical_s", "0 ages; expected 1 to 8"},
        error_case{"escalation_too_many",
                   "[engine]\nescalation_urgent_s = [1, 2, 3, 4, 5, 6, 7, 8, 9]\n", 2,
                   "engine.escalation_urgent_s", "9 ages; expected 1 to 8"},
        error_case{"escalation_not_array", "[engine]\nescalation_critical_s = 60\n", 2,
                   "engine.escalation_critical_s", "expected an array of ages in seconds"},
        error_case{"escalation_element_type", "[engine]\nescalation_critical_s = [60, \"3m\"]\n", 2,
                   "engine.escalation_critical_s", "expected an integer, got a string"},
        error_case{"negative_window_s", "[engine]\nretransmission_window_s = -300\n", 2,
                   "engine.retransmission_window_s", "out of range"},
        error_case{"storm_threshold_one", "[engine]\n\nstorm_threshold = 1\n", 3,
                   "engine.storm_threshold", "1 is out of range (2 to"},
        error_case{"storm_threshold_type", "[engine]\nstorm_threshold = \"20\"\n", 2,
                   "engine.storm_threshold", "expected an integer, got a string"},
        error_case{"storm_window_float", "[engine]\nstorm_window_s = 60.0\n", 2,
                   "engine.storm_window_s", "expected an integer, got a floating-point number"},
        error_case{"grace_percent", "[engine]\nsupervision_grace_percent = 1001\n", 2,
                   "engine.supervision_grace_percent", "out of range (0 to 1000)"},
        error_case{"grace_fixed_negative", "[engine]\nsupervision_grace_fixed_s = -1\n", 2,
                   "engine.supervision_grace_fixed_s", "out of range"},
        error_case{"engine_unknown_key", "[engine]\nstorm_treshold = 5\n", 2,
                   "engine.storm_treshold", "unknown key (did you mean engine.storm_threshold?)"},
        error_case{"retired_devices", "[engine]\nretired_devices = \"drop\"\n", 2,
                   "engine.retired_devices", "unknown policy 'drop' (record, queue)"},
        error_case{"retired_devices_type", "[engine]\nretired_devices = true\n", 2,
                   "engine.retired_devices", "expected a string, got a boolean"},
        error_case{"event_codes_empty", "[engine]\nevent_codes = \"\"\n", 2, "engine.event_codes",
                   "must not be empty"},
        error_case{"event_code_overrides_type", "[engine]\nevent_code_overrides = \"site.toml\"\n",
                   2, "engine.event_code_overrides", "expected an array of file paths"},
        error_case{"event_code_overrides_element", "[engine]\nevent_code_overrides = [\"a\", 3]\n",
                   2, "engine.event_code_overrides", "expected a string, got an integer"},
        error_case{"supervision_not_table", "[engine]\nsupervision_interval_s = 3600\n", 2,
                   "engine.supervision_interval_s", "expected a table of device type = seconds"},
        error_case{"supervision_short",
                   "[engine]\n[engine.supervision_interval_s]\nhome_unit = 86400\npendant = 59\n",
                   4, "engine.supervision_interval_s.pendant", "59 is out of range (60 to"},
        error_case{"supervision_type_name",
                   "[engine.supervision_interval_s]\n\"Home-Unit\" = 86400\n", 2,
                   "engine.supervision_interval_s.Home-Unit", "not a device type name"},
        error_case{"supervision_empty_name", "[engine.supervision_interval_s]\n\"\" = 86400\n", 2,
                   "engine.supervision_interval_s.", "not a device type name"},
        error_case{"supervision_value_type", "[engine.supervision_interval_s]\ngateway = \"1h\"\n",
                   2, "engine.supervision_interval_s.gateway", "expected an integer, got a string"},
        error_case{"receiver_tcp_port", "[listen]\nreceiver_tcp = \"127.0.0.1:1025x\"\n", 2,
                   "listen.receiver_tcp", "not a number"},
        error_case{"serial_not_array", "serial = \"/dev/ttyUSB0\"\n", 1, "serial",
                   "expected an array of tables ([[serial]])"},
        error_case{"serial_unknown_key",
                   "[[serial]]\nname = \"a\"\ndevice = \"/dev/ttyS0\"\nbaudrate = 9600\n", 4,
                   "serial[0].baudrate", "unknown key (known in [[serial]]: name, device, baud"},
        error_case{"serial_missing_device", "[[serial]]\nname = \"a\"\n", 1, "serial[0].device",
                   "missing"},
        error_case{"serial_missing_name", "\n[[serial]]\ndevice = \"/dev/ttyS0\"\n", 2,
                   "serial[0].name", "missing"},
        error_case{"serial_bad_name", "[[serial]]\nname = \"Sur Gard\"\ndevice = \"/dev/x\"\n", 2,
                   "serial[0].name", "'Sur Gard' is not a receiver name"},
        error_case{"serial_empty_device", "[[serial]]\nname = \"a\"\ndevice = \"\"\n", 3,
                   "serial[0].device", "must not be empty"},
        error_case{"serial_baud", "[[serial]]\nname = \"a\"\ndevice = \"/dev/x\"\nbaud = 9601\n", 4,
                   "serial[0].baud", "9601 is not a standard rate"},
        error_case{"serial_parity",
                   "[[serial]]\nname = \"a\"\ndevice = \"/dev/x\"\nparity = \"mark\"\n", 4,
                   "serial[0].parity", "unknown value 'mark' (none, even, odd)"},
        error_case{"serial_data_bits",
                   "[[serial]]\nname = \"a\"\ndevice = \"/dev/x\"\ndata_bits = 5\n", 4,
                   "serial[0].data_bits", "5 is out of range (7 to 8)"},
        error_case{"serial_stop_bits",
                   "[[serial]]\nname = \"a\"\ndevice = \"/dev/x\"\nstop_bits = 3\n", 4,
                   "serial[0].stop_bits", "out of range (1 to 2)"},
        error_case{"serial_format",
                   "[[serial]]\nname = \"a\"\ndevice = \"/dev/x\"\nformat = \"sia\"\n", 4,
                   "serial[0].format", "unknown value 'sia' (surgard, ademco685)"},
        error_case{"serial_heartbeat_negative",
                   "[[serial]]\nname = \"a\"\ndevice = \"/dev/x\"\nheartbeat_timeout_s = -1\n", 4,
                   "serial[0].heartbeat_timeout_s", "out of range (0 to 86400)"},
        error_case{"serial_duplicate_name",
                   "[[serial]]\nname = \"a\"\ndevice = \"/dev/x\"\n[[serial]]\nname = \"a\"\n"
                   "device = \"/dev/y\"\n",
                   5, "serial[1].name", "'a' names another [[serial]] too"},
        error_case{"serial_duplicate_device",
                   "[[serial]]\nname = \"a\"\ndevice = \"/dev/x\"\n[[serial]]\nname = \"b\"\n"
                   "device = \"/dev/x\"\n",
                   6, "serial[1].device", "'/dev/x' is the port of [[serial]] 'a' too"}),
    [](const ::testing::TestParamInfo<error_case>& param_info) {
        return std::string(param_info.param.name);
    });

TEST_F(ConfigTest, SerialReceiversReadEveryKey) {
    const daemon_config c = load_daemon_config(write(R"(
[listen]
receiver_tcp = "0.0.0.0:1025"
[[serial]]
name = "mlr2-a"
device = "/dev/ttyUSB0"
baud = 19200
parity = "even"
data_bits = 7
stop_bits = 2
format = "surgard"
heartbeat_timeout_s = 0
[[serial]]
name = "mx8000"
device = "/dev/serial/by-id/usb-FTDI-if00"
format = "ademco685"
)"));
    EXPECT_TRUE(c.receiver_tcp.enabled);
    EXPECT_EQ(c.receiver_tcp.port, 1025);
    ASSERT_EQ(c.serial.size(), 2U);
    EXPECT_EQ(c.serial[0].name, "mlr2-a");
    EXPECT_EQ(c.serial[0].device, "/dev/ttyUSB0");
    EXPECT_EQ(c.serial[0].baud, 19200U);
    EXPECT_EQ(c.serial[0].parity, "even");
    EXPECT_EQ(c.serial[0].data_bits, 7U);
    EXPECT_EQ(c.serial[0].stop_bits, 2U);
    EXPECT_EQ(c.serial[0].heartbeat_timeout, std::chrono::seconds(0));
    // Defaults: MLR2000 9600 8N1, a heartbeat every 30 s missed three times.
    EXPECT_EQ(c.serial[1].baud, 9600U);
    EXPECT_EQ(c.serial[1].parity, "none");
    EXPECT_EQ(c.serial[1].data_bits, 8U);
    EXPECT_EQ(c.serial[1].stop_bits, 1U);
    EXPECT_EQ(c.serial[1].format, "ademco685");
    EXPECT_EQ(c.serial[1].heartbeat_timeout, std::chrono::seconds(90));
}

TEST_F(ConfigTest, NoSerialReceiversAndNoReceiverTcpByDefault) {
    const daemon_config c = load_daemon_config(shipped);
    EXPECT_TRUE(c.serial.empty());
    EXPECT_FALSE(c.receiver_tcp.enabled);
}

// The shipped file documents every [[serial]] key in a commented-out example.
TEST_F(ConfigTest, ShippedConfigDocumentsSerialKeys) {
    std::ifstream in(shipped);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\n# [[serial]]\n"), std::string::npos);
    for (const char* key : {"name", "device", "baud", "parity", "data_bits", "stop_bits", "format",
                            "heartbeat_timeout_s"}) {
        EXPECT_NE(text.find("\n# " + std::string(key) + " = "), std::string::npos) << key;
    }
    EXPECT_NE(text.find("\nreceiver_tcp = "), std::string::npos);
}

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

TEST_F(ConfigTest, EngineDefaultsWhenSectionAbsent) {
    using std::chrono::seconds;
    const engine_settings e = load_daemon_config(write("[log]\nlevel = \"info\"\n")).engine;
    EXPECT_EQ(e, engine_settings{});
    EXPECT_EQ(e.escalation_critical, (std::vector{seconds(60), seconds(180)}));
    EXPECT_EQ(e.escalation_urgent, (std::vector{seconds(180), seconds(600)}));
    EXPECT_EQ(e.escalation_technical, (std::vector{seconds(3600), seconds(14400)}));
    EXPECT_EQ(e.retransmission_window, seconds(300));
    EXPECT_EQ(e.storm_threshold, 20U);
    EXPECT_EQ(e.storm_window, seconds(60));
    EXPECT_EQ(e.supervision_grace_percent, 10);
    EXPECT_EQ(e.supervision_grace_fixed, seconds(120));
    const std::map<std::string, seconds, std::less<>> intervals{
        {"home_unit", seconds(86400)}, {"gps_mobile", seconds(86400)}, {"gateway", seconds(3600)}};
    EXPECT_EQ(e.supervision_interval, intervals);
    EXPECT_FALSE(e.retired_queue);
    EXPECT_EQ(e.mission_accept_timeout, seconds(300));
    EXPECT_EQ(e.event_codes, "config/event-codes.toml");
    EXPECT_TRUE(e.event_code_overrides.empty());
}

TEST_F(ConfigTest, EmptyEngineSectionGivesDefaults) {
    EXPECT_EQ(load_daemon_config(write("[engine]\n")).engine, engine_settings{});
}

TEST_F(ConfigTest, ShippedEngineSectionEqualsDefaults) {
    EXPECT_EQ(load_daemon_config(shipped).engine, engine_settings{});
}

TEST_F(ConfigTest, ShippedEventCodesPathExists) {
    // Relative to the working directory, which is the repository root when arcd runs as shipped.
    const engine_settings e = load_daemon_config(shipped).engine;
    EXPECT_TRUE(
        std::filesystem::is_regular_file(std::filesystem::path(ARC_SOURCE_DIR) / e.event_codes))
        << e.event_codes;
}

TEST_F(ConfigTest, EngineReadsEveryKey) {
    using std::chrono::seconds;
    const engine_settings e = load_daemon_config(write(R"(
[engine]
escalation_critical_s = [30, 90, 300]
escalation_urgent_s = [120]
escalation_technical_s = [
    1800,
    7200,
]
retransmission_window_s = 120
storm_threshold = 5
storm_window_s = 300
supervision_grace_percent = 0
supervision_grace_fixed_s = 0
retired_devices = "queue"
mission_accept_timeout_s = 45
event_codes = "/etc/arc/event-codes.toml"
event_code_overrides = ["site.toml", "vendor/acme.toml"]

[engine.supervision_interval_s]
pendant = 3600
home_unit = 604800
)"))
                                  .engine;
    EXPECT_EQ(e.escalation_critical, (std::vector{seconds(30), seconds(90), seconds(300)}));
    EXPECT_EQ(e.escalation_urgent, (std::vector{seconds(120)}));
    EXPECT_EQ(e.escalation_technical, (std::vector{seconds(1800), seconds(7200)}));
    EXPECT_EQ(e.retransmission_window, seconds(120));
    EXPECT_EQ(e.storm_threshold, 5U);
    EXPECT_EQ(e.storm_window, seconds(300));
    EXPECT_EQ(e.supervision_grace_percent, 0);
    EXPECT_EQ(e.supervision_grace_fixed, seconds(0));
    EXPECT_TRUE(e.retired_queue);
    EXPECT_EQ(e.mission_accept_timeout, seconds(45));
    EXPECT_EQ(e.event_codes, "/etc/arc/event-codes.toml");
    EXPECT_EQ(e.event_code_overrides,
              (std::vector<std::filesystem::path>{"site.toml", "vendor/acme.toml"}));
    // The file's table replaces the built-in list: gateway and gps_mobile are not supervised.
    const std::map<std::string, seconds, std::less<>> intervals{{"pendant", seconds(3600)},
                                                                {"home_unit", seconds(604800)}};
    EXPECT_EQ(e.supervision_interval, intervals);
}

TEST_F(ConfigTest, EngineDottedKeysInFile) {
    const engine_settings e =
        load_daemon_config(write("[engine]\nsupervision_interval_s.gateway = 600\n")).engine;
    EXPECT_EQ(e.supervision_interval, (std::map<std::string, std::chrono::seconds, std::less<>>{
                                          {"gateway", std::chrono::seconds(600)}}));
}

TEST_F(ConfigTest, EngineOverridesEveryKey) {
    using std::chrono::seconds;
    for (const auto& base : {shipped, write("")}) {
        const engine_settings e =
            load_daemon_config(
                base, {"engine.escalation_critical_s=[30,90]", "engine.escalation_urgent_s=[ 100 ]",
                       "engine.escalation_technical_s=[600, 1200, 2400]",
                       "engine.retransmission_window_s=60", "engine.storm_threshold=5",
                       "engine.storm_window_s=30", "engine.supervision_grace_percent=50",
                       "engine.supervision_grace_fixed_s=0", "engine.retired_devices=queue",
                       "engine.event_codes=/etc/arc/codes.toml",
                       R"(engine.event_code_overrides=["a.toml", "b.toml"])",
                       "engine.supervision_interval_s.pendant=3600",
                       "engine.supervision_interval_s.gateway=600"})
                .engine;
        EXPECT_EQ(e.escalation_critical, (std::vector{seconds(30), seconds(90)})) << base;
        EXPECT_EQ(e.escalation_urgent, (std::vector{seconds(100)}));
        EXPECT_EQ(e.escalation_technical,
                  (std::vector{seconds(600), seconds(1200), seconds(2400)}));
        EXPECT_EQ(e.retransmission_window, seconds(60));
        EXPECT_EQ(e.storm_threshold, 5U);
        EXPECT_EQ(e.storm_window, seconds(30));
        EXPECT_EQ(e.supervision_grace_percent, 50);
        EXPECT_EQ(e.supervision_grace_fixed, seconds(0));
        EXPECT_TRUE(e.retired_queue);
        EXPECT_EQ(e.event_codes, "/etc/arc/codes.toml");
        EXPECT_EQ(e.event_code_overrides, (std::vector<std::filesystem::path>{"a.toml", "b.toml"}));
        // One entry adds to (or changes) the list in effect, the defaults when the file has none.
        const std::map<std::string, seconds, std::less<>> intervals{{"home_unit", seconds(86400)},
                                                                    {"gps_mobile", seconds(86400)},
                                                                    {"gateway", seconds(600)},
                                                                    {"pendant", seconds(3600)}};
        EXPECT_EQ(e.supervision_interval, intervals) << base;
    }
}

TEST_F(ConfigTest, EngineOverrideEntryKeepsFileTable) {
    const engine_settings e =
        load_daemon_config(write("[engine.supervision_interval_s]\npendant = 7200\n"),
                           {"engine.supervision_interval_s.gateway=3600"})
            .engine;
    EXPECT_EQ(e.supervision_interval, (std::map<std::string, std::chrono::seconds, std::less<>>{
                                          {"gateway", std::chrono::seconds(3600)},
                                          {"pendant", std::chrono::seconds(7200)}}));
}

TEST_F(ConfigTest, EngineOverrideReplacesWholeTable) {
    const engine_settings e =
        load_daemon_config(shipped, {"engine.supervision_interval_s={gateway=600}"}).engine;
    EXPECT_EQ(e.supervision_interval, (std::map<std::string, std::chrono::seconds, std::less<>>{
                                          {"gateway", std::chrono::seconds(600)}}));
    EXPECT_TRUE(load_daemon_config(shipped, {"engine.supervision_interval_s={}"})
                    .engine.supervision_interval.empty());
}

TEST_F(ConfigTest, EngineOverrideErrorsNameSetAndPosition) {
    struct override_case {
        std::vector<std::string> overrides;
        int line;
        const char* key;
        const char* says;
    };
    const override_case cases[] = {
        {{"log.level=info", "engine.storm_threshold=1"},
         2,
         "engine.storm_threshold",
         "out of range"},
        {{"engine.escalation_critical_s=[90,30]"},
         1,
         "engine.escalation_critical_s",
         "ages must be ascending (30 after 90)"},
        {{"engine.escalation_critical_s=60"},
         1,
         "engine.escalation_critical_s",
         "expected an array"},
        {{"engine.retransmission_window_s=-5"},
         1,
         "engine.retransmission_window_s",
         "out of range"},
        {{"engine.storm_treshold=5"},
         1,
         "engine.storm_treshold",
         "did you mean engine.storm_threshold?"},
        {{"engine.retired_devices=drop"}, 1, "engine.retired_devices", "unknown policy 'drop'"},
        {{"log.level=info", "engine.supervision_interval_s.pendant=10"},
         2,
         "engine.supervision_interval_s.pendant",
         "out of range"},
        {{"engine.supervision_interval_s.Pendant=3600"},
         1,
         "engine.supervision_interval_s.Pendant",
         "not a device type name"},
        {{"engine.supervision_interval_s.a.b=3600"},
         1,
         "engine.supervision_interval_s.a.b",
         "not a device type name"},
        {{"engine.supervision_interval_s={pendant=10}"},
         1,
         "engine.supervision_interval_s.pendant",
         "out of range"},
        {{"engine.supervision_interval_s.=3600"},
         1,
         "engine.supervision_interval_s.",
         "expected engine.supervision_interval_s.NAME=value"},
        {{"engine.storm_threshold.x=3"}, 1, "engine.storm_threshold.x", "unknown key"},
        {{"engine.supervisoin_interval_s.pendant=3600"},
         1,
         "engine.supervisoin_interval_s.pendant",
         "unknown key (did you mean engine.supervision_interval_s?)"},
        {{"engine.supervision_interval_s=3600"},
         1,
         "engine.supervision_interval_s",
         "expected a table"},
    };
    for (const auto& c : cases) {
        const config_error e = error_of(shipped, c.overrides);
        EXPECT_EQ(e.file(), "--set") << e.what();
        EXPECT_EQ(e.line(), c.line) << e.what();
        EXPECT_EQ(e.key(), c.key) << e.what();
        EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
}

TEST_F(ConfigTest, EngineOverrideOfEntryWhenFileValueIsNotATable) {
    const config_error e = error_of(write("[engine]\nsupervision_interval_s = 5\n"),
                                    {"engine.supervision_interval_s.pendant=3600"});
    EXPECT_EQ(e.file(), "--set") << e.what();
    EXPECT_NE(std::string(e.what()).find("is not a table in the file"), std::string::npos)
        << e.what();
}

TEST_F(ConfigTest, EngineFileErrorNamesFileWhenAnotherEntryOverridden) {
    const auto path = write("[engine.supervision_interval_s]\n\npendant = 1\n");
    const config_error e = error_of(path, {"engine.supervision_interval_s.gateway=3600"});
    EXPECT_EQ(e.file(), path.string()) << e.what();
    EXPECT_EQ(e.line(), 3) << e.what();
    EXPECT_EQ(e.key(), "engine.supervision_interval_s.pendant");
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

// SCAIP over UDP: off in the shipped file (documented there), on when given an address.
TEST_F(ConfigTest, ScaipUdpListener) {
    const daemon_config shipped_config = load_daemon_config(shipped);
    EXPECT_FALSE(shipped_config.scaip_udp.enabled);
    std::ifstream in(shipped);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\nscaip_udp = \"\"\n"), std::string::npos);

    const daemon_config c = load_daemon_config(write("[listen]\nscaip_udp = \"127.0.0.1:0\"\n"));
    EXPECT_TRUE(c.scaip_udp.enabled);
    EXPECT_EQ(c.scaip_udp.host, "127.0.0.1");
    EXPECT_EQ(c.scaip_udp.port, 0);
    const config_error e = error_of(write("[listen]\nscaip_udp = \"127.0.0.1:50x\"\n"));
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.key(), "listen.scaip_udp");
}

// SCAIP over TCP: off in the shipped file (documented there), on when given an address, and a
// bad value names the key and its line.
TEST_F(ConfigTest, ScaipTcpListener) {
    const daemon_config shipped_config = load_daemon_config(shipped);
    EXPECT_FALSE(shipped_config.scaip_tcp.enabled);
    std::ifstream in(shipped);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\nscaip_tcp = \"\"\n"), std::string::npos);

    const daemon_config c = load_daemon_config(write("[listen]\nscaip_tcp = \"127.0.0.1:5060\"\n"));
    EXPECT_TRUE(c.scaip_tcp.enabled);
    EXPECT_EQ(c.scaip_tcp.host, "127.0.0.1");
    EXPECT_EQ(c.scaip_tcp.port, 5060);
    EXPECT_FALSE(c.scaip_udp.enabled);
    const daemon_config off = load_daemon_config(write("[listen]\nscaip_tcp = \"\"\n"));
    EXPECT_FALSE(off.scaip_tcp.enabled);
    const config_error e = error_of(write("[listen]\n\nscaip_tcp = \"localhost\"\n"));
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.key(), "listen.scaip_tcp");
}

}  // namespace
}  // namespace arc::config
