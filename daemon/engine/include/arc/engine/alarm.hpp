// Purpose: the engine's values: the normalised event it is fed, the alarm it keeps, the device
// state it supervises, and the change records it returns for persistence and consoles.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arc/config/event_codes.hpp"

namespace arc::engine {

using arc::config::alarm_class;
using arc::config::event_kind;

/// Wall-clock instants; the engine never reads a clock, every call is given `now`.
using time_point = std::chrono::system_clock::time_point;
/// Durations in the engine's resolution.
using duration = std::chrono::milliseconds;
/// Alarm identifiers, assigned by the engine in increasing order (persisted as the row id).
using alarm_id = std::uint64_t;

/// Milliseconds since the epoch, the form storage keeps.
std::int64_t to_ms(time_point t) noexcept;
/// The instant `ms` milliseconds after the epoch.
time_point from_ms(std::int64_t ms) noexcept;

/// DESIGN.md lifecycle: new → taken → acknowledged → [dispatched → accepted → on_the_way →
/// on_site → mission_done] → closed; a declined mission goes back to acknowledged. Storage keeps
/// the names (to_string), not the numbers.
enum class alarm_state : std::uint8_t {
    new_alarm,
    taken,
    acknowledged,
    dispatched,
    accepted,
    on_the_way,
    on_site,
    mission_done,
    closed,
};

/// A device's mode: active alarms are queued; test events are recorded only; retired per config.
enum class device_mode : std::uint8_t { active, test, retired };

/// "new", "taken", ... "closed".
std::string_view to_string(alarm_state value) noexcept;
/// "active", "test", "retired".
std::string_view to_string(device_mode value) noexcept;

/// The DC-09 identity of a frame, for recognising retransmissions.
struct dc09_identity {
    std::string account;
    std::string seq;   ///< 4 digits; empty: no retransmission check
    std::string data;  ///< the data block as received
};

/// One received event after decoding and the event-code map (the engine's only input from
/// devices).
struct event {
    std::uint64_t event_id = 0;  ///< row id in storage's events table
    std::string account;         ///< device account
    std::string device_type;     ///< "home_unit", "pendant", ...; selects supervision defaults
    device_mode mode = device_mode::active;  ///< used when the engine does not know the device
    time_point received;
    alarm_class cls = alarm_class::urgent;
    event_kind kind = event_kind::unknown;  ///< for a restore: the kind it restores
    bool is_restore = false;
    std::string code;  ///< as received ("QA", "1101"), for display
    std::string zone;
    std::string text;  ///< label from the map, or vendor text
    std::optional<dc09_identity> dc09;
};

/// Copies what the event-code map said (class, kind, restore, Italian label) into `ev`; the
/// daemon's normalisation step between the decoded frame and ingest().
void apply_classification(event& ev, const arc::config::classification& c);

/// One step of an alarm's timeline: who moved it, when, from where to where.
struct transition_record {
    alarm_state from = alarm_state::new_alarm;
    alarm_state to = alarm_state::new_alarm;
    time_point at;
    std::string actor;   ///< operator, team, or "system" for restores and storms
    std::string detail;  ///< team on dispatch, outcome on close
};

/// An operator's note on an alarm.
struct note {
    time_point at;
    std::string author;
    std::string text;
};

/// What an operator handles: one or more events of one device and kind, or a storm.
struct alarm {
    alarm_id id = 0;
    alarm_class cls = alarm_class::urgent;
    event_kind kind = event_kind::unknown;
    alarm_state state = alarm_state::new_alarm;
    int level = 0;  ///< escalation level: 0, then 1, 2 as the class's timers pass untaken
    std::string account;
    std::string code;
    std::string zone;
    std::string text;
    std::string holder;   ///< operator who took it
    std::string team;     ///< team dispatched
    std::string outcome;  ///< set when closed
    time_point opened_at;
    time_point last_event_at;
    std::uint32_t event_count = 1;  ///< events merged into it, retransmissions excluded
    std::uint64_t first_event_id = 0;
    std::optional<time_point> restored_at;  ///< a restore arrived (critical/urgent stay open)
    std::vector<time_point> escalated_at;   ///< [i] = when level i+1 was reached
    std::vector<transition_record> timeline;
    std::vector<note> notes;
    bool storm = false;                ///< a storm alarm grouping `members`
    std::vector<alarm_id> members;     ///< storm alarm: the grouped alarms
    std::optional<alarm_id> storm_id;  ///< member: the storm alarm it belongs to
};

/// What a change record says happened.
enum class change_kind : std::uint8_t {
    opened,         ///< a new alarm (in the queue unless storm member)
    merged,         ///< a duplicate event joined an open alarm
    retransmitted,  ///< a DC-09 retransmission: ACK again, count nothing
    transitioned,   ///< lifecycle step (operator, team or system)
    escalated,      ///< level raised by a timer
    restore_noted,  ///< restore on an alarm an operator must close
    closed,         ///< left the queue (outcome set)
    noted,          ///< operator note added
    storm_grouped,  ///< storm alarm opened, members moved into it
    storm_joined,   ///< one more member joined an open storm
    test_event,     ///< event from a device in test mode: recorded, never queued
    ignored,        ///< event of a retired device under the record-only policy
    logged,         ///< log-only event (periodic test, open/close, restore with nothing open)
    mode_changed,   ///< a device's mode changed (test mode ended by itself)
    storm_closed,   ///< a closed storm closed its open members, listed in `members`
};

/// "opened", "merged", ...
std::string_view to_string(change_kind value) noexcept;

/// The scalar fields of an alarm after a change: enough to upsert the alarm row and to redraw
/// a console line, without copying timelines or member lists.
struct alarm_header {
    alarm_id id = 0;
    alarm_class cls = alarm_class::urgent;
    event_kind kind = event_kind::unknown;
    alarm_state state = alarm_state::new_alarm;
    int level = 0;
    std::string account;
    std::string holder;
    time_point opened_at;
    time_point last_event_at;
    std::uint32_t event_count = 0;
    bool storm = false;
    std::optional<alarm_id> storm_id;
};

/// One change, for the storage writer (persist) and the subscription (push to consoles).
struct change {
    change_kind kind = change_kind::opened;
    time_point at;
    std::uint64_t event_id = 0;  ///< the event that caused it, 0 for timers and operators
    /// State after the change. Id 0 when no alarm is involved (test_event, ignored, logged,
    /// retransmitted, mode_changed): then only `account` is set, naming the device.
    alarm_header alarm;
    std::optional<transition_record> transition;  ///< transitioned / closed
    std::string actor;                            ///< operator or "system"
    std::string detail;                           ///< note text, outcome, test-mode end, ...
    /// Mission steps: the dispatch's instructions, the decline's reason, the team's note on
    /// mission done (detail then holds the team, "declined: reason", the outcome).
    std::string note;
    /// storm_grouped: members moved; storm_joined: the one; storm_closed: the members closed
    /// with it (each from new to closed, with `transition` and `detail` as outcome).
    std::vector<alarm_id> members;
};

/// A batch of changes in the order they happened.
using changes = std::vector<change>;

/// The header of `a`.
alarm_header header_of(const alarm& a);

/// What the engine knows of a device between events.
struct device_state {
    std::string account;
    std::string device_type;
    device_mode mode = device_mode::active;
    std::optional<time_point> test_until;  ///< test mode ends by itself then
    std::optional<duration> interval;      ///< supervision override; empty: the type's default
    std::optional<time_point> last_seen;
    std::string vendor;  ///< selects the per-vendor event-code table
    /// Its subscriber is away or in hospital until then (time_point::max(): no end set):
    /// supervision raises no "device silent" alarm and inactivity events are only logged
    /// before that instant; every other alarm is raised as usual.
    std::optional<time_point> paused_until;
};

}  // namespace arc::engine
