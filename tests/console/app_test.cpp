#include "arc/console/app.hpp"

#include "session.hpp"
#include <gtest/gtest.h>

#include "arc/console/view.hpp"

namespace arc::console {
namespace {

using namespace test;

json default_outcomes() {
    return json::array({{{"code", "resolved_by_phone"},
                         {"it", "Risolto al telefono"},
                         {"en", "Resolved by phone"}},
                        {{"code", "false_alarm"}, {"it", "Falso allarme"}, {"en", "False alarm"}}});
}

std::string screen_text(const app& a, std::int64_t now, int rows = 24, int cols = 80) {
    return render(a, rows, cols, now).dump();
}

TEST(ConsoleKeys, TakeSendsTheSelectedAlarm) {
    session s;
    auto reqs = s.start(snapshot(3, {{.id = 12}, {.id = 15, .cls = "urgent"}}));
    // The first alarm is selected and its detail asked for.
    ASSERT_EQ(s.a.selected(), 12u);
    EXPECT_EQ(s.find(reqs, "alarm.show").at("alarm"), 12);
    EXPECT_EQ(s.find(reqs, "subscriber.show").at("account"), "1234");
    EXPECT_EQ(s.find(reqs, "device.show").at("account"), "1234");

    s.a.key(keys::down, s.now);
    EXPECT_EQ(s.a.selected(), 15u);
    s.sent();
    s.a.key('t', s.now);
    auto take = s.sent();
    ASSERT_EQ(take.size(), 1u);
    EXPECT_EQ(take[0].at("cmd"), "alarm.take");
    EXPECT_EQ(take[0].at("alarm"), 15);
    EXPECT_EQ(take[0].at("actor"), "anna");  // the Unix socket records --user

    s.a.key('k', s.now);
    EXPECT_EQ(s.a.selected(), 12u);
    s.sent();
    for (const auto& [k, cmd] : std::vector<std::pair<int, std::string>>{
             {'r', "alarm.release"}, {'a', "alarm.acknowledge"}}) {
        s.a.key(k, s.now);
        auto out = s.sent();
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0].at("cmd"), cmd);
        EXPECT_EQ(out[0].at("alarm"), 12);
    }
}

TEST(ConsoleKeys, HeldByIsShownInWords) {
    session s;
    s.start(snapshot(3, {{.id = 12}}));
    s.a.key('t', s.now);
    auto take = s.sent();
    s.fail(take.at(0), "held", "held by marco");
    const std::string screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("#12: held by marco"), std::string::npos) << screen;
}

TEST(ConsoleKeys, DispatchFallsBackToATypedTeam) {
    session s;
    s.start(snapshot(3, {{.id = 12, .state = "acknowledged", .holder = "anna"}}));
    s.sent();

    // No proposal (a phone report has no comune): the operator is told and types the team.
    s.a.key('d', s.now);
    auto propose = s.sent();
    ASSERT_EQ(propose.size(), 1u);
    s.fail(propose[0], "not_found", "alarm 12: device 0999 has no subscriber");
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::dispatch_team);
    std::string screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("Team for #12:"), std::string::npos) << screen;
    s.keys("Croce Rossa\n\n");  // no instructions: none sent
    auto dispatch = s.sent();
    ASSERT_EQ(dispatch.size(), 1u);
    EXPECT_EQ(dispatch[0].at("team"), "Croce Rossa");
    EXPECT_FALSE(dispatch[0].contains("instructions"));

    // No team on duty there: typed too, and the comune is named.
    s.a.key('d', s.now);
    propose = s.sent();
    s.ok(propose.at(0), json{{"comune", "Forlì"}, {"teams", json::array()}});
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::dispatch_team);
    EXPECT_NE(s.a.status().text.find("no team on duty covers Forlì"), std::string::npos)
        << s.a.status().text;
    s.a.key(keys::escape, s.now);

    // "Another team" among the proposed: typed.
    s.a.key('d', s.now);
    propose = s.sent();
    s.ok(propose.at(0), json{{"teams", {{{"name", "PIS Centro"}, {"state", "available"}}}}});
    s.a.key('2', s.now);
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::dispatch_team);
    s.keys("PIS Nord\nvia Roma 3\n");
    dispatch = s.sent();
    ASSERT_EQ(dispatch.size(), 1u);
    EXPECT_EQ(dispatch[0].at("team"), "PIS Nord");
    EXPECT_EQ(dispatch[0].at("instructions"), "via Roma 3");

    // Leaving while the proposal is on its way: the late answer opens nothing.
    s.a.key('d', s.now);
    propose = s.sent();
    s.a.key(keys::escape, s.now);
    s.ok(propose.at(0), json{{"teams", {{{"name", "PIS Centro"}, {"state", "available"}}}}});
    EXPECT_FALSE(s.a.prompt().active());
}

