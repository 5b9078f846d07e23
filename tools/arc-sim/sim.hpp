// Purpose: arc-sim's engine: DC-09 devices that send, wait for the reply, retransmit on timeout
// and reconnect on drops, as one alarm or as a load; and the figures it reports.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arc/protocol/aes.hpp"

namespace arc::sim {

/// What to send, where and how much (the command-line options of arc-sim).
struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    bool udp = false;
    std::string account;
    std::optional<protocol::aes_key> key;  ///< encrypt with this key (token gets '*')
    std::string token = "SIA-DCS";         ///< "SIA-DCS", "ADM-CID" or "NULL"
    std::optional<std::string> data;       ///< data block; default depends on the token
    bool tag = true;                       ///< add an [I...] block naming connection+message
    std::size_t connections = 1;
    std::size_t count = 1;                    ///< messages per connection
    std::chrono::milliseconds timeout{2000};  ///< reply wait before a retransmission
    unsigned retries = 3;                     ///< retransmissions after timeouts
    double rate = 0;                          ///< messages per second in total, 0 = unpaced
    std::size_t idle = 0;                     ///< extra TCP connections that send nothing
    std::string acked_log;                    ///< append hex of each ACKed frame (empty: off)
    std::chrono::seconds deadline{300};       ///< stop and report after this
    bool verbose = false;                     ///< print each frame sent and each reply
    /// Distinct accounts: connection c (1-based) sends as `account` + (c - 1) % accounts, in hex
    /// of the same width ("3000", "3001", ...); 1: every connection sends as `account`.
    std::size_t accounts = 1;
    /// The data block of message `msg` (1-based) of connection `conn` sending as `account`;
    /// empty: `data`, or default_data().
    std::function<std::string(std::size_t conn, std::size_t msg, const std::string& account)>
        data_fn;
};

/// The account connection `conn` (1-based) sends as (see options::accounts).
std::string account_for(const options& opts, std::size_t conn);

/// What happened, summed over all connections.
struct report {
    std::uint64_t messages = 0;  ///< connections * count
    std::uint64_t sent = 0;      ///< messages sent at least once
    std::uint64_t frames = 0;    ///< frames written, retransmissions included
    std::uint64_t acked = 0;
    std::uint64_t nak = 0;
    std::uint64_t duh = 0;
    std::uint64_t timeouts = 0;       ///< reply waits that expired
    std::uint64_t retransmits = 0;    ///< frames sent again (after a timeout or a dropped link)
    std::uint64_t bad_replies = 0;    ///< unparsable, wrong account, *ACK that does not decrypt
    std::uint64_t stale_replies = 0;  ///< replies to an earlier message (after a retransmission)
    std::uint64_t errors = 0;         ///< connect failures, resets, write errors
    std::uint64_t unanswered = 0;     ///< messages given up (retries exhausted or deadline)
    std::uint64_t idle_open = 0;      ///< idle connections established
    std::uint64_t idle_closed = 0;    ///< idle connections the server closed during the run
    bool deadline_hit = false;
    bool interrupted = false;  ///< stopped by SIGINT or SIGTERM
    double elapsed_s = 0;      ///< from the first message (after the connections opened)
    double connect_s = 0;      ///< opening the connections (idle ones included), TCP only
    double p50_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;

    /// ACKed messages per second of elapsed time.
    double acked_per_s() const noexcept;
    /// Every message got a reply (ACK, NAK or DUH) and no reply was bad.
    bool all_replied() const noexcept;
};

/// The data block used when none is given: "#A|Nri1/QA001", "#A|1101 01 001" or "" (NULL).
std::string default_data(const std::string& token, const std::string& account);

/// Runs the simulation on one io_context thread until every message is answered or given up,
/// or the deadline passes. Throws std::runtime_error when the host does not resolve or the
/// acked log cannot be opened.
report run(const options& opts);

/// The value at rank ceil(p * n) of `sorted` (ascending), 0 when empty: p50, p99 of latencies.
double percentile(const std::vector<double>& sorted, double p);

/// The report as one JSON object.
nlohmann::json to_json(const report& rep);

/// The report as aligned "name value" lines.
std::string to_text(const report& rep);

}  // namespace arc::sim
