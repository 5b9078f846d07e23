#include <array>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "sqlite_util.hpp"
#include <fmt/format.h>
#include <sqlite3.h>

#include "arc/storage/store.hpp"

namespace arc::storage {

namespace {

// Every connection waits this long for a lock before failing with SQLITE_BUSY: readers and
// arcctl-side tools may hold the database briefly, and a busy writer must not drop a batch.
constexpr int busy_timeout_ms = 5000;

struct migration {
    int version;
    const char* sql;
};

// Append only: a released step never changes, a new step gets the next version. Each step
// runs in one transaction together with its PRAGMA user_version.
constexpr std::array migrations{
    migration{1, R"sql(
CREATE TABLE devices (
    account      TEXT PRIMARY KEY NOT NULL CHECK (account = upper(account)),
    protocol     TEXT NOT NULL,
    aes_key      BLOB,
    mode         TEXT NOT NULL CHECK (mode IN ('active', 'test', 'retired')),
    label        TEXT NOT NULL DEFAULT '',
    created_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER
);
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    received_ms  INTEGER NOT NULL,
    transport    TEXT NOT NULL,
    peer         TEXT NOT NULL,
    raw          BLOB NOT NULL,
    protocol     TEXT NOT NULL,
    account      TEXT NOT NULL,
    token        TEXT NOT NULL,
    seq          TEXT NOT NULL,
    decoded_json TEXT NOT NULL,
    reply_kind   TEXT NOT NULL,
    reply        BLOB NOT NULL,
    error        TEXT NOT NULL,
    accepted     INTEGER NOT NULL
);
CREATE INDEX events_account_id ON events (account, id DESC);
)sql"},
    // The alarm engine's state: device supervision fields, the alarms with their log (timeline,
    // notes, escalations, storm membership) and the cursor of the last event the engine saw.
    // Strings are the engine's own names (arc::config / arc::engine to_string).
    migration{2, R"sql(
ALTER TABLE devices ADD COLUMN device_type TEXT NOT NULL DEFAULT 'home_unit';
ALTER TABLE devices ADD COLUMN interval_s INTEGER;
ALTER TABLE devices ADD COLUMN test_until_ms INTEGER;
ALTER TABLE devices ADD COLUMN vendor TEXT NOT NULL DEFAULT '';
CREATE TABLE alarms (
    id             INTEGER PRIMARY KEY,
    class          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    state          TEXT NOT NULL,
    level          INTEGER NOT NULL,
    account        TEXT NOT NULL,
    code           TEXT NOT NULL DEFAULT '',
    zone           TEXT NOT NULL DEFAULT '',
    text           TEXT NOT NULL DEFAULT '',
    holder         TEXT NOT NULL DEFAULT '',
    team           TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL DEFAULT '',
    opened_ms      INTEGER NOT NULL,
    last_event_ms  INTEGER NOT NULL,
    closed_ms      INTEGER,
    event_count    INTEGER NOT NULL,
    first_event_id INTEGER NOT NULL DEFAULT 0,
    restored_ms    INTEGER,
    storm          INTEGER NOT NULL DEFAULT 0,
    storm_id       INTEGER
);
CREATE INDEX alarms_open ON alarms (id) WHERE state != 'closed';
CREATE INDEX alarms_storm ON alarms (storm_id);
CREATE INDEX alarms_account_id ON alarms (account, id DESC);
CREATE TABLE alarm_log (
    id         INTEGER PRIMARY KEY,
    alarm_id   INTEGER NOT NULL,
    at_ms      INTEGER NOT NULL,
    change     TEXT NOT NULL,
    event_id   INTEGER NOT NULL DEFAULT 0,
    actor      TEXT NOT NULL DEFAULT '',
    from_state TEXT,
    to_state   TEXT,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alarm_log_alarm_id ON alarm_log (alarm_id, id);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
-- Events stored before the engine existed are history, not alarms to raise at the upgrade.
INSERT INTO meta (key, value)
    SELECT 'engine_event_cursor', coalesce(max(id), 0) FROM events;
)sql"},
    // Operators, their sessions and the hash-chained audit trail (arc/storage/security.hpp).
    // Usernames are unique whatever their case. A session row holds the BLAKE2b hash of its
    // token, never the token. The audit head (seq in meta, hash in meta_blob) is kept apart
    // from the entries so that cutting entries off the end shows.
    migration{3, R"sql(
CREATE TABLE operators (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name    TEXT NOT NULL DEFAULT '',
    role            TEXT NOT NULL
                    CHECK (role IN ('operator', 'supervisor', 'installer', 'admin', 'team')),
    password_hash   TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until_ms INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY NOT NULL,
    operator_id  INTEGER NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL,
    peer         TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_operator ON sessions (operator_id);
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL DEFAULT '',
    peer      TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '',
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
);
CREATE TABLE meta_blob (
    key   TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);
INSERT INTO meta (key, value) VALUES ('audit_head_seq', 0);
INSERT INTO meta_blob (key, value) VALUES ('audit_head_hash', zeroblob(32));
)sql"},
    // Frames whose header could not be parsed (CRC, length, format errors) are stored with an
    // empty account; device diagnostics find a device's among them by the account in the raw
    // bytes, and this index keeps that search to the unparsed frames (docs/admin-api.md,
    // device.diag).
    migration{4, R"sql(
CREATE INDEX events_unparsed ON events (id) WHERE account = '';
)sql"},
    // Subscribers (assistiti), their ordered contacts, and the subscriber a device belongs to
    // (arc/storage/subscribers.hpp). medical_notes and key_safe_code hold sealed blobs (or
    // clear TEXT while field encryption is off); phones are JSON arrays of text.
    migration{5, R"sql(
CREATE TABLE subscribers (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    first_name       TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    birth_date       TEXT,
    comune           TEXT NOT NULL DEFAULT '',
    street           TEXT NOT NULL DEFAULT '',
    number           TEXT NOT NULL DEFAULT '',
    floor            TEXT NOT NULL DEFAULT '',
    access_notes     TEXT NOT NULL DEFAULT '',
    phones           TEXT NOT NULL DEFAULT '[]',
    language         TEXT NOT NULL DEFAULT 'it',
    living_situation TEXT NOT NULL DEFAULT '',
    vulnerability    TEXT NOT NULL DEFAULT '',
    medical_notes    BLOB,
    key_safe_code    BLOB,
    guardian_kind    TEXT,
    guardian_name    TEXT NOT NULL DEFAULT '',
    guardian_phone   TEXT NOT NULL DEFAULT '',
    gp_name          TEXT NOT NULL DEFAULT '',
    gp_phone         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'active'
                     CHECK (status IN ('active', 'away', 'hospital', 'ended')),
    away_until_ms    INTEGER,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL
);
CREATE TABLE contacts (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    priority      INTEGER NOT NULL CHECK (priority >= 1),
    name          TEXT NOT NULL,
    relation      TEXT NOT NULL DEFAULT '',
    phones        TEXT NOT NULL DEFAULT '[]',
    has_key       INTEGER NOT NULL DEFAULT 0,
    reachable     TEXT NOT NULL DEFAULT '',
    UNIQUE (subscriber_id, priority)
);
ALTER TABLE devices ADD COLUMN subscriber_id INTEGER REFERENCES subscribers (id);
CREATE INDEX devices_subscriber ON devices (subscriber_id);
)sql"},
    // PIS teams (arc/storage/teams.hpp): members and territory (comuni) are JSON arrays of
    // text; schedule is the text of arc/teams/schedule.hpp's syntax, validated by the API.
    migration{6, R"sql(
CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    members    TEXT NOT NULL DEFAULT '[]',
    phone      TEXT NOT NULL DEFAULT '',
    territory  TEXT NOT NULL DEFAULT '[]',
    schedule   TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'available'
               CHECK (state IN ('available', 'on_mission', 'off_duty')),
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
)sql"},
    // Legal holds (arc/storage/retention.hpp): what the retention purge must keep whatever its
    // age. ref is the alarm id, subscriber id or device account, per scope. The two indexes let
    // the purge ask cheaply whether an alarm still refers to an event.
    migration{7, R"sql(
CREATE TABLE legal_holds (
    id             INTEGER PRIMARY KEY,
    scope          TEXT NOT NULL CHECK (scope IN ('alarm', 'subscriber', 'account')),
    ref            TEXT NOT NULL,
    reason         TEXT NOT NULL CHECK (reason != ''),
    created_by     TEXT NOT NULL,
    created_ms     INTEGER NOT NULL,
    released_by    TEXT NOT NULL DEFAULT '',
    released_ms    INTEGER,
    release_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX legal_holds_active ON legal_holds (scope, ref) WHERE released_ms IS NULL;
CREATE INDEX alarm_log_event ON alarm_log (event_id);
CREATE INDEX alarms_first_event ON alarms (first_event_id);
)sql"},
    // Phone reports (arc/storage/cases.hpp): the case behind a phone_report alarm. The text
    // columns but category, caller_kind, comune and created_by are sealed at rest (BLOB) when
    // field encryption is on. No foreign keys: the retention purge deletes a case with its alarm,
    // and a subscriber removed later leaves the case as it was told.
    migration{8, R"sql(
CREATE TABLE cases (
    alarm_id       INTEGER PRIMARY KEY,
    category       TEXT NOT NULL CHECK (category IN ('frail_elderly', 'housing_emergency',
                   'essential_goods', 'domestic_violence', 'minor_in_danger', 'other')),
    caller_kind    TEXT NOT NULL CHECK (caller_kind IN ('citizen', 'police', 'health_service',
                   'social_service', 'other')),
    caller_name    BLOB,
    caller_phone   BLOB,
    subscriber_id  INTEGER,
    person_name    BLOB,
    person_details BLOB,
    comune         TEXT NOT NULL DEFAULT '',
    address        BLOB,
    summary        BLOB,
    created_by     TEXT NOT NULL,
    created_ms     INTEGER NOT NULL
);
)sql"},
    // PIS missions (arc/storage/missions.hpp): one row per dispatch of an alarm to a team, with
    // each step's time as the engine stamped it; a declined mission keeps its reason, a done
    // one its outcome and the team's note (the hand-over for a referral). An operator account
    // of role team belongs to one team (team_id), whose missions it works.
    migration{9, R"sql(
CREATE TABLE missions (
    id             INTEGER PRIMARY KEY,
    alarm_id       INTEGER NOT NULL,
    team           TEXT NOT NULL,
    operator       TEXT NOT NULL,
    instructions   TEXT NOT NULL DEFAULT '',
    state          TEXT NOT NULL DEFAULT 'dispatched'
                   CHECK (state IN ('dispatched', 'accepted', 'on_the_way', 'on_site', 'done',
                                    'declined')),
    dispatched_ms  INTEGER NOT NULL,
    accepted_ms    INTEGER,
    on_the_way_ms  INTEGER,
    on_site_ms     INTEGER,
    done_ms        INTEGER,
    declined_ms    INTEGER,
    escalated_ms   INTEGER,
    decline_reason TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX missions_team ON missions (team COLLATE NOCASE, id DESC);
CREATE INDEX missions_alarm ON missions (alarm_id, id DESC);
ALTER TABLE operators ADD COLUMN team_id INTEGER REFERENCES teams (id);
)sql"},
};

class storage_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "arc.storage"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::queue_full:
                return "storage queue full";
            case errc::stopped:
                return "storage writer stopped";
            case errc::commit_failed:
                return "storage transaction did not commit";
            case errc::job_failed:
                return "storage job failed";
        }
        return "unknown storage error";
    }
};

void apply_pragmas(sqlite3* db, bool read_only) {
    detail::check(db, sqlite3_busy_timeout(db, busy_timeout_ms), "busy_timeout");
    // WAL lets readers run beside the writer; FULL makes each COMMIT durable before it returns,
    // which is what lets the writer's completions release a device's ACK.
    if (!read_only) {
        // Only takes effect on a database without tables yet (a new file), and must come before
        // WAL mode: each commit appends one WAL frame (a header and a page write) per page it
        // dirtied, and a batch of events dirties the same few pages whatever their size, so
        // larger pages mean fewer writes per commit. Existing databases keep their page size.
        detail::check(db, sqlite3_exec(db, "PRAGMA page_size=8192", nullptr, nullptr, nullptr),
                      "page_size");
    }
    const char* journal = read_only ? "PRAGMA journal_mode" : "PRAGMA journal_mode=WAL";
    auto stmt = detail::prepare(db, journal);
    std::string mode;
    if (sqlite3_step(stmt.get()) == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(stmt.get(), 0);
        mode = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    } else {
        detail::throw_error(db, journal);
    }
    stmt.reset();
    const std::string name = detail::db_name(db);
    if (!read_only && mode != "wal" && name != ":memory:") {
        throw storage_error(fmt::format(
            "{}: journal_mode=WAL refused (got '{}'): is the filesystem local?", name, mode));
    }
    detail::check(db,
                  sqlite3_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", nullptr,
                               nullptr, nullptr),
                  "pragmas");
}

