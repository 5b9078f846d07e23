// Purpose: arcd under systemd (Type=notify): READY/STATUS/STOPPING messages and the watchdog
// pings via sd_notify(3). Without NOTIFY_SOCKET every call is a no-op. Asio stays in the .cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "arc/storage/store.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace arc::daemon::systemd {

/// Sends `state` ("READY=1\nSTATUS=…", newline-separated assignments) to the service manager.
/// False when not sent (no NOTIFY_SOCKET, or the send failed: logged at debug level).
bool notify(std::string_view state);

/// READY=1 with a STATUS= line: call once every listener is bound, the engine is rebuilt from
/// storage and the event loop runs (arcd ACKs frames from then on).
void notify_ready(std::string_view status);

/// notify_ready(status) from io's thread once io.run() runs: the event loop is up by then.
void post_ready(boost::asio::io_context& io, std::string status);

/// STOPPING=1 with STATUS=stopping: a graceful shutdown has begun.
void notify_stopping();

/// Decides whether the storage writer is healthy for a watchdog ping: true when nothing is queued,
/// or when it committed or ran something since the previous call, or when items were queued only
/// since the previous call. So it is false only after a whole ping period with items waiting and
/// no commit: a writer stuck in one transaction means no ACKs, and the pings stop.
class writer_progress {
public:
    /// Feeds one snapshot (the writer's stats at this ping); returns whether to ping.
    bool update(const arc::storage::writer::stats& now) noexcept;

private:
    std::uint64_t done_ = 0;
    bool waiting_ = false;  ///< items were queued at the previous call
    bool first_ = true;
};

/// WATCHDOG=1 at half the interval sd_watchdog_enabled() reports (WatchdogSec=), sent from the
/// io_context's thread, so a hung event loop stops the pings; a ping is also skipped while
/// `healthy()` (called on that thread) says no. Off (start() does nothing) without a watchdog.
class watchdog {
public:
    watchdog(boost::asio::io_context& io, std::function<bool()> healthy);
    watchdog(const watchdog&) = delete;
    watchdog& operator=(const watchdog&) = delete;
    ~watchdog();

    /// The service manager's watchdog interval; zero when the watchdog is off.
    std::chrono::microseconds interval() const noexcept;
    /// Arms the ping timer when the watchdog is on (the first ping as soon as io.run() runs).
    void start();
    /// Cancels the pings (call on the io thread); io.run() then no longer waits for them.
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace arc::daemon::systemd
