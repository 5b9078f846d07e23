// Purpose: private to arc_storage: the process-wide field keys (set by set_field_keys) and the
// sealing of device AES keys with them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlite_util.hpp"

#include "arc/security/field_crypto.hpp"
#include "arc/storage/store.hpp"

namespace arc::storage::detail {

using field_key_set = std::vector<arc::security::data_key>;

/// The keys now set; null when field encryption is off.
std::shared_ptr<const field_key_set> field_keys();

/// The bytes to store for a device key: sealed when field keys are set, else as given.
std::vector<std::uint8_t> device_key_to_store(const std::vector<std::uint8_t>& key);

/// The device key from its stored bytes (sealed, or clear from before field encryption).
/// Throws storage_error naming the account when it cannot be opened: a device must never
/// become keyless (its encrypted frames would then be refused, or clear ones accepted).
std::vector<std::uint8_t> device_key_from_store(sqlite3* db, std::string_view account,
                                                std::string_view stored);

/// A sensitive text as stored: NULL when empty, a sealed BLOB with field keys set, else TEXT.
struct stored_secret {
    bool null = true;
    bool blob = false;
    std::vector<std::uint8_t> bytes;
};

/// `text` as it is to be stored (sealed with the current key when field encryption is on).
stored_secret secret_to_store(const std::string& text);
/// Binds a stored_secret as parameter `index`.
void bind_secret(statement& stmt, int index, const stored_secret& s);
/// The text of column `index` (sealed, clear or NULL). Throws storage_error naming `owner`
/// ("subscriber 12") and `field` when it is sealed and no key opens it.
std::string secret_from_store(const statement& stmt, int index, std::string_view owner,
                              std::string_view field);

}  // namespace arc::storage::detail
