// Purpose: the console's Italian and English labels: one small table keyed by the English text.
#pragma once

#include <string>
#include <string_view>

namespace arc::console {

enum class lang { it, en };

/// "it" / "en".
std::string_view to_string(lang l) noexcept;

/// The label `english` in `l`: the English text itself, or its Italian entry (the English text
/// when the table has none). Patterns keep their `{}` placeholders in both languages.
std::string_view tr(lang l, std::string_view english) noexcept;

/// A class as a short queue label: "CRIT"/"URG"/"TECH"/"LOG" (en), "CRIT"/"URG"/"TECN"/"LOG".
std::string_view class_label(lang l, std::string_view cls) noexcept;

/// A lifecycle state ("taken") as the queue shows it ("preso").
std::string_view state_label(lang l, std::string_view state) noexcept;

/// An event kind ("personal_emergency") as a label ("Richiesta di soccorso" / "Emergency call").
std::string_view kind_label(lang l, std::string_view kind) noexcept;

/// A call outcome code ("no_answer") as a label.
std::string_view call_outcome_label(lang l, std::string_view code) noexcept;

/// A mission outcome code ("shelter_placement") as a label.
std::string_view mission_outcome_label(lang l, std::string_view code) noexcept;

/// The change names of a timeline ("transitioned") as a label.
std::string_view change_label(lang l, std::string_view change) noexcept;

}  // namespace arc::console
