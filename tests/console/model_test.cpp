#include "arc/console/model.hpp"

#include "fixtures.hpp"
#include <gtest/gtest.h>

namespace arc::console {
namespace {

using namespace test;

std::vector<alarm_id> ids(const queue_model& q) {
    std::vector<alarm_id> out;
    for (const auto& e : q.entries()) {
        out.push_back(e.id);
    }
    return out;
}

TEST(QueueModel, SnapshotKeepsServerOrderAndHidesStormMembers) {
    queue_model q;
    q.load_snapshot(
        snapshot(7, {{.id = 3, .cls = "critical"},
                     {.id = 1, .cls = "urgent", .kind = "inactivity"},
                     {.id = 9,
                      .cls = "technical",
                      .kind = "mains_loss",
                      .account = "",
                      .storm = true,
                      .members = 25},
                     {.id = 4, .cls = "technical", .kind = "mains_loss", .storm_id = 9}}));
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{3, 1, 9}));
    EXPECT_EQ(q.seq(), 7u);
    EXPECT_EQ(q.find(9)->members, 25u);
    EXPECT_TRUE(q.find(9)->storm);
    EXPECT_EQ(q.find(3)->opened_ms, t0_ms);
}

TEST(QueueModel, ChangesKeepOrderAndFields) {
    queue_model q;
    q.load_snapshot(snapshot(10, {{.id = 1, .cls = "urgent", .kind = "inactivity"},
                                  {.id = 2, .cls = "technical", .kind = "low_battery"}}));

    // A pendant opens at the head: the bell's flag is set.
    auto e = q.apply_change(change(11, "opened", {.id = 5, .opened_ms = t0_ms + 5000}, 0));
    EXPECT_TRUE(e.opened_critical);
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{5, 1, 2}));

    // A second press merges: fields updated, place kept.
    alarm_spec five{.id = 5, .opened_ms = t0_ms + 5000};
    json merged = change(12, "merged", five, 0);
    merged["alarm"]["event_count"] = 2;
    EXPECT_FALSE(q.apply_change(merged).opened_critical);
    EXPECT_EQ(q.find(5)->event_count, 2u);
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{5, 1, 2}));

    // Taken: state and holder.
    five.state = "taken";
    five.holder = "anna";
    q.apply_change(change(13, "transitioned", five, 0, {}, "new", "taken"));
    EXPECT_EQ(q.find(5)->state, "taken");
    EXPECT_EQ(q.find(5)->holder, "anna");

    // The technical alarm escalates twice: still below the urgent one (class first).
    q.apply_change(change(14, "escalated",
                          {.id = 2, .cls = "technical", .kind = "low_battery", .level = 2}, 2));
    EXPECT_EQ(q.find(2)->level, 2);
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{5, 1, 2}));

    // Another urgent alarm, older than #1 and escalated, goes in front of #1 by rank.
    q.apply_change(change(
        15, "opened",
        {.id = 6, .cls = "urgent", .kind = "fall", .level = 1, .opened_ms = t0_ms - 60000}, 1));
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{5, 6, 1, 2}));

    // Closed: gone, count follows.
    five.state = "closed";
    auto closed = q.apply_change(change(16, "closed", five, std::nullopt, {}, "taken", "closed"));
    EXPECT_EQ(closed.removed, (std::vector<alarm_id>{5}));
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{6, 1, 2}));
    EXPECT_EQ(q.open_count(), 3u);
}

TEST(QueueModel, StormGroupingAndJoining) {
    queue_model q;
    q.load_snapshot(snapshot(1, {{.id = 1, .cls = "critical"}}));
    std::uint64_t seq = 1;
    for (alarm_id id = 10; id < 13; ++id) {
        q.apply_change(change(++seq, "opened",
                              {.id = id,
                               .cls = "technical",
                               .kind = "mains_loss",
                               .account = "A" + std::to_string(id)},
                              std::nullopt));
    }
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{1, 10, 11, 12}));
    const alarm_spec storm{
        .id = 20, .cls = "technical", .kind = "mains_loss", .account = "", .storm = true};
    auto e = q.apply_change(change(++seq, "storm_grouped", storm, 1, {10, 11, 12}));
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{1, 20}));
    EXPECT_EQ(q.find(20)->members, 3u);
    EXPECT_FALSE(e.opened_critical);

    // A member opened inside the storm (storm_id set) never shows; the join counts it.
    q.apply_change(change(++seq, "opened",
                          {.id = 13, .cls = "technical", .kind = "mains_loss", .storm_id = 20},
                          std::nullopt));
    q.apply_change(change(++seq, "storm_joined", storm, 1, {13}));
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{1, 20}));
    EXPECT_EQ(q.find(20)->members, 4u);
    EXPECT_EQ(q.open_count(), 2u);

    // The storm closes: its closed change and the members' storm_closed.
    alarm_spec closed = storm;
    closed.state = "closed";
    q.apply_change(change(++seq, "closed", closed, std::nullopt, {}, "new", "closed"));
    q.apply_change(change(++seq, "storm_closed", closed, std::nullopt, {10, 11, 12, 13}));
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{1}));
}

TEST(QueueModel, StalePushesAndUnrankedChangesUseEngineOrder) {
    queue_model q;
    q.load_snapshot(snapshot(
        50, {{.id = 1, .cls = "critical"}, {.id = 2, .cls = "technical", .kind = "tamper"}}));
    // Seq at or below the snapshot's: already in it.
    EXPECT_FALSE(q.apply_change(change(50, "opened", {.id = 3}, 0)).applied);
    EXPECT_EQ(q.entries().size(), 2u);
    // No rank (beyond the first screen): class, level, age decide.
    q.apply_change(change(51, "opened",
                          {.id = 4, .cls = "urgent", .kind = "fall", .opened_ms = t0_ms + 1},
                          std::nullopt));
    EXPECT_EQ(ids(q), (std::vector<alarm_id>{1, 4, 2}));
    // Changes without an alarm (test events) change nothing.
    json test_event = change(52, "test_event", {.id = 0}, std::nullopt);
    test_event["alarm"] = nullptr;
    EXPECT_FALSE(q.apply_change(test_event).applied);
    EXPECT_EQ(q.seq(), 52u);
}

TEST(QueueModel, MalformedInputIsRefusedByName) {
    queue_model q;
    EXPECT_THROW(q.load_snapshot(json{{"seq", 1}}), std::invalid_argument);
    q.load_snapshot(snapshot(1, {}));
    json bad = change(2, "opened", {.id = 3}, 0);
    bad["alarm"].erase("class");
    try {
        q.apply_change(bad);
        FAIL() << "accepted an alarm without class";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("class"), std::string::npos);
    }
}

}  // namespace
}  // namespace arc::console
