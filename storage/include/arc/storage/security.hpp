// Purpose: storage of operators, sessions and the hash-chained audit trail (schema v3), and the
// process-wide data key that seals sensitive fields (device AES keys) at rest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arc/security/audit_chain.hpp"
#include "arc/security/field_crypto.hpp"
#include "arc/security/session_token.hpp"
#include "arc/storage/store.hpp"

namespace arc::storage {

// ---- field encryption ---------------------------------------------------------------------------

/// Sets the data keys for the whole process: keys.front() seals new values, every key opens the
/// values sealed with it (older keys after a rotation). Call once in main, before any database
/// or writer is opened; an empty vector turns field encryption off (values stored as given, as
/// before schema v3: the default, which tests that do not care rely on). Thread-safe, but
/// connections already reading or writing may see the change half-way: do not call it later.
void set_field_keys(std::vector<arc::security::data_key> keys);
/// set_field_keys({key}).
void set_field_key(const arc::security::data_key& key);
/// True when field keys are set.
bool field_encryption_enabled();

/// Seals, with the current field key, the device AES keys still stored in clear (rows written
/// before field encryption, or while it was off); records meta 'device_keys_sealed_ms' = now_ms
/// when it sealed any. One transaction; old bytes are overwritten (secure_delete) and the WAL
/// checkpointed, so the clear keys do not linger in the files. Returns the number of keys sealed
/// (0 when all were sealed already). Throws storage_error when no field key is set.
std::size_t seal_plain_device_keys(database& db, std::int64_t now_ms);

/// Key rotation: every sealed field (device AES keys, subscribers' medical notes and key-safe
/// codes) is opened with one of `openers` and sealed again with `next`; fields still stored in
/// clear are sealed with `next` too. One transaction (all or nothing), with secure_delete and a
/// WAL truncation so the old blobs do not linger. Throws storage_error naming the table, row and
/// column of a value no opener opens (nothing is changed then). Returns the fields written.
std::size_t reseal_fields(database& db, std::span<const arc::security::data_key> openers,
                          const arc::security::data_key& next);

// ---- operators ----------------------------------------------------------------------------------

/// What an operator may do (DESIGN.md domain model).
enum class operator_role { operator_, supervisor, installer, admin, team };
std::string_view to_string(operator_role role) noexcept;
std::optional<operator_role> parse_operator_role(std::string_view text) noexcept;

/// Consecutive failed logins that lock an account.
inline constexpr std::int64_t max_failed_logins = 5;
/// How long a locked account stays locked: long enough to make guessing useless (5 tries per
/// 15 minutes is 480 a day against argon2id hashes of passwords of 10+ characters), short
/// enough that an operator who mistyped is back within a shift without a supervisor.
inline constexpr std::int64_t lockout_ms = std::int64_t{15} * 60 * 1000;

/// An operator account.
struct operator_account {
    std::int64_t id = 0;
    std::string username;  ///< unique, matched case-insensitively, stored as given
    std::string display_name;
    operator_role role = operator_role::operator_;
    std::string password_hash;  ///< argon2id string; never leaves arcd
    bool disabled = false;
    std::int64_t failed_logins = 0;    ///< consecutive failures since the last success or lock
    std::int64_t locked_until_ms = 0;  ///< 0: not locked
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    /// Role team: the team (teams.id) whose missions the account works; empty for other roles.
    std::optional<std::int64_t> team_id;

    /// Locked at `now_ms`.
    bool locked(std::int64_t now_ms) const noexcept { return locked_until_ms > now_ms; }
};

/// Inserts an operator and returns its id (`op.id` ignored). already_exists when the username is
/// taken in any case. Throws storage_error.
std::int64_t insert_operator(database& db, const operator_account& op);
/// By username, case-insensitively.
std::optional<operator_account> find_operator(database& db, std::string_view username);
std::optional<operator_account> find_operator(database& db, std::int64_t id);
/// All operators by username.
std::vector<operator_account> list_operators(database& db);
/// Writes display_name, role, password_hash, disabled, failed_logins, locked_until_ms and
/// updated_ms of the row with `op.id`; false when there is none.
bool update_operator(database& db, const operator_account& op);

/// A failed login of operator `id` at `now_ms`: the counter goes up; at max_failed_logins the
/// account is locked until now_ms + lockout_ms and the counter starts again. Returns the row
/// after the change (nullopt when there is no such operator).
std::optional<operator_account> record_failed_login(database& db, std::int64_t id,
                                                    std::int64_t now_ms);
/// A successful login: the counter and any expired lock are cleared.
bool record_successful_login(database& db, std::int64_t id, std::int64_t now_ms);

// ---- sessions -----------------------------------------------------------------------------------

/// A logged-in session, found by the hash of its token (the token itself is never stored).
struct session_row {
    arc::security::token_hash token_hash{};
    std::int64_t operator_id = 0;
    std::int64_t created_ms = 0;
    std::int64_t expires_ms = 0;
    std::int64_t last_seen_ms = 0;
    std::string peer;
};

void insert_session(database& db, const session_row& session);
/// The session with this token hash, expired or not (the caller compares expires_ms).
std::optional<session_row> find_session(database& db, const arc::security::token_hash& hash);
/// Updates last_seen_ms and expires_ms (sliding expiry); false when there is none.
bool touch_session(database& db, const arc::security::token_hash& hash, std::int64_t now_ms,
                   std::int64_t expires_ms);
bool delete_session(database& db, const arc::security::token_hash& hash);
/// Ends every session of an operator (disabled, password changed); returns how many.
std::size_t delete_operator_sessions(database& db, std::int64_t operator_id);
/// Removes sessions expired at now_ms; returns how many.
std::size_t delete_expired_sessions(database& db, std::int64_t now_ms);

// ---- audit trail --------------------------------------------------------------------------------

/// Appends `entry` after the stored head (its seq is assigned: head + 1; prev_hash and hash are
/// computed) and moves the head, atomically (a savepoint of its own). Call it inside the writer
/// job that makes the change it records, so both commit or neither. Returns the stored entry.
arc::security::chained_entry append_audit(database& db, arc::security::audit_entry entry);

/// Entries with seq >= from_seq, ascending, at most limit.
std::vector<arc::security::chained_entry> read_audit(database& db, std::int64_t from_seq,
                                                     std::size_t limit);

/// The head as recorded in meta: seq (0 when empty) and hash of the last entry.
struct audit_head {
    std::int64_t seq = 0;
    arc::security::hash32 hash{};
};
audit_head read_audit_head(database& db);

/// verify_chain over the whole table (read in slices) and then the recorded head: entries cut
/// off the end ("truncated") or added after it without moving it ("appended") show only there.
arc::security::chain_result verify_audit(database& db);

}  // namespace arc::storage
