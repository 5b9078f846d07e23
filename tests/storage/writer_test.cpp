#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_db.hpp"
#include <gtest/gtest.h>

#include "arc/storage/store.hpp"

namespace arc::storage {
namespace {

using testing::make_event;
using testing::query_int;
using testing::temp_dir;

// Failures seen inside completions (which run on the writer thread, where gtest assertions
// would not stop anything), checked on the test thread.
struct failures {
    std::mutex mutex;
    std::vector<std::string> list;
    void add(std::string what) {
        const std::lock_guard lock(mutex);
        list.push_back(std::move(what));
    }
};

// A job that holds the writer inside a transaction until released: lets a test fill the queue
// deterministically, with no sleeps.
struct gate {
    std::promise<void> entered;
    std::promise<void> release;
    writer::job job() {
        return [this](database&) {
            entered.set_value();
            release.get_future().wait();
        };
    }
};

TEST(Writer, CompletionRunsAfterCommit) {
    const temp_dir dir;
    const auto path = dir / "arc.db";
    failures bad;
    std::atomic<int> done{0};
    {
        writer w(path, {});
        // Opened on the writer thread inside the first completion and reused by it.
        std::optional<database> reader;
        for (int i = 0; i < 200; ++i) {
            ASSERT_TRUE(
                w.submit(make_event("AB12", i), [&, i](std::error_code ec, std::int64_t id) {
                    if (ec) {
                        bad.add("event " + std::to_string(i) + ": " + ec.message());
                        return;
                    }
                    if (!reader) {
                        reader.emplace(database::open_read_only(path));
                    }
                    // A separate connection sees only committed data.
                    const auto n = query_int(
                        *reader, "SELECT count(*) FROM events WHERE id = " + std::to_string(id));
                    if (n != 1) {
                        bad.add("event " + std::to_string(id) + " not visible in its completion");
                    }
                    ++done;
                }));
        }
        w.stop();
    }
    EXPECT_TRUE(bad.list.empty()) << bad.list.front();
    EXPECT_EQ(done.load(), 200);
}

TEST(Writer, ManyProducersShareBatches) {
    const temp_dir dir;
    constexpr int threads = 4;
    constexpr int per_thread = 5000;
    std::vector<std::atomic<int>> calls(threads * per_thread);
    std::mutex ids_mutex;
    std::set<std::int64_t> ids;
    failures bad;
    writer w(dir / "arc.db", {});
    std::vector<std::thread> producers;
    for (int t = 0; t < threads; ++t) {
        producers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const auto slot = static_cast<std::size_t>(t * per_thread + i);
                const bool queued = w.submit(make_event("ACC" + std::to_string(t), i),
                                             [&, slot](std::error_code ec, std::int64_t id) {
                                                 ++calls[slot];
                                                 if (ec) {
                                                     bad.add(ec.message());
                                                 }
                                                 const std::lock_guard lock(ids_mutex);
                                                 ids.insert(id);
                                             });
                if (!queued) {
                    bad.add("submit refused");
                }
            }
        });
    }
    for (auto& p : producers) {
        p.join();
    }
    w.stop();
    EXPECT_TRUE(bad.list.empty()) << bad.list.front();
    for (const auto& c : calls) {
        ASSERT_EQ(c.load(), 1);
    }
    EXPECT_EQ(ids.size(), calls.size());
    const auto s = w.snapshot();
    EXPECT_EQ(s.events, calls.size());
    EXPECT_LT(s.batches, s.events) << "no group commit";
    EXPECT_GT(s.max_batch, 1U);
    EXPECT_EQ(s.queued, 0U);
    EXPECT_EQ(s.failed_batches, 0U);
    database db = database::open_read_only(dir / "arc.db");
    EXPECT_EQ(count_events(db), static_cast<std::int64_t>(calls.size()));
}

TEST(Writer, BatchesRespectMaxBatch) {
    const temp_dir dir;
    writer w(dir / "arc.db", {.queue_limit = 1000, .max_batch = 7});
    gate g;
    ASSERT_TRUE(w.submit(g.job(), nullptr));
    g.entered.get_future().wait();
    std::atomic<int> done{0};
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(
            w.submit(make_event("AB12", i), [&](std::error_code, std::int64_t) { ++done; }));
    }
    g.release.set_value();
    w.stop();
    EXPECT_EQ(done.load(), 100);
    EXPECT_EQ(w.snapshot().max_batch, 7U);
    EXPECT_EQ(w.snapshot().batches, 1U + (100 + 6) / 7);
}

