// Prints the cost of on_duty, next_change (per schedule kind) and propose over 200 teams.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "arc/teams/dispatch.hpp"
#include "arc/teams/schedule.hpp"

namespace {

namespace chr = std::chrono;
using arc::teams::time_point;

// Wednesday 9 Dec 2026, 09:00 UTC, then every 37 minutes: instants all over the week.
time_point instant(int i) {
    return time_point{chr::milliseconds{1796806800000LL}} + chr::minutes{37 * i};
}

template <class F>
double per_call_us(int n, F&& f) {
    const auto start = chr::steady_clock::now();
    for (int i = 0; i < n; ++i) {
        f(i);
    }
    const chr::duration<double, std::micro> spent = chr::steady_clock::now() - start;
    return spent.count() / n;
}

}  // namespace

int main() {
    struct kind {
        const char* name;
        arc::teams::schedule s;
    };
    const std::vector<kind> kinds{
        {"24x7", *arc::teams::parse_schedule("24x7")},
        {"outside-office-hours",
         *arc::teams::parse_schedule("outside-office-hours; holiday 06-24")},
        {"once a year", *arc::teams::parse_schedule("no-national-holidays; holidays 09:00-10:00; "
                                                    "holiday 06-24")},
    };
    volatile bool sink = false;
    for (const kind& k : kinds) {
        const double on =
            per_call_us(2000, [&](int i) { sink = arc::teams::on_duty(k.s, instant(i)); });
        const double next = per_call_us(
            500, [&](int i) { sink = arc::teams::next_change(k.s, instant(i)).has_value(); });
        fmt::print("{:<22} on_duty {:8.2f} us   next_change {:8.2f} us\n", k.name, on, next);
    }
    std::vector<arc::teams::candidate> teams;
    for (int i = 0; i < 200; ++i) {
        teams.push_back(arc::teams::candidate{fmt::format("PIS {:03}", i),
                                              {i % 2 == 0 ? "Torino" : "Moncalieri", "Chieri"},
                                              i % 3 == 0 ? kinds[0].s : kinds[1].s,
                                              arc::teams::team_state::available});
    }
    std::size_t found = 0;
    const double propose = per_call_us(
        50, [&](int i) { found = arc::teams::propose(teams, "Torino", instant(i)).size(); });
    fmt::print("propose over {} teams: {:.1f} us ({} proposed at the last instant)\n", teams.size(),
               propose, found);
    (void)sink;
    return 0;
}
