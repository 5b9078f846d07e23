// The dispatch proposal: on duty now, territory covering the comune, off-duty teams left out,
// available before on mission, each with why.
#include "arc/teams/dispatch.hpp"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace arc::teams;
namespace chr = std::chrono;

time_point utc(int y, unsigned mo, unsigned d, int h, int mi) {
    const chr::sys_days date{chr::year{y} / chr::month{mo} / chr::day{d}};
    return time_point{date.time_since_epoch() + chr::hours{h} + chr::minutes{mi}};
}

candidate team(std::string name, std::vector<std::string> territory, schedule duty,
               team_state state = team_state::available) {
    return candidate{std::move(name), std::move(territory), std::move(duty), state};
}

std::vector<std::string> names(const std::vector<candidate>& teams,
                               const std::vector<proposal>& list) {
    std::vector<std::string> out;
    for (const auto& p : list) {
        out.push_back(teams[p.index].name);
    }
    return out;
}

TEST(Propose, OnDutyInTerritoryAvailableFirst) {
    const std::vector<candidate> teams{
        team("Nord", {"Torino"}, schedule::always(), team_state::on_mission),
        team("Notte", {"Torino", "Moncalieri"}, schedule::outside_office_hours()),
        team("Sud", {"Moncalieri"}, schedule::always()),
        team("Ferma", {"torino"}, schedule::always(), team_state::off_duty),
        team("Centro", {"TORINO"}, schedule::always()),
    };
    // Wednesday 9 Dec 2026, 21:00 CET: everyone's schedule is on duty.
    const time_point night = utc(2026, 12, 9, 20, 0);
    const auto list = propose(teams, "Torino", night);
    EXPECT_EQ(names(teams, list), (std::vector<std::string>{"Centro", "Notte", "Nord"}));
    EXPECT_EQ(list[0].why, "on duty with no end, available");
    EXPECT_EQ(list[1].why, "on duty until 08:00, available");
    EXPECT_EQ(list[2].why, "on duty with no end, on a mission");
    // 10:00 on the same Wednesday: the night team is off duty by its schedule.
    const auto day = propose(teams, "torino", utc(2026, 12, 9, 9, 0));
    EXPECT_EQ(names(teams, day), (std::vector<std::string>{"Centro", "Nord"}));
    EXPECT_EQ(names(teams, propose(teams, "Moncalieri", night)),
              (std::vector<std::string>{"Sud", "Notte"}));
    EXPECT_TRUE(propose(teams, "Chieri", night).empty());
    EXPECT_TRUE(propose(teams, "", night).empty());
}

TEST(Propose, LongerDutyFirstWithinAState) {
    const std::vector<candidate> teams{
        team("A", {"Torino"}, *parse_schedule("mon-sun 20:00-23:00")),
        team("B", {"Torino"}, *parse_schedule("mon-sun 20:00-02:00")),
    };
    const auto list = propose(teams, "Torino", utc(2026, 12, 9, 20, 0));  // 21:00
    EXPECT_EQ(names(teams, list), (std::vector<std::string>{"B", "A"}));
    EXPECT_EQ(list[0].why, "on duty until 02:00, available");
}

TEST(TeamState, Names) {
    for (const team_state s :
         {team_state::available, team_state::on_mission, team_state::off_duty}) {
        EXPECT_EQ(parse_team_state(to_string(s)), s);
    }
    EXPECT_FALSE(parse_team_state("busy"));
}

}  // namespace