TEST(ConsoleKeys, PhoneReportStepByStepThenShownInTheDetail) {
    session s;
    s.start(snapshot(3, {}));
    s.sent();
    s.a.key('p', s.now);
    ASSERT_TRUE(s.a.prompt().picking());
    std::string screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("Phone report: what about?"), std::string::npos) << screen;
    EXPECT_NE(screen.find("4. domestic_violence"), std::string::npos) << screen;
    s.a.key('4', s.now);              // domestic violence
    s.a.key('2', s.now);              // critical
    s.a.key('1', s.now);              // a citizen calls
    s.keys("Giovanna Esposito\n\n");  // no number
    screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("Person (subscriber code or name):"), std::string::npos) << screen;
    s.keys("Lucia Ferraro\nForli\n\n");
    EXPECT_TRUE(s.sent().empty()) << "nothing sent before the summary";
    s.keys("\n");  // an empty summary is refused, the prompt stays
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::case_summary);
    s.keys("urla dall'appartamento accanto\n");
    auto sent = s.sent();
    ASSERT_EQ(sent.size(), 1u);
    const json& req = sent[0];
    EXPECT_EQ(req.at("cmd"), "case.open");
    EXPECT_EQ(req.at("category"), "domestic_violence");
    EXPECT_EQ(req.at("urgency"), "critical");
    EXPECT_EQ(req.at("caller"), json({{"kind", "citizen"}, {"name", "Giovanna Esposito"}}));
    EXPECT_EQ(req.at("person"), json({{"name", "Lucia Ferraro"}}));
    EXPECT_EQ(req.at("place"), json({{"comune", "Forli"}}));
    EXPECT_EQ(req.at("summary"), "urla dall'appartamento accanto");
    EXPECT_EQ(req.at("actor"), "anna");
    EXPECT_FALSE(s.a.prompt().active());

    // A subscriber's code names the subscriber.
    s.a.key('p', s.now);
    s.a.key('1', s.now);
    s.a.key('1', s.now);
    s.a.key('4', s.now);
    s.keys("\n\nTS-0042\n\n\nnon risponde da ieri\n");
    auto second = s.sent();
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].at("person"), json({{"subscriber", "TS-0042"}}));
    EXPECT_FALSE(second[0].contains("place"));
    EXPECT_EQ(second[0].at("caller"), json({{"kind", "social_service"}}));
    s.fail(second[0], "not_found", "person.subscriber: no subscriber \"TS-0042\"");
    EXPECT_NE(s.a.status().text.find("phone report not opened: person.subscriber"),
              std::string::npos)
        << s.a.status().text;
}

