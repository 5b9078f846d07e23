// Purpose: arcd's side of the alarm engine: turns committed frames into engine events, persists
// every change through the storage writer, pushes committed changes to subscribers, runs the
// engine's timer, answers operator actions once they are on disk, and rebuilds at start.
// No Asio here: the server gives it a writer hook and a timer hook.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "arc/config/event_codes.hpp"
#include "arc/engine/engine.hpp"
#include "arc/protocol/dc09.hpp"
#include "arc/protocol/scaip.hpp"
#include "arc/protocol/surgard.hpp"
#include "arc/security/audit_chain.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/cases.hpp"
#include "arc/storage/store.hpp"

namespace arc::daemon {

/// What the alarm service needs from the daemon's event loop (all called on the io thread).
struct alarm_service_hooks {
    /// Runs `work` inside a writer transaction; `done` runs on the io thread after the commit.
    std::function<void(storage::writer::job, storage::writer::job_done)> run_job;
    /// Arms the one engine timer: on_timer() is to be called at `deadline` (nullopt: none).
    std::function<void(std::optional<engine::time_point> deadline)> arm_timer;
    /// Calls `fn` on the io thread after `delay` (retry of a failed persistence).
    std::function<void(std::chrono::milliseconds delay, std::function<void()> fn)> call_later;
};

/// A subscriber's sink: takes one push line ("...\n"); returns false when the subscriber is too
/// far behind, which ends its subscription (the session then tells the client and closes).
using push_sink = std::function<bool(const std::shared_ptr<const std::string>& line)>;

/// Operator actions on an alarm (DESIGN.md lifecycle).
enum class alarm_action : std::uint8_t {
    take,
    acknowledge,
    dispatch,
    close,
    note,
    release,
    reassign,
    call,
    accept,    ///< mission steps of the team (admin_missions.cpp)
    decline,   ///< text: reason
    depart,    ///< on the way
    arrive,    ///< on site
    complete,  ///< text: outcome, note: the team's note
};

/// One operator action as requested.
struct action_request {
    alarm_action action = alarm_action::take;
    engine::alarm_id id = 0;
    std::string actor;
    std::string text;  ///< team (dispatch), outcome (close), note text (note), new holder
                       ///< (reassign), "whom number outcome" (call)
    /// Dispatch: the instructions for the team; complete: the team's note.
    std::string note;
    /// An operator of the operator API: steps other than take on an alarm someone else holds
    /// are refused ("held by X"). False for supervisors, admins and the admin socket.
    bool holder_only = false;
};

/// A phone report to open (engine::open_case) with its case row.
struct case_request {
    engine::alarm_class cls = engine::alarm_class::urgent;
    std::string account;          ///< the subscriber's device when there is one, else empty
    std::string text;             ///< the alarm's text in queues (not the sealed summary)
    bool take = true;             ///< taken at once by the operator on the phone
    storage::phone_case details;  ///< alarm_id is set here; created_by is the actor
};

/// The answer to an action: `error_code` empty on success (then `alarm` is the ALARM after it).
struct action_result {
    std::string error_code;  ///< "", "not_found", "invalid", "held", "busy", "internal"
    std::string message;
    nlohmann::json alarm;
};

class alarm_service {
public:
    /// Limits of the persistence pipeline.
    static constexpr std::size_t max_advance_slice = 5000;  ///< timer changes per io-loop turn
    static constexpr std::size_t max_push_members = 100;    ///< member ids in one CHANGE

    alarm_service(engine::engine_config config, config::event_code_map codes,
                  alarm_service_hooks hooks);
    alarm_service(const alarm_service&) = delete;
    alarm_service& operator=(const alarm_service&) = delete;

    /// At start: the engine from what storage holds (open alarms with levels and timelines,
    /// devices with their last-seen times, the highest alarm id).
    void rebuild(storage::database& db, engine::time_point now);

    /// Re-runs the decision table on a stored frame (for replay); nullopt when it cannot.
    using redecoder =
        std::function<std::optional<protocol::dc09_result>(const storage::event_record& rec)>;
    /// Feeds again the events committed after the engine cursor (a crash came between an
    /// event's commit and its alarm changes' commit). Returns how many events it fed.
    std::size_t replay(storage::database& db, const redecoder& redecode, engine::time_point now);
    /// Re-parses a stored serial receiver line (for replay); nullopt for any other record.
    using line_redecoder =
        std::function<std::optional<protocol::receiver_result>(const storage::event_record& rec)>;
    /// As replay, and the lines of serial receivers that `redecode_line` recognises are fed
    /// again too (through normalise(receiver_result)).
    std::size_t replay(storage::database& db, const redecoder& redecode,
                       const line_redecoder& redecode_line, engine::time_point now);

