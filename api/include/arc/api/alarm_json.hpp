// Purpose: JSON renderings of the alarm engine's values for the admin API and its subscribers
// (docs/admin-api.md: ALARM, ALARM_HEADER, LOG, CHANGE), from the engine or from storage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "arc/engine/alarm.hpp"
#include "arc/storage/alarms.hpp"

namespace arc::api {

/// An ALARM object of an alarm the engine holds. `closed` is the instant of the timeline's
/// step into `closed` (null while the alarm is open); `members` counts a storm's members.
nlohmann::json alarm_to_json(const arc::engine::alarm& a);

/// An ALARM object of a stored alarm row (open or closed); `members` counts a storm's members
/// (the caller knows them; the row does not).
nlohmann::json alarm_row_to_json(const arc::storage::alarm_row& r, std::size_t members);

/// An ALARM_HEADER object: the scalar fields a console line shows.
nlohmann::json header_to_json(const arc::engine::alarm_header& h);

/// A LOG object: one line of an alarm's stored log; `from`/`to` are null when not a lifecycle
/// step (stored as empty strings).
nlohmann::json log_to_json(const arc::storage::alarm_log_entry& e);

/// A CHANGE object: `c` as the `seq`-th change of this daemon run; `rank` is the alarm's
/// position in the queue after the change (0 = head) and `head` the alarm then at the head,
/// each null when not known. `alarm` is null for changes without an alarm (id 0): `account`
/// then names the device. At most 100 member ids are listed; `members_count` counts them all.
nlohmann::json change_to_json(const arc::engine::change& c, std::uint64_t seq,
                              std::optional<std::size_t> rank,
                              std::optional<arc::engine::alarm_id> head);

/// How many storm member ids a CHANGE lists at most.
inline constexpr std::size_t change_members_max = 100;

}  // namespace arc::api
