// Purpose: arc-sim as a SCAIP sender (PROTOCOLS.md §4, TR 91102): a SIP MESSAGE with an `<mrq>`
// over UDP or TCP, the 401 digest challenge answered, the 200 awaited, then arcd's own MESSAGE
// carrying the `<mrs>` (answered 200); HOLD (snu=4) re-sends the same request until snu=0 or the
// hold limit. Every wait has a deadline; one request outstanding per connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arc/protocol/scaip.hpp"

namespace arc::sim {

/// What the simulated SCAIP sender sends, where and how much.
struct scaip_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    bool tcp = false;        ///< SIP over TCP (listen.scaip_tcp); default UDP
    std::string cid;         ///< controller id (digits) = the device's account and digest username
    std::string password;    ///< SIP digest password (the device key given to arcctl)
    int dty = 3;             ///< device type (Annex A): 3 personal trigger/pendant
    std::optional<int> stc;  ///< status code (Annex C); nullopt: the alarm state
    protocol::scaip_message_type mty = protocol::scaip_message_type::message;
    std::vector<std::string> crd;  ///< caller ids ("no-voice:", "gsm:+39..."); empty = `sip:`
    std::string ref;               ///< first reference; empty: derived from the clock
    std::optional<int> lco;        ///< location code (Annex D)
    std::string lte;               ///< location text
    std::string geo;               ///< "lat,lon" sent in `<lge><geo>`
    std::size_t connections = 1;   ///< simultaneous senders (threads, one socket each)
    std::size_t count = 1;         ///< requests per connection, one outstanding at a time
    std::chrono::milliseconds timeout{2000};  ///< SIP response and `<mrs>` wait
    unsigned retries = 3;                     ///< re-sends after a timeout
    std::chrono::seconds hold_retry{5};       ///< §4.5: re-send after HOLD in 5-20 s
    std::chrono::seconds hold_max{180};       ///< §4.5: poll at least 3 min
    std::chrono::seconds deadline{300};       ///< stop and report after this
    bool verbose = false;                     ///< print every SIP message sent and received
};

/// The outcome of one request (one ref).
struct scaip_result {
    std::size_t connection = 1;
    std::string ref;
    std::optional<int> snu;  ///< the final `<mrs>`'s snu; nullopt: none came
    std::string ste;
    std::optional<int> mre;
    unsigned holds = 0;     ///< snu=4 answers before the final one
    double latency_ms = 0;  ///< first send of the request to its final `<mrs>`
    std::string error;      ///< why there is no final `<mrs>` ("SIP 403 Forbidden", "timeout")
};

/// What happened, summed over all connections.
struct scaip_report {
    std::uint64_t messages = 0;    ///< requests (refs) to send: connections * count
    std::uint64_t sip_sent = 0;    ///< SIP MESSAGEs written (challenges and re-sends included)
    std::uint64_t challenges = 0;  ///< 401 answers
    std::uint64_t ok = 0;          ///< final snu=0
    std::uint64_t refused = 0;     ///< final snu other than 0 and 4
    std::uint64_t holds = 0;       ///< snu=4 answers
    std::uint64_t unanswered = 0;  ///< no final `<mrs>` (timeouts, SIP errors, hold limit)
    std::uint64_t timeouts = 0;    ///< waits that expired
    std::uint64_t sip_errors = 0;  ///< final SIP responses other than 200/202/401
    bool deadline_hit = false;
    double elapsed_s = 0;
    double p50_ms = 0;  ///< over the requests answered snu=0
    double p99_ms = 0;
    double max_ms = 0;
    std::vector<scaip_result> results;  ///< the first 100, in order of completion

    /// snu=0 answers per second of elapsed time.
    double ok_per_s() const noexcept;
};

/// The `<mrq>` body of request `n` (1-based) of connection `conn` with reference `ref`.
std::string scaip_request_body(const scaip_options& opts, const std::string& ref);

/// The reference of request `n` (1-based) of connection `conn`: `opts.ref` (+ n when more
/// than one), else 8 hex digits of the clock, the connection and n (at most 16 characters).
std::string scaip_ref(const scaip_options& opts, std::size_t conn, std::size_t n,
                      std::uint64_t clock_ms);

/// Runs the senders until every request has its final `<mrs>` or is given up, or the deadline
/// passes; `on_result` (may be empty) is called for each request as it completes, from the
/// sender's thread under a lock. Throws std::invalid_argument for bad options and
/// std::runtime_error when the host does not resolve or a TCP connection cannot be opened.
scaip_report run_scaip(const scaip_options& opts,
                       const std::function<void(const scaip_result&)>& on_result = {});

/// One result as a line: "ref R: snu N (ste) mre M after H holds, X ms".
std::string to_text(const scaip_result& r);
/// The report as aligned "name value" lines.
std::string to_text(const scaip_report& rep);
/// The report as one JSON object (latency_ms {p50, p99, max}, msgs_per_s, results).
nlohmann::json to_json(const scaip_report& rep);

}  // namespace arc::sim
