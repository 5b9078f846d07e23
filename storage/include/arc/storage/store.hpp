// Purpose: the SQLite store of arcd: schema and migrations, the group-commit writer, read queries.
// One writer thread owns the only write connection; readers open connections of their own (WAL).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace arc::storage {

/// A storage failure at startup or in a query (the message names the path and SQLite's error).
struct storage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// insert_device on an account that is already registered (the API answers `exists`).
struct already_exists : storage_error {
    using storage_error::storage_error;
};

/// Error codes passed to writer completions.
enum class errc {
    queue_full = 1,  ///< the writer's queue is at its limit (the item was not queued)
    stopped,         ///< the writer is stopping (the item was not queued)
    commit_failed,   ///< the transaction holding the item did not commit (nothing of it stored)
    job_failed,      ///< a job threw; its own changes were rolled back, the batch committed
};
const std::error_category& storage_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), storage_category()};
}

/// What a device does with its events.
enum class device_mode { active, test, retired };
std::string_view to_string(device_mode mode) noexcept;
std::optional<device_mode> parse_device_mode(std::string_view text) noexcept;

/// A registered device (one DC-09 account).
struct device {
    std::string account;  ///< DC-09 account, upper-case hex as given
    std::string protocol = "dc09";
    std::optional<std::vector<std::uint8_t>> key;  ///< AES key bytes when the device encrypts
    device_mode mode = device_mode::active;
    std::string label;  ///< free text for installers
    std::int64_t created_ms = 0;
    std::optional<std::int64_t> last_seen_ms;   ///< time of the last accepted frame
    std::string device_type = "home_unit";      ///< selects the supervision defaults
    std::optional<std::int64_t> interval_s;     ///< supervision interval; empty: the type's default
    std::optional<std::int64_t> test_until_ms;  ///< test mode ends by itself then (mode test only)
    std::string vendor;  ///< selects the per-vendor event-code table; empty: the default
    std::optional<std::int64_t> subscriber_id;  ///< the subscriber it belongs to (schema v5)
    /// Read only, from its subscriber: away or in hospital until then (INT64_MAX: no end set),
    /// which pauses supervision and inactivity alarms; empty when not paused. Never written.
    std::optional<std::int64_t> paused_until_ms;
};

/// One received frame, valid or not, with its decoding and the reply sent.
struct event_record {
    std::int64_t id = 0;           ///< assigned when stored
    std::int64_t received_ms = 0;  ///< receiver time, Unix milliseconds
    std::string transport;         ///< "tcp", "udp"
    std::string peer;              ///< "address:port"
    std::string raw;               ///< the exact bytes of the frame
    std::string protocol = "dc09";
    std::string account;  ///< frame account, empty when not parsed
    std::string token;    ///< ID token ("SIA-DCS", "*ADM-CID", ...), empty if unparsed
    std::string seq;
    std::string decoded_json;  ///< the decoding as JSON text ("{}" when nothing decoded)
    std::string reply_kind;    ///< "ACK", "ACK_ENCRYPTED", "NAK", "DUH", "NONE"
    std::string reply;         ///< the exact reply bytes
    std::string error;         ///< why not accepted, or a flag; empty when clean
    bool accepted = false;     ///< ACKed as an event or link test
};

/// An open SQLite connection (RAII); `open` creates the file and applies migrations.
class database {
public:
    /// Opens `path` (":memory:" for tests): WAL, synchronous=FULL, busy timeout, migrations
    /// up to the current schema version (PRAGMA user_version). Creates the parent directory
    /// when missing. A relative path is relative to the working directory. Throws storage_error.
    static database open(const std::filesystem::path& path);
    /// Opens an existing database for reading only (no migrations). Throws storage_error.
    static database open_read_only(const std::filesystem::path& path);

    database(database&&) noexcept;
    database& operator=(database&&) noexcept;
    ~database();

    sqlite3* handle() const noexcept;
    /// Runs SQL with no result rows; throws storage_error naming the statement's failure.
    void exec(std::string_view sql);
    /// Schema version (PRAGMA user_version).
    int schema_version();
    /// `sql` prepared once on this connection and kept until it closes (the hot paths reuse
    /// it); the caller resets it after use. Throws storage_error.
    sqlite3_stmt* prepare_cached(std::string_view sql);

private:
    struct statement_cache;
    explicit database(sqlite3* db);
    sqlite3* db_ = nullptr;
    std::unique_ptr<statement_cache> cache_;
};

/// Current schema version after all migrations.
int current_schema_version() noexcept;

/// Device registry writes, used inside writer jobs (or directly in tests). Throw storage_error.
/// Accounts are stored upper case and matched case-insensitively.
void insert_device(database& db, const device& dev);  ///< already_exists if the account exists
bool delete_device(database& db, std::string_view account);  ///< false if not found
/// Sets the mode; `test_until_ms` is kept only for device_mode::test (NULL otherwise).
bool set_device_mode(database& db, std::string_view account, device_mode mode,
                     std::optional<std::int64_t> test_until_ms = std::nullopt);
