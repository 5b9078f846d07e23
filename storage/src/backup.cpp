#include "arc/storage/backup.hpp"

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "sqlite_util.hpp"
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

namespace arc::storage {

namespace {

namespace fs = std::filesystem;

struct connection_closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using connection_ptr = std::unique_ptr<sqlite3, connection_closer>;

// Removes the temporary file (and a journal SQLite may have left) unless the copy was renamed.
class temp_file {
public:
    explicit temp_file(fs::path path) : path_(std::move(path)) { remove(); }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    temp_file(temp_file&&) = delete;
    temp_file& operator=(temp_file&&) = delete;
    ~temp_file() {
        if (!kept_) {
            remove();
        }
    }
    const fs::path& path() const noexcept { return path_; }
    void keep() noexcept { kept_ = true; }

private:
    void remove() noexcept {
        std::error_code ec;
        fs::remove(path_, ec);
        for (const char* suffix : {"-journal", "-wal", "-shm"}) {
            fs::remove(fs::path(path_.string() + suffix), ec);
        }
    }
    fs::path path_;
    bool kept_ = false;
};

[[noreturn]] void throw_errno(const fs::path& path, std::string_view what) {
    // std::strerror is not thread-safe, and backups run on a worker thread.
    throw storage_error(
        fmt::format("{}: {}: {}", path.string(), what, std::generic_category().message(errno)));
}

void fsync_path(const fs::path& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
        throw_errno(path, "open for fsync");
    }
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) {
        errno = saved;
        throw_errno(path, "fsync");
    }
}

// Runs the backup steps; the source must be inside its read transaction.
int copy_pages(sqlite3* src, sqlite3* dest, const fs::path& out, const backup_options& opts) {
    sqlite3_backup* backup = sqlite3_backup_init(dest, "main", src, "main");
    if (backup == nullptr) {
        throw storage_error(fmt::format("{}: backup_init: {}", out.string(), sqlite3_errmsg(dest)));
    }
    int rc = SQLITE_OK;
    bool cancelled = false;
    while (true) {
        rc = sqlite3_backup_step(backup, opts.pages_per_step);
        if (rc == SQLITE_DONE) {
            break;
        }
        const int primary = rc & 0xff;  // extended result codes are on
        if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
            // Only the temporary file can be locked (the source is a snapshot): wait briefly.
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } else if (rc != SQLITE_OK) {
            break;
        }
        if (opts.progress &&
            !opts.progress(sqlite3_backup_remaining(backup), sqlite3_backup_pagecount(backup))) {
            cancelled = true;
            break;
        }
    }
    const int pages = sqlite3_backup_pagecount(backup);
    const int finish_rc = sqlite3_backup_finish(backup);
    if (cancelled) {
        throw backup_cancelled(fmt::format("{}: backup cancelled", out.string()));
    }
    if (rc != SQLITE_DONE || finish_rc != SQLITE_OK) {
        throw storage_error(fmt::format("{}: backup: {}", out.string(),
                                        sqlite3_errstr(rc != SQLITE_DONE ? rc : finish_rc)));
    }
    return pages;
}

}  // namespace

backup_result backup_to(const fs::path& db, const fs::path& out, const backup_options& opts) {
    const auto started = std::chrono::steady_clock::now();
    if (out.filename().empty()) {
        throw storage_error(fmt::format("{}: not a file name", out.string()));
    }
    if (!opts.overwrite && fs::exists(out)) {
        throw backup_target_exists(fmt::format("{}: exists", out.string()));
    }
    database src = database::open_read_only(db);
    // One read transaction for the whole copy: the copy is the snapshot of its first read, the
    // writer commits on meanwhile (WAL), and the backup does not restart after each commit as
    // it would between transactions of its own.
    src.exec("BEGIN");
    backup_result result;
    result.events = count_events(src);

    temp_file temp(out.parent_path() /
                   fmt::format(".{}.tmp-{}", out.filename().string(), ::getpid()));
    sqlite3* raw_dest = nullptr;
    const int open_rc = sqlite3_open_v2(temp.path().c_str(), &raw_dest,
                                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    connection_ptr dest(raw_dest);
    if (open_rc != SQLITE_OK) {
        throw storage_error(
            fmt::format("{}: open: {}", temp.path().string(),
                        raw_dest != nullptr ? sqlite3_errmsg(raw_dest) : sqlite3_errstr(open_rc)));
    }
    result.pages = copy_pages(src.handle(), dest.get(), out, opts);
    src.exec("COMMIT");
    // The copied header says WAL, as the source: make the copy one self-contained file (arcd
    // turns WAL on again when it opens a restored copy).
    char* message = nullptr;
    if (sqlite3_exec(dest.get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, &message) !=
        SQLITE_OK) {
        const std::string reason = message != nullptr ? message : "unknown error";
        sqlite3_free(message);
        throw storage_error(fmt::format("{}: journal_mode: {}", temp.path().string(), reason));
    }
    if (sqlite3_close(dest.release()) != SQLITE_OK) {
        throw storage_error(fmt::format("{}: close failed", temp.path().string()));
    }
    fsync_path(temp.path(), O_RDONLY);
    if (opts.overwrite) {
        if (::rename(temp.path().c_str(), out.c_str()) != 0) {
            throw_errno(out, "rename");
        }
    } else {
        // link() fails if `out` appeared meanwhile: never replace a file without overwrite.
        if (::link(temp.path().c_str(), out.c_str()) != 0) {
            if (errno == EEXIST) {
                throw backup_target_exists(fmt::format("{}: exists", out.string()));
            }
            throw_errno(out, "link");
        }
        ::unlink(temp.path().c_str());
    }
    temp.keep();
    for (const char* suffix : {"-wal", "-shm"}) {
        std::error_code ignored;
        fs::remove(fs::path(temp.path().string() + suffix), ignored);
    }
    const fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
    result.bytes = fs::file_size(out);
    result.ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    return result;
}

}  // namespace arc::storage
