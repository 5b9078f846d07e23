// Purpose: private SQLite helpers of arc_storage: error reporting, statement borrows, transactions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "arc/storage/store.hpp"

namespace arc::storage::detail {

/// The database's file name for messages (":memory:" for in-memory databases).
std::string db_name(sqlite3* db);

/// Throws storage_error "PATH: what: SQLite's message".
[[noreturn]] void throw_error(sqlite3* db, std::string_view what);

/// Throws unless `rc` is SQLITE_OK.
inline void check(sqlite3* db, int rc, std::string_view what) {
    if (rc != SQLITE_OK) {
        throw_error(db, what);
    }
}

/// Finalizes a statement owned outside the cache.
struct statement_deleter {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_deleter>;

/// Prepares `sql` (one statement); throws storage_error.
statement_ptr prepare(sqlite3* db, std::string_view sql);

/// A borrowed cached statement; resets it and clears its bindings on scope exit so that the
/// next borrower finds it clean and no bound pointer outlives the caller's data.
class statement {
public:
    statement(database& db, std::string_view sql)
        : db_(db.handle()), stmt_(db.prepare_cached(sql)) {}
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    void bind(int index, std::int64_t value) {
        check(db_, sqlite3_bind_int64(stmt_, index, value), "bind");
    }
    /// The text must stay alive until the statement is done (no copy: this is the hot path).
    void bind_text(int index, std::string_view value) {
        check(db_,
              // A null data pointer would bind SQL NULL; an empty value is an empty string.
              sqlite3_bind_text64(stmt_, index, value.data() != nullptr ? value.data() : "",
                                  value.size(), SQLITE_STATIC, SQLITE_UTF8),
              "bind");
    }
    /// Binds bytes as a BLOB (embedded NULs kept); same lifetime rule as bind_text.
    void bind_blob(int index, const void* data, std::size_t size) {
        check(db_,
              sqlite3_bind_blob64(stmt_, index, data != nullptr ? data : "", size, SQLITE_STATIC),
              "bind");
    }
    void bind_null(int index) { check(db_, sqlite3_bind_null(stmt_, index), "bind"); }

    /// True when a row is available, false when the statement is done; throws on error.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            return false;
        }
        throw_error(db_, sqlite3_sql(stmt_));
    }

    /// Makes the statement runnable again; bindings stay.
    void reset() noexcept { sqlite3_reset(stmt_); }

    std::int64_t column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }
    /// The connection (for error messages).
    sqlite3* db() const noexcept { return db_; }
    /// SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL, ...
    int column_type(int index) const { return sqlite3_column_type(stmt_, index); }
    bool column_is_null(int index) const {
        return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
    }
    /// TEXT or BLOB column as bytes (embedded NULs kept).
    std::string column_bytes(int index) const {
        const void* data = sqlite3_column_blob(stmt_, index);
        const int size = sqlite3_column_bytes(stmt_, index);
        if (data == nullptr || size <= 0) {
            return {};
        }
        return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

/// A transaction that rolls back unless committed; the destructor never throws.
class transaction {
public:
    /// BEGIN IMMEDIATE: takes the write lock now, so a busy database fails here (after the
    /// busy timeout) rather than half-way through the work.
    explicit transaction(database& db);
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    ~transaction();
    void commit();

private:
    database& db_;
    bool open_ = true;
};

/// A named savepoint inside a transaction: rolled back alone unless released.
class savepoint {
public:
    explicit savepoint(database& db);
    savepoint(const savepoint&) = delete;
    savepoint& operator=(const savepoint&) = delete;
    ~savepoint();
    void release();
    /// Undoes the work since the savepoint and ends it; throws storage_error.
    void rollback();

private:
    database& db_;
    bool open_ = true;
};

}  // namespace arc::storage::detail
