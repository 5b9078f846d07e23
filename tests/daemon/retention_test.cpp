// The retention job (retention_service.cpp) with an injected clock and timer, and the admin
// API's hold.* and retention.run commands (admin_retention.cpp) on an in-memory database.
#include "arc/storage/retention.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin_api.hpp"
#include "fake_backend.hpp"
#include "retention_service.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "arc/api/json.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/store.hpp"

namespace {

using arc::daemon::handle_admin_line;
using arc::daemon::next_daily_run;
using nlohmann::json;
using sys = std::chrono::system_clock;
namespace storage = arc::storage;

sys::time_point at(std::int64_t unix_s) {
    return sys::from_time_t(static_cast<std::time_t>(unix_s));
}
std::int64_t unix_of(sys::time_point t) { return static_cast<std::int64_t>(sys::to_time_t(t)); }

// The process time zone set for one test and put back after it.
class in_time_zone : public ::testing::Test {
protected:
    void SetUp() override {
        const char* old = std::getenv("TZ");
        old_ = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
        ::setenv("TZ", "Europe/Rome", 1);
        ::tzset();
    }
    void TearDown() override {
        if (old_) {
            ::setenv("TZ", old_->c_str(), 1);
        } else {
            ::unsetenv("TZ");
        }
        ::tzset();
    }
    std::optional<std::string> old_;
};

using retention_schedule = in_time_zone;

constexpr int at_0330 = 3 * 60 + 30;
constexpr int at_0230 = 2 * 60 + 30;

TEST_F(retention_schedule, summer_day_runs_at_0330_local) {
    // 2026-07-01 10:00 UTC -> 2026-07-02 03:30 CEST = 01:30 UTC.
    EXPECT_EQ(unix_of(next_daily_run(at(1782900000), at_0330)), 1782955800);
}

TEST_F(retention_schedule, strictly_after_the_run_it_was_computed_at) {
    const sys::time_point run = next_daily_run(at(1782900000), at_0330);
    EXPECT_EQ(unix_of(next_daily_run(run, at_0330)) - unix_of(run), 24 * 3600);
    EXPECT_EQ(unix_of(next_daily_run(run - std::chrono::seconds(1), at_0330)), unix_of(run));
}

TEST_F(retention_schedule, spring_forward_day_is_23_hours) {
    // 2026-03-28 03:30 CET (02:30 UTC) -> 2026-03-29 03:30 CEST (01:30 UTC).
    EXPECT_EQ(unix_of(next_daily_run(at(1774665000), at_0330)), 1774747800);
}

TEST_F(retention_schedule, a_skipped_time_runs_an_hour_later) {
    // 02:30 does not exist on 2026-03-29: from 00:00 CET the run is at 03:30 CEST (01:30 UTC).
    EXPECT_EQ(unix_of(next_daily_run(at(1774738800), at_0230)), 1774747800);
}

TEST_F(retention_schedule, fall_back_day_is_25_hours) {
    // 2026-10-24 03:30 CEST (01:30 UTC) -> 2026-10-25 03:30 CET (02:30 UTC).
    EXPECT_EQ(unix_of(next_daily_run(at(1792805400), at_0330)), 1792895400);
}

TEST_F(retention_schedule, a_doubled_time_runs_once_at_its_first_occurrence) {
    // 02:30 happens at 00:30 UTC (CEST) and 01:30 UTC (CET) on 2026-10-25.
    const sys::time_point first = next_daily_run(at(1792805400), at_0230);
    EXPECT_EQ(unix_of(first), 1792888200);
    // Computed from that run (or from between the two): the next is the day after, 02:30 CET.
    EXPECT_EQ(unix_of(next_daily_run(first, at_0230)), 1792978200);
    EXPECT_EQ(unix_of(next_daily_run(first + std::chrono::minutes(30), at_0230)), 1792978200);
}

// A backend whose retention service runs its jobs inline and whose timer the test fires.
class retention_backend : public arc_test::fake_backend {
public:
    explicit retention_backend(arc::config::retention_settings s) : settings_(s) {}
    arc::daemon::retention_service* retention() override { return &service; }

