// Purpose: arcd's Prometheus text exposition (docs/admin-api.md "Metrics"): rendered from the
// status object, the store-latency histogram and the open alarms; no sockets here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arc/engine/alarm.hpp"

namespace arc::daemon {

/// Time from an event handed to the writer to its commit: the wait of every ACK. Touched only on
/// the io_context thread.
struct latency_histogram {
    static constexpr std::array<double, 11> bounds_s{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1.0,  2.5};
    std::array<std::uint64_t, bounds_s.size()> buckets{};  ///< [i]: observations <= bounds_s[i]
    std::uint64_t count = 0;
    double sum_s = 0;

    void observe(double seconds) noexcept;
};

/// The text format (version 0.0.4) for one scrape. `status` is the admin `status` result.
std::string render_metrics(const nlohmann::json& status, const latency_histogram& store_latency,
                           const std::vector<engine::alarm>& open, engine::time_point now);

}  // namespace arc::daemon
