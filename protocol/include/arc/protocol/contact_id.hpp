// Purpose: Ademco Contact ID (SIA DC-05): DTMF messages and the ADM-CID block of DC-09
// (PROTOCOLS.md §3).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "arc/protocol/expected.hpp"

namespace arc::protocol {

/// One Contact ID event: qualifier Q, event code XYZ, group GG, zone or user CCC.
struct cid_event {
    char qualifier = '1';  ///< '1' new/opening, '3' restore/closing, '6' status
    std::string code;      ///< 3 digits, e.g. "101"
    std::string group;     ///< 2 digits
    std::string zone;      ///< 3 digits
    bool known = false;    ///< code is in the Contact ID event table
};

/// A decoded ADM-CID data block `#acct|QXYZ GG CCC`.
struct cid_block {
    std::optional<std::string> account;  ///< inner account when present
    cid_event event;
};

/// A 16-digit DTMF Contact ID message `ACCT MT Q XYZ GG CCC S` (hex form 0-9, B-F).
struct cid_message {
    std::string account;       ///< 4 digits
    std::string message_type;  ///< "18" or "98"
    cid_event event;
    char checksum = '0';
};

/// Parses an ADM-CID data block (spaces optional between fields). Never throws.
expected<cid_block> parse_adm_cid(std::string_view data);

/// Parses and checks a 16-digit Contact ID message (spaces ignored); error::bad_checksum when the
/// digit values do not sum to a multiple of 15.
expected<cid_message> parse_contact_id(std::string_view digits);

/// The checksum digit (hex form) for the first 15 digits of a message.
expected<char> contact_id_checksum(std::string_view first15);

/// True when `code` is in the Contact ID event code table.
bool is_known_cid_code(std::string_view code) noexcept;

/// English meaning of a Contact ID event code ("Personal emergency"), empty if unknown.
std::string_view cid_code_meaning(std::string_view code) noexcept;

/// Builds an ADM-CID data block `#acct|QXYZ GG CCC` (encoder for arc-sim and tests).
std::string encode_adm_cid(std::string_view account, const cid_event& event);

}  // namespace arc::protocol
