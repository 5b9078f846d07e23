#include "arc/console/view.hpp"

#include "session.hpp"
#include <gtest/gtest.h>

#include "arc/console/text.hpp"

namespace arc::console {
namespace {

using namespace test;

json subscriber_record() {
    return json{{"subscriber",
                 {{"id", 7},
                  {"code", "S-007"},
                  {"first_name", "Maria"},
                  {"last_name", "Rossi"},
                  {"birth_date", "1939-03-02"},
                  {"address",
                   {{"comune", "Bologna"},
                    {"street", "Via Roma"},
                    {"number", "12"},
                    {"floor", "3"},
                    {"access_notes", "cancello verde, citofono Rossi"}}},
                  {"phones", {"051 123456"}},
                  {"living_situation", "sola"},
                  {"vulnerability", "anziano solo"},
                  {"guardian", nullptr},
                  {"gp", {{"name", "Dr. Verdi"}, {"phone", "051 999"}}},
                  {"contacts", json::array({{{"priority", 1},
                                             {"name", "Luca Rossi"},
                                             {"relation", "figlio"},
                                             {"phones", {"333 1"}},
                                             {"has_key", false},
                                             {"reachable", "sera"}},
                                            {{"priority", 2},
                                             {"name", "Anna Neri"},
                                             {"relation", "vicina"},
                                             {"phones", {"333 2"}},
                                             {"has_key", true},
                                             {"reachable", ""}}})},
                  {"status", "active"},
                  {"away_until", nullptr},
                  {"sensitive_hidden", true}}}};
}

// A queue of four: a critical taken by anna (2:13 old), an escalated urgent, a technical, a storm.
session& loaded(session& s) {
    const std::int64_t base = s.now - 133'000;
    s.start(snapshot(9, {{.id = 12, .state = "taken", .holder = "anna", .opened_ms = base},
                         {.id = 15,
                          .cls = "urgent",
                          .kind = "inactivity",
                          .level = 2,
                          .account = "2001",
                          .opened_ms = base - 3'600'000 - 5 * 60'000},
                         {.id = 16,
                          .cls = "technical",
                          .kind = "low_battery",
                          .account = "1234",
                          .opened_ms = base + 60'000},
                         {.id = 30,
                          .cls = "technical",
                          .kind = "mains_loss",
                          .account = "",
                          .opened_ms = base,
                          .storm = true,
                          .members = 37}}));
    return s;
}

void expect_fits(const grid& g) {
    for (int r = 0; r < g.rows(); ++r) {
        EXPECT_LE(columns(g.text(r)), static_cast<std::size_t>(g.cols())) << "row " << r;
    }
}

int row_with(const grid& g, const std::string& needle) {
    for (int r = 0; r < g.rows(); ++r) {
        if (g.text(r).find(needle) != std::string::npos) {
            return r;
        }
    }
    return -1;
}

TEST(ConsoleView, QueueAt80x24) {
    session s;
    loaded(s);
    const grid g = render(s.a, 24, 80, s.now);
    expect_fits(g);
    const std::string all = g.dump();
    EXPECT_NE(g.text(0).find("arc-console · anna (admin) · 4 open"), std::string::npos) << all;
    EXPECT_NE(g.text(0).find("10:02:13"), std::string::npos) << all;  // the injected clock

    const int r12 = row_with(g, "#12");
    ASSERT_GT(r12, 0) << all;
    const std::string l12 = g.text(r12);
    EXPECT_EQ(l12.substr(0, 1), ">");  // selected
    EXPECT_NE(l12.find("CRIT"), std::string::npos) << l12;
    EXPECT_NE(l12.find("02:13"), std::string::npos) << l12;
    EXPECT_NE(l12.find("taken"), std::string::npos) << l12;
    EXPECT_NE(l12.find("anna"), std::string::npos) << l12;
    EXPECT_NE(l12.find("Emergency call"), std::string::npos) << l12;
    // Class colour on the class column.
    const auto crit_col = static_cast<int>(columns(l12.substr(0, l12.find("CRIT"))));
    EXPECT_EQ(g.at(r12, crit_col).st.fg, color::red);

    const std::string l15 = g.text(row_with(g, "#15"));
    EXPECT_NE(l15.find("URG"), std::string::npos) << l15;
    EXPECT_NE(l15.find("▲2"), std::string::npos) << l15;
    EXPECT_NE(l15.find("1:07"), std::string::npos) << l15;  // h:mm past the hour
    EXPECT_NE(l15.find("new"), std::string::npos) << l15;
    EXPECT_EQ(g.at(row_with(g, "#16"), crit_col).st.fg, color::cyan);

    const std::string l30 = g.text(row_with(g, "#30"));
    EXPECT_NE(l30.find("STORM: 37 alarms"), std::string::npos) << l30;

    // Order on screen is queue order.
    EXPECT_LT(r12, row_with(g, "#15"));
    EXPECT_LT(row_with(g, "#15"), row_with(g, "#16"));
    // Every key shown in the bottom bar.
    const std::string bar = g.text(23);
    for (const char* k : {"t ", "r ", "a ", "n ", "c ", "d ", "x ", "s ", "v ", "q "}) {
        EXPECT_NE(bar.find(k), std::string::npos) << k << " in " << bar;
    }
    EXPECT_NE(bar.find("take"), std::string::npos) << bar;

    // A second later the age has counted.
    const grid later = render(s.a, 24, 80, s.now + 1000);
    EXPECT_NE(later.text(r12).find("02:14"), std::string::npos) << later.text(r12);
}

TEST(ConsoleView, DetailShowsSubscriberDeviceTimeline) {
    session s;
    auto reqs = loaded(s).sent();
    (void)reqs;
    // The detail requests of the selected alarm went out at the snapshot; answer them.
    json show;
    json sub;
    json dev;
    for (const json& r : s.all) {
        const std::string cmd = r.value("cmd", "");
        if (cmd == "alarm.show") {
            show = r;
        } else if (cmd == "subscriber.show" && r.at("account") == "1234" && sub.is_null()) {
            sub = r;
        } else if (cmd == "device.show") {
            dev = r;
        }
    }
    ASSERT_FALSE(show.is_null());
    s.ok(show,
         json{{"alarm",
               alarm({.id = 12, .state = "taken", .holder = "anna", .opened_ms = s.now - 133'000})},
              {"timeline", json::array({{{"at", iso(s.now - 133'000)},
                                         {"change", "opened"},
                                         {"actor", "system"},
                                         {"from", nullptr},
                                         {"to", nullptr},
                                         {"detail", ""}},
                                        {{"at", iso(s.now - 60'000)},
                                         {"change", "transitioned"},
                                         {"actor", "anna"},
                                         {"from", "new"},
                                         {"to", "taken"},
                                         {"detail", ""}}})},
              {"events", json::array()},
              {"members", json::array()}});
    s.ok(sub, subscriber_record());
    s.ok(dev, json{{"device",
                    {{"account", "1234"},
                     {"type", "home_unit"},
                     {"mode", "active"},
                     {"label", ""},
                     {"last_seen", iso(s.now - 5000)}}}});
    const grid g = render(s.a, 40, 120, s.now);
    expect_fits(g);
    const std::string all = g.dump();
    EXPECT_NE(all.find("Maria Rossi (87 years)"), std::string::npos) << all;
    EXPECT_NE(all.find("Via Roma 12, floor 3, Bologna — access: cancello verde"), std::string::npos)
        << all;
    EXPECT_NE(all.find("GP: Dr. Verdi 051 999"), std::string::npos) << all;
    // Key holders first, whatever their priority.
    EXPECT_LT(row_with(g, "Anna Neri"), row_with(g, "Luca Rossi")) << all;
    EXPECT_NE(g.text(row_with(g, "Anna Neri")).find("[has key]"), std::string::npos);
    EXPECT_NE(all.find("sensitive data hidden"), std::string::npos) << all;
    // The battery comes from the queue: #16 is this account's open low-battery alarm.
    EXPECT_NE(all.find("battery: low (alarm #16 open)"), std::string::npos) << all;
    EXPECT_NE(all.find("last seen 10:02:08"), std::string::npos) << all;
    EXPECT_NE(all.find("10:01:13 step new→taken anna"), std::string::npos) << all;
    // The subscriber's name replaces the account in the queue line.
    EXPECT_NE(g.text(row_with(g, "#12")).find("Maria Rossi"), std::string::npos) << all;

    // The same in Italian after L.
    s.a.key('L', s.now);
    const std::string it = render(s.a, 40, 120, s.now).dump();
    EXPECT_NE(it.find("Maria Rossi (87 anni)"), std::string::npos) << it;
    EXPECT_NE(it.find("preso"), std::string::npos) << it;
    EXPECT_NE(it.find("prendi"), std::string::npos) << it;
}

TEST(ConsoleView, NoSubscriberCommandSaysSo) {
    session s;
    loaded(s);
    for (const json& r : s.all) {
        if (r.value("cmd", "") == "subscriber.show" && r.at("account") == "1234") {
            s.fail(r, "unknown_command", "unknown command: subscriber.show");
        }
    }
    const std::string all = render(s.a, 24, 80, s.now).dump();
    EXPECT_NE(all.find("no subscriber record"), std::string::npos) << all;
    // No more name look-ups on an arcd without the command.
    s.a.tick(s.now);
    for (const json& r : s.sent()) {
        EXPECT_NE(r.value("cmd", ""), "subscriber.show");
    }
}

TEST(ConsoleView, NarrowAndWideSizes) {
    session s;
    loaded(s);
    const grid narrow = render(s.a, 20, 60, s.now);
    expect_fits(narrow);
    const std::string l12 = narrow.text(row_with(narrow, "#12"));
    EXPECT_NE(l12.find("CRIT"), std::string::npos) << narrow.dump();
    EXPECT_NE(l12.find("02:13"), std::string::npos) << l12;
    EXPECT_NE(l12.find("anna"), std::string::npos) << l12;
    EXPECT_NE(narrow.text(row_with(narrow, "URG")).find("▲2"), std::string::npos);

    const grid wide = render(s.a, 40, 120, s.now);
    expect_fits(wide);
    EXPECT_NE(wide.text(row_with(wide, "#12")).find("Emergency call"), std::string::npos);
    EXPECT_GT(row_with(wide, "── detail"), row_with(wide, "#30"));

    const grid side = render(s.a, 40, 160, s.now);
    expect_fits(side);
    EXPECT_NE(side.text(row_with(side, "#12")).find("│"), std::string::npos);

    // Down to 40 columns fewer columns, below that a notice; never a crash or overflow.
    for (int cols = 1; cols <= 80; ++cols) {
        for (int rows : {1, 3, 6, 10, 24}) {
            const grid g = render(s.a, rows, cols, s.now);
            expect_fits(g);
        }
    }
    const grid tiny = render(s.a, 5, 20, s.now);
    EXPECT_EQ(tiny.text(0), "terminal too small");
    EXPECT_NE(render(s.a, 10, 40, s.now).dump().find("CRIT"), std::string::npos);
}

TEST(ConsoleView, AsciiTerminalGetsBangMarker) {
    options o = session::unix_options();
    o.ascii = true;
    session s(o);
    loaded(s);
    const grid g = render(s.a, 24, 80, s.now);
    EXPECT_NE(g.text(row_with(g, "#15")).find("!2"), std::string::npos) << g.dump();
    for (int r = 0; r < g.rows(); ++r) {
        for (const char c : g.text(r)) {
            EXPECT_EQ(static_cast<unsigned char>(c) & 0x80, 0) << "row " << r << ": " << g.text(r);
        }
    }
}

TEST(ConsoleView, LoginScreenNeverEchoesThePassword) {
    session s(session::tcp_options(lang::it));
    s.a.connected(s.now);
    s.keys("anna\nsegreta");
    const grid g = render(s.a, 24, 80, s.now);
    const std::string all = g.dump();
    EXPECT_NE(all.find("accesso operatore"), std::string::npos) << all;
    EXPECT_NE(all.find("Utente     anna"), std::string::npos) << all;
    EXPECT_EQ(all.find("segreta"), std::string::npos) << all;
    EXPECT_EQ(all.find("*"), std::string::npos) << all;
}

}  // namespace
}  // namespace arc::console
