// arcctl's team renderers: the list with "on duty now", one team, a proposal.
#include "teams_cli.hpp"

#include <string>

#include <gtest/gtest.h>

namespace {

using arc::arcctl::proposal_to_text;
using arc::arcctl::team_to_text;
using arc::arcctl::teams_to_text;
using nlohmann::json;

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(TeamsCli, ListShowsOnDutyNowAndState) {
    const json teams = json::array({json{{"name", "PIS Centro"},
                                         {"on_duty", true},
                                         {"scheduled_on_duty", true},
                                         {"schedule_change_local", nullptr},
                                         {"state", "available"},
                                         {"phone", "+39 335 1111111"},
                                         {"territory", {"Torino"}},
                                         {"schedule", "24x7"}},
                                    json{{"name", "PIS Notte"},
                                         {"on_duty", false},
                                         {"scheduled_on_duty", false},
                                         {"schedule_change_local", "2026-12-09 17:00"},
                                         {"state", "available"},
                                         {"territory", {"Torino", "Moncalieri"}},
                                         {"schedule", "outside-office-hours"}},
                                    json{{"name", "PIS Ferma"},
                                         {"on_duty", false},
                                         {"scheduled_on_duty", true},
                                         {"state", "off_duty"},
                                         {"territory", {"Chieri"}},
                                         {"schedule", "24x7"}}});
    const std::string text = teams_to_text(teams);
    EXPECT_TRUE(has(text, "ON DUTY NOW")) << text;
    EXPECT_TRUE(has(text, "no, from 2026-12-09 17:00")) << text;
    EXPECT_TRUE(has(text, "no (off_duty)")) << text;
    EXPECT_TRUE(has(text, "Torino, Moncalieri")) << text;
    EXPECT_TRUE(has(teams_to_text(json::array()), "no teams")) << text;
    const std::string one = team_to_text(teams[1]);
    EXPECT_TRUE(has(one, "schedule     outside-office-hours")) << one;
}

TEST(TeamsCli, ProposalInOrderWithWhy) {
    const json r{{"alarm", 3},
                 {"subscriber", {{"id", 1}, {"code", "TS-0042"}}},
                 {"comune", "Torino"},
                 {"at", "2026-12-09T20:00:00Z"},
                 {"teams",
                  {json{{"name", "PIS Centro"},
                        {"state", "available"},
                        {"phone", "+39 335 1111111"},
                        {"why", "on duty with no end, available"}},
                   json{{"name", "PIS Notte\x1b[2J"},
                        {"state", "available"},
                        {"phone", ""},
                        {"why", "on duty until 08:00, available"}}}}};
    const std::string text = proposal_to_text(r);
    EXPECT_TRUE(has(text, "teams for alarm 3 (subscriber TS-0042, Torino)")) << text;
    EXPECT_LT(text.find("PIS Centro"), text.find("PIS Notte")) << text;
    EXPECT_TRUE(has(text, "on duty until 08:00, available")) << text;
    EXPECT_FALSE(has(text, "\x1b")) << text;  // a terminal escape from the server is defused
    json none = r;
    none["teams"] = json::array();
    EXPECT_TRUE(has(proposal_to_text(none), "no team on duty covers Torino"));
}

}  // namespace
