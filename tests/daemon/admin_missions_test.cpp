// The operator API's mission commands (docs/admin-api.md, "Missions"): team accounts linked to
// a team, dispatch with instructions, the team's mission list (key-safe code only while open,
// each view audited), every step, own missions only, decline, referral hand-over, escalation.
#include <optional>
#include <string>
#include <vector>

#include "admin_api.hpp"
#include "alarm_service.hpp"
#include "fake_backend.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "arc/storage/missions.hpp"
#include "arc/storage/security.hpp"

namespace {

using arc::daemon::handle_admin_line;
using arc_test::fake_backend;
using arc_test::receive;
using nlohmann::json;
namespace storage = arc::storage;

class test_session final : public arc::daemon::admin_session {
public:
    explicit test_session(std::string from, bool api = true) {
        operator_api = api;
        peer = std::move(from);
    }
    json subscribe(std::size_t /*limit*/) override { return json{{"subscribed", true}}; }
    // mission.subscribe: the pushes the connection would write, when `alarms` is set.
    bool subscribe_missions(const std::string& team) override {
        if (alarms == nullptr) {
            return false;
        }
        alarms->subscribe_team(team, [this](const std::shared_ptr<const std::string>& line) {
            pushes.push_back(json::parse(*line));
            return true;
        });
        return true;
    }
    arc::daemon::alarm_service* alarms = nullptr;
    std::vector<json> pushes;
};

constexpr const char* password = "correct horse battery";

class missions_test : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* name : {"PIS Nord", "PIS Sud"}) {
            ASSERT_EQ(ok(admin_, json{{"cmd", "team.add"},
                                      {"name", name},
                                      {"territory", {"Torino"}},
                                      {"schedule", "24x7"}}),
                      true);
        }
        ASSERT_EQ(
            ok(admin_, json{{"cmd", "device.add"}, {"account", "1234"}, {"protocol", "dc09"}}),
            true);
        const json r = call(admin_, json{{"cmd", "subscriber.add"},
                                         {"code", "TS-0001"},
                                         {"first_name", "Maria"},
                                         {"last_name", "Rossi"},
                                         {"address",
                                          {{"comune", "Torino"},
                                           {"street", "Via Po"},
                                           {"number", "3"},
                                           {"access_notes", "citofono 12, cane in casa"}}},
                                         {"medical_notes", "insulina alle 8"},
                                         {"key_safe_code", "4711"},
                                         {"contacts",
                                          {{{"name", "Luca Rossi"},
                                            {"relation", "figlio"},
                                            {"phones", {"+39 333 1234567"}},
                                            {"has_key", true}}}}});
        ASSERT_EQ(r["ok"], true) << r;
        const std::int64_t person = r["result"]["subscriber"]["id"].get<std::int64_t>();
        ASSERT_EQ(
            ok(admin_, json{{"cmd", "device.assign"}, {"account", "1234"}, {"subscriber", person}}),
            true);
        add("anna", "operator");
        add("pis-nord", "team", "pis nord");  // the team's name in any case
        add("pis-sud", "team", "PIS Sud");
        ASSERT_EQ(login(anna_, "anna")["ok"], true);
        ASSERT_EQ(login(nord_, "pis-nord")["ok"], true);
        ASSERT_EQ(login(sud_, "pis-sud")["ok"], true);
    }

    void add(const std::string& user, const std::string& role, const std::string& team = {}) {
        json req{
            {"cmd", "operator.add"}, {"username", user}, {"role", role}, {"password", password}};
        if (!team.empty()) {
            req["team"] = team;
        }
        const json r = call(admin_, req);
        ASSERT_EQ(r["ok"], true) << r;
    }

    json call(test_session& s, const json& req) {
        std::optional<json> out;
        handle_admin_line(
            req.dump(), backend_,
            [&](json r) {
                EXPECT_FALSE(out.has_value()) << "respond called twice";
                out = std::move(r);
            },
            &s);
        EXPECT_TRUE(out.has_value()) << "respond not called";
        return out.value_or(json{});
    }
    bool ok(test_session& s, const json& req) {
        const json r = call(s, req);
        EXPECT_EQ(r["ok"], true) << req.dump() << " -> " << r.dump();
        return r["ok"] == true;
    }
    json login(test_session& s, const std::string& user) {
        return call(s, json{{"cmd", "login"}, {"username", user}, {"password", password}});
    }
    static void expect_error(const json& r, const std::string& code, const std::string& text = {}) {
        EXPECT_EQ(r["ok"], false) << r.dump();
        EXPECT_EQ(r["error"]["code"], code) << r.dump();
        if (!text.empty()) {
            EXPECT_NE(r["error"]["message"].get<std::string>().find(text), std::string::npos)
                << r.dump();
        }
    }
    bool audited(const std::string& line) {
        for (const auto& e : storage::read_audit(backend_.db_, 1, 10000)) {
            if (e.entry.actor + " " + e.entry.action + " " + e.entry.target + " " +
                    e.entry.detail ==
                line) {
                return true;
            }
        }
        return false;
    }
    std::size_t audit_count(const std::string& action) {
        std::size_t n = 0;
        for (const auto& e : storage::read_audit(backend_.db_, 1, 10000)) {
            if (e.entry.action == action) {
                ++n;
            }
        }
        return n;
    }

    // A pendant alarm of 1234 taken, acknowledged and dispatched by anna to PIS Nord.
    std::int64_t dispatched(const std::string& seq = "0001") {
        backend_.now_ms_ += 1000;
        receive(backend_, "1234", seq, "#1234|Nri1/QA001");
        const json list = call(admin_, json{{"cmd", "alarms"}});
        const std::int64_t id = list["result"]["alarms"][0]["id"].get<std::int64_t>();
        EXPECT_TRUE(ok(anna_, json{{"cmd", "alarm.take"}, {"alarm", id}}));
        EXPECT_TRUE(ok(anna_, json{{"cmd", "alarm.acknowledge"}, {"alarm", id}}));
        expect_error(call(anna_, json{{"cmd", "alarm.dispatch"}, {"alarm", id}, {"team", "PIS X"}}),
                     "invalid", "no team 'PIS X'");
        const json r = call(anna_, json{{"cmd", "alarm.dispatch"},
                                        {"alarm", id},
                                        {"team", "pis NORD"},
                                        {"instructions", "portare coperte"}});
        EXPECT_EQ(r["ok"], true) << r;
        EXPECT_EQ(r["result"]["alarm"]["team"], "PIS Nord") << r;
        return id;
    }

    json step(test_session& s, const std::string& cmd, std::int64_t id,
              json extra = json::object()) {
        extra["cmd"] = cmd;
        extra["alarm"] = id;
        return call(s, extra);
    }

    fake_backend backend_;
    test_session admin_{"local", false};
    test_session anna_{"127.0.0.1:1"}, nord_{"127.0.0.1:2"}, sud_{"127.0.0.1:3"};
};

