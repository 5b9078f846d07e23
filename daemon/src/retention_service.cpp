#include "retention_service.hpp"

#include <algorithm>
#include <ctime>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arc/api/json.hpp"
#include "arc/storage/security.hpp"

namespace arc::daemon {

namespace {

using clock = std::chrono::system_clock;
namespace storage = arc::storage;

// The daily run re-checks the wall clock at least this often, so that a clock step (NTP, a
// manual change) moves it by at most this much instead of a day.
constexpr std::chrono::milliseconds max_wait{std::chrono::minutes(10)};

std::int64_t to_ms(clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The instant the local clock reads `minute_of_day` on the local date of `day` plus `add_days`
// (-1 when there is none). Of a wall time that happens twice (clocks go back), the first.
std::time_t local_at(std::time_t day, int add_days, int minute_of_day) {
    std::tm tm{};
    localtime_r(&day, &tm);
    tm.tm_mday += add_days;
    tm.tm_hour = minute_of_day / 60;
    tm.tm_min = minute_of_day % 60;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;  // let mktime decide summer or winter time for that date
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) {
        return t;
    }
    // mktime may pick either of two equal wall times; an hour earlier reading the same is the
    // first.
    const std::time_t earlier = t - 3600;
    std::tm e{};
    localtime_r(&earlier, &e);
    if (e.tm_year == tm.tm_year && e.tm_mon == tm.tm_mon && e.tm_mday == tm.tm_mday &&
        e.tm_hour == tm.tm_hour && e.tm_min == tm.tm_min) {
        return earlier;
    }
    return t;
}

}  // namespace

clock::time_point next_daily_run(clock::time_point after, int minute_of_day) {
    const std::time_t base = clock::to_time_t(after);
    for (int add = 0; add < 3; ++add) {
        const std::time_t t = local_at(base, add, minute_of_day);
        const clock::time_point at = clock::from_time_t(t);
        if (t != static_cast<std::time_t>(-1) && at > after) {
            return at;
        }
    }
    return after + std::chrono::hours(24);  // unreachable with a sane time zone
}

nlohmann::json retention_report_to_json(const retention_report& r) {
    nlohmann::json out{{"cutoff", arc::api::iso8601_utc_ms(r.cutoff_ms)},
                       {"events", r.counts.events},
                       {"alarms", r.counts.alarms},
                       {"alarm_log", r.counts.alarm_log},
                       {"dry_run", r.dry_run}};
    if (!r.dry_run) {
        out["batches"] = r.batches;
        out["started"] = arc::api::iso8601_utc_ms(r.started_ms);
        out["finished"] = arc::api::iso8601_utc_ms(r.finished_ms);
        out["by"] = r.by;
        out["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
    }
    return out;
}

retention_service::retention_service(config::retention_settings settings, retention_hooks hooks)
    : settings_(settings), hooks_(std::move(hooks)) {}

void retention_service::start() {
    if (settings_.days > 0) {
        next_run_ = next_daily_run(hooks_.now(), settings_.run_at_minute);
        arm_next();
    }
}

void retention_service::stop() { stopped_ = true; }

void retention_service::arm_next() {
    if (stopped_ || !next_run_) {
        return;
    }
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(*next_run_ - hooks_.now());
    hooks_.arm(std::clamp(wait, std::chrono::milliseconds(0), max_wait), [this] { on_tick(); });
}

void retention_service::on_tick() {
    if (stopped_ || !next_run_) {
        return;
    }
    const clock::time_point now = hooks_.now();
    if (now < *next_run_) {
        arm_next();
        return;
    }
    next_run_ = next_daily_run(now, settings_.run_at_minute);
    if (!run(audit_source{"retention", ""}, [](const retention_report& r) {
            if (r.error.empty()) {
                spdlog::info("retention: purged {} events, {} alarms before {}", r.counts.events,
                             r.counts.alarms, arc::api::iso8601_utc_ms(r.cutoff_ms));
            }
        })) {
        spdlog::warn("retention: the daily run was skipped: a run is still going");
    }
    arm_next();
}

bool retention_service::run(audit_source who, run_done done) {
    if (running_ || stopped_ || settings_.days <= 0) {
        return false;
    }
    running_ = true;
    auto report = std::make_shared<retention_report>();
    report->started_ms = to_ms(hooks_.now());
    report->cutoff_ms = storage::retention_cutoff_ms(report->started_ms, settings_.days);
    report->by = who.actor;
    next_batch(std::move(report), std::make_shared<storage::purge_cursor>(), std::move(who),
               std::move(done));
    return true;
}

void retention_service::next_batch(std::shared_ptr<retention_report> report,
                                   std::shared_ptr<storage::purge_cursor> cursor, audit_source who,
                                   run_done done) {
    if (stopped_) {
        report->error = "arcd stopped";
        finish(std::move(report), std::move(who), std::move(done));
        return;
    }
    // Written by the job on the writer thread, read after the hand-off back to ours.
    auto counted = std::make_shared<storage::purge_counts>();
    auto after = std::make_shared<storage::purge_cursor>(*cursor);
    const std::int64_t cutoff = report->cutoff_ms;
    const std::size_t batch = settings_.batch;
    hooks_.run_job(
        [counted, after, cutoff, batch](storage::database& db) {
            *counted = storage::purge_batch(db, cutoff, batch, *after);
        },
        [this, report, cursor, after, counted, who = std::move(who), done = std::move(done)](
            std::error_code ec, const std::string& message) mutable {
            if (ec) {
                report->error = message.empty() ? ec.message() : ec.message() + ": " + message;
                spdlog::error("retention: batch {} failed: {}", report->batches + 1, report->error);
                finish(std::move(report), std::move(who), std::move(done));
                return;
            }
            ++report->batches;
            report->counts += *counted;
            total_ += *counted;
            *cursor = *after;
            if (cursor->done()) {
                finish(std::move(report), std::move(who), std::move(done));
                return;
            }
            next_batch(std::move(report), std::move(cursor), std::move(who), std::move(done));
        });
}

void retention_service::finish(std::shared_ptr<retention_report> report, audit_source who,
                               run_done done) {
    report->finished_ms = to_ms(hooks_.now());
    std::string detail = fmt::format("days={} events={} alarms={} alarm_log={} batches={}",
                                     settings_.days, report->counts.events, report->counts.alarms,
                                     report->counts.alarm_log, report->batches);
    if (!report->error.empty()) {
        detail += " error=" + report->error;
    }
    arc::security::audit_entry entry{0,
                                     report->finished_ms,
                                     who.actor,
                                     "retention.purge",
                                     "cutoff " + arc::api::iso8601_utc_ms(report->cutoff_ms),
                                     who.peer,
                                     std::move(detail)};
    // The run's last job: written even when a batch failed, so that every run is in the trail.
    hooks_.run_job(
        [entry](storage::database& db) { storage::append_audit(db, entry); },
        [this, report, done = std::move(done)](std::error_code ec, const std::string& message) {
            if (ec) {
                spdlog::error("retention: audit entry not written: {} {}", ec.message(), message);
                if (report->error.empty()) {
                    report->error = "audit entry not written: " + ec.message();
                }
            }
            running_ = false;
            last_ = *report;
            done(*report);
        });
}

nlohmann::json retention_service::status() const {
    return nlohmann::json{
        {"days", settings_.days},
        {"run_at",
         fmt::format("{:02}:{:02}", settings_.run_at_minute / 60, settings_.run_at_minute % 60)},
        {"batch", settings_.batch},
        {"running", running_},
        {"next_run",
         next_run_ ? nlohmann::json(arc::api::iso8601_utc_ms(to_ms(*next_run_))) : nullptr},
        {"last_run", last_ ? retention_report_to_json(*last_) : nlohmann::json(nullptr)},
        {"purged_since_start",
         {{"events", total_.events}, {"alarms", total_.alarms}, {"alarm_log", total_.alarm_log}}}};
}

}  // namespace arc::daemon