    arc::config::retention_settings settings_;
    std::optional<std::chrono::milliseconds> armed_delay;
    std::function<void()> armed_fn;
    int jobs = 0;
    arc::daemon::retention_service service{
        settings_, arc::daemon::retention_hooks{
                       [this](storage::writer::job work, storage::writer::job_done done) {
                           ++jobs;
                           run_job(std::move(work), std::move(done));
                       },
                       [this](std::chrono::milliseconds delay, std::function<void()> fn) {
                           armed_delay = delay;
                           armed_fn = std::move(fn);
                       },
                       [this] { return sys::time_point(std::chrono::milliseconds(now_ms_)); }}};
};

constexpr std::int64_t day_ms = 86400000;

arc::config::retention_settings settings(int days = 1095, std::size_t batch = 100) {
    arc::config::retention_settings s;
    s.days = days;
    s.batch = batch;
    return s;
}

class retention_admin : public in_time_zone {
protected:
    json call(const json& req) {
        std::optional<json> out;
        handle_admin_line(req.dump(), backend_, [&](json r) {
            EXPECT_FALSE(out.has_value()) << "respond called twice";
            out = std::move(r);
        });
        EXPECT_TRUE(out.has_value()) << "respond not called";
        return out.value_or(json{});
    }
    static void expect_error(const json& r, const std::string& code) {
        EXPECT_EQ(r["ok"], false) << r.dump();
        EXPECT_EQ(r["error"]["code"], code) << r.dump();
    }
    storage::database& db() { return backend_.db_; }

