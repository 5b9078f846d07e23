#include "arc/config/daemon_config.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace arc::config {

namespace {

// Keeps what() on one line whatever the parser or the OS said.
std::string one_line(std::string_view text) {
    std::string out(text);
    std::replace(out.begin(), out.end(), '\n', ' ');
    std::replace(out.begin(), out.end(), '\r', ' ');
    return out;
}

std::string_view type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time:
            return "a date/time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

// Where each overridden key came from: errors about it name "--set" and its position.
using override_map = std::map<std::string, int, std::less<>>;

class reader {
public:
    reader(std::string file, const override_map& overrides)
        : file_(std::move(file)), overrides_(overrides) {}

    [[noreturn]] void fail(std::string_view key, const toml::source_region& where,
                           const std::string& message) const {
        // "engine.supervision_interval_s.pendant" came from --set when it or its table did.
        for (std::string_view from = key; from.find('.') != std::string_view::npos;
             from = from.substr(0, from.rfind('.'))) {
            if (const auto it = overrides_.find(from); it != overrides_.end()) {
                throw config_error("--set", it->second, std::string(key), message);
            }
        }
        throw config_error(file_, static_cast<int>(where.begin.line), std::string(key), message);
    }

    [[noreturn]] void wrong_type(std::string_view key, const toml::node& node,
                                 std::string_view expected) const {
        fail(key, node.source(),
             fmt::format("expected {}, got {}", expected, type_name(node.type())));
    }

    std::string string(std::string_view key, const toml::node& node) const {
        const auto* value = node.as_string();
        if (value == nullptr) {
            wrong_type(key, node, "a string");
        }
        return value->get();
    }

    std::string non_empty_string(std::string_view key, const toml::node& node) const {
        std::string value = string(key, node);
        if (value.empty()) {
            fail(key, node.source(), "must not be empty");
        }
        return value;
    }

    bool boolean(std::string_view key, const toml::node& node) const {
        const auto* value = node.as_boolean();
        if (value == nullptr) {
            wrong_type(key, node, "a boolean (true or false)");
        }
        return value->get();
    }

    std::int64_t integer(std::string_view key, const toml::node& node, std::int64_t min,
                         std::int64_t max) const {
        const auto* value = node.as_integer();
        if (value == nullptr) {
            wrong_type(key, node, "an integer");
        }
        const std::int64_t number = value->get();
        if (number < min || number > max) {
            fail(key, node.source(),
                 fmt::format("{} is out of range ({} to {})", number, min, max));
        }
        return number;
    }

    std::size_t size(std::string_view key, const toml::node& node, std::int64_t max) const {
        return static_cast<std::size_t>(integer(key, node, 1, max));
    }

    std::chrono::seconds seconds(std::string_view key, const toml::node& node, std::int64_t min,
                                 std::int64_t max) const {
        return std::chrono::seconds(integer(key, node, min, max));
    }

    const toml::array& array(std::string_view key, const toml::node& node,
                             std::string_view expected) const {
        const auto* value = node.as_array();
        if (value == nullptr) {
            wrong_type(key, node, expected);
        }
        return *value;
    }

    const toml::table& table(std::string_view key, const toml::node& node,
                             std::string_view expected) const {
        const auto* value = node.as_table();
        if (value == nullptr) {
            wrong_type(key, node, expected);
        }
        return *value;
    }

    // Escalation ages: 1 to 8 strictly ascending positive seconds; errors name the element's line.
    std::vector<std::chrono::seconds> escalation(std::string_view key,
                                                 const toml::node& node) const {
        constexpr std::size_t max_levels = 8;
        constexpr std::int64_t week = std::int64_t{7} * 86400;
        const toml::array& list = array(key, node, "an array of ages in seconds, as [60, 180]");
        if (list.empty() || list.size() > max_levels) {
            fail(key, node.source(),
                 fmt::format("{} ages; expected 1 to {}", list.size(), max_levels));
        }
        std::vector<std::chrono::seconds> out;
        for (const toml::node& element : list) {
            const std::chrono::seconds age = seconds(key, element, 1, week);
            if (!out.empty() && age <= out.back()) {
                fail(key, element.source(),
                     fmt::format("ages must be ascending ({} after {})", age.count(),
                                 out.back().count()));
            }
            out.push_back(age);
        }
        return out;
    }

