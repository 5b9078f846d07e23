#include "arc/teams/dispatch.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace arc::teams {

std::string_view to_string(team_state state) noexcept {
    switch (state) {
        case team_state::available:
            return "available";
        case team_state::on_mission:
            return "on_mission";
        case team_state::off_duty:
            return "off_duty";
    }
    return "available";
}

std::optional<team_state> parse_team_state(std::string_view text) noexcept {
    for (const team_state s :
         {team_state::available, team_state::on_mission, team_state::off_duty}) {
        if (to_string(s) == text) {
            return s;
        }
    }
    return std::nullopt;
}

bool covers(const std::vector<std::string>& territory, std::string_view comune) {
    const std::string want = fold_comune(comune);
    if (want.empty()) {
        return false;
    }
    return std::any_of(territory.begin(), territory.end(),
                       [&](const std::string& c) { return fold_comune(c) == want; });
}

std::string until_text(std::optional<time_point> until, time_point now) {
    if (!until) {
        return "with no end";
    }
    // Within 24 hours the time alone is clear ("until 08:00" tonight or tomorrow morning).
    if (*until - now < std::chrono::hours{24}) {
        return "until " + format_local(*until, true);
    }
    return "until " + format_local(*until, false);
}

std::vector<proposal> propose(const std::vector<candidate>& teams, std::string_view comune,
                              time_point now) {
    std::vector<proposal> out;
    for (std::size_t i = 0; i < teams.size(); ++i) {
        const candidate& t = teams[i];
        if (t.state == team_state::off_duty || !covers(t.territory, comune) ||
            !on_duty(t.duty, now)) {
            continue;
        }
        proposal p;
        p.index = i;
        p.state = t.state;
        p.until = next_change(t.duty, now);
        p.why = fmt::format("on duty {}, {}", until_text(p.until, now),
                            t.state == team_state::available ? "available" : "on a mission");
        out.push_back(std::move(p));
    }
    std::stable_sort(out.begin(), out.end(), [&](const proposal& a, const proposal& b) {
        if (a.state != b.state) {
            return a.state == team_state::available;
        }
        const auto end = [](const proposal& p) { return p.until.value_or(time_point::max()); };
        if (end(a) != end(b)) {
            return end(a) > end(b);
        }
        return teams[a.index].name < teams[b.index].name;
    });
    return out;
}

}  // namespace arc::teams
