// Purpose: consistent copies of arcd's database while it keeps writing (SQLite's online backup
// API over a read snapshot), for `arcctl backup`.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>

#include "arc/storage/store.hpp"

namespace arc::storage {

/// backup_to on an existing target without `overwrite` (the API answers `exists`).
struct backup_target_exists : storage_error {
    using storage_error::storage_error;
};

/// backup_to stopped because its progress callback asked it to (arcd stopping).
struct backup_cancelled : storage_error {
    using storage_error::storage_error;
};

/// How backup_to copies.
struct backup_options {
    bool overwrite = false;    ///< replace an existing target
    int pages_per_step = 256;  ///< pages copied per sqlite3_backup_step
    /// Called after each step with the pages left and the total; false cancels the backup.
    std::function<bool(int remaining, int total)> progress;
};

/// What a backup copied.
struct backup_result {
    std::uintmax_t bytes = 0;  ///< size of the backup file
    int pages = 0;             ///< database pages copied
    std::int64_t events = 0;   ///< rows of the events table in the copy
    double ms = 0;             ///< wall time taken
};

/// Copies the database at `db` into `out` as it was when the copy began: a read-only connection
/// of its own holds one read transaction (a WAL snapshot) for the whole copy, so writers go on
/// and the copy never restarts. The copy is written to a temporary file beside `out`, synced,
/// then renamed over `out` (an existing `out` is refused unless `opts.overwrite`) and the
/// directory synced. Throws backup_target_exists, backup_cancelled or storage_error; a failed
/// copy leaves no temporary file behind.
backup_result backup_to(const std::filesystem::path& db, const std::filesystem::path& out,
                        const backup_options& opts = {});

}  // namespace arc::storage
