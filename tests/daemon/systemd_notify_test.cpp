// The watchdog's storage-writer check (systemd_notify.hpp): pings stop only after a whole ping
// period with items queued and nothing committed; sd_notify calls are no-ops without
// NOTIFY_SOCKET.
#include "systemd_notify.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

namespace {

using arc::daemon::systemd::writer_progress;
using stats = arc::storage::writer::stats;

stats snapshot(std::uint64_t batches, std::uint64_t queued, std::uint64_t jobs = 0) {
    stats s;
    s.batches = batches;
    s.jobs = jobs;
    s.queued = queued;
    return s;
}

TEST(WriterProgress, IdleWriterIsHealthy) {
    writer_progress p;
    for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(p.update(snapshot(0, 0)));
    }
}

TEST(WriterProgress, QueuedOnlySinceLastPingIsHealthy) {
    writer_progress p;
    EXPECT_TRUE(p.update(snapshot(3, 0)));
    // Items arrived just before this ping: not yet a whole period without a commit.
    EXPECT_TRUE(p.update(snapshot(3, 10)));
}

TEST(WriterProgress, StuckWithItemsQueuedStopsThePings) {
    writer_progress p;
    EXPECT_TRUE(p.update(snapshot(3, 0)));
    EXPECT_TRUE(p.update(snapshot(3, 10)));
    EXPECT_FALSE(p.update(snapshot(3, 12)));
    EXPECT_FALSE(p.update(snapshot(3, 12)));
    // A commit at last: pings again.
    EXPECT_TRUE(p.update(snapshot(4, 2)));
}

TEST(WriterProgress, BusyButCommittingIsHealthy) {
    writer_progress p;
    EXPECT_TRUE(p.update(snapshot(1, 500)));
    EXPECT_TRUE(p.update(snapshot(9, 800)));
    EXPECT_TRUE(p.update(snapshot(9, 800, 1)));  // a job ran: progress too
    EXPECT_FALSE(p.update(snapshot(9, 800, 1)));
}

TEST(WriterProgress, FirstPingWithItemsQueuedIsHealthy) {
    writer_progress p;
    EXPECT_TRUE(p.update(snapshot(0, 50)));
    EXPECT_FALSE(p.update(snapshot(0, 50)));
}

TEST(SystemdNotify, NoSocketIsANoOp) {
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(arc::daemon::systemd::notify("READY=1"));
    arc::daemon::systemd::notify_ready("listening on nothing");
    arc::daemon::systemd::notify_stopping();
}

}  // namespace