int read_user_version(sqlite3* db) {
    auto stmt = detail::prepare(db, "PRAGMA user_version");
    if (sqlite3_step(stmt.get()) != SQLITE_ROW) {
        detail::throw_error(db, "PRAGMA user_version");
    }
    return sqlite3_column_int(stmt.get(), 0);
}

void migrate(database& db) {
    for (const migration& step : migrations) {
        detail::transaction tx(db);
        // Re-read inside the write lock: another process may have migrated meanwhile.
        const int version = read_user_version(db.handle());
        if (version > current_schema_version()) {
            throw storage_error(
                fmt::format("{}: schema version {} is newer than this program's ({}): upgrade arcd",
                            detail::db_name(db.handle()), version, current_schema_version()));
        }
        if (version >= step.version) {
            continue;
        }
        db.exec(step.sql);
        db.exec(fmt::format("PRAGMA user_version = {}", step.version));
        tx.commit();
    }
}

sqlite3* open_handle(const std::filesystem::path& path, int flags) {
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        throw storage_error(fmt::format("{}: cannot open database: {}", path.string(), message));
    }
    sqlite3_extended_result_codes(db, 1);
    return db;
}

}  // namespace

namespace detail {

std::string db_name(sqlite3* db) {
    const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
    if (file == nullptr || *file == '\0') {
        return ":memory:";
    }
    return file;
}

void throw_error(sqlite3* db, std::string_view what) {
    throw storage_error(fmt::format("{}: {}: {}", db_name(db), what,
                                    db != nullptr ? sqlite3_errmsg(db) : "no connection"));
}

statement_ptr prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    statement_ptr owned(stmt);
    if (rc != SQLITE_OK || stmt == nullptr) {
        throw_error(db, fmt::format("prepare '{}'", sql));
    }
    return owned;
}