    std::vector<std::filesystem::path> paths(std::string_view key, const toml::node& node) const {
        std::vector<std::filesystem::path> out;
        for (const toml::node& element : array(key, node, "an array of file paths")) {
            out.emplace_back(non_empty_string(key, element));
        }
        return out;
    }

    // Device type -> expected reporting interval; the table replaces the default list.
    std::map<std::string, std::chrono::seconds, std::less<>> intervals(
        std::string_view key, const toml::node& node) const {
        constexpr std::int64_t month = std::int64_t{31} * 86400;
        std::map<std::string, std::chrono::seconds, std::less<>> out;
        for (const auto& [type_key, value] : table(key, node, "a table of device type = seconds")) {
            const std::string_view type = type_key.str();
            const std::string entry = fmt::format("{}.{}", key, type);
            const bool valid = !type.empty() && std::all_of(type.begin(), type.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
            });
            if (!valid) {
                fail(entry, type_key.source(),
                     fmt::format("'{}' is not a device type name (a-z, 0-9, _)", type));
            }
            out.emplace(type, seconds(entry, value, 60, month));
        }
        return out;
    }

    endpoint listener(std::string_view key, const toml::node& node) const {
        const std::string text = string(key, node);
        if (text.empty()) {
            return endpoint{"", 0, false};
        }
        try {
            return parse_endpoint(text);
        } catch (const std::invalid_argument& e) {
            fail(key, node.source(), e.what());
        }
    }

private:
    std::string file_;
    const override_map& overrides_;
};

using setter = void (*)(const reader&, std::string_view key, const toml::node&, daemon_config&);

struct key_spec {
    std::string_view section;
    std::string_view name;
    setter set;
};

constexpr std::int64_t big = std::int64_t{1} << 40;  // "no practical limit" for counts

