// Purpose: subscribers (assistiti), their ordered contacts and the devices linked to them
// (schema v5). Medical notes and key-safe codes are sealed at rest with the field keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arc/storage/store.hpp"

namespace arc::storage {

/// Where a subscriber is: at home (active), away or in hospital until a date (their devices'
/// supervision and inactivity alarms pause), or no longer served (ended).
enum class subscriber_status { active, away, hospital, ended };
std::string_view to_string(subscriber_status status) noexcept;
std::optional<subscriber_status> parse_subscriber_status(std::string_view text) noexcept;

/// A person to call, in priority order (1 first).
struct contact {
    std::int64_t id = 0;
    std::int64_t subscriber_id = 0;
    std::int64_t priority = 1;
    std::string name;
    std::string relation;
    std::vector<std::string> phones;
    bool has_key = false;
    std::string reachable;  ///< free text: "evenings", "weekdays 9-18"
};

/// A subscriber (assistito). Empty strings are "not set".
struct subscriber {
    std::int64_t id = 0;
    std::string code;  ///< the centre's reference ("TS-0042"), unique whatever the case
    std::string first_name;
    std::string last_name;
    std::string birth_date;  ///< YYYY-MM-DD or empty
    std::string comune;
    std::string street;
    std::string number;
    std::string floor;
    std::string access_notes;
    std::vector<std::string> phones;
    std::string language = "it";
    std::string living_situation;
    std::string vulnerability;
    std::string medical_notes;  ///< sealed at rest
    std::string key_safe_code;  ///< sealed at rest
    std::string guardian_kind;  ///< "amministratore_di_sostegno", "tutore" or empty (none)
    std::string guardian_name;
    std::string guardian_phone;
    std::string gp_name;
    std::string gp_phone;
    subscriber_status status = subscriber_status::active;
    std::optional<std::int64_t> away_until_ms;  ///< away/hospital until then (Unix ms)
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::vector<contact> contacts;  ///< by priority (filled by the find/list functions)

    /// Whether the subscriber's alarms of supervision and inactivity pause at `now_ms`.
    bool paused(std::int64_t now_ms) const noexcept {
        return (status == subscriber_status::away || status == subscriber_status::hospital) &&
               (!away_until_ms || *away_until_ms > now_ms);
    }
};

/// Inserts a subscriber (its contacts too) and returns its id. already_exists when the code is
/// taken. Throws storage_error.
std::int64_t insert_subscriber(database& db, const subscriber& s);
/// Writes every field of the row with `s.id` (contacts are not touched); false when none.
bool update_subscriber(database& db, const subscriber& s);
/// Deletes a subscriber and its contacts; false when none. Devices must be unlinked first
/// (the foreign key refuses otherwise: storage_error).
bool delete_subscriber(database& db, std::int64_t id);
std::optional<subscriber> find_subscriber(database& db, std::int64_t id);
std::optional<subscriber> find_subscriber_by_code(database& db, std::string_view code);
/// By last name, first name, id.
std::vector<subscriber> list_subscribers(database& db);

/// The contacts of a subscriber by priority.
std::vector<contact> list_contacts(database& db, std::int64_t subscriber_id);
/// Inserts a contact and returns its id; already_exists when the priority is taken.
std::int64_t insert_contact(database& db, const contact& c);
/// Writes the contact with `c.id`; false when none. already_exists for a taken priority.
bool update_contact(database& db, const contact& c);
bool delete_contact(database& db, std::int64_t contact_id);
std::optional<contact> find_contact(database& db, std::int64_t contact_id);

/// Links a device to a subscriber (nullopt: unlinks); false when the device is unknown.
bool set_device_subscriber(database& db, std::string_view account,
                           std::optional<std::int64_t> subscriber_id);
/// The devices linked to a subscriber, by account.
std::vector<device> subscriber_devices(database& db, std::int64_t subscriber_id);

}  // namespace arc::storage
