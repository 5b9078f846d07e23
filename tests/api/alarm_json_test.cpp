#include "arc/api/alarm_json.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "arc/engine/engine.hpp"

namespace {

using namespace std::chrono_literals;
using arc::api::alarm_row_to_json;
using arc::api::alarm_to_json;
using arc::api::change_to_json;
using arc::api::header_to_json;
using arc::api::log_to_json;
using arc::config::alarm_class;
using arc::config::event_kind;
using arc::engine::alarm_id;
using arc::engine::change;
using arc::engine::change_kind;
using arc::engine::changes;
using nlohmann::json;

// 2023-11-14T22:13:20.000Z
const arc::engine::time_point t0 = arc::engine::from_ms(1'700'000'000'000);

arc::engine::event make_event(std::string account, alarm_class cls, event_kind kind,
                              arc::engine::time_point at, std::uint64_t event_id) {
    arc::engine::event ev;
    ev.event_id = event_id;
    ev.account = std::move(account);
    ev.device_type = "pendant";
    ev.received = at;
    ev.cls = cls;
    ev.kind = kind;
    ev.code = "QA";
    ev.zone = "001";
    ev.text = "Allarme personale";
    return ev;
}

// The first change of `kind` in `out`.
const change& find_change(const changes& out, change_kind kind) {
    for (const change& c : out) {
        if (c.kind == kind) {
            return c;
        }
    }
    ADD_FAILURE() << "no change " << arc::engine::to_string(kind);
    static const change none;
    return none;
}

class AlarmJsonTest : public ::testing::Test {
protected:
    // A pendant alarm with a second press merged into it, taken by anna.
    alarm_id open_taken_alarm() {
        auto opened = engine_.ingest(
            make_event("1234", alarm_class::critical, event_kind::personal_emergency, now_, 7),
            now_);
        const alarm_id id = find_change(opened, change_kind::opened).alarm.id;
        now_ += 65'432ms;
        engine_.ingest(
            make_event("1234", alarm_class::critical, event_kind::personal_emergency, now_, 8),
            now_);
        now_ += 1s;
        EXPECT_TRUE(engine_.take(id, "anna", now_).has_value());
        return id;
    }