/// Inserts one event and returns its id (the writer does this in batches). The account is
/// stored upper case so that events_for_account matches it case-insensitively.
std::int64_t insert_event(database& db, const event_record& ev);

/// Read queries (each call uses the given connection; one connection per thread).
std::vector<device> list_devices(database& db);
std::optional<device> find_device(database& db, std::string_view account);
/// Newest first.
std::vector<event_record> events_for_account(database& db, std::string_view account,
                                             std::size_t limit);
/// One event by id (the events of an alarm, for alarm.show).
std::optional<event_record> find_event(database& db, std::int64_t id);
std::int64_t count_events(database& db);

/// A device's frames with one reply kind, error and acceptance (device.diag's counters).
struct event_group {
    std::string reply_kind;
    std::string error;
    bool accepted = false;
    std::int64_t frames = 0;
};
/// What a device sent, summed over the events table.
struct device_event_summary {
    std::vector<event_group> groups;         ///< by reply kind, error and acceptance
    std::int64_t frames = 0;                 ///< all of them
    std::int64_t accepted = 0;               ///< ACKed as an event or link test
    std::int64_t outside_window = 0;         ///< timestamped outside the window (ACKed or not)
    std::optional<std::int64_t> max_skew_s;  ///< the clock skew of largest magnitude seen
};
/// A device's frames are those parsed with its account and the unparsed ones (bad CRC,
/// length or format: stored with an empty account) whose raw header names it.
device_event_summary summarise_device_events(database& db, std::string_view account);
/// A device's frames (as summarise_device_events counts them) with an id above `after_id`,
/// newest first.
std::vector<event_record> device_frames(database& db, std::string_view account, std::size_t limit,
                                        std::int64_t after_id = 0);

/// Writer lanes: when both hold items, alarm items go into the transaction first and routine
/// items only fill the room left, so periodic tests and heartbeats never delay an alarm.
enum class lane : std::uint8_t {
    alarm,    ///< alarm events and jobs
    routine,  ///< periodic tests, heartbeats: at most 3/4 of the queue
};

/// The writer: one thread, one write connection, group commit. Items that arrive while a
/// transaction is being committed go into the next one; each item's completion runs (on the
/// writer thread) only after the transaction holding it has committed, or with an error.
class writer {
public:
    struct options {
        std::size_t queue_limit = 100000;  ///< items waiting; submit fails beyond it
        std::size_t max_batch = 8192;      ///< items per transaction at most
        /// Copy the WAL into the database on a thread of its own (PASSIVE checkpoints) instead
        /// of inside the COMMIT that ACKs wait for; false keeps SQLite's autocheckpoint.
        bool checkpoint_thread = true;
    };
    struct stats {
        std::uint64_t batches = 0;         ///< committed transactions
        std::uint64_t events = 0;          ///< events committed
        std::uint64_t jobs = 0;            ///< jobs run
        std::uint64_t failed_batches = 0;  ///< transactions that failed to commit
        std::uint64_t max_batch = 0;       ///< largest batch committed
        std::uint64_t queued = 0;          ///< items waiting now (both lanes)
        std::uint64_t queued_routine = 0;  ///< of which routine-lane items
        double last_commit_ms = 0;         ///< duration of the last commit (incl. fsync)
    };
    using event_done = std::function<void(std::error_code, std::int64_t event_id)>;
    /// An event_done that also gets the record back (moved), so that its memory is reused or
    /// freed by the submitter's thread instead of the writer's.
    using event_return =
        std::function<void(std::error_code, std::int64_t event_id, event_record&& ev)>;
    using job = std::function<void(database&)>;
    using job_done = std::function<void(std::error_code, std::string message)>;

    /// Opens the write connection (creating and migrating the database) and starts the thread.
    /// Throws storage_error.
    writer(const std::filesystem::path& path, options opts);
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;
    /// Stops (see stop()).
    ~writer();

    /// Queues an event; false (done not called, the record dropped) if the queue is full or
    /// the writer stopped. Routine items are refused once they fill 3/4 of queue_limit.
    bool submit(event_record ev, event_done done, lane which = lane::alarm);
    /// As submit, and `done` receives the record back after the commit (or failure).
    bool submit_and_return(event_record ev, event_return done, lane which = lane::alarm);
    /// Queues a job to run inside the next transaction (under a savepoint of its own: a job
    /// that throws is rolled back alone and its done gets errc::job_failed with the message).
    /// Routine-lane jobs (the retention purge) only fill the room alarm items leave.
    bool submit(job work, job_done done, lane which = lane::alarm);
    /// Stops taking items, commits everything queued, runs the completions, joins the thread.
    void stop();
    stats snapshot() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace arc::storage

template <>
struct std::is_error_code_enum<arc::storage::errc> : std::true_type {};
