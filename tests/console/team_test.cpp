// The field team's client: login of role team, the mission list from mission.subscribe, pushes
// that make it fetch the list again, the steps a team sends, the key-safe code on request only,
// at 60x20.
#include "session.hpp"
#include <gtest/gtest.h>

#include "arc/console/app.hpp"
#include "arc/console/view.hpp"

namespace arc::console {
namespace {

using namespace test;

json person() {
    return json{{"id", 7},
                {"code", "TS-0042"},
                {"name", "Maria Rossi"},
                {"address",
                 {{"comune", "Torino"},
                  {"street", "Via Roma"},
                  {"number", "12"},
                  {"floor", "3"},
                  {"access_notes", "citofono Rossi, cane"}}},
                {"phones", {"+39 011 555 0101"}},
                {"language", "it"},
                {"has_key_safe", true},
                {"contacts",
                 {{{"priority", 1},
                   {"name", "Luca Rossi"},
                   {"relation", "figlio"},
                   {"phones", {"+39 333 1234567"}},
                   {"has_key", true}}}}};
}

json mission(alarm_id alarm, const std::string& state, std::int64_t dispatched_ms) {
    const bool open = state != "done" && state != "declined";
    json m{{"id", alarm * 10},
           {"alarm", alarm},
           {"team", "PIS Centro"},
           {"operator", "anna"},
           {"instructions", "portare coperte"},
           {"state", state},
           {"open", open},
           {"dispatched", iso(dispatched_ms)},
           {"accepted", nullptr},
           {"on_the_way", nullptr},
           {"on_site", nullptr},
           {"done", nullptr},
           {"declined", nullptr},
           {"escalated", nullptr},
           {"decline_reason", ""},
           {"outcome", ""},
           {"note", ""},
           {"alarm_state", state},
           {"text", "Pendant: personal emergency"},
           {"class", "critical"},
           {"subscriber", person()}};
    if (!open) {
        m["subscriber"]["has_key_safe"] = false;
    }
    return m;
}

json list_of(std::vector<json> missions) {
    return json{{"team", "PIS Centro"}, {"missions", json(std::move(missions))}};
}

std::string screen_text(const app& a, std::int64_t now, int rows = 20, int cols = 60) {
    return render(a, rows, cols, now).dump();
}

// Logs in over TCP with a team account; returns the mission.subscribe request.
json login_as_team(session& s) {
    s.a.connected(s.now);
    s.keys("pis-centro\nsegreta\n");
    auto login = s.sent();
    s.ok(login.at(0),
         json{{"token", "tok-t"}, {"operator", {{"username", "pis-centro"}, {"role", "team"}}}});
    auto after = s.sent();
    EXPECT_EQ(after.size(), 1u);
    return s.find(after, "mission.subscribe");
}

TEST(TeamConsole, ATeamLoginGetsItsMissionsAt60x20) {
    session s(session::tcp_options());
    const json sub = login_as_team(s);
    EXPECT_FALSE(sub.contains("team"));  // arcd knows the account's team
    EXPECT_TRUE(s.a.team_mode());
    EXPECT_EQ(s.a.current_screen(), screen::missions);
    s.ok(sub, list_of({mission(12, "dispatched", s.now - 120'000),
                       mission(9, "done", s.now - 3'600'000)}));
    EXPECT_TRUE(s.a.live());
    EXPECT_TRUE(s.a.take_bell());  // a mission to accept rings, once
    EXPECT_FALSE(s.a.take_bell());
    ASSERT_NE(s.a.selected_mission(), nullptr);
    EXPECT_EQ(s.a.missions().selected, 12u);

    const std::string screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find(" PIS Centro · pis-centro · 1 missions open"), std::string::npos)
        << screen;
    EXPECT_NE(screen.find("#12   dispatched Maria Rossi · Torino"), std::string::npos) << screen;
    EXPECT_NE(screen.find("Instructions: portare coperte"), std::string::npos) << screen;
    EXPECT_NE(screen.find("Via Roma 12, Torino"), std::string::npos) << screen;
    EXPECT_NE(screen.find("access: citofono Rossi, cane"), std::string::npos) << screen;
    EXPECT_NE(screen.find("key safe: c shows the code (audited)"), std::string::npos) << screen;
    EXPECT_NE(screen.find("a accept"), std::string::npos) << screen;
    EXPECT_EQ(screen.find("f done"), std::string::npos) << screen;  // not before on site
    // 60 columns: no line runs past the edge.
    const grid g = render(s.a, 20, 60, s.now);
    EXPECT_EQ(g.cols(), 60);

    // In Italian too.
    s.a.key('L', s.now);
    const std::string it = screen_text(s.a, s.now);
    EXPECT_NE(it.find("1 missioni aperte"), std::string::npos) << it;
    EXPECT_NE(it.find("Istruzioni: portare coperte"), std::string::npos) << it;
    EXPECT_NE(it.find("a accetta"), std::string::npos) << it;
}

TEST(TeamConsole, StepsGoToArcdAndPushesRefetchTheList) {
    session s(session::tcp_options());
    s.ok(login_as_team(s), list_of({mission(12, "dispatched", s.now)}));
    EXPECT_TRUE(s.a.take_bell());

    // A step not possible yet is refused on the console, nothing sent.
    s.a.key('s', s.now);
    EXPECT_TRUE(s.sent().empty());
    EXPECT_NE(s.a.status().text.find("#12: not now (the mission is dispatched)"), std::string::npos)
        << s.a.status().text;

    s.a.key('a', s.now);
    auto accept = s.sent();
    ASSERT_EQ(accept.size(), 1u);
    EXPECT_EQ(accept[0].at("cmd"), "mission.accept");
    EXPECT_EQ(accept[0].at("alarm"), 12);
    EXPECT_FALSE(accept[0].contains("actor"));  // the login decides
    json now_accepted = mission(12, "accepted", s.now);
    now_accepted.erase("subscriber");  // a step's answer has the MISSION alone
    s.ok(accept[0], json{{"alarm", json::object()}, {"mission", now_accepted}});
    EXPECT_EQ(s.a.status().text, "#12: mission accepted");
    // The answer moves the mission on at once: the next step needs no fetch first.
    EXPECT_EQ(s.a.selected_mission()->at("state"), "accepted");
    EXPECT_NE(screen_text(s.a, s.now).find("w on the way"), std::string::npos);
    EXPECT_NE(screen_text(s.a, s.now).find("Via Roma 12"), std::string::npos);

    // Several pushes, one fetch, without key-safe codes, after the coalescing delay.
    s.a.line(json{{"push", "mission"}, {"alarm", 12}, {"seq", 5}}, s.now);
    s.a.line(json{{"push", "mission"}, {"alarm", 12}, {"seq", 6}}, s.now);
    s.a.tick(s.now + 400);
    auto list = s.sent();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].at("cmd"), "mission.list");
    EXPECT_EQ(list[0].at("key_safe"), false);
    s.a.tick(s.now + 800);
    EXPECT_TRUE(s.sent().empty());  // one in flight at a time
    json accepted = mission(12, "accepted", s.now);
    accepted["accepted"] = iso(s.now + 60'000);
    s.ok(list[0], list_of({accepted}));
    EXPECT_FALSE(s.a.take_bell());  // the same mission does not ring again

    s.a.key('w', s.now);
    auto way = s.sent();
    ASSERT_EQ(way.size(), 1u);
    EXPECT_EQ(way[0].at("cmd"), "mission.on_the_way");
    s.fail(way[0], "invalid", "alarm 12 is not accepted");
    EXPECT_EQ(s.a.status().text, "#12: alarm 12 is not accepted");
    EXPECT_TRUE(s.a.status().error);
}

TEST(TeamConsole, DoneAsksTheOutcomeAndAReferralNeedsTheHandOverNote) {
    session s(session::tcp_options());
    s.ok(login_as_team(s), list_of({mission(12, "on_site", s.now)}));
    std::string screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("f done"), std::string::npos) << screen;
    EXPECT_EQ(screen.find("x decline"), std::string::npos) << screen;  // on site: too late

