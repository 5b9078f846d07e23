#include "arc/storage/security.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "field_keys.hpp"
#include "sqlite_util.hpp"
#include <fmt/format.h>
#include <sqlite3.h>

namespace arc::storage {

namespace sec = arc::security;

namespace {

std::mutex field_keys_mutex;
std::shared_ptr<const detail::field_key_set> field_keys_now;  // guarded by field_keys_mutex

constexpr std::string_view audit_head_seq_key = "audit_head_seq";
constexpr std::string_view audit_head_hash_key = "audit_head_hash";
constexpr std::string_view device_keys_sealed_key = "device_keys_sealed_ms";
// Entries verify_audit holds in memory at once.
constexpr std::size_t verify_slice = 1000;

std::int64_t clamp_limit(std::size_t limit) {
    return static_cast<std::int64_t>(
        std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()));
}

sec::hash32 to_hash(const std::string& bytes) {
    sec::hash32 out{};
    // A stored hash of the wrong size is kept as zeros: it then fails verification as edited.
    if (bytes.size() == out.size()) {
        std::copy(bytes.begin(), bytes.end(), out.begin());
    }
    return out;
}

constexpr std::string_view operator_columns =
    "id, username, display_name, role, password_hash, disabled, failed_logins, locked_until_ms, "
    "created_ms, updated_ms, team_id";

operator_account read_operator(const detail::statement& stmt) {
    operator_account op;
    op.id = stmt.column_int64(0);
    op.username = stmt.column_bytes(1);
    op.display_name = stmt.column_bytes(2);
    op.role = parse_operator_role(stmt.column_bytes(3)).value_or(operator_role::operator_);
    op.password_hash = stmt.column_bytes(4);
    op.disabled = stmt.column_int64(5) != 0;
    op.failed_logins = stmt.column_int64(6);
    op.locked_until_ms = stmt.column_int64(7);
    op.created_ms = stmt.column_int64(8);
    op.updated_ms = stmt.column_int64(9);
    if (!stmt.column_is_null(10)) {
        op.team_id = stmt.column_int64(10);
    }
    return op;
}

session_row read_session(const detail::statement& stmt) {
    session_row s;
    s.token_hash = to_hash(stmt.column_bytes(0));
    s.operator_id = stmt.column_int64(1);
    s.created_ms = stmt.column_int64(2);
    s.expires_ms = stmt.column_int64(3);
    s.last_seen_ms = stmt.column_int64(4);
    s.peer = stmt.column_bytes(5);
    return s;
}

sec::chained_entry read_audit_entry(const detail::statement& stmt) {
    sec::chained_entry e;
    e.entry.seq = stmt.column_int64(0);
    e.entry.at_ms = stmt.column_int64(1);
    e.entry.actor = stmt.column_bytes(2);
    e.entry.action = stmt.column_bytes(3);
    e.entry.target = stmt.column_bytes(4);
    e.entry.peer = stmt.column_bytes(5);
    e.entry.detail = stmt.column_bytes(6);
    e.prev_hash = to_hash(stmt.column_bytes(7));
    e.hash = to_hash(stmt.column_bytes(8));
    return e;
}

}  // namespace

// ---- field encryption ---------------------------------------------------------------------------

