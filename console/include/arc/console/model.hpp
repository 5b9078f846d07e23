// Purpose: the console's queue model: the open alarms in the server's queue order, built from
// an `alarms.subscribe` snapshot and kept right by the CHANGE pushes that follow it
// (docs/admin-api.md: ALARM, ALARM_HEADER, CHANGE). Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arc::console {

using alarm_id = std::uint64_t;

/// One line of the queue: the ALARM_HEADER fields a console shows.
struct queue_entry {
    alarm_id id = 0;
    std::string cls;  ///< critical, urgent, technical, log_only
    std::string kind;
    std::string state;
    int level = 0;
    std::string account;
    std::string holder;
    std::string opened;  ///< ISO-8601 with ms, as the server sent it
    std::int64_t opened_ms = 0;
    std::string last_event;
    std::uint64_t event_count = 0;
    bool storm = false;
    std::optional<alarm_id> storm_id;
    std::size_t members = 0;  ///< a storm's member count
};

/// What one change did to the queue, for the caller's side effects (bell, detail refresh).
struct change_effect {
    bool applied = false;           ///< false: stale (seq at or below the snapshot's) or no alarm
    bool opened_critical = false;   ///< a critical alarm opened (ring the bell)
    std::optional<alarm_id> alarm;  ///< the alarm the change was about
    std::vector<alarm_id> removed;  ///< alarms that left the queue
};

class queue_model {
public:
    /// Replaces the queue with an `alarms.subscribe` result (`seq`, `open`, `alarms`). Throws
    /// std::invalid_argument naming the field when it is not such a result.
    void load_snapshot(const nlohmann::json& result);

    /// Applies one CHANGE object. Changes with seq at or below the last applied are ignored
    /// (pushes that raced the snapshot). Throws std::invalid_argument on a malformed change.
    change_effect apply_change(const nlohmann::json& change);

    /// The open alarms in queue order; storm members are not listed (their storm is).
    const std::vector<queue_entry>& entries() const noexcept { return entries_; }

    /// The entry of `id`, or null.
    const queue_entry* find(alarm_id id) const noexcept;

    /// Position of `id` in entries(), or nullopt.
    std::optional<std::size_t> index_of(alarm_id id) const noexcept;

    /// Open queue entries on the server (the snapshot's `open`, kept up as alarms come and go;
    /// can exceed entries().size() when the snapshot was cut at its limit).
    std::size_t open_count() const noexcept { return open_; }

    /// The last applied seq (the snapshot's, then each change's).
    std::uint64_t seq() const noexcept { return seq_; }

    /// Whether a snapshot was loaded.
    bool loaded() const noexcept { return loaded_; }

    void clear() noexcept;

private:
    void remove(alarm_id id, change_effect& effect);
    void place(queue_entry entry, std::optional<std::size_t> rank);

    std::vector<queue_entry> entries_;
    std::size_t open_ = 0;
    std::uint64_t seq_ = 0;
    bool loaded_ = false;
};

/// An entry from an ALARM or ALARM_HEADER object. Throws std::invalid_argument naming the field.
queue_entry entry_from_json(const nlohmann::json& alarm);

/// The engine's queue order (class, level descending, opened, id): true when `a` comes first.
bool queue_before(const queue_entry& a, const queue_entry& b) noexcept;

}  // namespace arc::console