    s.a.key('f', s.now);
    ASSERT_TRUE(s.a.prompt().picking());
    screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("Mission #12 done: outcome"), std::string::npos) << screen;
    EXPECT_NE(screen.find("5. referral to the Servizio Sociale Professionale"), std::string::npos)
        << screen;
    s.a.key('5', s.now);
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::mission_note);
    s.a.key(keys::enter, s.now);  // no note: refused, the prompt stays
    EXPECT_TRUE(s.sent().empty());
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::mission_note);
    EXPECT_NE(s.a.status().text.find("a referral needs the hand-over note"), std::string::npos);
    s.keys("vive sola, serve assistente sociale\n");
    auto done = s.sent();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].at("cmd"), "mission.done");
    EXPECT_EQ(done[0].at("outcome"), "social_services_referral");
    EXPECT_EQ(done[0].at("note"), "vive sola, serve assistente sociale");
    EXPECT_FALSE(s.a.prompt().active());

    // Another outcome: the note may be left out.
    s.a.key('f', s.now);
    s.a.key('1', s.now);
    s.a.key(keys::enter, s.now);
    done = s.sent();
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].at("outcome"), "resolved_on_site");
    EXPECT_FALSE(done[0].contains("note"));
}

TEST(TeamConsole, DeclineNeedsAReason) {
    session s(session::tcp_options());
    s.ok(login_as_team(s), list_of({mission(12, "dispatched", s.now)}));
    s.a.key('x', s.now);
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::mission_decline);
    s.a.key(keys::enter, s.now);
    EXPECT_TRUE(s.sent().empty());
    s.keys("squadra gia su altro intervento\n");
    auto decline = s.sent();
    ASSERT_EQ(decline.size(), 1u);
    EXPECT_EQ(decline[0].at("cmd"), "mission.decline");
    EXPECT_EQ(decline[0].at("reason"), "squadra gia su altro intervento");
}