namespace detail {

std::shared_ptr<const field_key_set> field_keys() {
    const std::lock_guard lock(field_keys_mutex);
    return field_keys_now;
}

std::vector<std::uint8_t> device_key_to_store(const std::vector<std::uint8_t>& key) {
    const auto keys = field_keys();
    if (!keys) {
        return key;
    }
    return sec::seal(keys->front(), key);
}

std::vector<std::uint8_t> device_key_from_store(sqlite3* db, std::string_view account,
                                                std::string_view stored) {
    const std::span bytes(reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size());
    // Clear keys (16, 24 or 32 bytes; rows from before field encryption, or stored while it is
    // off) are shorter than the smallest sealed blob (45 + 16 bytes): the shapes never overlap.
    if (!sec::looks_sealed(bytes)) {
        return {bytes.begin(), bytes.end()};
    }
    const auto keys = field_keys();
    if (!keys) {
        throw storage_error(
            fmt::format("{}: device {}: its AES key is encrypted at rest but no data key is loaded",
                        db_name(db), account));
    }
    std::optional<std::string> plain = sec::open(*keys, bytes);
    if (!plain) {
        throw storage_error(fmt::format(
            "{}: device {}: its AES key cannot be decrypted with the data key (another key file, "
            "or the row was altered)",
            db_name(db), account));
    }
    std::vector<std::uint8_t> key(plain->begin(), plain->end());
    std::fill(plain->begin(), plain->end(), '\0');
    return key;
}

stored_secret secret_to_store(const std::string& text) {
    stored_secret out;
    if (text.empty()) {
        return out;
    }
    out.null = false;
    if (const auto keys = field_keys()) {
        out.blob = true;
        out.bytes = sec::seal(keys->front(), text);
    } else {
        out.bytes.assign(text.begin(), text.end());
    }
    return out;
}

void bind_secret(statement& stmt, int index, const stored_secret& s) {
    if (s.null) {
        stmt.bind_null(index);
    } else if (s.blob) {
        stmt.bind_blob(index, s.bytes.data(), s.bytes.size());
    } else {
        stmt.bind_text(
            index, std::string_view(reinterpret_cast<const char*>(s.bytes.data()), s.bytes.size()));
    }
}

std::string secret_from_store(const statement& stmt, int index, std::string_view owner,
                              std::string_view field) {
    if (stmt.column_type(index) != SQLITE_BLOB) {
        return stmt.column_bytes(index);  // NULL (empty) or clear TEXT
    }
    const std::string stored = stmt.column_bytes(index);
    const std::span bytes(reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size());
    const auto keys = field_keys();
    if (!keys) {
        throw storage_error(fmt::format("{}: {}: {} is encrypted at rest but no data key is loaded",
                                        db_name(stmt.db()), owner, field));
    }
    std::optional<std::string> plain = sec::open(*keys, bytes);
    if (!plain) {
        throw storage_error(fmt::format(
            "{}: {}: {} cannot be decrypted with the data key (another key file, or the row was "
            "altered)",
            db_name(stmt.db()), owner, field));
    }
    return std::move(*plain);
}

}  // namespace detail

void set_field_keys(std::vector<sec::data_key> keys) {
    auto set =
        keys.empty() ? nullptr : std::make_shared<const detail::field_key_set>(std::move(keys));
    const std::lock_guard lock(field_keys_mutex);
    field_keys_now = std::move(set);
}

void set_field_key(const sec::data_key& key) { set_field_keys({key}); }

bool field_encryption_enabled() { return detail::field_keys() != nullptr; }

std::size_t seal_plain_device_keys(database& db, std::int64_t now_ms) {
    const auto keys = detail::field_keys();
    if (!keys) {
        throw storage_error(fmt::format("{}: cannot seal device keys: no data key is set",
                                        detail::db_name(db.handle())));
    }
    // Overwrite the clear bytes instead of leaving them in free space of the page.
    db.exec("PRAGMA secure_delete = ON");
    std::size_t sealed = 0;
    {
        detail::transaction tx(db);
        std::vector<std::pair<std::string, std::vector<std::uint8_t>>> plain;
        {
            detail::statement stmt(
                db,
                "SELECT account, aes_key FROM devices WHERE aes_key IS NOT NULL ORDER BY account");
            while (stmt.step()) {
                const std::string stored = stmt.column_bytes(1);
                if (!sec::looks_sealed(std::span(
                        reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size()))) {
                    plain.emplace_back(stmt.column_bytes(0),
                                       std::vector<std::uint8_t>(stored.begin(), stored.end()));
                }
            }
        }
        for (auto& [account, key] : plain) {
            const std::vector<std::uint8_t> blob = sec::seal(keys->front(), key);
            detail::statement stmt(db, "UPDATE devices SET aes_key = ?2 WHERE account = ?1");
            stmt.bind_text(1, account);
            stmt.bind_blob(2, blob.data(), blob.size());
            stmt.step();
            std::fill(key.begin(), key.end(), std::uint8_t{0});
            ++sealed;
        }
        if (sealed > 0) {
            detail::statement stmt(db,
                                   "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT "
                                   "(key) DO UPDATE SET value = excluded.value");
            stmt.bind_text(1, device_keys_sealed_key);
            stmt.bind(2, now_ms);
            stmt.step();
        }
        tx.commit();
    }
    db.exec("PRAGMA secure_delete = OFF");
    if (sealed > 0) {
        // Copy the sealed pages over the old ones and empty the WAL, which still holds the
        // pages with the clear keys. Busy readers only delay this to a later checkpoint.
        sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                  nullptr);
    }
    return sealed;
}