TEST(ConsoleDetail, APhoneReportShowsItsCase) {
    session s;
    auto reqs = s.start(snapshot(3, {{.id = 21, .kind = "phone_report"}}));
    const json show = s.find(reqs, "alarm.show");
    json a = alarm({.id = 21, .kind = "phone_report"});
    a["text"] = "segnalazione domestic_violence (citizen), Forli";
    s.ok(
        show,
        json{{"alarm", a},
             {"timeline", json::array()},
             {"events", json::array()},
             {"members", json::array()},
             {"case",
              {{"category", "domestic_violence"},
               {"caller", {{"kind", "citizen"}, {"name", "Giovanna Esposito"}, {"phone", "333 1"}}},
               {"person",
                {{"subscriber", nullptr}, {"name", "Lucia Ferraro"}, {"details", "40 anni"}}},
               {"place", {{"comune", "Forli"}, {"address", "Via Ravegnana 118"}}},
               {"summary", "urla dall'appartamento accanto"}}}});
    const std::string screen = screen_text(s.a, s.now, 40, 100);
    EXPECT_NE(screen.find("Phone report"), std::string::npos) << screen;
    EXPECT_NE(screen.find("Caller: citizen · Giovanna Esposito · 333 1"), std::string::npos)
        << screen;
    EXPECT_NE(screen.find("Person: Lucia Ferraro — 40 anni"), std::string::npos) << screen;
    EXPECT_NE(screen.find("Place: Via Ravegnana 118, Forli"), std::string::npos) << screen;
    EXPECT_NE(screen.find("Reported: urla dall'appartamento accanto"), std::string::npos) << screen;
}

TEST(ConsoleKeys, NoteDispatchCallAndClose) {
    session s;
    s.start(snapshot(3, {{.id = 12, .state = "taken", .holder = "anna"}}), default_outcomes());
    s.sent();

    s.a.key('n', s.now);
    EXPECT_TRUE(s.a.prompt().active());
    s.keys("figlia avvisata");
    s.a.key(keys::backspace, s.now);
    s.keys("A\n");
    auto note = s.sent();
    ASSERT_EQ(note.size(), 1u);
    EXPECT_EQ(note[0].at("cmd"), "alarm.note");
    EXPECT_EQ(note[0].at("text"), "figlia avvisatA");
    EXPECT_FALSE(s.a.prompt().active());

    // Dispatch: the teams arcd proposes for the alarm, picked by number, then instructions.
    s.a.key('d', s.now);
    auto propose = s.sent();
    ASSERT_EQ(propose.size(), 1u);
    EXPECT_EQ(propose[0].at("cmd"), "team.propose");
    EXPECT_EQ(propose[0].at("alarm"), 12);
    s.a.key('1', s.now);  // ignored while the proposal is on its way
    EXPECT_TRUE(s.sent().empty());
    s.ok(propose[0], json{{"comune", "Forlì"},
                          {"teams",
                           {{{"name", "Croce Verde"},
                             {"state", "available"},
                             {"phone", "+39 335 1111111"},
                             {"on_duty_until_local", "2026-12-07 08:00"}},
                            {{"name", "PIS Notte"}, {"state", "on_mission"}}}}});
    std::string screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("1. Croce Verde · available · +39 335 1111111 · on duty until 08:00"),
              std::string::npos)
        << screen;
    EXPECT_NE(screen.find("2. PIS Notte · on a mission"), std::string::npos) << screen;
    EXPECT_NE(screen.find("3. another team"), std::string::npos) << screen;
    s.a.key('1', s.now);
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::dispatch_instructions);
    screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("Instructions for Croce Verde:"), std::string::npos) << screen;
    s.keys("citofono guasto, chiavi dalla vicina\n");
    auto dispatch = s.sent();
    ASSERT_EQ(dispatch.size(), 1u);
    EXPECT_EQ(dispatch[0].at("cmd"), "alarm.dispatch");
    EXPECT_EQ(dispatch[0].at("alarm"), 12);
    EXPECT_EQ(dispatch[0].at("team"), "Croce Verde");
    EXPECT_EQ(dispatch[0].at("instructions"), "citofono guasto, chiavi dalla vicina");

    // Call: whom, number, then an outcome from the list (3 = busy).
    s.a.key('c', s.now);
    s.keys("Anna Rossi\n333 111\n");
    EXPECT_TRUE(s.a.prompt().picking());
    s.a.key('3', s.now);
    auto call = s.sent();
    ASSERT_EQ(call.size(), 1u);
    EXPECT_EQ(call[0].at("cmd"), "alarm.call");
    EXPECT_EQ(call[0].at("whom"), "Anna Rossi");
    EXPECT_EQ(call[0].at("number"), "333 111");
    EXPECT_EQ(call[0].at("outcome"), "busy");

    // Close: the outcomes from arcd, picked with the arrows.
    s.a.key('x', s.now);
    const std::string picker = screen_text(s.a, s.now);
    EXPECT_NE(picker.find("1. Resolved by phone"), std::string::npos) << picker;
    EXPECT_NE(picker.find("2. False alarm"), std::string::npos) << picker;
    s.a.key(keys::down, s.now);
    s.a.key(keys::enter, s.now);
    auto close = s.sent();
    ASSERT_EQ(close.size(), 1u);
    EXPECT_EQ(close[0].at("cmd"), "alarm.close");
    EXPECT_EQ(close[0].at("outcome"), "false_alarm");

    // Esc cancels a prompt: nothing sent.
    s.a.key('n', s.now);
    s.keys("x");
    s.a.key(keys::escape, s.now);
    EXPECT_TRUE(s.sent().empty());
    EXPECT_FALSE(s.a.prompt().active());
}

