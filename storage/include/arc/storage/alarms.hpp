// Purpose: persistence of the alarm engine: its changes written as alarm rows and an alarm log,
// the open alarms read back for engine::rebuild, the event cursor, and alarm history queries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arc/engine/alarm.hpp"
#include "arc/storage/store.hpp"

namespace arc::storage {

/// One batch of engine changes to persist inside a writer job.
struct alarm_batch {
    arc::engine::changes changes;
    /// Full copies of alarms created by these changes (an `opened` alarm, the storm alarm of a
    /// `storm_grouped`), taken right after the engine call: the row is inserted from them.
    std::vector<arc::engine::alarm> created;
    /// Highest events.id whose changes this batch completes (0: leave the cursor alone).
    std::int64_t event_cursor = 0;
    /// Rows that belong with these changes (a phone report's case and its audit entry), written
    /// in the same transaction after them: all are stored or none.
    std::vector<std::function<void(database&)>> also;
};

/// Persists a batch in the order of its changes (call inside a writer job; throws
/// storage_error). A change on an alarm without a row (no `created` copy) inserts the row from
/// the change's header, with empty code, zone and text.
void persist_alarm_batch(database& db, const alarm_batch& batch);

/// meta 'engine_event_cursor' (0 when unset).
std::int64_t engine_event_cursor(database& db);

/// What rebuild needs: the open alarms reconstructed (timeline, notes, escalated_at, members,
/// team, restored_at), the highest alarm id ever assigned, and the cursor.
struct alarm_snapshot {
    std::vector<arc::engine::alarm> open;  ///< by id
    arc::engine::alarm_id max_id = 0;
    std::int64_t event_cursor = 0;
};

/// Reads the open alarms back (a few queries whatever their number).
alarm_snapshot load_open_alarms(database& db);

/// Events with id > after_id that were accepted (accepted=1), oldest first, at most limit (for
/// replay after a crash).
std::vector<event_record> events_after(database& db, std::int64_t after_id, std::size_t limit);

/// An alarm row (open or closed) for display.
struct alarm_row {
    arc::engine::alarm_header header;
    std::string code, zone, text, team, outcome;
    std::optional<std::int64_t> closed_ms, restored_ms;
    std::int64_t first_event_id = 0;
};

/// One line of an alarm's log: a change as persisted.
struct alarm_log_entry {
    std::int64_t id = 0;
    std::int64_t alarm_id = 0;
    std::int64_t at_ms = 0;
    std::string change;  ///< engine::to_string(change_kind)
    std::int64_t event_id = 0;
    std::string actor;
    std::string from_state, to_state;  ///< empty unless a lifecycle step
    std::string detail;
};

/// An alarm by id, open or closed.
std::optional<alarm_row> find_alarm(database& db, arc::engine::alarm_id id);

/// The log of alarm `id`, oldest first, at most `limit` entries.
std::vector<alarm_log_entry> alarm_log_for(database& db, arc::engine::alarm_id id,
                                           std::size_t limit);

/// Ids of the members of storm `id` (open and closed), ascending.
std::vector<arc::engine::alarm_id> storm_members(database& db, arc::engine::alarm_id id,
                                                 std::size_t limit);

/// Alarms of an account, newest first (history for installers/operators).
std::vector<alarm_row> alarms_for_account(database& db, std::string_view account,
                                          std::size_t limit);

}  // namespace arc::storage