std::size_t reseal_fields(database& db, std::span<const sec::data_key> openers,
                          const sec::data_key& next) {
    struct column {
        const char* table;
        const char* name;
        const char* where = "";  ///< rows of the table whose column is sealed (all: "")
    };
    static constexpr std::array<column, 13> columns{
        {{"devices", "aes_key"},
         {"subscribers", "medical_notes"},
         {"subscribers", "key_safe_code"},
         {"cases", "caller_name"},
         {"cases", "caller_phone"},
         {"cases", "person_name"},
         {"cases", "person_details"},
         {"cases", "address"},
         {"cases", "summary"},
         {"alarm_log", "detail",
          " AND (change = 'noted' OR (change = 'transitioned' AND from_state = 'dispatched' "
          "AND to_state = 'acknowledged'))"},
         {"missions", "instructions"},
         {"missions", "decline_reason"},
         {"missions", "note"}}};
    db.exec("PRAGMA secure_delete = ON");
    std::size_t written = 0;
    {
        detail::transaction tx(db);
        for (const column& c : columns) {
            std::vector<std::pair<std::int64_t, std::vector<std::uint8_t>>> sealed_again;
            {
                detail::statement stmt(
                    db, fmt::format("SELECT rowid, {} FROM {} WHERE {} IS NOT NULL AND length({}) "
                                    "> 0{} ORDER BY rowid",
                                    c.name, c.table, c.name, c.name, c.where));
                while (stmt.step()) {
                    const std::int64_t rowid = stmt.column_int64(0);
                    std::string stored = stmt.column_bytes(1);
                    const std::span bytes(reinterpret_cast<const std::uint8_t*>(stored.data()),
                                          stored.size());
                    std::optional<std::string> plain;
                    if (stmt.column_type(1) == SQLITE_BLOB && sec::looks_sealed(bytes)) {
                        plain = sec::open(openers, bytes);
                        if (!plain) {
                            throw storage_error(fmt::format(
                                "{}: {} row {}: {} opens with none of the keys given (nothing "
                                "was changed)",
                                detail::db_name(db.handle()), c.table, rowid, c.name));
                        }
                    } else {
                        plain = stored;  // still in clear (stored with encryption off)
                    }
                    sealed_again.emplace_back(rowid, sec::seal(next, *plain));
                    std::fill(plain->begin(), plain->end(), '\0');
                    std::fill(stored.begin(), stored.end(), '\0');
                }
            }
            for (const auto& [rowid, blob] : sealed_again) {
                detail::statement stmt(
                    db, fmt::format("UPDATE {} SET {} = ?2 WHERE rowid = ?1", c.table, c.name));
                stmt.bind(1, rowid);
                stmt.bind_blob(2, blob.data(), blob.size());
                stmt.step();
                ++written;
            }
        }
        tx.commit();
    }
    db.exec("PRAGMA secure_delete = OFF");
    sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    return written;
}

// ---- operators ----------------------------------------------------------------------------------

std::string_view to_string(operator_role role) noexcept {
    switch (role) {
        case operator_role::operator_:
            return "operator";
        case operator_role::supervisor:
            return "supervisor";
        case operator_role::installer:
            return "installer";
        case operator_role::admin:
            return "admin";
        case operator_role::team:
            return "team";
    }
    return "operator";
}

std::optional<operator_role> parse_operator_role(std::string_view text) noexcept {
    for (const operator_role role :
         {operator_role::operator_, operator_role::supervisor, operator_role::installer,
          operator_role::admin, operator_role::team}) {
        if (text == to_string(role)) {
            return role;
        }
    }
    return std::nullopt;
}

