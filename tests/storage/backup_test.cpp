#include "arc/storage/backup.hpp"

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "test_db.hpp"
#include <gtest/gtest.h>

#include "arc/storage/store.hpp"

namespace arc::storage {
namespace {

using testing::make_device;
using testing::make_event;
using testing::query_int;
using testing::query_text;
using testing::temp_dir;

// Files in `dir` whose name starts with '.' (backup temporaries).
int hidden_files(const std::filesystem::path& dir) {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        n += entry.path().filename().string().starts_with(".") ? 1 : 0;
    }
    return n;
}

TEST(backup_test, copy_of_a_database_with_rows_opens_and_has_them) {
    const temp_dir dir;
    {
        database db = database::open(dir / "arc.db");
        insert_device(db, make_device("1234", 5));
        for (int i = 0; i < 300; ++i) {
            insert_event(db, make_event("1234", 1000 + i));
        }
    }
    const backup_result r = backup_to(dir / "arc.db", dir / "copy.db");
    EXPECT_EQ(r.events, 300);
    EXPECT_GT(r.pages, 0);
    EXPECT_EQ(r.bytes, std::filesystem::file_size(dir / "copy.db"));
    EXPECT_EQ(hidden_files(dir.path()), 0);

    database copy = database::open_read_only(dir / "copy.db");
    EXPECT_EQ(count_events(copy), 300);
    EXPECT_EQ(query_text(copy, "PRAGMA integrity_check"), "ok");
    ASSERT_TRUE(find_device(copy, "1234"));
    EXPECT_EQ(copy.schema_version(), current_schema_version());
}

TEST(backup_test, refuses_an_existing_target_unless_overwrite) {
    const temp_dir dir;
    {
        database db = database::open(dir / "arc.db");
        insert_event(db, make_event("1234", 1000));
    }
    backup_to(dir / "arc.db", dir / "copy.db");
    EXPECT_THROW(backup_to(dir / "arc.db", dir / "copy.db"), backup_target_exists);
    {
        database db = database::open(dir / "arc.db");
        insert_event(db, make_event("1234", 2000));
    }
    backup_options opts;
    opts.overwrite = true;
    const backup_result r = backup_to(dir / "arc.db", dir / "copy.db", opts);
    EXPECT_EQ(r.events, 2);
    database copy = database::open_read_only(dir / "copy.db");
    EXPECT_EQ(count_events(copy), 2);
    EXPECT_EQ(hidden_files(dir.path()), 0);
}

TEST(backup_test, cancelled_copy_leaves_nothing) {
    const temp_dir dir;
    {
        database db = database::open(dir / "arc.db");
        for (int i = 0; i < 500; ++i) {
            insert_event(db, make_event("1234", 1000 + i));
        }
    }
    backup_options opts;
    opts.pages_per_step = 1;
    opts.progress = [](int, int) { return false; };
    EXPECT_THROW(backup_to(dir / "arc.db", dir / "copy.db", opts), backup_cancelled);
    EXPECT_FALSE(std::filesystem::exists(dir / "copy.db"));
    EXPECT_EQ(hidden_files(dir.path()), 0);
}

TEST(backup_test, copy_while_another_thread_inserts_is_consistent) {
    const temp_dir dir;
    writer w(dir / "arc.db", writer::options{});
    // Enough pages that the copy takes many steps while the writer commits.
    std::atomic<std::int64_t> committed{0};
    for (int i = 0; i < 2000; ++i) {
        ASSERT_TRUE(w.submit(make_event("1234", i), [&committed](std::error_code ec, std::int64_t) {
            if (!ec) {
                ++committed;
            }
        }));
    }
    while (committed.load() < 2000) {
        std::this_thread::yield();
    }
    std::atomic<bool> stop{false};
    std::thread inserter([&] {
        for (std::int64_t i = 0; !stop.load(); ++i) {
            if (!w.submit(make_event("5678", i), [&committed](std::error_code ec, std::int64_t) {
                    if (!ec) {
                        ++committed;
                    }
                })) {
                std::this_thread::yield();
            }
            if (i % 16 == 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
            }
        }
    });
    const std::int64_t before = committed.load();
    int steps = 0;
    backup_options opts;
    opts.pages_per_step = 2;
    opts.progress = [&steps](int, int) {
        ++steps;
        // Leave the writer time to commit between steps.
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        return true;
    };
    const backup_result r = backup_to(dir / "arc.db", dir / "copy.db", opts);
    stop = true;
    inserter.join();
    w.stop();

    EXPECT_GT(steps, 10);
    EXPECT_GE(r.events, before);
    database copy = database::open_read_only(dir / "copy.db");
    EXPECT_EQ(query_text(copy, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(count_events(copy), r.events);
    // A snapshot: the events committed are a prefix of the ids, without gaps.
    EXPECT_EQ(query_int(copy, "SELECT max(id) FROM events"), r.events);
    database live = database::open_read_only(dir / "arc.db");
    EXPECT_GT(count_events(live), r.events) << "the writer went on during the copy";
}

}  // namespace
}  // namespace arc::storage
