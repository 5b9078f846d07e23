// Purpose: phone reports (segnalazioni) in storage (schema v8): the case behind an alarm of kind
// phone_report — who called, about whom, where, what — beside the alarm row the engine writes.
// Names, phones, address, details and summary are sealed at rest like medical notes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "arc/storage/store.hpp"

namespace arc::storage {

/// The categories of a phone report (issue 5) and who may call.
inline constexpr std::string_view case_categories[] = {"frail_elderly",   "housing_emergency",
                                                       "essential_goods", "domestic_violence",
                                                       "minor_in_danger", "other"};
inline constexpr std::string_view caller_kinds[] = {"citizen", "police", "health_service",
                                                    "social_service", "other"};

/// One phone report. `alarm_id` is its alarm (kind phone_report, code = category).
struct phone_case {
    std::int64_t alarm_id = 0;
    std::string category;
    std::string caller_kind;
    std::string caller_name;   ///< sealed
    std::string caller_phone;  ///< sealed
    /// The subscriber concerned, when the person is one (else the person_* fields say who).
    std::optional<std::int64_t> subscriber_id;
    std::string person_name;     ///< sealed
    std::string person_details;  ///< sealed: age, situation, what the caller said of them
    std::string comune;          ///< clear: the dispatch proposal needs it
    std::string address;         ///< sealed
    std::string summary;         ///< sealed
    std::string created_by;
    std::int64_t created_ms = 0;
};

/// Inserts the case (call inside a writer job, after its alarm's row); throws storage_error.
void insert_case(database& db, const phone_case& c);
/// The case of an alarm, if it is a phone report. Throws storage_error when a sealed field
/// cannot be opened.
std::optional<phone_case> find_case(database& db, std::int64_t alarm_id);

}  // namespace arc::storage
