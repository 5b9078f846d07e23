// Purpose: arc-sim as a hardware alarm receiver (PROTOCOLS.md §5): it writes Sur-Gard or Ademco
// 685 automation lines into a serial port (a real one or a socat pseudo-terminal) or over TCP
// (listen.receiver_tcp, optional B32 header), waits for ACK 0x06 / NAK 0x15 like the receiver
// does, re-sends on NAK or silence, and reports what came back.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim.hpp"

#include "arc/protocol/surgard.hpp"

namespace arc::sim {

/// Where and what the simulated receiver sends.
struct serial_options {
    std::string device;  ///< serial port path; empty: TCP to host:port
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    bool b32 = false;  ///< TCP only: prefix every packet with a B32 header `00 00 LL LL`
    unsigned baud = 9600;
    protocol::receiver_format format = protocol::receiver_format::surgard;
    std::string receiver = "01";   ///< receiver number (Sur-Gard RR; the first digit for 685)
    std::string line = "001";      ///< line card (Sur-Gard LLL; 685 uses its first digit)
    std::string account = "1234";  ///< 4 hex digits; with accounts > 1 it counts up
    std::size_t accounts = 1;
    std::string event = "E101";  ///< Contact ID qualifier letter (E/R/P) and code
    std::string group = "01";
    std::string zone = "001";  ///< with count > 1 the zone counts up so lines differ
    bool heartbeat = false;    ///< send one receiver heartbeat before the events
    std::size_t count = 1;     ///< event lines
    double rate = 0;           ///< lines per second, 0 = the next once the last is answered
    std::chrono::milliseconds timeout{4000};  ///< ACK wait (Sur-Gard's default is 4 s)
    unsigned retries = 4;                     ///< re-sends after a NAK or a timeout
    std::chrono::seconds deadline{300};
    bool verbose = false;
};

/// One Sur-Gard heartbeat `1RR000` + 11 spaces + `@` + 4 spaces + DC4, or the 685 form
/// `<LF>RL OKAY @<CR>`.
std::string receiver_heartbeat(const serial_options& opts);

/// Event line `n` (1-based) as the receiver would print it.
std::string receiver_event_line(const serial_options& opts, std::size_t n);

/// Sends the heartbeat (if asked) and `count` lines, one outstanding at a time, and reports.
/// Throws std::runtime_error when the port cannot be opened or the host does not answer, and
/// std::invalid_argument for a bad account, event or zone.
report run_serial(const serial_options& opts);

}  // namespace arc::sim