TEST(ConsoleKeys, CloseAsksFreeTextWithoutOutcomesCommand) {
    session s;
    s.start(snapshot(3, {{.id = 12}}));  // outcomes: unknown_command
    s.sent();
    s.a.key('x', s.now);
    EXPECT_EQ(s.a.prompt().k, prompt_state::kind::close_text);
    s.keys("\n");  // empty: refused here, nothing sent
    EXPECT_TRUE(s.sent().empty());
    s.keys("false_alarm\n");
    auto close = s.sent();
    ASSERT_EQ(close.size(), 1u);
    EXPECT_EQ(close[0].at("outcome"), "false_alarm");
}

TEST(ConsoleKeys, SensitiveOnlyWhileHeldAndDroppedOnRelease) {
    session s;
    s.start(snapshot(3, {{.id = 12}}));
    s.sent();
    s.a.key('s', s.now);
    EXPECT_TRUE(s.sent().empty());
    EXPECT_NE(screen_text(s.a, s.now).find("take the alarm to see the sensitive data"),
              std::string::npos);

    s.a.line(push(change(4, "transitioned", {.id = 12, .state = "taken", .holder = "anna"}, 0, {},
                         "new", "taken")),
             s.now);
    s.sent();
    s.a.key('s', s.now);
    auto req = s.sent();
    ASSERT_EQ(req.size(), 1u);
    EXPECT_EQ(req[0].at("cmd"), "subscriber.show");
    EXPECT_EQ(req[0].at("sensitive"), true);
    s.ok(req[0], json{{"subscriber",
                       {{"first_name", "Maria"},
                        {"last_name", "Rossi"},
                        {"medical_notes", "diabetica, insulina"},
                        {"key_safe_code", "4711"},
                        {"contacts", json::array()}}}});
    std::string screen = screen_text(s.a, s.now, 40, 120);
    EXPECT_NE(screen.find("Medical notes: diabetica, insulina"), std::string::npos) << screen;
    EXPECT_NE(screen.find("Key-safe code: 4711"), std::string::npos) << screen;

    // Released (by anyone): the notes leave the screen and the memory.
    s.a.line(push(change(5, "transitioned", {.id = 12, .state = "new"}, 0, {}, "taken", "new")),
             s.now);
    screen = screen_text(s.a, s.now, 40, 120);
    EXPECT_EQ(screen.find("4711"), std::string::npos) << screen;
    EXPECT_FALSE(s.a.detail().subscriber.contains("key_safe_code"));
}