TEST(Writer, QueueLimitRefusesSubmit) {
    const temp_dir dir;
    writer w(dir / "arc.db", {.queue_limit = 3, .max_batch = 8192});
    gate g;
    ASSERT_TRUE(w.submit(g.job(), nullptr));
    g.entered.get_future().wait();  // the writer is busy: what follows waits in the queue
    std::atomic<int> done{0};
    auto count = [&](std::error_code ec, std::int64_t) {
        if (!ec) {
            ++done;
        }
    };
    EXPECT_TRUE(w.submit(make_event("AB12", 1), count));
    EXPECT_TRUE(w.submit(make_event("AB12", 2), count));
    EXPECT_TRUE(w.submit(make_event("AB12", 3), count));
    EXPECT_FALSE(w.submit(make_event("AB12", 4), count));
    EXPECT_FALSE(w.submit([](database&) {}, nullptr));
    EXPECT_EQ(w.snapshot().queued, 3U);
    g.release.set_value();
    w.stop();
    EXPECT_EQ(done.load(), 3);
}

TEST(Writer, StopDrainsAndRefusesMore) {
    const temp_dir dir;
    std::atomic<int> done{0};
    writer w(dir / "arc.db", {});
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(w.submit(make_event("AB12", i), [&](std::error_code ec, std::int64_t) {
            if (!ec) {
                ++done;
            }
        }));
    }
    w.stop();
    EXPECT_EQ(done.load(), 1000);
    EXPECT_FALSE(w.submit(make_event("AB12", 1), [](std::error_code, std::int64_t) {}));
    w.stop();  // idempotent
    database db = database::open_read_only(dir / "arc.db");
    EXPECT_EQ(count_events(db), 1000);
}

TEST(Writer, SubmitAndReturnHandsTheRecordBackAfterCommit) {
    const temp_dir dir;
    std::vector<std::pair<std::int64_t, event_record>> back;
    {
        writer w(dir / "arc.db", {});
        for (int i = 0; i < 3; ++i) {
            ASSERT_TRUE(w.submit_and_return(
                make_event("AB12", i), [&](std::error_code ec, std::int64_t id, event_record&& ev) {
                    if (!ec) {
                        back.emplace_back(id, std::move(ev));  // completions run one at a time
                    }
                }));
        }
        w.stop();
    }
    ASSERT_EQ(back.size(), 3U);
    database db = database::open_read_only(dir / "arc.db");
    for (const auto& [id, ev] : back) {
        EXPECT_EQ(ev.id, id);
        EXPECT_EQ(ev.account, "AB12");
        const auto stored = events_for_account(db, "AB12", 10);
        EXPECT_TRUE(std::any_of(stored.begin(), stored.end(), [&](const event_record& s) {
            return s.id == id && s.raw == ev.raw && s.decoded_json == ev.decoded_json;
        }));
    }
}

TEST(Writer, FailingJobIsRolledBackAlone) {
    const temp_dir dir;
    writer w(dir / "arc.db", {});
    gate g;
    ASSERT_TRUE(w.submit(g.job(), nullptr));
    g.entered.get_future().wait();  // the three items below share one transaction

    std::error_code bad_ec;
    std::string bad_message;
    std::error_code good_ec = errc::stopped;
    std::error_code event_ec = errc::stopped;
    ASSERT_TRUE(w.submit(
        [](database& db) {
            insert_device(db, testing::make_device("DEAD"));
            throw std::runtime_error("boom");
        },
        [&](std::error_code ec, std::string message) {
            bad_ec = ec;
            bad_message = std::move(message);
        }));
    ASSERT_TRUE(w.submit([](database& db) { insert_device(db, testing::make_device("BEEF")); },
                         [&](std::error_code ec, std::string) { good_ec = ec; }));
    ASSERT_TRUE(
        w.submit(make_event("BEEF", 1), [&](std::error_code ec, std::int64_t) { event_ec = ec; }));
    g.release.set_value();
    w.stop();

    EXPECT_EQ(bad_ec, errc::job_failed);
    EXPECT_EQ(bad_message, "boom");
    EXPECT_FALSE(good_ec);
    EXPECT_FALSE(event_ec);
    database db = database::open_read_only(dir / "arc.db");
    EXPECT_FALSE(find_device(db, "DEAD"));
    EXPECT_TRUE(find_device(db, "BEEF"));
    EXPECT_EQ(count_events(db), 1);
    EXPECT_EQ(w.snapshot().failed_batches, 0U);
    EXPECT_EQ(w.snapshot().jobs, 3U);
}