// Every key arcd knows; anything else is a typo and an error.
constexpr key_spec known_keys[] = {
    {"storage", "path",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.storage_path = r.non_empty_string(k, n);
     }},
    {"storage", "queue_limit",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.storage_queue_limit = r.size(k, n, big);
     }},
    {"storage", "max_batch",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.storage_max_batch = r.size(k, n, big);
     }},
    {"listen", "dc09_tcp",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.dc09_tcp = r.listener(k, n);
     }},
    {"listen", "dc09_udp",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.dc09_udp = r.listener(k, n);
     }},
    {"listen", "receiver_tcp",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.receiver_tcp = r.listener(k, n);
     }},
    {"listen", "scaip_udp",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.scaip_udp = r.listener(k, n);
     }},
    {"listen", "scaip_tcp",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.scaip_tcp = r.listener(k, n);
     }},
    {"listen", "operator",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.operator_api = r.listener(k, n);
         // Passwords and tokens cross this socket: off loopback only with TLS (checked once
         // the whole file is read).
     }},
    {"listen", "metrics",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.metrics = r.listener(k, n);  // loopback only: checked once the whole file is read
     }},
    {"operator_tls", "cert",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.operator_tls_cert = r.non_empty_string(k, n);
     }},
    {"operator_tls", "key",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.operator_tls_key = r.non_empty_string(k, n);
     }},
    {"alarms", "outcomes",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         std::vector<std::string> out;
         const toml::array& list = r.array(k, n, "an array of outcome codes, as [\"false_alarm\"]");
         if (list.empty() || list.size() > 64) {
             r.fail(k, n.source(), fmt::format("{} outcomes; expected 1 to 64", list.size()));
         }
         for (const toml::node& element : list) {
             const std::string code = r.non_empty_string(k, element);
             const bool valid = code.size() <= 40 &&
                                code.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") ==
                                    std::string::npos;
             if (!valid) {
                 r.fail(k, element.source(),
                        fmt::format("'{}': an outcome code is 1 to 40 of a-z, 0-9 and _", code));
             }
             if (std::find(out.begin(), out.end(), code) != out.end()) {
                 r.fail(k, element.source(), fmt::format("'{}' is listed twice", code));
             }
             out.push_back(code);
         }
         c.outcomes = std::move(out);
     }},
    {"retention", "days",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.retention.days = static_cast<int>(r.integer(k, n, 0, 36500));
     }},
    {"retention", "run_at",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         const std::string t = r.string(k, n);
         const auto digit = [&](std::size_t i) { return t[i] >= '0' && t[i] <= '9'; };
         const bool shape =
             t.size() == 5 && t[2] == ':' && digit(0) && digit(1) && digit(3) && digit(4);
         const int hh = shape ? (t[0] - '0') * 10 + (t[1] - '0') : -1;
         const int mm = shape ? (t[3] - '0') * 10 + (t[4] - '0') : -1;
         if (hh < 0 || hh > 23 || mm < 0 || mm > 59) {
             r.fail(k, n.source(),
                    fmt::format("'{}' is not a local time of day HH:MM (00:00 to 23:59)", t));
         }
         c.retention.run_at_minute = hh * 60 + mm;
     }},
    {"retention", "batch",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.retention.batch = static_cast<std::size_t>(r.integer(k, n, 100, 100000));
     }},
    {"listen", "api",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.api_socket = r.non_empty_string(k, n);
     }},
    {"limits", "max_frame",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         // DC-09 frames are a few hundred bytes; a megabyte bounds per-connection buffers.
         c.max_frame = r.size(k, n, 1 << 20);
     }},
    {"limits", "idle_timeout_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.idle_timeout = std::chrono::seconds(r.integer(k, n, 1, 86400));
     }},
    {"limits", "max_connections",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.max_connections = r.size(k, n, big);
     }},
    {"limits", "max_connections_per_peer",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.max_connections_per_peer = r.size(k, n, big);
     }},
    {"limits", "max_udp_in_flight",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.max_udp_in_flight = r.size(k, n, big);
     }},
    {"limits", "max_api_clients",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.max_api_clients = r.size(k, n, big);
     }},
    {"dc09", "ack_unknown_account",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.dc09.ack_unknown_account = r.boolean(k, n);
     }},
    {"dc09", "accept_clear_text",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.dc09.accept_clear_text = r.boolean(k, n);
     }},
    {"dc09", "ack_unknown_code",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.dc09.ack_unknown_code = r.boolean(k, n);
     }},
    {"dc09", "window_for_clear_text",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.dc09.window_for_clear_text = r.boolean(k, n);
     }},
    {"dc09", "window_past_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.dc09.window_past_s = r.integer(k, n, 0, 86400);
     }},
    {"dc09", "window_future_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.dc09.window_future_s = r.integer(k, n, 0, 86400);
     }},
    {"engine", "escalation_critical_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.escalation_critical = r.escalation(k, n);
     }},
    {"engine", "escalation_urgent_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.escalation_urgent = r.escalation(k, n);
     }},
    {"engine", "escalation_technical_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.escalation_technical = r.escalation(k, n);
     }},
    {"engine", "retransmission_window_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.retransmission_window = r.seconds(k, n, 1, 86400);
     }},
    {"engine", "storm_threshold",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         // One alarm is not a storm.
         c.engine.storm_threshold = static_cast<std::size_t>(r.integer(k, n, 2, 1000000));
     }},
    {"engine", "storm_window_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.storm_window = r.seconds(k, n, 1, 86400);
     }},
    {"engine", "mission_accept_timeout_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.mission_accept_timeout = r.seconds(k, n, 1, 86400);
     }},
    {"engine", "supervision_grace_percent",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.supervision_grace_percent = static_cast<int>(r.integer(k, n, 0, 1000));
     }},
    {"engine", "supervision_grace_fixed_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.supervision_grace_fixed = r.seconds(k, n, 0, 86400);
     }},
    {"engine", "retired_devices",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         const std::string policy = r.string(k, n);
         if (policy != "record" && policy != "queue") {
             r.fail(k, n.source(), fmt::format("unknown policy '{}' (record, queue)", policy));
         }
         c.engine.retired_queue = policy == "queue";
     }},
    {"engine", "event_codes",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.event_codes = r.non_empty_string(k, n);
     }},
    {"engine", "event_code_overrides",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.event_code_overrides = r.paths(k, n);
     }},
    {"engine", "supervision_interval_s",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         c.engine.supervision_interval = r.intervals(k, n);
     }},
    {"log", "level",
     [](const reader& r, std::string_view k, const toml::node& n, daemon_config& c) {
         std::string level = r.string(k, n);
         constexpr std::string_view levels[] = {"trace", "debug", "info", "warn", "error"};
         if (std::find(std::begin(levels), std::end(levels), level) == std::end(levels)) {
             r.fail(k, n.source(),
                    fmt::format("unknown log level '{}' (trace, debug, info, warn, error)", level));
         }
         c.log_level = std::move(level);
     }},
    {"log", "file",
     [](const reader& r, std::string_view k, const toml::node& n,
        daemon_config& c) { c.log_file = r.string(k, n); }},
};