TEST(ConsoleLogin, LoginErrorsInWordsThenResumeAfterReconnect) {
    session s(session::tcp_options());
    EXPECT_EQ(s.a.current_screen(), screen::login);
    s.a.connected(s.now);
    EXPECT_TRUE(s.sent().empty());  // nothing before a login
    s.keys("anna\nsegreta\n");
    auto login = s.sent();
    ASSERT_EQ(login.size(), 1u);
    EXPECT_EQ(login[0].at("cmd"), "login");
    EXPECT_EQ(login[0].at("username"), "anna");
    EXPECT_EQ(login[0].at("password"), "segreta");
    // The password is never on screen.
    EXPECT_EQ(screen_text(s.a, s.now).find("segreta"), std::string::npos);
    s.fail(login[0], "login_failed", "wrong username or password");
    EXPECT_NE(screen_text(s.a, s.now).find("wrong username or password"), std::string::npos);

    s.keys("x\n");
    auto again = s.sent();
    s.fail(again.at(0), "locked", "account locked until 2026-12-05T10:15:00Z");
    EXPECT_NE(screen_text(s.a, s.now).find("account locked until 2026-12-05T10:15:00Z"),
              std::string::npos);

    s.keys("y\n");
    auto third = s.sent();
    s.ok(third.at(0), json{{"token", "tok-1"},
                           {"operator", {{"username", "anna"}, {"role", "operator"}}},
                           {"expires", "2026-12-05T18:00:00Z"}});
    EXPECT_EQ(s.a.current_screen(), screen::main);
    auto after = s.sent();
    s.ok(s.find(after, "alarms.subscribe"), snapshot(1, {{.id = 12}}));
    EXPECT_TRUE(s.a.live());
    EXPECT_FALSE(s.a.may_supervise());
    s.a.key('t', s.now);
    auto take = s.sent();
    EXPECT_FALSE(s.find(take, "alarm.take").contains("actor"));  // the login decides

    // arcd restarts: banner, then resume with the token, then a fresh snapshot.
    s.a.disconnected("connection closed by arcd", s.now + 2000, s.now);
    EXPECT_NE(screen_text(s.a, s.now).find("DISCONNECTED — retrying in 2s"), std::string::npos);
    s.a.connected(s.now + 2000);
    auto resume = s.sent();
    ASSERT_EQ(resume.size(), 1u);
    EXPECT_EQ(resume[0].at("cmd"), "resume");
    EXPECT_EQ(resume[0].at("token"), "tok-1");
    s.ok(resume[0],
         json{{"token", "tok-1"}, {"operator", {{"username", "anna"}, {"role", "operator"}}}});
    auto resub = s.sent();
    s.ok(s.find(resub, "alarms.subscribe"), snapshot(1, {{.id = 12}, {.id = 30}}));
    EXPECT_EQ(s.a.queue().entries().size(), 2u);
    EXPECT_EQ(s.a.selected(), 12u);  // kept across the resync
    EXPECT_EQ(screen_text(s.a, s.now).find("DISCONNECTED"), std::string::npos);
}

TEST(ConsoleLogin, ExpiredTokenAsksForLoginAgain) {
    session s(session::tcp_options());
    s.a.connected(s.now);
    s.keys("anna\npw\n");
    s.ok(s.sent().at(0), json{{"token", "t"}, {"operator", {{"username", "anna"}}}});
    s.sent();
    s.a.disconnected("closed", s.now, s.now);
    s.a.connected(s.now);
    s.fail(s.sent().at(0), "login_failed", "session expired");
    EXPECT_EQ(s.a.current_screen(), screen::login);
    EXPECT_NE(screen_text(s.a, s.now).find("session expired: log in again"), std::string::npos);
}