TEST(TeamConsole, KeySafeCodeOnlyOnRequestAndOnlyForAWhile) {
    session s(session::tcp_options());
    s.ok(login_as_team(s), list_of({mission(12, "on_the_way", s.now)}));
    EXPECT_EQ(screen_text(s.a, s.now).find("4711"), std::string::npos);
    s.a.key('c', s.now);
    auto req = s.sent();
    ASSERT_EQ(req.size(), 1u);
    EXPECT_EQ(req[0].at("cmd"), "mission.list");
    EXPECT_EQ(req[0].at("alarm"), 12);
    EXPECT_EQ(req[0].at("key_safe"), true);
    json with_code = mission(12, "on_the_way", s.now);
    with_code["subscriber"]["key_safe_code"] = "4711";
    s.ok(req[0], list_of({with_code}));
    std::string screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("key safe: 4711 (audited)"), std::string::npos) << screen;
    EXPECT_EQ(s.a.status().text, "#12: key-safe code shown (audited)");

    // Gone after two minutes (the list, fetched again meanwhile, carries no code).
    std::int64_t t = s.now + 121'000;
    s.a.tick(t);
    auto poll = s.sent();
    ASSERT_EQ(poll.size(), 1u);
    EXPECT_EQ(poll[0].at("key_safe"), false);
    s.ok(poll[0], list_of({mission(12, "on_the_way", s.now)}));
    screen = screen_text(s.a, t);
    EXPECT_EQ(screen.find("4711"), std::string::npos) << screen;

    // Gone as soon as the mission is no longer open.
    s.a.key('c', t);
    s.ok(s.sent().at(0), list_of({with_code}));
    EXPECT_NE(screen_text(s.a, t).find("4711"), std::string::npos);
    s.a.line(json{{"push", "mission"}, {"alarm", 12}, {"seq", 9}}, t);
    t += 500;
    s.a.tick(t);
    auto list = s.sent();
    ASSERT_EQ(list.size(), 1u);
    s.ok(list[0], list_of({mission(12, "done", s.now)}));
    s.a.tick(t + 100);
    screen = screen_text(s.a, t + 100);
    EXPECT_EQ(screen.find("4711"), std::string::npos) << screen;
    // A closed mission has no key-safe code to ask for.
    s.a.key('c', t + 200);
    EXPECT_TRUE(s.sent().empty());
}

TEST(TeamConsole, AdminSocketNamesTheTeam) {
    options o = session::unix_options();
    o.team = true;
    o.team_name = "PIS Centro";
    session s(o);
    EXPECT_EQ(s.a.current_screen(), screen::missions);
    s.a.connected(s.now);
    auto sub = s.sent();
    ASSERT_EQ(sub.size(), 1u);
    EXPECT_EQ(sub[0].at("cmd"), "mission.subscribe");
    EXPECT_EQ(sub[0].at("team"), "PIS Centro");
    s.ok(sub[0], list_of({}));
    EXPECT_NE(screen_text(s.a, s.now).find("no missions"), std::string::npos);
    // Without pushes the list is fetched again now and then all the same.
    s.a.tick(s.now + 61'000);
    auto poll = s.sent();
    ASSERT_EQ(poll.size(), 1u);
    EXPECT_EQ(poll[0].at("cmd"), "mission.list");
    EXPECT_EQ(poll[0].at("team"), "PIS Centro");
}

}  // namespace
}  // namespace arc::console
