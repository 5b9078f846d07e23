// The admin API's team commands (admin_teams.cpp) with jobs run inline on an in-memory
// database: add/update/show/list/remove/set_state audited, errors naming the field, and
// team.propose for an alarm and a comune at an injected instant.
#include <optional>
#include <string>

#include "admin_api.hpp"
#include "fake_backend.hpp"
#include <gtest/gtest.h>

#include "arc/storage/security.hpp"
#include "arc/storage/teams.hpp"

namespace {

using arc::daemon::handle_admin_line;
using arc_test::fake_backend;
using nlohmann::json;
namespace storage = arc::storage;

// Wednesday 9 Dec 2026: 10:00 and 21:00 in Torino (CET, UTC+1).
constexpr std::int64_t wednesday_10 = 1796806800000;  // 2026-12-09T09:00:00Z
constexpr std::int64_t wednesday_21 = wednesday_10 + 11 * 3600 * 1000;

class admin_teams_test : public ::testing::Test {
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
    static void expect_error(const json& r, const std::string& code, const std::string& text) {
        EXPECT_EQ(r["ok"], false) << r.dump();
        EXPECT_EQ(r["error"]["code"], code) << r.dump();
        EXPECT_NE(r["error"]["message"].get<std::string>().find(text), std::string::npos)
            << r.dump();
    }
    void add_two_teams() {
        ASSERT_EQ(call(json{{"cmd", "team.add"},
                            {"name", "PIS Centro"},
                            {"members", {"Giulia Bianchi", "Marco Neri"}},
                            {"phone", "+39 335 1111111"},
                            {"territory", {"Torino"}},
                            {"schedule", "24x7"}})["ok"],
                  true);
        ASSERT_EQ(call(json{{"cmd", "team.add"},
                            {"name", "PIS Notte"},
                            {"phone", "+39 335 2222222"},
                            {"territory", {"torino", "Moncalieri"}},
                            {"schedule", "outside-office-hours; holiday 06-24"}})["ok"],
                  true);
    }

