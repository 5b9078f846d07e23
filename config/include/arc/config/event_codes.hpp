// Purpose: the event-code map: SIA DC-03, Contact ID and SCAIP codes → class, kind, restore
// pairing and Italian/English labels, loaded from event-codes.toml plus optional override files.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arc/config/daemon_config.hpp"

namespace arc::config {

/// Priority class of an alarm (DESIGN.md), highest first; the order is the queue order.
enum class alarm_class : std::uint8_t { critical, urgent, technical, log_only };

/// What happened, independent of the protocol that said it.
enum class event_kind : std::uint8_t {
    personal_emergency,
    fall,
    medical,
    fire,
    smoke,
    heat,
    co,
    gas,
    panic,
    duress,
    inactivity,
    door_exit,
    flood,
    temperature,
    low_battery,
    mains_loss,
    tamper,
    comms_fail,
    supervision_fail,
    rf_jamming,
    device_silent,
    trouble,
    periodic_test,
    manual_test,
    restore,
    open_close,
    system,
    phone_report,  ///< a case an operator opened from a phone call (segnalazione), no device
    unknown,
};

/// The code families a map holds.
enum class code_family : std::uint8_t { sia, cid, scaip };

/// "critical", "urgent", "technical", "log_only".
std::string_view to_string(alarm_class value) noexcept;
/// The snake_case name of a kind ("personal_emergency").
std::string_view to_string(event_kind value) noexcept;
/// "sia", "cid", "scaip".
std::string_view to_string(code_family value) noexcept;
/// The class named `text`, if any.
std::optional<alarm_class> parse_alarm_class(std::string_view text) noexcept;
/// The kind named `text`, if any.
std::optional<event_kind> parse_event_kind(std::string_view text) noexcept;

/// One entry of the map as written: a code's meaning.
struct event_code_entry {
    alarm_class cls = alarm_class::urgent;
    event_kind kind = event_kind::unknown;
    std::string restores;  ///< code (same family) whose condition this code restores, or empty
    std::string label_it;
    std::string label_en;
    std::string restore_label_it;  ///< Contact ID qualifier 3 label; empty: "Ripristino: " + it
    std::string restore_label_en;  ///< Contact ID qualifier 3 label; empty: "Restore: " + en
};

/// What the map says about one received code: everything the engine needs to normalise it.
struct classification {
    alarm_class cls = alarm_class::urgent;
    event_kind kind = event_kind::unknown;  ///< for a restore: the kind it restores
    bool is_restore = false;                ///< closes or notes an open alarm of `kind`
    bool is_status = false;                 ///< Contact ID qualifier 6: condition still present
    bool known = false;                     ///< false: unknown code, urgent "unknown event"
    std::string label_it;
    std::string label_en;
};

/// The loaded map: defaults, then override files, plus per-vendor tables.
class event_code_map {
public:
    /// Classifies a code. `qualifier` matters for Contact ID only ('1' event, '3' restore,
    /// '6' status); `vendor` selects a per-vendor table first ("climax_mpers"), if any.
    /// Never fails: an unknown code is an urgent "unknown event", never dropped.
    classification classify(code_family family, std::string_view code, char qualifier = '1',
                            std::string_view vendor = {}) const;

    /// The entry for a code as written (after overrides), or nullptr.
    const event_code_entry* find(code_family family, std::string_view code,
                                 std::string_view vendor = {}) const;

    /// Number of entries of a family in the base table (vendor tables excluded).
    std::size_t size(code_family family) const noexcept;

    /// Inserts or replaces an entry (used by the loader; tests may build maps directly).
    void set(code_family family, std::string code, event_code_entry entry, std::string vendor = {});

private:
    using code_table = std::map<std::string, event_code_entry, std::less<>>;
    // Base tables and vendor tables, by family index.
    code_table base_[3];
    std::map<std::string, std::array<code_table, 3>, std::less<>> vendors_;
};

/// Loads the shipped map `defaults`, then each of `overrides` in order (an entry in an override
/// file replaces the whole entry). Throws config_error "FILE:LINE: KEY: message" on unknown
/// sections, keys, classes or kinds, and on a `restores` naming a code that is not in the map.
event_code_map load_event_codes(const std::filesystem::path& defaults,
                                const std::vector<std::filesystem::path>& overrides = {});

}  // namespace arc::config
