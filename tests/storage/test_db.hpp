// Purpose: test helpers for arc_storage: a temporary directory per test and small queries.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "arc/storage/store.hpp"

namespace arc::storage::testing {

/// A fresh directory under TMPDIR, removed with everything in it at the end of the test.
class temp_dir {
public:
    temp_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "arc-storage-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// A small event as the receiver would record it.
inline event_record make_event(std::string account, std::int64_t received_ms,
                               bool accepted = true) {
    event_record ev;
    ev.received_ms = received_ms;
    ev.transport = "tcp";
    ev.peer = "127.0.0.1:40000";
    ev.raw = "\n" + account + "\"SIA-DCS\"0001L0#" + account + "[#" + account + "|NFA1]\r";
    ev.account = std::move(account);
    ev.token = "SIA-DCS";
    ev.seq = "0001";
    ev.decoded_json = R"({"token":"SIA-DCS"})";
    ev.reply_kind = "ACK";
    ev.reply = "\nACK\r";
    ev.accepted = accepted;
    return ev;
}

/// A device with defaults but for the given fields.
inline device make_device(std::string account, std::int64_t created_ms = 0,
                          std::optional<std::int64_t> last_seen_ms = std::nullopt) {
    device dev;
    dev.account = std::move(account);
    dev.created_ms = created_ms;
    dev.last_seen_ms = last_seen_ms;
    return dev;
}

/// One integer from a query (test-side SQL without the library's helpers).
inline std::int64_t query_int(database& db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        throw std::runtime_error(sqlite3_errmsg(db.handle()));
    }
    std::int64_t value = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return value;
}

/// One text value from a query.
inline std::string query_text(database& db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        throw std::runtime_error(sqlite3_errmsg(db.handle()));
    }
    std::string value;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(stmt, 0);
        value = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    }
    sqlite3_finalize(stmt);
    return value;
}

}  // namespace arc::storage::testing