transaction::transaction(database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

transaction::~transaction() {
    // A failed COMMIT may already have rolled back (SQLite does so on I/O errors).
    if (open_ && sqlite3_get_autocommit(db_.handle()) == 0) {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void transaction::commit() {
    db_.exec("COMMIT");
    open_ = false;
}

savepoint::savepoint(database& db) : db_(db) { db_.exec("SAVEPOINT job"); }

savepoint::~savepoint() {
    if (open_ && sqlite3_get_autocommit(db_.handle()) == 0) {
        sqlite3_exec(db_.handle(), "ROLLBACK TO job; RELEASE job", nullptr, nullptr, nullptr);
    }
}

void savepoint::release() {
    db_.exec("RELEASE job");
    open_ = false;
}

void savepoint::rollback() {
    db_.exec("ROLLBACK TO job; RELEASE job");
    open_ = false;
}

}  // namespace detail

const std::error_category& storage_category() noexcept {
    static const storage_category_impl category;
    return category;
}

std::string_view to_string(device_mode mode) noexcept {
    switch (mode) {
        case device_mode::active:
            return "active";
        case device_mode::test:
            return "test";
        case device_mode::retired:
            return "retired";
    }
    return "active";
}

std::optional<device_mode> parse_device_mode(std::string_view text) noexcept {
    for (const device_mode mode : {device_mode::active, device_mode::test, device_mode::retired}) {
        if (text == to_string(mode)) {
            return mode;
        }
    }
    return std::nullopt;
}

int current_schema_version() noexcept { return migrations.back().version; }

struct database::statement_cache {
    struct entry {
        std::string sql;
        detail::statement_ptr stmt;
    };
    std::vector<entry> entries;
};

database::database(sqlite3* db) : db_(db), cache_(std::make_unique<statement_cache>()) {}

database::database(database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), cache_(std::move(other.cache_)) {}

database& database::operator=(database&& other) noexcept {
    if (this != &other) {
        cache_.reset();
        sqlite3_close_v2(db_);
        db_ = std::exchange(other.db_, nullptr);
        cache_ = std::move(other.cache_);
    }
    return *this;
}

database::~database() {
    // Statements first: a connection with live statements would only close as a zombie.
    cache_.reset();
    sqlite3_close_v2(db_);
}

database database::open(const std::filesystem::path& path) {
    if (path != ":memory:" && path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
        if (ec) {
            throw storage_error(fmt::format("{}: cannot create directory {}: {}", path.string(),
                                            path.parent_path().string(), ec.message()));
        }
    }
    database db(open_handle(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    apply_pragmas(db.db_, false);
    migrate(db);
    return db;
}

database database::open_read_only(const std::filesystem::path& path) {
    database db(open_handle(path, SQLITE_OPEN_READONLY));
    apply_pragmas(db.db_, true);
    return db;
}

sqlite3* database::handle() const noexcept { return db_; }

void database::exec(std::string_view sql) {
    // sqlite3_exec wants a NUL-terminated string.
    const std::string text(sql);
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
        const std::string reason = message != nullptr ? message : sqlite3_errstr(rc);
        sqlite3_free(message);
        throw storage_error(fmt::format("{}: {}: {}", detail::db_name(db_),
                                        text.size() > 80 ? text.substr(0, 80) + "..." : text,
                                        reason));
    }
}

int database::schema_version() { return read_user_version(db_); }

sqlite3_stmt* database::prepare_cached(std::string_view sql) {
    for (const auto& entry : cache_->entries) {
        if (entry.sql == sql) {
            return entry.stmt.get();
        }
    }
    auto stmt = detail::prepare(db_, sql);
    sqlite3_stmt* raw = stmt.get();
    cache_->entries.push_back({std::string(sql), std::move(stmt)});
    return raw;
}

}  // namespace arc::storage
