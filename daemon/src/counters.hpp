// Purpose: arcd's traffic counters (docs/admin-api.md "counters"); plain integers owned by the
// io thread, so no atomics.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

namespace arc::daemon {

/// Everything counted since start. Touched only on the io_context thread.
struct counters {
    std::uint64_t frames = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t ack = 0;
    std::uint64_t ack_encrypted = 0;
    std::uint64_t nak = 0;
    std::uint64_t duh = 0;
    std::uint64_t no_reply = 0;
    std::uint64_t framer_discarded_bytes = 0;
    std::uint64_t oversize_frames = 0;
    std::uint64_t tcp_connections_open = 0;
    std::uint64_t tcp_connections_total = 0;
    std::uint64_t tcp_rejected = 0;
    std::uint64_t tcp_idle_closed = 0;
    std::uint64_t udp_datagrams = 0;
    std::uint64_t udp_dropped = 0;
    std::uint64_t store_rejected = 0;
};

/// The `counters` object of the status command.
inline nlohmann::json to_json(const counters& c) {
    return nlohmann::json{{"frames", c.frames},
                          {"bytes_in", c.bytes_in},
                          {"bytes_out", c.bytes_out},
                          {"ack", c.ack},
                          {"ack_encrypted", c.ack_encrypted},
                          {"nak", c.nak},
                          {"duh", c.duh},
                          {"no_reply", c.no_reply},
                          {"framer_discarded_bytes", c.framer_discarded_bytes},
                          {"oversize_frames", c.oversize_frames},
                          {"tcp_connections_open", c.tcp_connections_open},
                          {"tcp_connections_total", c.tcp_connections_total},
                          {"tcp_rejected", c.tcp_rejected},
                          {"tcp_idle_closed", c.tcp_idle_closed},
                          {"udp_datagrams", c.udp_datagrams},
                          {"udp_dropped", c.udp_dropped},
                          {"store_rejected", c.store_rejected}};
}

}  // namespace arc::daemon