    /// The engine events one decoded frame carries: none for a frame that was not accepted, one
    /// log-only "seen" event for a link test, one per SIA event, one for Contact ID.
    void normalise(const protocol::dc09_result& result, std::int64_t received_ms,
                   std::vector<engine::event>& out) const;
    /// The engine events of a serial receiver line (PROTOCOLS.md §5): none for a heartbeat or a
    /// line not accepted, one for Contact ID or a basic-format line, one per SIA event.
    void normalise(const protocol::receiver_result& result, std::int64_t received_ms,
                   std::vector<engine::event>& out) const;
    /// The engine event of a SCAIP <mrq> (PROTOCOLS.md §4): mty=PI a log-only heartbeat that
    /// supervision counts, mty=RE a log-only abort, else `stc` through the map's scaip table
    /// (omitted stc = alarm state, classified as 0010; a fall trigger's alarm is a fall).
    void normalise(const protocol::scaip_request& request, std::int64_t received_ms,
                   std::vector<engine::event>& out) const;
    /// Routine (periodic tests, link tests, frames not accepted) or alarm lane.
    static storage::lane lane_of(const std::vector<engine::event>& events) noexcept;

    /// Feeds the events of a frame committed as `event_id`.
    void ingest(std::int64_t event_id, std::vector<engine::event>& events, engine::time_point now);
    /// The engine timer is due.
    void on_timer(engine::time_point now);

    /// Runs an operator action; `done` is called once: at once for a refused step, after the
    /// commit of its changes otherwise.
    void act(const action_request& request, engine::time_point now,
             std::function<void(action_result)> done);

    /// Opens a phone report: the alarm, its case row and `audit` are stored in one transaction;
    /// `done` is called after that commit (with the new ALARM) or at once when refused.
    void open_case(case_request request, security::audit_entry audit, engine::time_point now,
                   std::function<void(action_result)> done);

    /// A device was added or changed (after its row committed).
    void set_device(const storage::device& device, engine::time_point now);
    /// A device was removed (after its row was deleted).
    void remove_device(std::string_view account);

    /// `{"open":N,"alarms":[ALARM…]}`, the first `limit` in queue order.
    nlohmann::json list(std::size_t limit) const;
    /// Subscribes `sink` to every committed change; returns its token and the subscribe result
    /// `{"subscribed":true,"seq":S,"open":N,"alarms":[…]}`; pushes continue from seq S+1.
    std::pair<std::uint64_t, nlohmann::json> subscribe(push_sink sink, std::size_t limit);
    /// Subscribes `sink` to the missions of `team` (compared case-insensitively): after each
    /// committed change of an alarm dispatched to the team, or one that was and is no longer
    /// (declined, dispatched elsewhere, closed), `{"push":"mission","alarm":ID,"seq":S}`. A
    /// small line, for a team's terminal on a slow link: it then asks for mission.list.
    std::uint64_t subscribe_team(std::string team, push_sink sink);
    void unsubscribe(std::uint64_t token);
    /// True when no change waits to be persisted (for a clean shutdown).
    bool idle() const noexcept;
    /// Counters for status.
    nlohmann::json stats() const;

    const engine::engine& alarm_engine() const noexcept { return engine_; }
    /// How many missions each team has open (dispatched to it and not done, declined or
    /// closed); keyed by the team name in lower case.
    std::map<std::string, int> open_missions() const;

private:
    struct batch {
        storage::alarm_batch data;
        std::vector<std::function<void(std::error_code)>> waiters;
    };
    void absorb(engine::changes&& out, std::int64_t event_cursor,
                std::function<void(std::error_code)> waiter = {},
                std::function<void(storage::database&)> also = {});
    void flush();
    void publish(const engine::changes& out);
    void publish_team(const engine::change& c);
    void rearm();

    engine::engine engine_;
    config::event_code_map codes_;
    alarm_service_hooks hooks_;
    std::unique_ptr<batch> pending_;
    bool in_flight_ = false;
    bool stopped_ = false;
    std::uint64_t seq_ = 0;
    std::uint64_t next_token_ = 1;
    std::map<std::uint64_t, push_sink> subscribers_;
    struct team_subscriber {
        std::string team;
        push_sink sink;
        std::set<engine::alarm_id> known;  ///< open alarms of the team's, as last pushed
    };
    std::map<std::uint64_t, team_subscriber> team_subscribers_;
    std::uint64_t persisted_batches_ = 0;
    std::uint64_t persisted_changes_ = 0;
    std::uint64_t failed_batches_ = 0;
    std::uint64_t replayed_events_ = 0;
};

/// The engine's configuration from arcd's `[engine]` section.
engine::engine_config to_engine_config(const config::daemon_config& cfg);

}  // namespace arc::daemon