    std::int64_t old_event(const std::string& account, std::int64_t age_days) {
        storage::event_record ev;
        ev.received_ms = backend_.now_ms_ - age_days * day_ms;
        ev.transport = "tcp";
        ev.peer = "127.0.0.1:1";
        ev.raw = "raw";
        ev.account = account;
        ev.reply_kind = "ACK";
        ev.accepted = true;
        return storage::insert_event(db(), ev);
    }
    std::int64_t closed_alarm(const std::string& account, std::int64_t event_id,
                              std::int64_t closed_days_ago) {
        db().exec(fmt::format(
            "INSERT INTO alarms (class, kind, state, level, account, opened_ms, last_event_ms, "
            "closed_ms, event_count, first_event_id) VALUES ('critical', 'alarm', 'closed', 0, "
            "'{}', 1, 1, {}, 1, {})",
            account, backend_.now_ms_ - closed_days_ago * day_ms, event_id));
        const std::int64_t id = sqlite3_last_insert_rowid(db().handle());
        db().exec(
            fmt::format("INSERT INTO alarm_log (alarm_id, at_ms, change, event_id) VALUES "
                        "({}, 1, 'opened', {})",
                        id, event_id));
        return id;
    }
    void cursor_at_end() {
        db().exec(
            "INSERT INTO meta (key, value) SELECT 'engine_event_cursor', max(id) FROM events "
            "WHERE true ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    }
    std::int64_t count(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db().handle(), sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
        const std::int64_t n =
            sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
        sqlite3_finalize(stmt);
        return n;
    }
    std::vector<arc::security::chained_entry> audit() { return storage::read_audit(db(), 1, 1000); }

    retention_backend backend_{settings()};
};

TEST_F(retention_admin, holds_need_a_reason_are_listed_released_once_and_audited) {
    const std::int64_t ev = old_event("AB12", 2000);
    const std::int64_t alarm = closed_alarm("AB12", ev, 1500);
    const std::string reason = "Procura di Torino, proc. 4711/26";
    expect_error(call(json{{"cmd", "hold.add"}, {"alarm", alarm}}), "bad_request");
    expect_error(call(json{{"cmd", "hold.add"}, {"alarm", alarm}, {"reason", "  "}}), "invalid");
    expect_error(
        call(json{{"cmd", "hold.add"}, {"alarm", alarm}, {"account", "AB12"}, {"reason", reason}}),
        "bad_request");
    expect_error(call(json{{"cmd", "hold.add"}, {"alarm", 999}, {"reason", reason}}), "not_found");
    expect_error(call(json{{"cmd", "hold.add"}, {"subscriber", 999}, {"reason", reason}}),
                 "not_found");
    expect_error(call(json{{"cmd", "hold.add"}, {"account", "XYZ!"}, {"reason", reason}}),
                 "invalid");
    EXPECT_TRUE(audit().empty()) << "refused requests write nothing";

    json r = call(json{{"cmd", "hold.add"}, {"alarm", alarm}, {"reason", reason}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const json hold = r["result"]["hold"];
    EXPECT_EQ(hold["scope"], "alarm");
    EXPECT_EQ(hold["ref"], alarm);
    EXPECT_EQ(hold["reason"], reason);
    EXPECT_EQ(hold["created_by"], "admin-socket");
    EXPECT_EQ(hold["active"], true);
    r = call(json{{"cmd", "hold.add"}, {"account", "ab12"}, {"reason", "guardia di finanza"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["hold"]["ref"], "AB12");

    const std::int64_t id = hold["id"];
    expect_error(call(json{{"cmd", "hold.release"}, {"hold", id}}), "bad_request");
    r = call(json{{"cmd", "hold.release"}, {"hold", id}, {"reason", "sentenza definitiva"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["hold"]["active"], false);
    EXPECT_EQ(r["result"]["hold"]["released_by"], "admin-socket");
    EXPECT_EQ(r["result"]["hold"]["release_reason"], "sentenza definitiva");
    expect_error(call(json{{"cmd", "hold.release"}, {"hold", id}, {"reason", "again"}}), "invalid");
    expect_error(call(json{{"cmd", "hold.release"}, {"hold", 99}, {"reason", "x"}}), "not_found");

    r = call(json{{"cmd", "hold.list"}});
    ASSERT_EQ(r["result"]["holds"].size(), 1U) << r.dump();
    EXPECT_EQ(r["result"]["holds"][0]["scope"], "account");
    EXPECT_EQ(call(json{{"cmd", "hold.list"}, {"all", true}})["result"]["holds"].size(), 2U);

    const auto entries = audit();
    ASSERT_EQ(entries.size(), 3U);
    EXPECT_EQ(entries[0].entry.action, "hold.add");
    EXPECT_EQ(entries[0].entry.target, fmt::format("alarm {}", alarm));
    EXPECT_NE(entries[0].entry.detail.find(reason), std::string::npos);
    EXPECT_EQ(entries[1].entry.target, "account AB12");
    EXPECT_EQ(entries[2].entry.action, "hold.release");
    EXPECT_NE(entries[2].entry.detail.find("sentenza definitiva"), std::string::npos);
}

TEST_F(retention_admin, run_purges_what_is_old_keeps_what_is_held_and_audits_the_counts) {
    const std::int64_t e_old = old_event("AB12", 2000);
    const std::int64_t e_purged_alarm = old_event("AB12", 2000);
    const std::int64_t e_held_alarm = old_event("AB12", 2000);
    const std::int64_t e_held_account = old_event("CD34", 2000);
    const std::int64_t e_recent = old_event("AB12", 10);
    const std::int64_t e_newest = old_event("AB12", 0);
    cursor_at_end();
    const std::int64_t purged = closed_alarm("AB12", e_purged_alarm, 1500);
    const std::int64_t held = closed_alarm("AB12", e_held_alarm, 1500);
    closed_alarm("AB12", e_newest, 1);
    ASSERT_EQ(call(json{{"cmd", "hold.add"}, {"alarm", held}, {"reason", "causa civile"}})["ok"],
              true);
    ASSERT_EQ(call(json{{"cmd", "hold.add"}, {"account", "CD34"}, {"reason", "indagine"}})["ok"],
              true);

    json r = call(json{{"cmd", "retention.run"}, {"dry_run", true}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    json rep = r["result"]["retention"];
    EXPECT_EQ(rep["dry_run"], true);
    EXPECT_EQ(rep["events"], 2);
    EXPECT_EQ(rep["alarms"], 1);
    EXPECT_EQ(rep["alarm_log"], 1);
    EXPECT_EQ(rep["cutoff"], arc::api::iso8601_utc_ms(backend_.now_ms_ - 1095 * day_ms));
    EXPECT_EQ(count("SELECT count(*) FROM events"), 6) << "a dry run deletes nothing";

    r = call(json{{"cmd", "retention.run"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    rep = r["result"]["retention"];
    EXPECT_EQ(rep["dry_run"], false);
    EXPECT_EQ(rep["events"], 2);
    EXPECT_EQ(rep["alarms"], 1);
    EXPECT_EQ(rep["batches"], 2);  // one alarm window, one event window (batch 100)
    EXPECT_EQ(rep["by"], "admin-socket");
    const auto gone = [&](std::int64_t id) {
        return count(fmt::format("SELECT count(*) FROM events WHERE id = {}", id)) == 0;
    };
    EXPECT_TRUE(gone(e_old));
    EXPECT_TRUE(gone(e_purged_alarm));
    EXPECT_FALSE(gone(e_held_alarm));
    EXPECT_FALSE(gone(e_held_account));
    EXPECT_FALSE(gone(e_recent));
    EXPECT_FALSE(gone(e_newest));
    expect_error(call(json{{"cmd", "alarm.show"}, {"alarm", purged}}), "not_found");
    EXPECT_EQ(call(json{{"cmd", "alarm.show"}, {"alarm", held}})["ok"], true);

    const auto entries = audit();
    ASSERT_FALSE(entries.empty());
    const auto& last = entries.back().entry;
    EXPECT_EQ(last.action, "retention.purge");
    EXPECT_EQ(last.actor, "admin-socket");
    EXPECT_EQ(last.target, "cutoff " + rep["cutoff"].get<std::string>());
    EXPECT_NE(last.detail.find("events=2 alarms=1"), std::string::npos) << last.detail;
    const json v = call(json{{"cmd", "audit.verify"}});
    EXPECT_EQ(v["result"]["intact"], true) << v.dump();

    const json st = backend_.service.status();
    EXPECT_EQ(st["last_run"]["events"], 2);
    EXPECT_EQ(st["purged_since_start"]["alarms"], 1);
    EXPECT_EQ(st["running"], false);
}

TEST_F(retention_admin, the_daily_timer_runs_at_the_configured_local_time) {
    // 2026-07-01 10:00 UTC; the run is due at 2026-07-02 03:30 CEST = 01:30 UTC.
    backend_.now_ms_ = std::int64_t{1782900000} * 1000;
    old_event("AB12", 2000);
    old_event("AB12", 0);
    cursor_at_end();
    backend_.service.start();
    ASSERT_TRUE(backend_.service.next_run());
    EXPECT_EQ(unix_of(*backend_.service.next_run()), 1782955800);
    ASSERT_TRUE(backend_.armed_delay);
    EXPECT_EQ(*backend_.armed_delay, std::chrono::minutes(10)) << "the clock is checked again";

    // Early: nothing runs, the timer is armed again.
    backend_.now_ms_ += 10 * 60 * 1000;
    backend_.armed_fn();
    EXPECT_EQ(backend_.jobs, 0);
    EXPECT_EQ(count("SELECT count(*) FROM events"), 2);

    backend_.now_ms_ = std::int64_t{1782955800} * 1000;
    backend_.armed_fn();
    EXPECT_GT(backend_.jobs, 0);
    EXPECT_EQ(count("SELECT count(*) FROM events"), 1);
    EXPECT_EQ(unix_of(*backend_.service.next_run()), 1782955800 + 86400);
    const auto entries = audit();
    ASSERT_EQ(entries.size(), 1U);
    EXPECT_EQ(entries[0].entry.actor, "retention");
    EXPECT_EQ(entries[0].entry.action, "retention.purge");
    EXPECT_EQ(backend_.service.status()["last_run"]["by"], "retention");
}

TEST(retention_off, days_zero_never_runs_and_refuses_a_run) {
    retention_backend backend(settings(0));
    backend.service.start();
    EXPECT_FALSE(backend.service.next_run());
    EXPECT_FALSE(backend.armed_delay);
    std::optional<json> out;
    handle_admin_line(R"({"cmd":"retention.run"})", backend, [&](json r) { out = std::move(r); });
    ASSERT_TRUE(out);
    EXPECT_EQ((*out)["error"]["code"], "invalid") << out->dump();
    EXPECT_EQ(backend.service.status()["next_run"], nullptr);
}

}  // namespace
