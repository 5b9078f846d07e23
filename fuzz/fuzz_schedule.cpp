// libFuzzer: parse_schedule on arbitrary text (it arrives from admin API clients). A schedule
// that parses is evaluated around both DST nights: next_change, when there is one, lies after
// the instant and flips on_duty.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "arc/teams/schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = arc::teams::parse_schedule(text);
    if (!parsed) {
        if (parsed.error().empty()) {
            std::abort();
        }
        return 0;
    }
    // 2026-10-25T00:30Z (the autumn hour), 2027-03-28T00:30Z (spring), 2027-03-29T08:00Z.
    for (const std::int64_t ms : {1792888200000LL, 1806193800000LL, 1806307200000LL}) {
        const arc::teams::time_point t{std::chrono::milliseconds{ms}};
        const bool before = arc::teams::on_duty(*parsed, t);
        if (const auto change = arc::teams::next_change(*parsed, t)) {
            if (*change <= t || arc::teams::on_duty(*parsed, *change) == before) {
                std::abort();
            }
        }
    }
    return 0;
}
