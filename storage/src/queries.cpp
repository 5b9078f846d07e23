#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "field_keys.hpp"
#include "sqlite_util.hpp"
#include <fmt/format.h>
#include <sqlite3.h>

#include "arc/storage/alarms.hpp"
#include "arc/storage/store.hpp"

namespace arc::storage {

namespace {

std::string upper(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    return out;
}

// With the pause of the device's subscriber (away/hospital): select them FROM device_join.
constexpr std::string_view device_columns =
    "account, protocol, aes_key, mode, label, devices.created_ms, last_seen_ms, device_type, "
    "interval_s, test_until_ms, vendor, subscriber_id, CASE WHEN subscribers.status IN ('away', "
    "'hospital') THEN coalesce(subscribers.away_until_ms, 9223372036854775807) END";
constexpr std::string_view device_join =
    "devices LEFT JOIN subscribers ON subscribers.id = devices.subscriber_id";
// The columns read_event reads, in its order.
constexpr std::string_view event_columns =
    "id, received_ms, transport, peer, raw, protocol, account, token, seq, decoded_json, "
    "reply_kind, reply, error, accepted";

void bind_optional(detail::statement& stmt, int index, const std::optional<std::int64_t>& value) {
    if (value) {
        stmt.bind(index, *value);
    } else {
        stmt.bind_null(index);
    }
}

std::optional<std::int64_t> column_optional(const detail::statement& stmt, int index) {
    if (stmt.column_is_null(index)) {
        return std::nullopt;
    }
    return stmt.column_int64(index);
}

device read_device(const detail::statement& stmt) {
    device dev;
    dev.account = stmt.column_bytes(0);
    dev.protocol = stmt.column_bytes(1);
    if (!stmt.column_is_null(2)) {
        dev.key = detail::device_key_from_store(stmt.db(), dev.account, stmt.column_bytes(2));
    }
    dev.mode = parse_device_mode(stmt.column_bytes(3)).value_or(device_mode::active);
    dev.label = stmt.column_bytes(4);
    dev.created_ms = stmt.column_int64(5);
    dev.last_seen_ms = column_optional(stmt, 6);
    dev.device_type = stmt.column_bytes(7);
    dev.interval_s = column_optional(stmt, 8);
    dev.test_until_ms = column_optional(stmt, 9);
    dev.vendor = stmt.column_bytes(10);
    dev.subscriber_id = column_optional(stmt, 11);
    dev.paused_until_ms = column_optional(stmt, 12);
    return dev;
}

event_record read_event(const detail::statement& stmt) {
    event_record ev;
    ev.id = stmt.column_int64(0);
    ev.received_ms = stmt.column_int64(1);
    ev.transport = stmt.column_bytes(2);
    ev.peer = stmt.column_bytes(3);
    ev.raw = stmt.column_bytes(4);
    ev.protocol = stmt.column_bytes(5);
    ev.account = stmt.column_bytes(6);
    ev.token = stmt.column_bytes(7);
    ev.seq = stmt.column_bytes(8);
    ev.decoded_json = stmt.column_bytes(9);
    ev.reply_kind = stmt.column_bytes(10);
    ev.reply = stmt.column_bytes(11);
    ev.error = stmt.column_bytes(12);
    ev.accepted = stmt.column_int64(13) != 0;
    return ev;
}

}  // namespace

void insert_device(database& db, const device& dev) {
    const std::string account = upper(dev.account);
    if (find_device(db, account)) {
        throw already_exists(
            fmt::format("{}: device {} already exists", detail::db_name(db.handle()), account));
    }
    detail::statement stmt(
        db,
        "INSERT INTO devices (account, protocol, aes_key, mode, label, "
        "created_ms, last_seen_ms, device_type, interval_s, test_until_ms, "
        "vendor, subscriber_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    stmt.bind_text(1, account);
    stmt.bind_text(2, dev.protocol);
    std::vector<std::uint8_t> stored_key;
    if (dev.key) {
        stored_key = detail::device_key_to_store(*dev.key);
        stmt.bind_blob(3, stored_key.data(), stored_key.size());
    } else {
        stmt.bind_null(3);
    }
    stmt.bind_text(4, to_string(dev.mode));
    stmt.bind_text(5, dev.label);
    stmt.bind(6, dev.created_ms);
    bind_optional(stmt, 7, dev.last_seen_ms);
    stmt.bind_text(8, dev.device_type);
    bind_optional(stmt, 9, dev.interval_s);
    // As set_device_mode: an end of test mode means nothing outside test mode.
    bind_optional(stmt, 10, dev.mode == device_mode::test ? dev.test_until_ms : std::nullopt);
    stmt.bind_text(11, dev.vendor);
    bind_optional(stmt, 12, dev.subscriber_id);
    stmt.step();
}

bool delete_device(database& db, std::string_view account) {
    detail::statement stmt(db, "DELETE FROM devices WHERE account = upper(?1)");
    stmt.bind_text(1, account);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

bool set_device_mode(database& db, std::string_view account, device_mode mode,
                     std::optional<std::int64_t> test_until_ms) {
    detail::statement stmt(
        db, "UPDATE devices SET mode = ?2, test_until_ms = ?3 WHERE account = upper(?1)");
    stmt.bind_text(1, account);
    stmt.bind_text(2, to_string(mode));
    bind_optional(stmt, 3, mode == device_mode::test ? test_until_ms : std::nullopt);
    stmt.step();
    return sqlite3_changes(db.handle()) > 0;
}

std::int64_t insert_event(database& db, const event_record& ev) {
    detail::statement stmt(db,
                           "INSERT INTO events (received_ms, transport, peer, raw, protocol, "
                           "account, token, seq, decoded_json, reply_kind, reply, error, accepted) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
    stmt.bind(1, ev.received_ms);
    stmt.bind_text(2, ev.transport);
    stmt.bind_text(3, ev.peer);
    stmt.bind_blob(4, ev.raw.data(), ev.raw.size());
    stmt.bind_text(5, ev.protocol);
    // Accounts are stored upper-case (as devices.account); a device nearly always sends them so,
    // and then no copy is made (SQLite's upper() would build one per row).
    const bool has_lower = std::any_of(ev.account.begin(), ev.account.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) != 0;
    });
    const std::string account_upper = has_lower ? upper(ev.account) : std::string();
    stmt.bind_text(6, has_lower ? std::string_view(account_upper) : std::string_view(ev.account));
    stmt.bind_text(7, ev.token);
    stmt.bind_text(8, ev.seq);
    stmt.bind_text(9, ev.decoded_json);
    stmt.bind_text(10, ev.reply_kind);
    stmt.bind_blob(11, ev.reply.data(), ev.reply.size());
    stmt.bind_text(12, ev.error);
    stmt.bind(13, ev.accepted ? 1 : 0);
    stmt.step();
    return sqlite3_last_insert_rowid(db.handle());
}

std::vector<device> list_devices(database& db) {
    detail::statement stmt(
        db, fmt::format("SELECT {} FROM {} ORDER BY account", device_columns, device_join));
    std::vector<device> out;
    while (stmt.step()) {
        out.push_back(read_device(stmt));
    }
    return out;
}

std::optional<device> find_device(database& db, std::string_view account) {
    detail::statement stmt(db, fmt::format("SELECT {} FROM {} WHERE account = upper(?1)",
                                           device_columns, device_join));
    stmt.bind_text(1, account);
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_device(stmt);
}

std::vector<event_record> events_for_account(database& db, std::string_view account,
                                             std::size_t limit) {
    detail::statement stmt(
        db, fmt::format("SELECT {} FROM events WHERE account = upper(?1) ORDER BY id DESC LIMIT ?2",
                        event_columns));
    stmt.bind_text(1, account);
    stmt.bind(2, static_cast<std::int64_t>(
                     std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
    std::vector<event_record> out;
    while (stmt.step()) {
        out.push_back(read_event(stmt));
    }
    return out;
}

std::vector<event_record> events_after(database& db, std::int64_t after_id, std::size_t limit) {
    detail::statement stmt(
        db, fmt::format("SELECT {} FROM events WHERE id > ?1 AND accepted = 1 ORDER BY id LIMIT ?2",
                        event_columns));
    stmt.bind(1, after_id);
    stmt.bind(2, static_cast<std::int64_t>(
                     std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
    std::vector<event_record> out;
    while (stmt.step()) {
        out.push_back(read_event(stmt));
    }
    return out;
}

std::optional<event_record> find_event(database& db, std::int64_t id) {
    detail::statement stmt(db, fmt::format("SELECT {} FROM events WHERE id = ?1", event_columns));
    stmt.bind(1, id);
    if (!stmt.step()) {
        return std::nullopt;
    }
    return read_event(stmt);
}

namespace {

// A device's frames: those parsed with its account, and the unparsed ones (bad CRC, length or
// format) whose raw header names it ("#ACCT[", DC-09 §5.5.1.4), found through events_unparsed.
constexpr std::string_view device_events_cte =
    "WITH mine AS (SELECT * FROM events WHERE account = upper(?1) "
    "UNION ALL SELECT * FROM events WHERE account = '' "
    "AND instr(upper(CAST(raw AS TEXT)), ?2) > 0) ";

std::string raw_account_marker(std::string_view account) { return "#" + upper(account) + "["; }

}  // namespace

device_event_summary summarise_device_events(database& db, std::string_view account) {
    const std::string sql = std::string(device_events_cte) +
                            "SELECT reply_kind, error, accepted, count(*), "
                            "sum(json_extract(decoded_json, '$.outside_window') = 1), "
                            "min(json_extract(decoded_json, '$.skew_s')), "
                            "max(json_extract(decoded_json, '$.skew_s')) "
                            "FROM mine GROUP BY reply_kind, error, accepted";
    detail::statement stmt(db, sql);
    stmt.bind_text(1, account);
    const std::string marker = raw_account_marker(account);
    stmt.bind_text(2, marker);
    device_event_summary out;
    while (stmt.step()) {
        event_group group;
        group.reply_kind = stmt.column_bytes(0);
        group.error = stmt.column_bytes(1);
        group.accepted = stmt.column_int64(2) != 0;
        group.frames = stmt.column_int64(3);
        out.frames += group.frames;
        if (group.accepted) {
            out.accepted += group.frames;
        }
        out.outside_window += stmt.column_int64(4);
        for (const int column : {5, 6}) {
            if (stmt.column_is_null(column)) {
                continue;
            }
            const std::int64_t skew = stmt.column_int64(column);
            if (!out.max_skew_s || std::llabs(skew) > std::llabs(*out.max_skew_s)) {
                out.max_skew_s = skew;
            }
        }
        out.groups.push_back(std::move(group));
    }
    return out;
}

std::vector<event_record> device_frames(database& db, std::string_view account, std::size_t limit,
                                        std::int64_t after_id) {
    const std::string sql = std::string(device_events_cte) +
                            "SELECT id, received_ms, transport, peer, raw, protocol, account, "
                            "token, seq, decoded_json, reply_kind, reply, error, accepted "
                            "FROM mine WHERE id > ?3 ORDER BY id DESC LIMIT ?4";
    detail::statement stmt(db, sql);
    stmt.bind_text(1, account);
    const std::string marker = raw_account_marker(account);
    stmt.bind_text(2, marker);
    stmt.bind(3, after_id);
    stmt.bind(4, static_cast<std::int64_t>(
                     std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
    std::vector<event_record> out;
    while (stmt.step()) {
        out.push_back(read_event(stmt));
    }
    return out;
}

std::int64_t count_events(database& db) {
    detail::statement stmt(db, "SELECT count(*) FROM events");
    stmt.step();
    return stmt.column_int64(0);
}

}  // namespace arc::storage
