#include "metrics.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace arc::daemon {

using nlohmann::json;

void latency_histogram::observe(double seconds) noexcept {
    ++count;
    sum_s += seconds;
    for (std::size_t i = 0; i < bounds_s.size(); ++i) {
        if (seconds <= bounds_s[i]) {
            ++buckets[i];
        }
    }
}

namespace {

class writer {
public:
    void head(std::string_view name, std::string_view type, std::string_view help) {
        fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                       type);
    }
    void sample(std::string_view name, std::string_view labels, double value) {
        if (labels.empty()) {
            fmt::format_to(std::back_inserter(out_), "{} {}\n", name, value);
        } else {
            fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, value);
        }
    }
    void one(std::string_view name, std::string_view type, std::string_view help, double value) {
        head(name, type, help);
        sample(name, "", value);
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

double number(const json& j, std::string_view key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}

const json& object(const json& j, std::string_view key) {
    static const json empty = json::object();
    const auto it = j.find(key);
    return it != j.end() && it->is_object() ? *it : empty;
}

}  // namespace

std::string render_metrics(const json& status, const latency_histogram& store_latency,
                           const std::vector<engine::alarm>& open, engine::time_point now) {
    writer w;
    const json& c = object(status, "counters");
    w.head("arc_build_info", "gauge", "arcd version");
    w.sample("arc_build_info",
             fmt::format("version=\"{}\"", status.value("version", std::string{"unknown"})), 1);
    w.one("arc_uptime_seconds", "gauge", "Seconds since arcd started", number(status, "uptime_s"));
    w.one("arc_frames_total", "counter", "DC-09 frames received", number(c, "frames"));
    w.one("arc_bytes_in_total", "counter", "Bytes received from devices", number(c, "bytes_in"));
    w.one("arc_bytes_out_total", "counter", "Bytes sent to devices", number(c, "bytes_out"));
    w.head("arc_replies_total", "counter", "Replies sent to devices, by kind");
    w.sample("arc_replies_total", "kind=\"ack\"", number(c, "ack"));
    w.sample("arc_replies_total", "kind=\"ack_encrypted\"", number(c, "ack_encrypted"));
    w.sample("arc_replies_total", "kind=\"nak\"", number(c, "nak"));
    w.sample("arc_replies_total", "kind=\"duh\"", number(c, "duh"));
    w.sample("arc_replies_total", "kind=\"none\"", number(c, "no_reply"));
    w.one("arc_oversize_frames_total", "counter", "Frames discarded as too long",
          number(c, "oversize_frames"));
    w.one("arc_store_rejected_total", "counter", "Events refused by a full or failed writer",
          number(c, "store_rejected"));
    w.one("arc_tcp_connections", "gauge", "Device TCP connections open now",
          number(c, "tcp_connections_open"));
    w.one("arc_tcp_rejected_total", "counter", "Device TCP connections refused at the limit",
          number(c, "tcp_rejected"));
    w.one("arc_udp_datagrams_total", "counter", "Device UDP datagrams received",
          number(c, "udp_datagrams"));
    w.one("arc_udp_dropped_total", "counter", "Device UDP datagrams dropped",
          number(c, "udp_dropped"));

    const json& rc = object(object(status, "receivers"), "counters");
    w.one("arc_receiver_lines_total", "counter", "Lines from serial/TCP alarm receivers",
          number(rc, "lines"));
    w.head("arc_receiver_replies_total", "counter", "Replies to alarm receivers, by kind");
    w.sample("arc_receiver_replies_total", "kind=\"ack\"", number(rc, "ack"));
    w.sample("arc_receiver_replies_total", "kind=\"nak\"", number(rc, "nak"));

    w.head("arc_store_latency_seconds", "histogram",
           "From an event handed to the writer to its commit (what each ACK waits for)");
    for (std::size_t i = 0; i < latency_histogram::bounds_s.size(); ++i) {
        w.sample("arc_store_latency_seconds_bucket",
                 fmt::format("le=\"{}\"", latency_histogram::bounds_s[i]),
                 static_cast<double>(store_latency.buckets[i]));
    }
    w.sample("arc_store_latency_seconds_bucket", "le=\"+Inf\"",
             static_cast<double>(store_latency.count));
    w.sample("arc_store_latency_seconds_sum", "", store_latency.sum_s);
    w.sample("arc_store_latency_seconds_count", "", static_cast<double>(store_latency.count));

    const json& st = object(status, "storage");
    w.one("arc_writer_queue_items", "gauge", "Items waiting for the writer", number(st, "queued"));
    w.one("arc_writer_failed_batches_total", "counter", "Transactions that failed to commit",
          number(st, "failed_batches"));

    // Open alarms by class and state; the storm members are counted in their storm's class too.
    constexpr std::array classes{config::alarm_class::critical, config::alarm_class::urgent,
                                 config::alarm_class::technical, config::alarm_class::log_only};
    constexpr std::array states{
        engine::alarm_state::new_alarm,    engine::alarm_state::taken,
        engine::alarm_state::acknowledged, engine::alarm_state::dispatched,
        engine::alarm_state::accepted,     engine::alarm_state::on_the_way,
        engine::alarm_state::on_site,      engine::alarm_state::mission_done};
    w.head("arc_open_alarms", "gauge", "Open alarms by class and state");
    for (const auto cls : classes) {
        for (const auto state : states) {
            const auto n = std::count_if(open.begin(), open.end(), [&](const engine::alarm& a) {
                return a.cls == cls && a.state == state;
            });
            w.sample("arc_open_alarms",
                     fmt::format("class=\"{}\",state=\"{}\"", config::to_string(cls),
                                 engine::to_string(state)),
                     static_cast<double>(n));
        }
    }
    std::optional<engine::time_point> oldest;
    std::size_t silent = 0;
    for (const engine::alarm& a : open) {
        if (a.state == engine::alarm_state::new_alarm && !a.storm_id &&
            (!oldest || a.opened_at < *oldest)) {
            oldest = a.opened_at;
        }
        if (a.kind == config::event_kind::device_silent && !a.storm) {
            ++silent;
        }
    }
    const double oldest_s =
        oldest ? std::max(0.0, std::chrono::duration<double>(now - *oldest).count()) : 0.0;
    w.one("arc_oldest_untaken_alarm_age_seconds", "gauge",
          "Age of the oldest alarm no operator has taken (0 when none)", oldest_s);
    w.one("arc_silent_devices", "gauge", "Devices with an open 'device silent' alarm",
          static_cast<double>(silent));
    w.one("arc_consoles_connected", "gauge", "Consoles subscribed to the alarm queue",
          number(object(status, "alarms"), "subscribers"));
    return w.take();
}

}  // namespace arc::daemon
