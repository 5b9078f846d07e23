#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_db.hpp"
#include <gtest/gtest.h>

#include "arc/storage/store.hpp"

namespace arc::storage {
namespace {

using testing::make_event;
using testing::temp_dir;

// Holds the writer inside a transaction until released, so that a test fills the queue first.
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

// Completions in the order the writer ran them (one writer thread, but read from the test's).
struct completions {
    struct entry {
        std::string name;
        std::int64_t id;
        std::uint64_t batches_before;  // committed batches when this one completed
    };
    std::mutex mutex;
    std::vector<entry> list;

    writer::event_done record(std::string name, writer& w) {
        return [this, name = std::move(name), &w](std::error_code ec, std::int64_t id) {
            const std::uint64_t batches = w.snapshot().batches;
            const std::lock_guard lock(mutex);
            list.push_back({ec ? "failed " + name : name, id, batches});
        };
    }
};

TEST(WriterLanes, AlarmsGoIntoTheFirstBatchAheadOfWaitingRoutine) {
    const temp_dir dir;
    writer w(dir / "arc.db", {.queue_limit = 1000, .max_batch = 4});
    gate g;
    ASSERT_TRUE(w.submit(g.job(), nullptr));
    g.entered.get_future().wait();
    completions done;
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(w.submit(make_event("AAAA", i), done.record("routine" + std::to_string(i), w),
                             lane::routine));
    }
    ASSERT_TRUE(w.submit(make_event("BBBB", 100), done.record("alarm0", w)));
    ASSERT_TRUE(w.submit_and_return(
        make_event("BBBB", 101),
        [&done, &w](std::error_code ec, std::int64_t id, event_record&& ev) {
            EXPECT_EQ(ev.received_ms, 101);
            done.record("alarm1", w)(ec, id);
        },
        lane::alarm));
    EXPECT_EQ(w.snapshot().queued, 12U);
    EXPECT_EQ(w.snapshot().queued_routine, 10U);
    g.release.set_value();
    w.stop();

    ASSERT_EQ(done.list.size(), 12U);
    // The first batch after the gate's: both alarms, then routine items fill its room (FIFO).
    EXPECT_EQ(done.list[0].name, "alarm0");
    EXPECT_EQ(done.list[1].name, "alarm1");
    EXPECT_EQ(done.list[2].name, "routine0");
    EXPECT_EQ(done.list[3].name, "routine1");
    for (std::size_t i = 1; i < 4; ++i) {
        EXPECT_EQ(done.list[i].batches_before, done.list[0].batches_before);
    }
    EXPECT_GT(done.list[4].batches_before, done.list[0].batches_before);
    // Stored before every routine item, which keep their own order.
    EXPECT_LT(done.list[0].id, done.list[1].id);
    for (std::size_t i = 2; i < done.list.size(); ++i) {
        EXPECT_EQ(done.list[i].name, "routine" + std::to_string(i - 2));
        EXPECT_LT(done.list[1].id, done.list[i].id);
        EXPECT_LT(done.list[i - 1].id, done.list[i].id);
    }
    const auto s = w.snapshot();
    EXPECT_EQ(s.events, 12U);
    EXPECT_EQ(s.max_batch, 4U);
    EXPECT_EQ(s.batches, 1U + 3U);  // the gate's, then 4 + 4 + 4
    EXPECT_EQ(s.queued, 0U);
    EXPECT_EQ(s.queued_routine, 0U);
}

TEST(WriterLanes, RoutineFillsAtMostThreeQuartersOfTheQueue) {
    const temp_dir dir;
    writer w(dir / "arc.db", {.queue_limit = 8, .max_batch = 8192});
    gate g;
    ASSERT_TRUE(w.submit(g.job(), nullptr));
    g.entered.get_future().wait();
    std::atomic<int> stored{0};
    auto count = [&](std::error_code ec, std::int64_t) {
        if (!ec) {
            ++stored;
        }
    };
    for (int i = 0; i < 6; ++i) {
        EXPECT_TRUE(w.submit(make_event("AAAA", i), count, lane::routine)) << i;
    }
    EXPECT_FALSE(w.submit(make_event("AAAA", 6), count, lane::routine));
    EXPECT_FALSE(w.submit_and_return(
        make_event("AAAA", 7), [](std::error_code, std::int64_t, event_record&&) {},
        lane::routine));
    // The heartbeats left room for alarms (and jobs), up to the whole queue.
    EXPECT_TRUE(w.submit(make_event("BBBB", 100), count));
    EXPECT_TRUE(w.submit([](database&) {}, nullptr));
    EXPECT_FALSE(w.submit(make_event("BBBB", 101), count));
    EXPECT_EQ(w.snapshot().queued, 8U);
    EXPECT_EQ(w.snapshot().queued_routine, 6U);
    g.release.set_value();
    w.stop();
    EXPECT_EQ(stored.load(), 7);
}

TEST(WriterLanes, RoutineAloneBatchesAsBefore) {
    const temp_dir dir;
    writer w(dir / "arc.db", {.queue_limit = 1000, .max_batch = 7});
    gate g;
    ASSERT_TRUE(w.submit(g.job(), nullptr));
    g.entered.get_future().wait();
    std::atomic<int> stored{0};
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(w.submit(
            make_event("AAAA", i),
            [&](std::error_code ec, std::int64_t) {
                if (!ec) {
                    ++stored;
                }
            },
            lane::routine));
    }
    g.release.set_value();
    w.stop();
    EXPECT_EQ(stored.load(), 100);
    EXPECT_EQ(w.snapshot().max_batch, 7U);
    EXPECT_EQ(w.snapshot().batches, 1U + (100 + 6) / 7);
}

// Mixed lanes with several producers: everything is stored once, whatever the interleaving.
TEST(WriterLanes, MixedProducersStoreEverything) {
    const temp_dir dir;
    writer w(dir / "arc.db", {.queue_limit = 100000, .max_batch = 16});
    std::atomic<int> stored{0};
    std::atomic<int> failed{0};
    auto count = [&](std::error_code ec, std::int64_t) { ++(ec ? failed : stored); };
    std::vector<std::thread> producers;
    for (int t = 0; t < 4; ++t) {
        producers.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                const lane which = (i + t) % 3 == 0 ? lane::alarm : lane::routine;
                while (!w.submit(make_event("AC" + std::to_string(t), i), count, which)) {
                    std::this_thread::yield();
                }
            }
        });
    }
    for (auto& p : producers) {
        p.join();
    }
    w.stop();
    EXPECT_EQ(stored.load(), 2000);
    EXPECT_EQ(failed.load(), 0);
    database db = database::open_read_only(dir / "arc.db");
    EXPECT_EQ(count_events(db), 2000);
}

}  // namespace
}  // namespace arc::storage