// ---- [[serial]] ---------------------------------------------------------------------------

using serial_setter = void (*)(const reader&, std::string_view key, const toml::node&,
                               serial_receiver_config&);

struct serial_key_spec {
    std::string_view name;
    serial_setter set;
};

// One of `allowed`, else an error listing them.
std::string one_of(const reader& r, std::string_view key, const toml::node& node,
                   std::initializer_list<std::string_view> allowed) {
    std::string value = r.string(key, node);
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
        std::string list;
        for (const std::string_view a : allowed) {
            list += list.empty() ? "" : ", ";
            list += a;
        }
        r.fail(key, node.source(), fmt::format("unknown value '{}' ({})", value, list));
    }
    return value;
}

constexpr std::array<serial_key_spec, 8> serial_keys{{
    {"name",
     [](const reader& r, std::string_view k, const toml::node& n, serial_receiver_config& c) {
         std::string name = r.non_empty_string(k, n);
         const bool valid = name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char ch) {
                                return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                                       ch == '_' || ch == '-';
                            });
         if (!valid) {
             r.fail(k, n.source(),
                    fmt::format("'{}' is not a receiver name (a-z, 0-9, _, -; up to 32)", name));
         }
         c.name = std::move(name);
     }},
    {"device", [](const reader& r, std::string_view k, const toml::node& n,
                  serial_receiver_config& c) { c.device = r.non_empty_string(k, n); }},
    {"baud",
     [](const reader& r, std::string_view k, const toml::node& n, serial_receiver_config& c) {
         constexpr std::array<std::int64_t, 11> rates{300,   600,   1200,  2400,   4800,  9600,
                                                      19200, 38400, 57600, 115200, 230400};
         const std::int64_t baud = r.integer(k, n, 1, 4000000);
         if (std::find(rates.begin(), rates.end(), baud) == rates.end()) {
             r.fail(k, n.source(),
                    fmt::format("{} is not a standard rate (300, 600, 1200, 2400, 4800, 9600, "
                                "19200, 38400, 57600, 115200, 230400)",
                                baud));
         }
         c.baud = static_cast<unsigned>(baud);
     }},
    {"parity",
     [](const reader& r, std::string_view k, const toml::node& n, serial_receiver_config& c) {
         c.parity = one_of(r, k, n, {"none", "even", "odd"});
     }},
    {"data_bits",
     [](const reader& r, std::string_view k, const toml::node& n, serial_receiver_config& c) {
         c.data_bits = static_cast<unsigned>(r.integer(k, n, 7, 8));
     }},
    {"stop_bits",
     [](const reader& r, std::string_view k, const toml::node& n, serial_receiver_config& c) {
         c.stop_bits = static_cast<unsigned>(r.integer(k, n, 1, 2));
     }},
    {"format",
     [](const reader& r, std::string_view k, const toml::node& n, serial_receiver_config& c) {
         c.format = one_of(r, k, n, {"surgard", "ademco685"});
     }},
    {"heartbeat_timeout_s",
     [](const reader& r, std::string_view k, const toml::node& n, serial_receiver_config& c) {
         // Sur-Gard heartbeats come every 1-99 s (default 30 s); 0 turns supervision off.
         c.heartbeat_timeout = r.seconds(k, n, 0, 86400);
     }},
}};