TEST_F(missions_test, team_accounts_need_one_existing_team) {
    const json base{{"cmd", "operator.add"}, {"password", password}};
    json r = base;
    r["username"] = "x1";
    r["role"] = "team";
    expect_error(call(admin_, r), "invalid", "needs --team");
    r["team"] = "PIS Est";
    expect_error(call(admin_, r), "invalid", "no team 'PIS Est'");
    r["role"] = "operator";
    r["team"] = "PIS Nord";
    expect_error(call(admin_, r), "invalid", "only an account of role team");
    const auto nord = storage::find_operator(backend_.db_, "pis-nord");
    ASSERT_TRUE(nord && nord->team_id);
    EXPECT_TRUE(audited(
        fmt::format("admin-socket operator.add pis-nord role=team team_id={}", *nord->team_id)));
}

TEST_F(missions_test, a_team_carries_its_mission_from_dispatch_to_done) {
    const std::int64_t id = dispatched();
    // The list: address, access notes, contacts and, while open, the key-safe code (audited).
    json r = call(nord_, json{{"cmd", "mission.list"}});
    ASSERT_EQ(r["ok"], true) << r;
    ASSERT_EQ(r["result"]["missions"].size(), 1U) << r;
    json m = r["result"]["missions"][0];
    EXPECT_EQ(m["alarm"], id);
    EXPECT_EQ(m["state"], "dispatched");
    EXPECT_EQ(m["instructions"], "portare coperte");
    EXPECT_EQ(m["operator"], "anna");
    EXPECT_EQ(m["subscriber"]["name"], "Maria Rossi");
    EXPECT_EQ(m["subscriber"]["address"]["access_notes"], "citofono 12, cane in casa");
    EXPECT_EQ(m["subscriber"]["contacts"][0]["name"], "Luca Rossi");
    EXPECT_EQ(m["subscriber"]["key_safe_code"], "4711");
    EXPECT_FALSE(m["subscriber"].contains("medical_notes"));
    EXPECT_TRUE(audited(fmt::format("pis-nord mission.view_key_safe alarm {} team PIS Nord", id)));
    // Steps in order only.
    expect_error(step(nord_, "mission.on_site", id), "invalid", "(dispatched)");
    ASSERT_EQ(step(nord_, "mission.accept", id)["ok"], true);
    expect_error(step(nord_, "mission.accept", id), "invalid");
    ASSERT_EQ(step(nord_, "mission.on_the_way", id)["ok"], true);
    ASSERT_EQ(step(nord_, "mission.on_site", id)["ok"], true);
    expect_error(step(nord_, "mission.done", id, {{"outcome", "went_fine"}}), "invalid",
                 "not one of");
    expect_error(step(nord_, "mission.done", id), "bad_request", "outcome");
    expect_error(step(nord_, "mission.done", id, {{"outcome", "social_services_referral"}}),
                 "invalid", "hand-over note");
    r = step(nord_, "mission.done", id,
             {{"outcome", "social_services_referral"},
              {"note", "Vive sola, serve assistenza domiciliare: segnalata al SSP"}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["alarm"]["state"], "mission_done");
    EXPECT_EQ(r["result"]["mission"]["state"], "done");
    EXPECT_EQ(r["result"]["mission"]["outcome"], "social_services_referral");
    EXPECT_FALSE(r["result"]["mission"]["on_the_way"].is_null());
    // Done: the mission stays in the list, the key-safe code is gone and no view is audited.
    const std::size_t views = audit_count("mission.view_key_safe");
    r = call(nord_, json{{"cmd", "mission.list"}});
    m = r["result"]["missions"][0];
    EXPECT_EQ(m["open"], false);
    EXPECT_FALSE(m["subscriber"].contains("key_safe_code"));
    EXPECT_EQ(audit_count("mission.view_key_safe"), views);
    for (const char* cmd : {"mission.accept", "mission.on_the_way", "mission.on_site"}) {
        EXPECT_TRUE(audited(fmt::format("pis-nord {} alarm {} ", cmd, id))) << cmd;
    }
    EXPECT_TRUE(
        audited(fmt::format("pis-nord mission.done alarm {} social_services_referral", id)));
    EXPECT_TRUE(
        ok(anna_, json{{"cmd", "alarm.close"}, {"alarm", id}, {"outcome", "team_dispatched"}}));
}

TEST_F(missions_test, a_team_acts_only_on_its_own_missions_and_operators_not_at_all) {
    const std::int64_t id = dispatched();
    expect_error(step(sud_, "mission.accept", id), "forbidden", "not a mission of PIS Sud");
    expect_error(call(sud_, json{{"cmd", "mission.list"}, {"team", "PIS Nord"}}), "forbidden");
    json r = call(sud_, json{{"cmd", "mission.list"}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_TRUE(r["result"]["missions"].empty());
    expect_error(step(anna_, "mission.accept", id), "forbidden", "role operator");
    expect_error(call(nord_, json{{"cmd", "alarms"}}), "forbidden");
    expect_error(step(nord_, "mission.accept", 999), "not_found");
    EXPECT_EQ(backend_.alarms().alarm_engine().find(static_cast<arc::engine::alarm_id>(id))->state,
              arc::engine::alarm_state::dispatched);
    // A team account whose link is gone is refused.
    backend_.db_.exec("UPDATE operators SET team_id = NULL WHERE username = 'pis-sud'");
    expect_error(call(sud_, json{{"cmd", "mission.list"}}), "forbidden", "linked to no team");
}

TEST_F(missions_test, decline_gives_the_alarm_back_with_the_reason) {
    const std::int64_t id = dispatched();
    expect_error(step(nord_, "mission.decline", id), "bad_request", "reason");
    expect_error(step(nord_, "mission.decline", id, {{"reason", "  "}}), "invalid");
    const json r = step(nord_, "mission.decline", id, {{"reason", "squadra su altro intervento"}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["alarm"]["state"], "acknowledged");
    EXPECT_EQ(r["result"]["alarm"]["holder"], "anna");
    EXPECT_EQ(r["result"]["mission"]["state"], "declined");
    EXPECT_EQ(r["result"]["mission"]["decline_reason"], "squadra su altro intervento");
    // Audited without the reason (free text, sealed in the mission and the alarm's log).
    EXPECT_TRUE(audited(fmt::format("pis-nord mission.decline alarm {} ", id)));
    // Back with anna: she sends the other team.
    EXPECT_TRUE(ok(anna_, json{{"cmd", "alarm.dispatch"}, {"alarm", id}, {"team", "PIS Sud"}}));
    EXPECT_TRUE(ok(sud_, json{{"cmd", "mission.accept"}, {"alarm", id}}));
}

TEST_F(missions_test, an_unaccepted_mission_escalates_at_the_timeout) {
    const std::int64_t id = dispatched();
    const auto at = arc::engine::from_ms(backend_.now_ms_);
    ASSERT_TRUE(backend_.armed);
    EXPECT_EQ(*backend_.armed, at + std::chrono::minutes(5));
    backend_.alarms().on_timer(at + std::chrono::minutes(5));
    const auto* a = backend_.alarms().alarm_engine().find(static_cast<arc::engine::alarm_id>(id));
    EXPECT_EQ(a->level, 1);
    const auto m = storage::latest_mission(backend_.db_, id);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->escalated_ms, backend_.now_ms_ + 300'000);
}

TEST_F(missions_test, a_team_terminal_subscribes_and_hears_only_of_its_own_missions) {
    // No connection to push to: refused.
    expect_error(call(nord_, json{{"cmd", "mission.subscribe"}}), "invalid", "needs a connection");
    nord_.alarms = &backend_.alarms();
    sud_.alarms = &backend_.alarms();
    json r = call(nord_, json{{"cmd", "mission.subscribe"}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["result"]["subscribed"], true);
    EXPECT_EQ(r["result"]["team"], "PIS Nord");
    EXPECT_TRUE(r["result"]["missions"].empty());
    ASSERT_EQ(call(sud_, json{{"cmd", "mission.subscribe"}})["ok"], true);

    const std::int64_t id = dispatched();
    ASSERT_FALSE(nord_.pushes.empty());
    for (const json& p : nord_.pushes) {
        EXPECT_EQ(p["push"], "mission");
        EXPECT_EQ(p["alarm"], id);
    }
    EXPECT_TRUE(sud_.pushes.empty()) << sud_.pushes.size();

    // The list a terminal fetches: no key-safe code unless asked for, and then audited.
    const std::size_t views = audit_count("mission.view_key_safe");
    r = call(nord_, json{{"cmd", "mission.list"}, {"key_safe", false}});
    ASSERT_EQ(r["ok"], true) << r;
    json m = r["result"]["missions"][0];
    EXPECT_FALSE(m["subscriber"].contains("key_safe_code"));
    EXPECT_EQ(m["subscriber"]["has_key_safe"], true);
    EXPECT_EQ(audit_count("mission.view_key_safe"), views);
    expect_error(call(nord_, json{{"cmd", "mission.list"}, {"key_safe", "yes"}}), "bad_request",
                 "key_safe");
    r = call(nord_, json{{"cmd", "mission.list"}, {"alarm", id}, {"key_safe", true}});
    ASSERT_EQ(r["result"]["missions"].size(), 1U) << r;
    EXPECT_EQ(r["result"]["missions"][0]["subscriber"]["key_safe_code"], "4711");
    EXPECT_EQ(audit_count("mission.view_key_safe"), views + 1);
    r = call(nord_, json{{"cmd", "mission.list"}, {"alarm", id + 1000}, {"key_safe", true}});
    EXPECT_TRUE(r["result"]["missions"].empty()) << r;

    // Declined: PIS Nord hears it once more (no longer its own); re-dispatched to PIS Sud, only
    // PIS Sud hears of it from then on.
    nord_.pushes.clear();
    ASSERT_EQ(step(nord_, "mission.decline", id, {{"reason", "su altro intervento"}})["ok"], true);
    EXPECT_EQ(nord_.pushes.size(), 1U);
    nord_.pushes.clear();
    EXPECT_TRUE(ok(anna_, json{{"cmd", "alarm.dispatch"}, {"alarm", id}, {"team", "PIS Sud"}}));
    EXPECT_TRUE(ok(sud_, json{{"cmd", "mission.accept"}, {"alarm", id}}));
    EXPECT_TRUE(nord_.pushes.empty()) << nord_.pushes.size();
    EXPECT_GE(sud_.pushes.size(), 2U);  // dispatched, accepted
}

TEST_F(missions_test, a_team_with_an_open_mission_is_on_a_mission_until_it_is_done) {
    const auto state_of = [&](const std::string& name) {
        const json r = call(admin_, json{{"cmd", "team.show"}, {"team", name}});
        EXPECT_EQ(r["ok"], true) << r;
        return r["result"]["team"]["state"].get<std::string>() + "/" +
               std::to_string(r["result"]["team"]["open_missions"].get<int>());
    };
    EXPECT_EQ(state_of("PIS Nord"), "available/0");
    const std::int64_t id = dispatched();
    EXPECT_EQ(state_of("PIS Nord"), "on_mission/1");
    EXPECT_EQ(state_of("PIS Sud"), "available/0");
    // The proposal for another alarm puts the available team first.
    json r = call(anna_, json{{"cmd", "team.propose"}, {"comune", "Torino"}});
    ASSERT_EQ(r["ok"], true) << r;
    ASSERT_EQ(r["result"]["teams"].size(), 2U) << r;
    EXPECT_EQ(r["result"]["teams"][0]["name"], "PIS Sud");
    EXPECT_EQ(r["result"]["teams"][1]["state"], "on_mission");
    ASSERT_EQ(step(nord_, "mission.accept", id)["ok"], true);
    ASSERT_EQ(step(nord_, "mission.on_the_way", id)["ok"], true);
    ASSERT_EQ(step(nord_, "mission.on_site", id)["ok"], true);
    EXPECT_EQ(state_of("PIS Nord"), "on_mission/1");
    ASSERT_EQ(step(nord_, "mission.done", id, {{"outcome", "resolved_on_site"}})["ok"], true);
    EXPECT_EQ(state_of("PIS Nord"), "available/0");
    // Off duty by hand stays off duty.
    EXPECT_TRUE(
        ok(admin_, json{{"cmd", "team.set_state"}, {"team", "PIS Nord"}, {"state", "off_duty"}}));
    EXPECT_EQ(state_of("PIS Nord"), "off_duty/0");
}

}  // namespace