TEST(ConsoleReconnect, ResyncReplacesTheQueue) {
    session s;
    s.start(snapshot(3, {{.id = 12}, {.id = 13}}));
    s.a.disconnected("connection closed by arcd", s.now + 500, s.now);
    const std::string banner = render(s.a, 24, 80, s.now).text(0);
    EXPECT_NE(banner.find("DISCONNECTED"), std::string::npos) << banner;
    // Pushes that come before the new snapshot are held, then applied after it.
    s.a.connected(s.now);
    auto reqs = s.sent();
    s.a.line(push(change(2, "opened", {.id = 40, .cls = "urgent", .kind = "fall"}, 1)), s.now);
    s.ok(s.find(reqs, "alarms.subscribe"), snapshot(1, {{.id = 13}}));
    std::vector<alarm_id> ids;
    for (const auto& e : s.a.queue().entries()) {
        ids.push_back(e.id);
    }
    EXPECT_EQ(ids, (std::vector<alarm_id>{13, 40}));
    EXPECT_EQ(s.a.selected(), 13u);  // #12 closed meanwhile
}

TEST(ConsoleBell, RingsForNewCriticalOnly) {
    session s;
    s.start(snapshot(1, {}));
    EXPECT_FALSE(s.a.take_bell());
    s.a.line(push(change(2, "opened", {.id = 2, .cls = "technical", .kind = "tamper"}, 0)), s.now);
    EXPECT_FALSE(s.a.take_bell());
    s.a.line(push(change(3, "opened", {.id = 3}, 0)), s.now);
    EXPECT_TRUE(s.a.take_bell());
    EXPECT_FALSE(s.a.take_bell());
}

TEST(ConsoleSupervisor, FloorViewForSupervisorsOnly) {
    session op(session::tcp_options());
    op.a.connected(op.now);
    op.keys("anna\npw\n");
    op.ok(op.sent().at(0),
          json{{"token", "t"}, {"operator", {{"username", "anna"}, {"role", "operator"}}}});
    op.ok(op.find(op.sent(), "alarms.subscribe"), snapshot(1, {}));
    op.a.key('v', op.now);
    EXPECT_EQ(op.a.current_screen(), screen::main);
    EXPECT_NE(screen_text(op.a, op.now).find("only for supervisors"), std::string::npos);
    EXPECT_EQ(screen_text(op.a, op.now).find(" v "), std::string::npos);

    session s;  // the admin socket: admin
    s.start(snapshot(1, {}));
    s.a.key(keys::f2, s.now);
    EXPECT_EQ(s.a.current_screen(), screen::floor);
    auto floor = s.find(s.sent(), "floor");
    s.ok(floor, json{{"operators", json::array({{{"username", "anna"},
                                                 {"display_name", "Anna Bianchi"},
                                                 {"role", "operator"},
                                                 {"online", true},
                                                 {"holding", {12, 15}}}})},
                     {"untaken", {{"critical", 2}, {"urgent", 1}, {"technical", 4}}},
                     {"storms", json::array({alarm({.id = 30,
                                                    .cls = "technical",
                                                    .kind = "mains_loss",
                                                    .storm = true,
                                                    .members = 37})})}});
    const std::string screen = screen_text(s.a, s.now);
    EXPECT_NE(screen.find("anna"), std::string::npos) << screen;
    EXPECT_NE(screen.find("holds #12 #15"), std::string::npos) << screen;
    EXPECT_NE(screen.find("critical 2  urgent 1  technical 4"), std::string::npos) << screen;
    EXPECT_NE(screen.find("#30 TECH STORM: 37 alarms"), std::string::npos) << screen;

    // An arcd without the command: said so.
    s.a.key('g', s.now);
    s.fail(s.find(s.sent(), "floor"), "unknown_command", "unknown command: floor");
    EXPECT_NE(screen_text(s.a, s.now).find("supervisor view not available"), std::string::npos);
    s.a.key('v', s.now);
    EXPECT_EQ(s.a.current_screen(), screen::main);
}

}  // namespace
}  // namespace arc::console
