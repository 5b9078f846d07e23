#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include "test_db.hpp"
#include <gtest/gtest.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arc/storage/store.hpp"

namespace arc::storage {
namespace {

using testing::make_event;
using testing::query_text;
using testing::temp_dir;

// The child: a writer submitting events until killed, reporting each committed id on `fd`.
// Everything (the writer, its thread, the connection) is created after fork, so the child
// starts single-threaded with nothing inherited in use.
[[noreturn]] void run_child(const std::filesystem::path& path, int fd) {
    try {
        writer w(path, {.queue_limit = 2000, .max_batch = 512});
        for (std::int64_t i = 0;; ++i) {
            const bool queued =
                w.submit(make_event("C0DE", i), [fd](std::error_code ec, std::int64_t id) {
                    if (ec) {
                        return;
                    }
                    // 8 bytes < PIPE_BUF: each write is atomic.
                    if (::write(fd, &id, sizeof id) != static_cast<ssize_t>(sizeof id)) {
                        ::_exit(4);
                    }
                });
            if (!queued) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        }
    } catch (...) {
        ::_exit(3);
    }
}

// Reads ids from `fd` until `deadline` (or EOF when deadline is max).
void read_ids(int fd, std::vector<std::int64_t>& ids,
              std::chrono::steady_clock::time_point deadline, std::vector<char>& pending) {
    for (;;) {
        const auto now = std::chrono::steady_clock::now();
        int timeout_ms = -1;
        if (deadline != std::chrono::steady_clock::time_point::max()) {
            if (now >= deadline) {
                return;
            }
            timeout_ms = static_cast<int>(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1);
        }
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            continue;
        }
        char buffer[4096];
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) {
            return;  // EOF: the child is gone
        }
        pending.insert(pending.end(), buffer, buffer + n);
        std::size_t used = 0;
        while (pending.size() - used >= sizeof(std::int64_t)) {
            std::int64_t id = 0;
            std::memcpy(&id, pending.data() + used, sizeof id);
            ids.push_back(id);
            used += sizeof id;
        }
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(used));
    }
}

TEST(CrashSafety, EveryReportedIdSurvivesSigkill) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    database::open(path);  // created and migrated before any child runs
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> run_ms(50, 400);
    std::size_t total = 0;

    for (int round = 0; round < 5; ++round) {
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            ::close(fds[0]);
            run_child(path, fds[1]);
        }
        ::close(fds[1]);
        std::vector<std::int64_t> ids;
        std::vector<char> pending;
        read_ids(fds[0], ids,
                 std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms(random)),
                 pending);
        ASSERT_EQ(::kill(child, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited on its own with " << WEXITSTATUS(status);
        // What the child wrote before dying was committed too.
        read_ids(fds[0], ids, std::chrono::steady_clock::time_point::max(), pending);
        ::close(fds[0]);

        database db = database::open(path);  // recovers the WAL left by the killed writer
        EXPECT_EQ(query_text(db, "PRAGMA integrity_check"), "ok");
        sqlite3_stmt* stmt = nullptr;
        ASSERT_EQ(sqlite3_prepare_v2(db.handle(), "SELECT count(*) FROM events WHERE id = ?", -1,
                                     &stmt, nullptr),
                  SQLITE_OK);
        std::size_t missing = 0;
        for (const std::int64_t id : ids) {
            sqlite3_bind_int64(stmt, 1, id);
            if (sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_int64(stmt, 0) != 1) {
                ++missing;
            }
            sqlite3_reset(stmt);
        }
        sqlite3_finalize(stmt);
        EXPECT_EQ(missing, 0U) << "round " << round << ": " << missing << " of " << ids.size()
                               << " reported ids lost";
        total += ids.size();
    }
    EXPECT_GT(total, 0U) << "the children never committed anything";
    RecordProperty("reported_ids", static_cast<int>(total));
    std::cout << "[   info   ] " << total << " committed ids checked after 5 SIGKILLs\n";
}

}  // namespace
}  // namespace arc::storage
