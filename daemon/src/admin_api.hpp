// Purpose: the admin API's command handling (docs/admin-api.md) as a function from a request
// line to a response, over a small backend interface: testable without sockets.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "registry.hpp"
#include <nlohmann/json.hpp>

#include "arc/storage/store.hpp"

namespace arc::daemon {

class alarm_service;

/// The connection a request came on, for commands that outlive the request (subscriptions).
class admin_session {
public:
    virtual ~admin_session() = default;
    /// Subscribes this connection to alarm changes; returns the subscribe result.
    virtual nlohmann::json subscribe(std::size_t limit) = 0;
};

/// What command handling needs from the daemon.
class admin_backend {
public:
    virtual ~admin_backend() = default;
    /// The status command's result.
    virtual nlohmann::json status() = 0;
    /// A read connection for list/show/events (owned by the caller's thread).
    virtual arc::storage::database& read_db() = 0;
    /// The hot-path device map; updated by command handling after a write commits.
    virtual device_registry& registry() = 0;
    /// Runs `work` inside a writer transaction; `done` runs afterwards on the caller's thread
    /// (errc::queue_full when the writer refused it).
    virtual void run_job(arc::storage::writer::job work, arc::storage::writer::job_done done) = 0;
    /// Unix milliseconds now.
    virtual std::int64_t now_ms() = 0;
    /// The alarm engine's side of the daemon.
    virtual alarm_service& alarms() = 0;
    /// Long work off the caller's thread (a backup): gets a flag that turns true when arcd
    /// stops, and must not throw.
    using blocking_work = std::function<void(const std::atomic<bool>& cancelled)>;
    /// Runs `work` on a worker thread, then `done` on the caller's thread. False (and nothing
    /// runs) while an earlier one is still running: one at a time.
    virtual bool run_blocking(blocking_work work, std::function<void()> done) = 0;
    /// The database file (storage.path), which backups copy.
    virtual std::filesystem::path database_path() = 0;
};

/// Receives the response object of one request.
using admin_respond = std::function<void(nlohmann::json response)>;

/// Handles one request line (without the '\n'); calls `respond` exactly once, inline for reads
/// and after the commit for writes. `session` is the connection (nullptr: none, then
/// alarms.subscribe is refused). Never throws.
void handle_admin_line(std::string_view line, admin_backend& backend, admin_respond respond,
                       admin_session* session = nullptr);

/// `{"id":id,"ok":false,"error":{"code":code,"message":message}}`.
nlohmann::json admin_error(const nlohmann::json& id, std::string_view code,
                           std::string_view message);

/// `{"id":id,"ok":true,"result":result}`.
nlohmann::json admin_ok(const nlohmann::json& id, nlohmann::json result);

/// Serialises a response line (invalid UTF-8 from devices is replaced, never thrown on).
std::string dump_line(const nlohmann::json& response);

}  // namespace arc::daemon