    fake_backend backend_;
};

TEST_F(admin_teams_test, add_list_show_with_on_duty_now_and_audited) {
    backend_.now_ms_ = wednesday_10;
    add_two_teams();
    json r = call(json{{"cmd", "team.list"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const json& list = r["result"]["teams"];
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[0]["name"], "PIS Centro");
    EXPECT_EQ(list[0]["on_duty"], true);
    EXPECT_EQ(list[0]["schedule_change"], nullptr);
    EXPECT_EQ(list[1]["name"], "PIS Notte");
    EXPECT_EQ(list[1]["on_duty"], false);  // office hours
    EXPECT_EQ(list[1]["schedule_change_local"], "2026-12-09 17:00");
    EXPECT_EQ(list[1]["territory"], (json{"torino", "Moncalieri"}));
    EXPECT_EQ(list[1]["state"], "available");

    r = call(json{{"cmd", "team.show"}, {"team", "pis notte"}, {"at", "2026-12-09T20:00:00Z"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["team"]["on_duty"], true);
    EXPECT_EQ(r["result"]["team"]["schedule_change_local"], "2026-12-10 08:00");

    const auto audit = storage::read_audit(backend_.db_, 1, 100);
    ASSERT_EQ(audit.size(), 2U);
    EXPECT_EQ(audit[1].entry.action, "team.add");
    EXPECT_EQ(audit[1].entry.target, "PIS Notte");
    EXPECT_EQ(audit[1].entry.actor, "admin-socket");
    EXPECT_NE(audit[1].entry.detail.find("schedule"), std::string::npos);
}

TEST_F(admin_teams_test, bad_input_is_refused_naming_the_field) {
    expect_error(call(json{{"cmd", "team.add"},
                           {"name", "X"},
                           {"territory", {"Torino"}},
                           {"schedule", "mon-fry 17:00-08:00"}}),
                 "invalid", "schedule: clause 1 'mon-fry 17:00-08:00': unknown day span");
    expect_error(call(json{{"cmd", "team.add"}, {"name", "X"}, {"schedule", "24x7"}}), "invalid",
                 "territory: at least one comune");
    expect_error(call(json{{"cmd", "team.add"}, {"name", "X"}, {"territory", {"Torino"}}}),
                 "bad_request", "missing field 'schedule'");
    expect_error(call(json{{"cmd", "team.add"},
                           {"name", "X"},
                           {"territory", {"Torino", " "}},
                           {"schedule", "24x7"}}),
                 "invalid", "territory[1]: must not be empty");
    expect_error(call(json{{"cmd", "team.add"},
                           {"name", "X"},
                           {"phone", "call me"},
                           {"territory", {"Torino"}},
                           {"schedule", "24x7"}}),
                 "invalid", "phone:");
    add_two_teams();
    expect_error(call(json{{"cmd", "team.add"},
                           {"name", "pis centro"},
                           {"territory", {"Torino"}},
                           {"schedule", "24x7"}}),
                 "exists", "already exists");
    expect_error(call(json{{"cmd", "team.set_state"}, {"team", "PIS Centro"}, {"state", "busy"}}),
                 "invalid", "state: must be");
    expect_error(call(json{{"cmd", "team.show"}, {"team", "PIS Sud"}}), "not_found", "no team");
    expect_error(call(json{{"cmd", "team.update"}, {"team", "PIS Centro"}, {"name", "PIS Notte"}}),
                 "exists", "already exists");
    expect_error(call(json{{"cmd", "team.propose"}}), "bad_request", "'alarm'");
    expect_error(call(json{{"cmd", "team.propose"}, {"alarm", 99}}), "not_found", "no alarm 99");
    expect_error(call(json{{"cmd", "team.list"}, {"at", "yesterday"}}), "bad_request", "'at'");
    // Nothing of that reached the audit trail but the two additions.
    EXPECT_EQ(storage::read_audit(backend_.db_, 1, 100).size(), 2U);
}

TEST_F(admin_teams_test, update_state_and_remove_are_audited) {
    add_two_teams();
    json r = call(json{{"cmd", "team.update"},
                       {"team", "PIS Notte"},
                       {"territory", {"Torino", "Moncalieri", "Nichelino"}}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["team"]["territory"].size(), 3U);
    r = call(json{{"cmd", "team.set_state"}, {"team", "PIS Centro"}, {"state", "off_duty"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["team"]["state"], "off_duty");
    EXPECT_EQ(r["result"]["team"]["on_duty"], false);  // off_duty overrides 24x7
    EXPECT_EQ(r["result"]["team"]["scheduled_on_duty"], true);
    r = call(json{{"cmd", "team.remove"}, {"team", "PIS Notte"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_FALSE(storage::find_team_by_name(backend_.db_, "PIS Notte"));
    const auto audit = storage::read_audit(backend_.db_, 1, 100);
    ASSERT_EQ(audit.size(), 5U);
    EXPECT_EQ(audit[2].entry.action, "team.update");
    EXPECT_EQ(audit[2].entry.detail, "territory changed");
    EXPECT_EQ(audit[3].entry.action, "team.set_state");
    EXPECT_EQ(audit[3].entry.detail, "state available -> off_duty");
    EXPECT_EQ(audit[4].entry.action, "team.remove");
}

TEST_F(admin_teams_test, propose_for_an_alarm_on_duty_in_territory_available_first) {
    add_two_teams();
    ASSERT_EQ(call(json{{"cmd", "team.add"},
                        {"name", "PIS Sud"},
                        {"territory", {"Moncalieri"}},
                        {"schedule", "24x7"}})["ok"],
              true);
    json r = call(json{{"cmd", "subscriber.add"},
                       {"code", "TS-0042"},
                       {"first_name", "Maria"},
                       {"last_name", "Rossi"},
                       {"address", {{"comune", "TORINO"}}}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    const auto sub = r["result"]["subscriber"]["id"].get<std::int64_t>();
    ASSERT_EQ(call(json{{"cmd", "device.add"},
                        {"account", "1234"},
                        {"protocol", "dc09"},
                        {"subscriber", sub}})["ok"],
              true);
    arc_test::receive(backend_, "1234", "0001", "#1234|Nri1/QA001");
    r = call(json{{"cmd", "alarms"}});
    ASSERT_EQ(r["result"]["open"], 1) << r.dump();
    const auto alarm = r["result"]["alarms"][0]["id"].get<std::int64_t>();

    // 21:00: both Torino teams on duty, both available: the 24x7 one (no end) first.
    r = call(json{{"cmd", "team.propose"}, {"alarm", alarm}, {"at", wednesday_21}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["comune"], "TORINO");
    EXPECT_EQ(r["result"]["subscriber"]["code"], "TS-0042");
    json teams = r["result"]["teams"];
    ASSERT_EQ(teams.size(), 2U) << r.dump();
    EXPECT_EQ(teams[0]["name"], "PIS Centro");
    EXPECT_EQ(teams[0]["why"], "on duty with no end, available");
    EXPECT_EQ(teams[0]["phone"], "+39 335 1111111");
    EXPECT_EQ(teams[1]["name"], "PIS Notte");
    EXPECT_EQ(teams[1]["why"], "on duty until 08:00, available");
    EXPECT_EQ(teams[1]["on_duty_until"], "2026-12-10T07:00:00Z");

    // The 24x7 team on a mission goes after the available one.
    call(json{{"cmd", "team.set_state"}, {"team", "PIS Centro"}, {"state", "on_mission"}});
    teams = call(
        json{{"cmd", "team.propose"}, {"alarm", alarm}, {"at", wednesday_21}})["result"]["teams"];
    ASSERT_EQ(teams.size(), 2U);
    EXPECT_EQ(teams[0]["name"], "PIS Notte");
    EXPECT_EQ(teams[1]["name"], "PIS Centro");
    EXPECT_EQ(teams[1]["why"], "on duty with no end, on a mission");

    // 10:00: the night team is off by its schedule; off_duty by hand leaves nobody.
    teams = call(
        json{{"cmd", "team.propose"}, {"alarm", alarm}, {"at", wednesday_10}})["result"]["teams"];
    ASSERT_EQ(teams.size(), 1U);
    EXPECT_EQ(teams[0]["name"], "PIS Centro");
    call(json{{"cmd", "team.set_state"}, {"team", "PIS Centro"}, {"state", "off_duty"}});
    EXPECT_TRUE(call(json{
        {"cmd", "team.propose"}, {"alarm", alarm}, {"at", wednesday_10}})["result"]["teams"]
                    .empty());

    // By comune: Moncalieri at 21:00 has the southern team and the night team.
    teams = call(json{{"cmd", "team.propose"},
                      {"comune", "moncalieri"},
                      {"at", wednesday_21}})["result"]["teams"];
    ASSERT_EQ(teams.size(), 2U);
    EXPECT_EQ(teams[0]["name"], "PIS Sud");
    EXPECT_EQ(teams[1]["name"], "PIS Notte");
}

TEST_F(admin_teams_test, propose_needs_the_alarms_subscriber) {
    add_two_teams();
    ASSERT_EQ(call(json{{"cmd", "device.add"}, {"account", "4321"}, {"protocol", "dc09"}})["ok"],
              true);
    arc_test::receive(backend_, "4321", "0001", "#4321|Nri1/QA001");
    const auto alarm = call(json{{"cmd", "alarms"}})["result"]["alarms"][0]["id"];
    expect_error(call(json{{"cmd", "team.propose"}, {"alarm", alarm}}), "not_found",
                 "has no subscriber");
}

// One operator-API connection, already logged in as `role`.
class logged_in final : public arc::daemon::admin_session {
public:
    logged_in(const std::string& username, storage::operator_role role, std::int64_t now_ms) {
        operator_api = true;
        peer = "192.0.2.7:50000";
        who = arc::daemon::operator_identity{};
        who->username = username;
        who->role = role;
        who->expires_ms = now_ms + 3600 * 1000;
    }
    json subscribe(std::size_t /*limit*/) override { return json::object(); }
};

TEST_F(admin_teams_test, operators_read_and_propose_admins_change_audited_by_name) {
    const auto on = [&](logged_in& session, const json& req) {
        std::optional<json> out;
        handle_admin_line(
            req.dump(), backend_, [&](json r) { out = std::move(r); }, &session);
        return out.value_or(json{});
    };
    logged_in anna("anna", storage::operator_role::operator_, backend_.now_ms_);
    logged_in boss("boss", storage::operator_role::admin, backend_.now_ms_);
    const json add{{"cmd", "team.add"},
                   {"name", "PIS Centro"},
                   {"territory", {"Torino"}},
                   {"schedule", "24x7"}};
    expect_error(on(anna, add), "forbidden", "may not run team.add");
    ASSERT_EQ(on(boss, add)["ok"], true);
    EXPECT_EQ(on(anna, json{{"cmd", "team.list"}})["ok"], true);
    EXPECT_EQ(on(anna, json{{"cmd", "team.show"}, {"team", "PIS Centro"}})["ok"], true);
    const json r = on(anna, json{{"cmd", "team.propose"}, {"comune", "Torino"}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["teams"][0]["name"], "PIS Centro");
    expect_error(
        on(anna, json{{"cmd", "team.set_state"}, {"team", "PIS Centro"}, {"state", "off_duty"}}),
        "forbidden", "");
    const auto audit = storage::read_audit(backend_.db_, 1, 100);
    ASSERT_EQ(audit.size(), 1U);
    EXPECT_EQ(audit[0].entry.actor, "boss");
    EXPECT_EQ(audit[0].entry.peer, "192.0.2.7:50000");
}

}  // namespace
