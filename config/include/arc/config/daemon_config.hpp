// Purpose: arcd's configuration: load and validate arcd.toml; errors name file, line and key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace arc::config {

/// A configuration error: `what()` is one line "FILE:LINE: KEY: message" (for --set overrides
/// FILE is "--set" and LINE is the override's position).
class config_error : public std::runtime_error {
public:
    config_error(std::string file, int line, std::string key, const std::string& message);
    const std::string& file() const noexcept { return file_; }
    int line() const noexcept { return line_; }
    const std::string& key() const noexcept { return key_; }

private:
    std::string file_;
    int line_;
    std::string key_;
};

/// A "host:port" endpoint as written (port 0 = pick a free port).
struct endpoint {
    std::string host;
    std::uint16_t port = 0;
    bool enabled = true;  ///< false when the key is the empty string (listener off)
};

/// The DC-09 receiver policy choices (PROTOCOLS.md §1.14) as configured.
struct dc09_policy_config {
    bool ack_unknown_account = false;
    bool accept_clear_text = false;
    bool ack_unknown_code = true;
    bool window_for_clear_text = false;
    std::int64_t window_past_s = 40;
    std::int64_t window_future_s = 20;
};

/// [retention]: the daily purge of old events and closed alarms (legal holds excepted).
struct retention_settings {
    int days = 1095;           ///< keep this many days; 0 keeps everything forever
    int run_at_minute = 210;   ///< local time of day of the daily run, minutes after 00:00 (03:30)
    std::size_t batch = 5000;  ///< rows per purge transaction
};

/// The alarm engine's tunables as configured ([engine]); defaults equal
/// arc::engine::engine_config's. A plain mirror: arc_config does not depend on the engine, the
/// daemon maps this onto it.
struct engine_settings {
    /// Ages at which an untaken alarm of each class reaches level 1, 2, ... (ascending, positive,
    /// 1 to 8 entries). log_only alarms never exist, so they have no list.
    std::vector<std::chrono::seconds> escalation_critical{std::chrono::seconds(60),
                                                          std::chrono::seconds(180)};
    std::vector<std::chrono::seconds> escalation_urgent{std::chrono::seconds(180),
                                                        std::chrono::seconds(600)};
    std::vector<std::chrono::seconds> escalation_technical{std::chrono::seconds(3600),
                                                           std::chrono::seconds(14400)};
    /// A DC-09 frame with the same account, sequence and data within this is a retransmission.
    std::chrono::seconds retransmission_window{300};
    /// Technical alarms of one kind: this many (>= 2) within storm_window become one storm alarm.
    std::size_t storm_threshold = 20;
    std::chrono::seconds storm_window{60};
    /// Supervision grace = interval + interval * percent / 100 + fixed.
    int supervision_grace_percent = 10;
    std::chrono::seconds supervision_grace_fixed{120};
    /// Expected reporting interval per device type; a type not listed is not supervised.
    std::map<std::string, std::chrono::seconds, std::less<>> supervision_interval{
        {"home_unit", std::chrono::seconds(86400)},
        {"gps_mobile", std::chrono::seconds(86400)},
        {"gateway", std::chrono::seconds(3600)},
    };
    /// Events of a retired device: queued as for an active one (true) or only recorded (false).
    bool retired_queue = false;
    /// A mission its team has not accepted this long after the dispatch escalates one level.
    std::chrono::seconds mission_accept_timeout{300};
    /// The shipped event-code map and override files applied in order (load_event_codes);
    /// relative to the working directory.
    std::filesystem::path event_codes = "config/event-codes.toml";
    std::vector<std::filesystem::path> event_code_overrides;

    bool operator==(const engine_settings&) const = default;
};

/// One serial alarm receiver (`[[serial]]`, PROTOCOLS.md §5): the port's line settings and the
/// output format the receiver is configured for.
struct serial_receiver_config {
    std::string name;                            ///< unique, a-z 0-9 _ -; transport "serial:NAME"
    std::filesystem::path device;                ///< "/dev/ttyUSB0"
    unsigned baud = 9600;                        ///< a standard rate, 300 to 230400
    std::string parity = "none";                 ///< "none", "even", "odd"
    unsigned data_bits = 8;                      ///< 7 or 8
    unsigned stop_bits = 1;                      ///< 1 or 2
    std::string format = "surgard";              ///< "surgard", "ademco685"
    std::chrono::seconds heartbeat_timeout{90};  ///< silent longer: technical alarm; 0 = off

    bool operator==(const serial_receiver_config&) const = default;
};

/// Everything arcd reads from its configuration file.
struct daemon_config {
    std::filesystem::path source;  ///< the file loaded
    // [storage]
    std::filesystem::path storage_path = "var/arc.db";  ///< relative to the working directory
    std::size_t storage_queue_limit = 100000;
    std::size_t storage_max_batch = 8192;
    // [listen]
    endpoint dc09_tcp{"127.0.0.1", 0, true};
    endpoint dc09_udp{"127.0.0.1", 0, true};
    std::filesystem::path api_socket = "var/arcd.sock";
    endpoint receiver_tcp{"", 0, false};  ///< Sur-Gard automation output over TCP; off by default
    endpoint scaip_udp{"", 0, false};     ///< SCAIP (SIP MESSAGE) over UDP; off by default
    endpoint scaip_tcp{"", 0, false};     ///< SCAIP (SIP MESSAGE) over TCP; off by default
    /// Operator API over TCP (docs/admin-api.md, "Operator API"); loopback only (no TLS yet); off
    /// by default in code, "127.0.0.1:12001" in the shipped arcd.toml.
    endpoint operator_api{"", 0, false};
    /// Prometheus text metrics over HTTP (GET /metrics); loopback only; off by default.
    endpoint metrics{"", 0, false};
    // [operator_tls]: PEM certificate (chain) and private key; when set, the operator API
    // speaks TLS only (required when listen.operator is not a loopback address).
    std::filesystem::path operator_tls_cert;
    std::filesystem::path operator_tls_key;
    // [alarms]
    /// Outcome codes an operator may close an alarm with (the console shows them as a menu).
    std::vector<std::string> outcomes{"resolved_by_phone",  "contact_went", "team_dispatched",
                                      "118_called",         "false_alarm",  "technical_fixed",
                                      "no_answer_escalated"};
    // [retention]
    retention_settings retention;
    // [limits]
    std::size_t max_frame = 1024;                 ///< bytes, LF..CR
    std::chrono::seconds idle_timeout{60};        ///< TCP connection without a byte
    std::size_t max_connections = 20000;          ///< TCP connections in total
    std::size_t max_connections_per_peer = 2000;  ///< TCP connections per peer address
    std::size_t max_udp_in_flight = 10000;        ///< UDP frames waiting for their commit
    std::size_t max_api_clients = 64;
    // [dc09]
    dc09_policy_config dc09;
    // [engine]
    engine_settings engine;
    // [[serial]]
    std::vector<serial_receiver_config> serial;
    // [log]
    std::string log_level = "info";  ///< trace, debug, info, warn, error
    std::filesystem::path log_file;  ///< empty: stderr
};

/// Loads `path`, then applies `overrides` ("key=value", value in TOML syntax or a bare string).
/// Unknown keys, wrong types and bad values throw config_error naming file, line and key.
/// Relative paths in the result stay relative to the working directory, not to the file.
daemon_config load_daemon_config(const std::filesystem::path& path,
                                 const std::vector<std::string>& overrides = {});

/// Parses "host:port" (IPv6 as "[::1]:port"); throws std::invalid_argument with the reason.
endpoint parse_endpoint(const std::string& text);

}  // namespace arc::config
