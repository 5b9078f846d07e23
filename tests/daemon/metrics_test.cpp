// render_metrics on known inputs: the figures a Prometheus dashboard would show.
#include "metrics.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace {

using arc::daemon::latency_histogram;
using arc::daemon::render_metrics;
namespace engine = arc::engine;
using namespace std::chrono_literals;

engine::alarm make(engine::alarm_id id, arc::config::alarm_class cls, engine::alarm_state state,
                   engine::time_point opened, arc::config::event_kind kind) {
    engine::alarm a;
    a.id = id;
    a.cls = cls;
    a.state = state;
    a.opened_at = opened;
    a.kind = kind;
    return a;
}

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(metrics, oldest_untaken_age_queue_by_class_and_silent_devices) {
    const engine::time_point now = engine::time_point{} + 1000h;
    const std::vector<engine::alarm> open{
        make(1, arc::config::alarm_class::critical, engine::alarm_state::new_alarm, now - 95s,
             arc::config::event_kind::fall),
        make(2, arc::config::alarm_class::technical, engine::alarm_state::new_alarm, now - 30s,
             arc::config::event_kind::device_silent),
        make(3, arc::config::alarm_class::critical, engine::alarm_state::taken, now - 600s,
             arc::config::event_kind::personal_emergency)};
    const nlohmann::json status{{"version", "9.9"},
                                {"counters", {{"frames", 12}, {"ack", 10}, {"nak", 2}}},
                                {"alarms", {{"subscribers", 3}}},
                                {"storage", {{"queued", 4}}}};
    latency_histogram h;
    h.observe(0.0004);
    h.observe(0.003);
    h.observe(7.0);
    const std::string text = render_metrics(status, h, open, now);
    EXPECT_TRUE(has_line(text, "arc_oldest_untaken_alarm_age_seconds 95")) << text;
    EXPECT_TRUE(has_line(text, "arc_open_alarms{class=\"critical\",state=\"new\"} 1")) << text;
    EXPECT_TRUE(has_line(text, "arc_open_alarms{class=\"critical\",state=\"taken\"} 1")) << text;
    EXPECT_TRUE(has_line(text, "arc_open_alarms{class=\"urgent\",state=\"new\"} 0")) << text;
    EXPECT_TRUE(has_line(text, "arc_silent_devices 1")) << text;
    EXPECT_TRUE(has_line(text, "arc_consoles_connected 3")) << text;
    EXPECT_TRUE(has_line(text, "arc_frames_total 12")) << text;
    EXPECT_TRUE(has_line(text, "arc_replies_total{kind=\"nak\"} 2")) << text;
    EXPECT_TRUE(has_line(text, "arc_writer_queue_items 4")) << text;
    EXPECT_TRUE(has_line(text, "arc_build_info{version=\"9.9\"} 1")) << text;
    // Cumulative buckets: 0.4 ms in every bucket, 3 ms from 5 ms up, 7 s only in +Inf.
    EXPECT_TRUE(has_line(text, "arc_store_latency_seconds_bucket{le=\"0.001\"} 1")) << text;
    EXPECT_TRUE(has_line(text, "arc_store_latency_seconds_bucket{le=\"0.005\"} 2")) << text;
    EXPECT_TRUE(has_line(text, "arc_store_latency_seconds_bucket{le=\"2.5\"} 2")) << text;
    EXPECT_TRUE(has_line(text, "arc_store_latency_seconds_bucket{le=\"+Inf\"} 3")) << text;
    EXPECT_TRUE(has_line(text, "arc_store_latency_seconds_count 3")) << text;
}

TEST(metrics, no_untaken_alarm_reads_zero_and_missing_status_fields_read_zero) {
    const engine::time_point now = engine::time_point{} + 1000h;
    const std::string text = render_metrics(nlohmann::json::object(), latency_histogram{}, {}, now);
    EXPECT_TRUE(has_line(text, "arc_oldest_untaken_alarm_age_seconds 0")) << text;
    EXPECT_TRUE(has_line(text, "arc_frames_total 0")) << text;
    EXPECT_TRUE(has_line(text, "# TYPE arc_store_latency_seconds histogram")) << text;
}

}  // namespace
