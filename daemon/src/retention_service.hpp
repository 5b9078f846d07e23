// Purpose: the retention job of arcd: the daily schedule (local time), the purge run in bounded
// low-priority writer batches, its audit entry and its state for `status`. No Asio: time, jobs
// and the timer come through hooks, so tests inject them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "admin_api.hpp"
#include <nlohmann/json.hpp>

#include "arc/config/daemon_config.hpp"
#include "arc/storage/retention.hpp"
#include "arc/storage/store.hpp"

namespace arc::daemon {

/// The first time strictly after `after` at which the local clock (the process time zone, TZ)
/// reads `minute_of_day` (minutes after 00:00). A time the clocks skip (spring forward) gives the
/// instant the clock jumps to plus the skipped minutes' offset as mktime(3) normalises it (02:30
/// becomes 03:30); a time that happens twice (autumn) gives one of its two instants, so each day
/// has one run.
std::chrono::system_clock::time_point next_daily_run(std::chrono::system_clock::time_point after,
                                                     int minute_of_day);

/// What the retention job needs from the daemon.
struct retention_hooks {
    /// Runs a job on the writer's routine lane; `done` afterwards on the caller's thread.
    std::function<void(arc::storage::writer::job, arc::storage::writer::job_done)> run_job;
    /// Calls `fn` after `delay` on the caller's thread (one pending at a time; a new call
    /// replaces the pending one).
    std::function<void(std::chrono::milliseconds delay, std::function<void()> fn)> arm;
    /// The wall clock.
    std::function<std::chrono::system_clock::time_point()> now;
};

/// What a purge run did (or, dry, would do).
struct retention_report {
    std::int64_t cutoff_ms = 0;
    arc::storage::purge_counts counts;
    std::int64_t batches = 0;
    std::int64_t started_ms = 0;
    std::int64_t finished_ms = 0;
    std::string by;     ///< the audit actor: "retention" for the daily run
    std::string error;  ///< empty when the run finished
    bool dry_run = false;
};

/// `{"cutoff":..., "events":n, "alarms":n, "alarm_log":n, "batches":n, ...}`.
nlohmann::json retention_report_to_json(const retention_report& r);

/// The retention job. Lives on one thread (arcd's io thread).
class retention_service {
public:
    retention_service(arc::config::retention_settings settings, retention_hooks hooks);

    /// Arms the daily run (nothing when days is 0).
    void start();
    /// No further batches or runs.
    void stop();

    using run_done = std::function<void(const retention_report&)>;
    /// Starts a purge run now; false when one is running (or retention is off or stopped).
    /// Each batch is a routine-lane writer job; the next is queued when the previous committed.
    /// The run ends with an audit entry "retention.purge" naming `who`, the cutoff and the counts
    /// (also when a batch failed), then `done`.
    bool run(audit_source who, run_done done);

    const arc::config::retention_settings& settings() const noexcept { return settings_; }
    bool running() const noexcept { return running_; }
    /// The next daily run (nullopt when off).
    std::optional<std::chrono::system_clock::time_point> next_run() const noexcept {
        return next_run_;
    }
    /// For `status`: settings, last run, next run, purged totals since start.
    nlohmann::json status() const;

private:
    void arm_next();
    void on_tick();
    void next_batch(std::shared_ptr<retention_report> report,
                    std::shared_ptr<arc::storage::purge_cursor> cursor, audit_source who,
                    run_done done);
    void finish(std::shared_ptr<retention_report> report, audit_source who, run_done done);

    arc::config::retention_settings settings_;
    retention_hooks hooks_;
    std::optional<std::chrono::system_clock::time_point> next_run_;
    std::optional<retention_report> last_;
    arc::storage::purge_counts total_;
    bool running_ = false;
    bool stopped_ = false;
};

}  // namespace arc::daemon
