// Purpose: retention (schema v6): legal holds and the bounded purge of old events and closed
// alarms that the daily job of arcd runs (docs/architecture.md, "Retention").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arc/storage/store.hpp"

namespace arc::storage {

/// What a legal hold keeps: one alarm (with its log, storm and events), everything of a
/// subscriber's devices, or everything of one device account.
enum class hold_scope : std::uint8_t { alarm, subscriber, account };
std::string_view to_string(hold_scope scope) noexcept;
std::optional<hold_scope> parse_hold_scope(std::string_view text) noexcept;

/// A row of legal_holds. `ref` is the alarm id, subscriber id (decimal) or device account.
struct legal_hold {
    std::int64_t id = 0;
    hold_scope scope = hold_scope::alarm;
    std::string ref;
    std::string reason;
    std::string created_by;
    std::int64_t created_ms = 0;
    std::string released_by;                  ///< empty while active
    std::optional<std::int64_t> released_ms;  ///< nullopt while active
    std::string release_reason;
};

/// Inserts a hold and returns its id. Throws storage_error.
std::int64_t insert_hold(database& db, const legal_hold& hold);
std::optional<legal_hold> find_hold(database& db, std::int64_t id);
/// Releases an active hold; false when there is none or it was released already.
bool release_hold(database& db, std::int64_t id, std::string_view by, std::int64_t at_ms,
                  std::string_view reason);
/// Active holds by id; with `include_released` the released ones too.
std::vector<legal_hold> list_holds(database& db, bool include_released);

/// Rows a purge removed (or a dry run would remove).
struct purge_counts {
    std::int64_t events = 0;
    std::int64_t alarms = 0;
    std::int64_t alarm_log = 0;  ///< timeline, notes, escalations, storm and event links
    purge_counts& operator+=(const purge_counts& other) noexcept {
        events += other.events;
        alarms += other.alarms;
        alarm_log += other.alarm_log;
        return *this;
    }
};

/// Where a purge run stands between its batches (closed alarms first, then events).
struct purge_cursor {
    std::int64_t alarm_after = 0;  ///< alarm ids up to this one have been looked at
    std::int64_t event_after = 0;  ///< event ids up to this one have been looked at
    bool alarms_done = false;
    bool events_done = false;
    bool done() const noexcept { return alarms_done && events_done; }
};

/// Unix ms before which rows are old for `days` of retention at `now_ms`.
constexpr std::int64_t retention_cutoff_ms(std::int64_t now_ms, int days) noexcept {
    return now_ms - std::int64_t{days} * 86400 * 1000;
}

/// One purge batch (call inside a transaction: a writer job): looks at the next `batch` alarm
/// rows, or once they are all done the next `batch` event rows, deletes those that are old and
/// kept by nothing, and advances `cursor`. Kept: open alarms, alarms closed at or after
/// `cutoff_ms`, held alarms (their storm alarm and members too), alarms and events of held
/// accounts and of the devices of held subscribers, events an alarm that is kept refers to,
/// events the engine has not processed (above its cursor), the newest alarm and event rows
/// (their ids must not be used again) and the audit trail. Throws storage_error.
purge_counts purge_batch(database& db, std::int64_t cutoff_ms, std::size_t batch,
                         purge_cursor& cursor);

/// What purge_batch calls up to cursor.done() would delete now; changes nothing.
purge_counts count_purgeable(database& db, std::int64_t cutoff_ms);

/// One alarm-log row that refers to an event, with its alarm's class and state now.
struct event_alarm_link {
    std::int64_t alarm_id = 0;
    std::string change;  ///< "opened", "merged", "retransmitted", "restore_noted", ...
    std::string alarm_class;
    std::string state;
};
/// What the alarm engine made of event `event_id`, oldest first (none: it only logged it, the
/// device was in test mode, or the engine has not seen it yet).
std::vector<event_alarm_link> alarms_of_event(database& db, std::int64_t event_id);

}  // namespace arc::storage
