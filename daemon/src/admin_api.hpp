// Purpose: the admin API's command handling (docs/admin-api.md) as a function from a request
// line to a response, over a small backend interface: testable without sockets.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "import_staging.hpp"
#include "registry.hpp"
#include <nlohmann/json.hpp>

#include "arc/security/session_token.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/store.hpp"

namespace arc::daemon {

class alarm_service;
class retention_service;

/// Who is logged in on an operator-API connection (docs/operator-api.md).
struct operator_identity {
    std::int64_t operator_id = 0;
    std::string username;
    arc::storage::operator_role role = arc::storage::operator_role::operator_;
    arc::security::token_hash token{};  ///< the session's key in the sessions table
    std::int64_t expires_ms = 0;
    std::string display_name;
};

/// How long an operator session lasts from its login: one long shift (12 h). A console that
/// reconnects inside it resumes with its token; after it, the operator logs in again.
inline constexpr std::int64_t operator_session_ms = std::int64_t{12} * 3600 * 1000;

/// Who the audit trail names for a request: the logged-in operator and its peer on the operator
/// API, "admin-socket" on the Unix socket.
struct audit_source {
    std::string actor = "admin-socket";
    std::string peer;
};

/// The connection a request came on, for commands that outlive the request (subscriptions).
class admin_session {
public:
    virtual ~admin_session() = default;
    /// Subscribes this connection to alarm changes; returns the subscribe result.
    virtual nlohmann::json subscribe(std::size_t limit) = 0;
    /// Subscribes this connection to the mission pushes of `team` (alarm_service::
    /// subscribe_team); false when the connection cannot take pushes.
    virtual bool subscribe_missions(const std::string& /*team*/) { return false; }

    /// True on the operator API (TCP): login first, then the role's commands only. False on the
    /// admin Unix socket (full rights, actor "admin-socket").
    bool operator_api = false;
    /// The logged-in operator (operator API only; handle_admin_line sets and clears it).
    std::optional<operator_identity> who;
    /// The connection speaks TLS (operator API with [operator_tls]).
    bool tls_on = false;
    /// "ip:port" of the client, for the audit trail ("" on the Unix socket).
    std::string peer;
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
    /// Outcome codes alarm.close accepts on the operator API (config [alarms] outcomes).
    virtual std::vector<std::string> outcomes() {
        return {"resolved_by_phone", "contact_went",    "team_dispatched",    "118_called",
                "false_alarm",       "technical_fixed", "no_answer_escalated"};
    }
    /// The retention job (hold.*, retention.run); nullptr: none (those commands are refused).
    virtual retention_service* retention() { return nullptr; }
    /// Usernames logged in on operator-API connections now (for the supervisor's floor).
    virtual std::vector<std::string> online_operators() { return {}; }
    /// Password checks (argon2id, ~0.1 s each) off the caller's thread: runs `work` on a small
    /// worker, then `done` on the caller's thread. False (nothing runs) when its bounded queue is
    /// full. The default runs both inline (tests).
    virtual bool run_auth(std::function<void()> work, std::function<void()> done) {
        work();
        done();
        return true;
    }
    /// CSV imports staged between requests (import.begin/rows/commit, admin_import.cpp); used
    /// on the caller's thread only.
    import_staging& imports() { return imports_; }

private:
    import_staging imports_;
};

/// Receives the response object of one request.
using admin_respond = std::function<void(nlohmann::json response)>;

/// Handles one request line (without the '\n'); calls `respond` exactly once, inline for reads
/// and after the commit for writes. `session` is the connection (nullptr: none, then
/// alarms.subscribe is refused). Never throws.
void handle_admin_line(std::string_view line, admin_backend& backend, admin_respond respond,
                       admin_session* session = nullptr);

/// device.add's rules on `req` (account, protocol, key, mode, label, type, interval_s,
/// vendor; not subscriber) into `out`; the refusal's message ("key: must be ...") or nullopt.
std::optional<std::string> device_from_request(const nlohmann::json& req,
                                               arc::storage::device& out);

/// `{"id":id,"ok":false,"error":{"code":code,"message":message}}`.
nlohmann::json admin_error(const nlohmann::json& id, std::string_view code,
                           std::string_view message);

/// `{"id":id,"ok":true,"result":result}`.
nlohmann::json admin_ok(const nlohmann::json& id, nlohmann::json result);

/// Serialises a response line (invalid UTF-8 from devices is replaced, never thrown on).
std::string dump_line(const nlohmann::json& response);

}  // namespace arc::daemon