TEST(Writer, FailedCommitFailsTheWholeBatch) {
    const temp_dir dir;
    writer w(dir / "arc.db", {});
    gate g;
    ASSERT_TRUE(w.submit(g.job(), nullptr));
    g.entered.get_future().wait();

    std::error_code event_ec;
    std::int64_t event_id = -1;
    std::promise<std::error_code> job_ec;
    ASSERT_TRUE(w.submit(make_event("AB12", 1), [&](std::error_code ec, std::int64_t id) {
        event_ec = ec;
        event_id = id;
    }));
    // A deferred foreign key is only checked at COMMIT, which therefore fails.
    ASSERT_TRUE(w.submit(
        [](database& db) {
            db.exec(
                "CREATE TABLE p (id INTEGER PRIMARY KEY);"
                "CREATE TABLE c (pid INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);"
                "INSERT INTO c VALUES (42);");
        },
        [&](std::error_code ec, std::string) { job_ec.set_value(ec); }));
    g.release.set_value();
    EXPECT_EQ(job_ec.get_future().get(), errc::commit_failed);

    // The writer goes on after a failed batch.
    std::promise<std::error_code> next;
    ASSERT_TRUE(w.submit(make_event("AB12", 2),
                         [&](std::error_code ec, std::int64_t) { next.set_value(ec); }));
    EXPECT_FALSE(next.get_future().get());
    w.stop();

    EXPECT_EQ(event_ec, errc::commit_failed);
    EXPECT_EQ(event_id, 0);
    const auto s = w.snapshot();
    EXPECT_EQ(s.failed_batches, 1U);
    EXPECT_EQ(s.events, 1U);
    database db = database::open_read_only(dir / "arc.db");
    EXPECT_EQ(count_events(db), 1);
    EXPECT_EQ(query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'c'"), 0);
}

TEST(Writer, UpdatesLastSeenOncePerAccount) {
    const temp_dir dir;
    writer w(dir / "arc.db", {});
    gate g;
    ASSERT_TRUE(w.submit(
        [&](database& db) {
            insert_device(db, testing::make_device("AB12"));
            insert_device(db, testing::make_device("CD34", 0, 5000));
            g.entered.set_value();
            g.release.get_future().wait();
        },
        nullptr));
    g.entered.get_future().wait();
    const auto ignore = [](std::error_code, std::int64_t) {};
    ASSERT_TRUE(w.submit(make_event("ab12", 1000), ignore));
    ASSERT_TRUE(w.submit(make_event("AB12", 3000), ignore));
    ASSERT_TRUE(w.submit(make_event("AB12", 2000), ignore));
    ASSERT_TRUE(w.submit(make_event("AB12", 9000, false), ignore));  // NAKed: not "seen"
    ASSERT_TRUE(w.submit(make_event("CD34", 4000), ignore));         // older than stored
    ASSERT_TRUE(w.submit(make_event("FFFF", 4000), ignore));         // not registered
    g.release.set_value();
    w.stop();
    database db = database::open_read_only(dir / "arc.db");
    EXPECT_EQ(find_device(db, "AB12")->last_seen_ms, 3000);
    EXPECT_EQ(find_device(db, "CD34")->last_seen_ms, 5000);
    EXPECT_FALSE(find_device(db, "FFFF"));
    EXPECT_EQ(count_events(db), 6);
}

TEST(Writer, ThrowingCompletionDoesNotStopTheWriter) {
    const temp_dir dir;
    writer w(dir / "arc.db", {});
    ASSERT_TRUE(w.submit(make_event("AB12", 1), [](std::error_code, std::int64_t) {
        throw std::runtime_error("careless caller");
    }));
    std::promise<std::error_code> next;
    ASSERT_TRUE(w.submit(make_event("AB12", 2),
                         [&](std::error_code ec, std::int64_t) { next.set_value(ec); }));
    EXPECT_FALSE(next.get_future().get());
}

TEST(Writer, OpenFailureThrows) {
    const temp_dir dir;
    // A directory where the database file should be.
    std::filesystem::create_directories(dir / "arc.db");
    EXPECT_THROW(writer(dir / "arc.db", {}), storage_error);
}

}  // namespace
}  // namespace arc::storage