std::string serial_key_names() {
    std::string known;
    for (const serial_key_spec& s : serial_keys) {
        known += known.empty() ? "" : ", ";
        known += s.name;
    }
    return known;
}

// One [[serial]] table; `prefix` is "serial[N]".
serial_receiver_config read_serial_table(const reader& r, const toml::table& table,
                                         const std::string& prefix) {
    serial_receiver_config c;
    for (const auto& [name_key, value] : table) {
        const std::string_view name = name_key.str();
        const std::string key = fmt::format("{}.{}", prefix, name);
        const auto* spec =
            std::find_if(serial_keys.begin(), serial_keys.end(),
                         [name](const serial_key_spec& s) { return s.name == name; });
        if (spec == serial_keys.end()) {
            r.fail(key, name_key.source(),
                   fmt::format("unknown key (known in [[serial]]: {})", serial_key_names()));
        }
        spec->set(r, key, value, c);
    }
    for (const std::string_view required : {"name", "device"}) {
        if (!table.contains(required)) {
            r.fail(fmt::format("{}.{}", prefix, required), table.source(),
                   "missing (every [[serial]] needs a name and a device)");
        }
    }
    return c;
}

std::vector<serial_receiver_config> read_serial(const reader& r, const toml::node& node) {
    const toml::array* list = node.as_array();
    if (list == nullptr || !list->is_array_of_tables()) {
        r.wrong_type("serial", node, "an array of tables ([[serial]])");
    }
    std::vector<serial_receiver_config> out;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const toml::table& table = *list->get(i)->as_table();
        const std::string prefix = fmt::format("serial[{}]", i);
        serial_receiver_config c = read_serial_table(r, table, prefix);
        for (const serial_receiver_config& other : out) {
            if (other.name == c.name) {
                r.fail(prefix + ".name", table.get("name")->source(),
                       fmt::format("'{}' names another [[serial]] too", c.name));
            }
            if (other.device == c.device) {
                r.fail(prefix + ".device", table.get("device")->source(),
                       fmt::format("'{}' is the port of [[serial]] '{}' too", c.device.string(),
                                   other.name));
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

// Keys whose value is a table of free names: `--set section.key.name=value` sets one entry.
struct table_key {
    std::string_view section;
    std::string_view name;
    toml::table (*defaults)();  ///< the entries in effect when the file has no such table
};

const std::array<table_key, 1> table_keys{{
    {"engine", "supervision_interval_s",
     [] {
         toml::table out;
         for (const auto& [type, interval] : engine_settings{}.supervision_interval) {
             out.insert(type, static_cast<std::int64_t>(interval.count()));
         }
         return out;
     }},
}};

const table_key* find_table_key(std::string_view section, std::string_view name) {
    for (const table_key& spec : table_keys) {
        if (spec.section == section && spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

bool known_section(std::string_view section) {
    return std::any_of(std::begin(known_keys), std::end(known_keys),
                       [&](const key_spec& spec) { return spec.section == section; });
}

const key_spec* find_key(std::string_view section, std::string_view name) {
    for (const key_spec& spec : known_keys) {
        if (spec.section == section && spec.name == name) {
            return &spec;
        }
    }
    return nullptr;
}

// Levenshtein distance, for "did you mean" on a mistyped key.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string unknown_key_message(std::string_view section, std::string_view name) {
    const key_spec* best = nullptr;
    std::size_t best_distance = 3;  // farther than this is a different word, not a typo
    for (const key_spec& spec : known_keys) {
        if (spec.section == section) {
            const std::size_t d = distance(name, spec.name);
            if (d < best_distance) {
                best = &spec;
                best_distance = d;
            }
        }
    }
    if (best != nullptr) {
        return fmt::format("unknown key (did you mean {}.{}?)", section, best->name);
    }
    std::string known;
    for (const key_spec& spec : known_keys) {
        if (spec.section == section) {
            known += known.empty() ? "" : ", ";
            known += spec.name;
        }
    }
    return fmt::format("unknown key (known in [{}]: {})", section, known);
}

std::string sections() {
    std::string out;
    for (const key_spec& spec : known_keys) {
        if (out.find(spec.section) == std::string::npos) {
            out += out.empty() ? "" : ", ";
            out += spec.section;
        }
    }
    return out + ", [[serial]]";
}

toml::table parse_file(const std::string& file) {
    std::ifstream probe(file);
    if (!probe) {
        throw config_error(file, 0, "file", "cannot open the configuration file");
    }
    try {
        return toml::parse_file(file);
    } catch (const toml::parse_error& e) {
        throw config_error(file, static_cast<int>(e.source().begin.line), "syntax",
                           std::string(e.description()));
    }
}

// Parses the value as TOML ("2048", "true", "\"a b\""), else takes it as a bare string so
// that `--set listen.dc09_tcp=127.0.0.1:0` works without shell-quoted quotes.
toml::table parse_override_value(std::string_view value) {
    try {
        const std::string document = fmt::format("v = {}", value);
        toml::table parsed = toml::parse(std::string_view(document), std::string_view("--set"));
        if (parsed.size() == 1 && parsed.contains("v")) {
            return parsed;
        }
    } catch (const toml::parse_error&) {  // NOLINT(bugprone-empty-catch): bare string below
    }
    toml::table bare;
    bare.insert("v", std::string(value));
    return bare;
}

// parent[name] as a table, inserted as `initial` when absent (for a --set into it).
toml::table& child_table(toml::table& parent, std::string_view name, toml::table initial,
                         int position, const std::string& key, std::string_view what) {
    if (auto* table = parent[name].as_table()) {
        return *table;
    }
    if (parent.contains(name)) {
        throw config_error("--set", position, key,
                           fmt::format("{} is not a table in the file", what));
    }
    return *parent.insert(name, std::move(initial)).first->second.as_table();
}

void apply_overrides(toml::table& root, const std::vector<std::string>& overrides,
                     override_map& origin) {
    int position = 0;
    for (const std::string& text : overrides) {
        ++position;
        const auto eq = text.find('=');
        if (eq == std::string::npos) {
            throw config_error("--set", position, text, "expected key=value");
        }
        const std::string key = text.substr(0, eq);
        const auto dot = key.find('.');
        if (dot == std::string::npos) {
            throw config_error("--set", position, key,
                               fmt::format("expected section.key ({})", sections()));
        }
        const std::string section = key.substr(0, dot);
        std::string name = key.substr(dot + 1);
        if (!known_section(section)) {
            throw config_error("--set", position, key,
                               fmt::format("unknown section '{}' ({})", section, sections()));
        }
        // "engine.supervision_interval_s.pendant": one entry of a table key.
        std::string entry;
        if (const auto sub = name.find('.');
            sub != std::string::npos && find_table_key(section, name.substr(0, sub)) != nullptr) {
            entry = name.substr(sub + 1);
            name.resize(sub);
            if (entry.empty()) {
                throw config_error("--set", position, key,
                                   fmt::format("expected {}.{}.NAME=value", section, name));
            }
        }
        if (find_key(section, name) == nullptr) {
            // "engine.supervisoin_interval_s.pendant": suggest from the part before the dot.
            throw config_error("--set", position, key,
                               unknown_key_message(section, name.substr(0, name.find('.'))));
        }
        toml::table value = parse_override_value(std::string_view(text).substr(eq + 1));
        toml::table* table =
            &child_table(root, section, toml::table{}, position, key, fmt::format("[{}]", section));
        if (!entry.empty()) {
            // Absent means the defaults, so one entry adds to (or changes) those.
            table = &child_table(*table, name, find_table_key(section, name)->defaults(), position,
                                 key, fmt::format("{}.{}", section, name));
            name = entry;
        }
        table->insert_or_assign(name, std::move(*value.get("v")));
        origin[key] = position;
    }
}

}  // namespace

config_error::config_error(std::string file, int line, std::string key, const std::string& message)
    : std::runtime_error(one_line(fmt::format("{}:{}: {}: {}", file, line, key, message))),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)) {}

daemon_config load_daemon_config(const std::filesystem::path& path,
                                 const std::vector<std::string>& overrides) {
    const std::string file = path.string();
    toml::table root = parse_file(file);
    override_map origin;
    apply_overrides(root, overrides, origin);

    const reader read(file, origin);
    daemon_config config;
    config.source = path;
    for (const auto& [section_key, section_node] : root) {
        const std::string_view section = section_key.str();
        if (section == "serial") {
            config.serial = read_serial(read, section_node);
            continue;
        }
        if (!known_section(section)) {
            read.fail(section, section_key.source(),
                      fmt::format("unknown section ({})", sections()));
        }
        const auto* table = section_node.as_table();
        if (table == nullptr) {
            read.wrong_type(section, section_node, "a table");
        }
        for (const auto& [name_key, node] : *table) {
            const std::string key = fmt::format("{}.{}", section, name_key.str());
            const key_spec* spec = find_key(section, name_key.str());
            if (spec == nullptr) {
                read.fail(key, name_key.source(), unknown_key_message(section, name_key.str()));
            }
            spec->set(read, key, node, config);
        }
    }
    if (config.operator_tls_cert.empty() != config.operator_tls_key.empty()) {
        read.fail("operator_tls", root["operator_tls"].node()->source(),
                  "cert and key go together: set both or neither");
    }
    const auto loopback = [](const std::string& host) {
        return host == "localhost" || host == "::1" || host.starts_with("127.");
    };
    if (config.operator_api.enabled && !loopback(config.operator_api.host) &&
        config.operator_tls_cert.empty()) {
        read.fail("listen.operator", root["listen"]["operator"].node()->source(),
                  fmt::format("'{}' is not a loopback address: passwords would cross the network "
                              "in clear; set [operator_tls] cert and key",
                              config.operator_api.host));
    }
    if (config.metrics.enabled && !loopback(config.metrics.host)) {
        read.fail("listen.metrics", root["listen"]["metrics"].node()->source(),
                  fmt::format("'{}' is not a loopback address: metrics are served without "
                              "authentication; use 127.0.0.1 and a local scraper or proxy",
                              config.metrics.host));
    }
    return config;
}

endpoint parse_endpoint(const std::string& text) {
    if (text.empty()) {
        throw std::invalid_argument("empty address (expected host:port)");
    }
    std::string host;
    std::string_view port_text;
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos) {
            throw std::invalid_argument(fmt::format("'{}': missing ']' after IPv6 address", text));
        }
        host = text.substr(1, close - 1);
        if (close + 1 >= text.size() || text[close + 1] != ':') {
            throw std::invalid_argument(
                fmt::format("'{}': missing port (expected [address]:port)", text));
        }
        port_text = std::string_view(text).substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos) {
            throw std::invalid_argument(
                fmt::format("'{}': missing port (expected host:port)", text));
        }
        host = text.substr(0, colon);
        if (host.find(':') != std::string::npos) {
            throw std::invalid_argument(
                fmt::format("'{}': write an IPv6 address in brackets, as [::1]:port", text));
        }
        port_text = std::string_view(text).substr(colon + 1);
    }
    if (host.empty()) {
        throw std::invalid_argument(fmt::format("'{}': missing host", text));
    }
    if (std::any_of(host.begin(), host.end(), [](char c) { return c == ' ' || c == '\t'; })) {
        throw std::invalid_argument(fmt::format("'{}': blank in host", text));
    }
    if (port_text.empty()) {
        throw std::invalid_argument(fmt::format("'{}': missing port (expected host:port)", text));
    }
    unsigned long port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec == std::errc::result_out_of_range || (ec == std::errc{} && port > 65535)) {
        throw std::invalid_argument(fmt::format("'{}': port out of range (0-65535)", text));
    }
    if (ec != std::errc{} || end != port_text.data() + port_text.size()) {
        throw std::invalid_argument(fmt::format("'{}': port is not a number", text));
    }
    return endpoint{std::move(host), static_cast<std::uint16_t>(port), true};
}

}  // namespace arc::config