std::int64_t insert_operator(database& db, const operator_account& op) {
    if (find_operator(db, op.username)) {
        throw already_exists(fmt::format("{}: operator {} already exists",
                                         detail::db_name(db.handle()), op.username));
    }
    detail::statement stmt(db,
                           "INSERT INTO operators (username, display_name, role, password_hash, "
                           "disabled, failed_logins, locked_until_ms, created_ms, updated_ms, "
                           "team_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    stmt.bind_text(1, op.username);
    stmt.bind_text(2, op.display_name);
    stmt.bind_text(3, to_string(op.role));
    stmt.bind_text(4, op.password_hash);
    stmt.bind(5, op.disabled ? 1 : 0);
    stmt.bind(6, op.failed_logins);
    stmt.bind(7, op.locked_until_ms);
    stmt.bind(8, op.created_ms);
    stmt.bind(9, op.updated_ms);
    if (op.team_id) {
        stmt.bind(10, *op.team_id);
    } else {
        stmt.bind_null(10);
    }
    stmt.step();
    return sqlite3_last_insert_rowid(db.handle());
}

std::optional<operator_account> find_operator(database& db, std::string_view username) {
    // The column's NOCASE collation makes the comparison case-insensitive (ASCII).
    detail::statement stmt(
        db, fmt::format("SELECT {} FROM operators WHERE username = ?1", operator_columns));
    stmt.bind_text(1, username);
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_operator(stmt);
}

std::optional<operator_account> find_operator(database& db, std::int64_t id) {
    detail::statement stmt(db,
                           fmt::format("SELECT {} FROM operators WHERE id = ?1", operator_columns));
    stmt.bind(1, id);
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_operator(stmt);
}

std::vector<operator_account> list_operators(database& db) {
    detail::statement stmt(
        db, fmt::format("SELECT {} FROM operators ORDER BY username", operator_columns));
    std::vector<operator_account> out;
    while (stmt.step()) {
        out.push_back(read_operator(stmt));
    }
    return out;
}

bool update_operator(database& db, const operator_account& op) {
    detail::statement stmt(db,
                           "UPDATE operators SET display_name = ?2, role = ?3, password_hash = ?4, "
                           "disabled = ?5, failed_logins = ?6, locked_until_ms = ?7, "
                           "updated_ms = ?8 WHERE id = ?1");
    stmt.bind(1, op.id);
    stmt.bind_text(2, op.display_name);
    stmt.bind_text(3, to_string(op.role));
    stmt.bind_text(4, op.password_hash);
    stmt.bind(5, op.disabled ? 1 : 0);
    stmt.bind(6, op.failed_logins);
    stmt.bind(7, op.locked_until_ms);
    stmt.bind(8, op.updated_ms);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

std::optional<operator_account> record_failed_login(database& db, std::int64_t id,
                                                    std::int64_t now_ms) {
    std::optional<operator_account> op = find_operator(db, id);
    if (!op) {
        return std::nullopt;
    }
    op->failed_logins += 1;
    if (op->failed_logins >= max_failed_logins) {
        op->locked_until_ms = now_ms + lockout_ms;
        op->failed_logins = 0;
    }
    detail::statement stmt(
        db, "UPDATE operators SET failed_logins = ?2, locked_until_ms = ?3 WHERE id = ?1");
    stmt.bind(1, id);
    stmt.bind(2, op->failed_logins);
    stmt.bind(3, op->locked_until_ms);
    stmt.step();
    return op;
}

bool record_successful_login(database& db, std::int64_t id, std::int64_t /*now_ms*/) {
    detail::statement stmt(
        db, "UPDATE operators SET failed_logins = 0, locked_until_ms = 0 WHERE id = ?1");
    stmt.bind(1, id);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

// ---- sessions -----------------------------------------------------------------------------------

void insert_session(database& db, const session_row& session) {
    detail::statement stmt(db,
                           "INSERT INTO sessions (token_hash, operator_id, created_ms, expires_ms, "
                           "last_seen_ms, peer) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    stmt.bind_blob(1, session.token_hash.data(), session.token_hash.size());
    stmt.bind(2, session.operator_id);
    stmt.bind(3, session.created_ms);
    stmt.bind(4, session.expires_ms);
    stmt.bind(5, session.last_seen_ms);
    stmt.bind_text(6, session.peer);
    stmt.step();
}

std::optional<session_row> find_session(database& db, const sec::token_hash& hash) {
    detail::statement stmt(db,
                           "SELECT token_hash, operator_id, created_ms, expires_ms, last_seen_ms, "
                           "peer FROM sessions WHERE token_hash = ?1");
    stmt.bind_blob(1, hash.data(), hash.size());
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_session(stmt);
}

bool touch_session(database& db, const sec::token_hash& hash, std::int64_t now_ms,
                   std::int64_t expires_ms) {
    detail::statement stmt(
        db, "UPDATE sessions SET last_seen_ms = ?2, expires_ms = ?3 WHERE token_hash = ?1");
    stmt.bind_blob(1, hash.data(), hash.size());
    stmt.bind(2, now_ms);
    stmt.bind(3, expires_ms);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

bool delete_session(database& db, const sec::token_hash& hash) {
    detail::statement stmt(db, "DELETE FROM sessions WHERE token_hash = ?1");
    stmt.bind_blob(1, hash.data(), hash.size());
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

std::size_t delete_operator_sessions(database& db, std::int64_t operator_id) {
    detail::statement stmt(db, "DELETE FROM sessions WHERE operator_id = ?1");
    stmt.bind(1, operator_id);
    stmt.step();
    return static_cast<std::size_t>(sqlite3_changes(db.handle()));
}

std::size_t delete_expired_sessions(database& db, std::int64_t now_ms) {
    detail::statement stmt(db, "DELETE FROM sessions WHERE expires_ms <= ?1");
    stmt.bind(1, now_ms);
    stmt.step();
    return static_cast<std::size_t>(sqlite3_changes(db.handle()));
}

// ---- audit trail --------------------------------------------------------------------------------

audit_head read_audit_head(database& db) {
    audit_head head;
    {
        detail::statement stmt(db, "SELECT value FROM meta WHERE key = ?1");
        stmt.bind_text(1, audit_head_seq_key);
        if (stmt.step()) {
            head.seq = stmt.column_int64(0);
        }
    }
    detail::statement stmt(db, "SELECT value FROM meta_blob WHERE key = ?1");
    stmt.bind_text(1, audit_head_hash_key);
    if (stmt.step()) {
        head.hash = to_hash(stmt.column_bytes(0));
    }
    return head;
}

sec::chained_entry append_audit(database& db, sec::audit_entry entry) {
    detail::savepoint sp(db);
    const audit_head head = read_audit_head(db);
    entry.seq = head.seq + 1;
    sec::chained_entry stored = sec::chain_entry(head.hash, std::move(entry));
    {
        detail::statement stmt(db,
                               "INSERT INTO audit (seq, at_ms, actor, action, target, peer, "
                               "detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                               "?9)");
        stmt.bind(1, stored.entry.seq);
        stmt.bind(2, stored.entry.at_ms);
        stmt.bind_text(3, stored.entry.actor);
        stmt.bind_text(4, stored.entry.action);
        stmt.bind_text(5, stored.entry.target);
        stmt.bind_text(6, stored.entry.peer);
        stmt.bind_text(7, stored.entry.detail);
        stmt.bind_blob(8, stored.prev_hash.data(), stored.prev_hash.size());
        stmt.bind_blob(9, stored.hash.data(), stored.hash.size());
        stmt.step();
    }
    {
        detail::statement stmt(db,
                               "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) "
                               "DO UPDATE SET value = excluded.value");
        stmt.bind_text(1, audit_head_seq_key);
        stmt.bind(2, stored.entry.seq);
        stmt.step();
    }
    {
        detail::statement stmt(db,
                               "INSERT INTO meta_blob (key, value) VALUES (?1, ?2) ON CONFLICT "
                               "(key) DO UPDATE SET value = excluded.value");
        stmt.bind_text(1, audit_head_hash_key);
        stmt.bind_blob(2, stored.hash.data(), stored.hash.size());
        stmt.step();
    }
    sp.release();
    return stored;
}

std::vector<sec::chained_entry> read_audit(database& db, std::int64_t from_seq, std::size_t limit) {
    detail::statement stmt(db,
                           "SELECT seq, at_ms, actor, action, target, peer, detail, prev_hash, "
                           "hash FROM audit WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
    stmt.bind(1, from_seq);
    stmt.bind(2, clamp_limit(limit));
    std::vector<sec::chained_entry> out;
    while (stmt.step()) {
        out.push_back(read_audit_entry(stmt));
    }
    return out;
}

sec::chain_result verify_audit(database& db) {
    sec::chain_start start;
    sec::chain_result result;
    result.last_seq = 0;
    result.last_hash = sec::zero_hash;
    // Slices start after the last seq read (not at last_seq + 1 as expected), so that a gap or
    // a reordering across a slice boundary is still seen by verify_chain.
    std::int64_t next = std::numeric_limits<std::int64_t>::min();
    for (;;) {
        const std::vector<sec::chained_entry> slice = read_audit(db, next, verify_slice);
        if (slice.empty()) {
            break;
        }
        result = sec::verify_chain(slice, start);
        if (!result.ok) {
            return result;
        }
        start = sec::chain_start{result.last_seq + 1, result.last_hash};
        next = slice.back().entry.seq + 1;
    }
    const audit_head head = read_audit_head(db);
    if (head.seq > result.last_seq) {
        result.ok = false;
        result.bad_seq = result.last_seq + 1;
        result.reason =
            head.seq == result.last_seq + 1
                ? fmt::format("truncated: seq {} (the recorded head) is missing", head.seq)
                : fmt::format("truncated: seqs {} to {} (the recorded head) are missing",
                              result.last_seq + 1, head.seq);
    } else if (head.seq < result.last_seq) {
        result.ok = false;
        result.bad_seq = head.seq + 1;
        result.reason =
            fmt::format("inserted: seqs {} to {} were added after the recorded head (seq {})",
                        head.seq + 1, result.last_seq, head.seq);
    } else if (head.hash != result.last_hash) {
        result.ok = false;
        result.bad_seq = result.last_seq;
        result.reason =
            fmt::format("edited: seq {} does not match the recorded head hash (entries rewritten)",
                        result.last_seq);
    }
    return result;
}

}  // namespace arc::storage
