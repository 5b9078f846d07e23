// Purpose: the engine's error codes (illegal transitions, unknown alarms) as std::error_code.
#pragma once

#include <system_error>

#include <tl/expected.hpp>

namespace arc::engine {

/// Why the engine refused a command; never thrown, always returned.
enum class errc {
    unknown_alarm = 1,   ///< no open alarm has this id (never existed, or closed)
    illegal_transition,  ///< the action is not allowed from the alarm's current state
    already_taken,       ///< another operator holds the alarm
    missing_operator,    ///< an operator action without an operator name
    missing_outcome,     ///< close without an outcome
    missing_team,        ///< dispatch without a team
    storm_member,        ///< members of a storm are handled through their storm alarm
    missing_reason,      ///< a mission declined without a reason
    missing_handover,    ///< a referral to the social services without a hand-over note
};

/// The category of errc ("arc.engine").
const std::error_category& engine_category() noexcept;

/// Makes an error_code of the engine category.
std::error_code make_error_code(errc value) noexcept;

/// A value or the reason it could not be produced (swappable for std::expected in C++23).
template <typename T>
using expected = tl::expected<T, std::error_code>;

}  // namespace arc::engine

template <>
struct std::is_error_code_enum<arc::engine::errc> : std::true_type {};