    arc::engine::engine engine_;
    arc::engine::time_point now_ = t0;
};

TEST_F(AlarmJsonTest, open_alarm) {
    const alarm_id id = open_taken_alarm();
    const json j = alarm_to_json(*engine_.find(id));
    EXPECT_EQ(j["id"], id);
    EXPECT_EQ(j["class"], "critical");
    EXPECT_EQ(j["kind"], "personal_emergency");
    EXPECT_EQ(j["state"], "taken");
    EXPECT_EQ(j["level"], 0);
    EXPECT_EQ(j["account"], "1234");
    EXPECT_EQ(j["code"], "QA");
    EXPECT_EQ(j["zone"], "001");
    EXPECT_EQ(j["text"], "Allarme personale");
    EXPECT_EQ(j["holder"], "anna");
    EXPECT_EQ(j["team"], "");
    EXPECT_EQ(j["outcome"], "");
    EXPECT_EQ(j["opened"], "2023-11-14T22:13:20.000Z");
    EXPECT_EQ(j["last_event"], "2023-11-14T22:14:25.432Z");
    EXPECT_EQ(j["event_count"], 2);
    EXPECT_TRUE(j["restored"].is_null());
    EXPECT_TRUE(j["closed"].is_null());
    EXPECT_EQ(j["storm"], false);
    EXPECT_TRUE(j["storm_id"].is_null());
    EXPECT_EQ(j["members"], 0);
    EXPECT_EQ(j.size(), 20U);
}

TEST_F(AlarmJsonTest, new_state_is_named_new_and_restore_is_shown) {
    // An urgent alarm stays open after its restore (a technical one would close itself).
    engine_.ingest(make_event("42", alarm_class::urgent, event_kind::smoke, now_, 1), now_);
    now_ += 10s;
    auto restore = make_event("42", alarm_class::log_only, event_kind::smoke, now_, 2);
    restore.is_restore = true;
    engine_.ingest(restore, now_);
    const auto queue = engine_.queue();
    ASSERT_EQ(queue.size(), 1U);
    const json j = alarm_to_json(*engine_.find(queue[0]));
    EXPECT_EQ(j["state"], "new");
    EXPECT_EQ(j["class"], "urgent");
    EXPECT_EQ(j["kind"], "smoke");
    EXPECT_EQ(j["restored"], "2023-11-14T22:13:30.000Z");
}

TEST_F(AlarmJsonTest, closed_alarm_has_its_closing_time) {
    const alarm_id id = open_taken_alarm();
    ASSERT_TRUE(engine_.acknowledge(id, "anna", now_).has_value());
    arc::engine::alarm copy = *engine_.find(id);
    now_ += 2s;
    auto closed = engine_.close(id, "anna", "false alarm", now_);
    ASSERT_TRUE(closed.has_value());
    EXPECT_EQ(engine_.find(id), nullptr);
    // The alarm as storage would rebuild it after the close change.
    const change& c = find_change(*closed, change_kind::closed);
    ASSERT_TRUE(c.transition.has_value());
    copy.state = c.alarm.state;
    copy.outcome = c.detail;
    copy.timeline.push_back(*c.transition);
    const json j = alarm_to_json(copy);
    EXPECT_EQ(j["state"], "closed");
    EXPECT_EQ(j["outcome"], "false alarm");
    EXPECT_EQ(j["closed"], "2023-11-14T22:14:28.432Z");
}

// The row storage keeps for the alarm renders as the engine's alarm does.
TEST_F(AlarmJsonTest, stored_row_matches_engine_alarm) {
    const alarm_id id = open_taken_alarm();
    const arc::engine::alarm& a = *engine_.find(id);
    arc::storage::alarm_row row;
    row.header = arc::engine::header_of(a);
    row.code = a.code;
    row.zone = a.zone;
    row.text = a.text;
    row.first_event_id = static_cast<std::int64_t>(a.first_event_id);
    EXPECT_EQ(alarm_row_to_json(row, 0), alarm_to_json(a));

    row.header.state = arc::engine::alarm_state::closed;
    row.outcome = "false alarm";
    row.team = "croce verde";
    row.closed_ms = 1'700'000'100'000;
    row.restored_ms = 1'700'000'050'000;
    const json j = alarm_row_to_json(row, 12);
    EXPECT_EQ(j["state"], "closed");
    EXPECT_EQ(j["outcome"], "false alarm");
    EXPECT_EQ(j["team"], "croce verde");
    EXPECT_EQ(j["closed"], "2023-11-14T22:15:00.000Z");
    EXPECT_EQ(j["restored"], "2023-11-14T22:14:10.000Z");
    EXPECT_EQ(j["members"], 12);
}

TEST(AlarmJsonLog, lifecycle_step_and_plain_entry) {
    arc::storage::alarm_log_entry e;
    e.id = 5;
    e.alarm_id = 3;
    e.at_ms = 1'700'000'000'123;
    e.change = "transitioned";
    e.event_id = 0;
    e.actor = "anna";
    e.from_state = "new";
    e.to_state = "taken";
    const json j = log_to_json(e);
    EXPECT_EQ(j, (json{{"at", "2023-11-14T22:13:20.123Z"},
                       {"change", "transitioned"},
                       {"event_id", 0},
                       {"actor", "anna"},
                       {"from", "new"},
                       {"to", "taken"},
                       {"detail", ""}}));

    e.change = "merged";
    e.event_id = 44;
    e.actor = "system";
    e.from_state.clear();
    e.to_state.clear();
    const json k = log_to_json(e);
    EXPECT_EQ(k["event_id"], 44);
    EXPECT_TRUE(k["from"].is_null());
    EXPECT_TRUE(k["to"].is_null());
}

TEST_F(AlarmJsonTest, header) {
    const alarm_id id = open_taken_alarm();
    const json j = header_to_json(arc::engine::header_of(*engine_.find(id)));
    EXPECT_EQ(j["id"], id);
    EXPECT_EQ(j["class"], "critical");
    EXPECT_EQ(j["kind"], "personal_emergency");
    EXPECT_EQ(j["state"], "taken");
    EXPECT_EQ(j["level"], 0);
    EXPECT_EQ(j["account"], "1234");
    EXPECT_EQ(j["holder"], "anna");
    EXPECT_EQ(j["opened"], "2023-11-14T22:13:20.000Z");
    EXPECT_EQ(j["last_event"], "2023-11-14T22:14:25.432Z");
    EXPECT_EQ(j["event_count"], 2);
    EXPECT_EQ(j["storm"], false);
    EXPECT_TRUE(j["storm_id"].is_null());
    EXPECT_EQ(j.size(), 12U);
}

TEST_F(AlarmJsonTest, change_of_a_transition) {
    const alarm_id id = open_taken_alarm();
    auto ack = engine_.acknowledge(id, "anna", now_);
    ASSERT_TRUE(ack.has_value());
    const change& c = find_change(*ack, change_kind::transitioned);
    const json j = change_to_json(c, 41, 0, id);
    EXPECT_EQ(j["seq"], 41);
    EXPECT_EQ(j["change"], "transitioned");
    EXPECT_EQ(j["at"], "2023-11-14T22:14:26.432Z");
    EXPECT_EQ(j["event_id"], 0);
    EXPECT_EQ(j["alarm"]["id"], id);
    EXPECT_EQ(j["alarm"]["state"], "acknowledged");
    EXPECT_EQ(j["account"], "1234");
    EXPECT_EQ(j["actor"], "anna");
    EXPECT_EQ(j["from"], "taken");
    EXPECT_EQ(j["to"], "acknowledged");
    EXPECT_EQ(j["members"], json::array());
    EXPECT_EQ(j["members_count"], 0);
    EXPECT_EQ(j["rank"], 0);
    EXPECT_EQ(j["head"], id);
}

TEST_F(AlarmJsonTest, change_of_an_event_and_of_a_note) {
    auto opened = engine_.ingest(
        make_event("1234", alarm_class::critical, event_kind::personal_emergency, now_, 7), now_);
    const change& c = find_change(opened, change_kind::opened);
    const json j = change_to_json(c, 1, std::nullopt, std::nullopt);
    EXPECT_EQ(j["change"], "opened");
    EXPECT_EQ(j["event_id"], 7);
    EXPECT_EQ(j["alarm"]["state"], "new");
    EXPECT_TRUE(j["from"].is_null());
    EXPECT_TRUE(j["to"].is_null());
    EXPECT_TRUE(j["rank"].is_null());
    EXPECT_TRUE(j["head"].is_null());

    auto noted = engine_.add_note(c.alarm.id, "anna", "called the daughter", now_);
    ASSERT_TRUE(noted.has_value());
    const json n = change_to_json(find_change(*noted, change_kind::noted), 2, 0, c.alarm.id);
    EXPECT_EQ(n["change"], "noted");
    EXPECT_EQ(n["actor"], "anna");
    EXPECT_EQ(n["detail"], "called the daughter");
}

TEST_F(AlarmJsonTest, change_without_alarm_names_the_device) {
    arc::engine::device_state dev;
    dev.account = "5678";
    dev.device_type = "pendant";
    dev.mode = arc::engine::device_mode::test;
    engine_.set_device(dev, now_);
    auto out = engine_.ingest(
        make_event("5678", alarm_class::critical, event_kind::personal_emergency, now_, 9), now_);
    const change& c = find_change(out, change_kind::test_event);
    const json j = change_to_json(c, 3, std::nullopt, std::nullopt);
    EXPECT_EQ(j["change"], "test_event");
    EXPECT_TRUE(j["alarm"].is_null());
    EXPECT_EQ(j["account"], "5678");
    EXPECT_EQ(j["event_id"], 9);
}

TEST(AlarmJsonStorm, storm_alarm_and_member_lists) {
    arc::engine::engine_config config;
    config.storm_threshold = 5;
    arc::engine::engine engine(config);
    auto now = t0;
    changes grouped;
    for (int i = 0; i < 150; ++i) {
        auto out = engine.ingest(
            make_event(std::to_string(1000 + i), alarm_class::technical, event_kind::mains_loss,
                       now, static_cast<std::uint64_t>(i + 1)),
            now);
        for (auto& c : out) {
            if (c.kind == change_kind::storm_grouped) {
                grouped.push_back(std::move(c));
            }
        }
        now += 100ms;
    }
    ASSERT_EQ(grouped.size(), 1U);
    const auto queue = engine.queue();
    ASSERT_EQ(queue.size(), 1U);
    const arc::engine::alarm* storm = engine.find(queue[0]);
    ASSERT_NE(storm, nullptr);
    const json s = alarm_to_json(*storm);
    EXPECT_EQ(s["storm"], true);
    EXPECT_EQ(s["members"], 150);
    EXPECT_TRUE(s["storm_id"].is_null());
    const json m = alarm_to_json(*engine.find(storm->members.front()));
    EXPECT_EQ(m["storm"], false);
    EXPECT_EQ(m["storm_id"], storm->id);

    // A storm closed with more than 100 open members lists the first 100 and counts them all.
    ASSERT_TRUE(engine.take(storm->id, "anna", now).has_value());
    ASSERT_TRUE(engine.acknowledge(storm->id, "anna", now).has_value());
    auto closed = engine.close(storm->id, "anna", "power back", now);
    ASSERT_TRUE(closed.has_value());
    const change& c = find_change(*closed, change_kind::storm_closed);
    ASSERT_EQ(c.members.size(), 150U);
    const json j = change_to_json(c, 9, std::nullopt, std::nullopt);
    EXPECT_EQ(j["members"].size(), arc::api::change_members_max);
    EXPECT_EQ(j["members"][0], c.members[0]);
    EXPECT_EQ(j["members_count"], 150);
    EXPECT_EQ(j["from"], "new");
    EXPECT_EQ(j["to"], "closed");
}

}  // namespace
