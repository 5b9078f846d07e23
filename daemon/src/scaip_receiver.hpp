// Purpose: arcd's SCAIP receiver (PROTOCOLS.md §4): SIP MESSAGE over UDP on listen.scaip_udp and
// over TCP on listen.scaip_tcp (Content-Length framing), digest-authenticated per device,
// answered 200 OK at once; the <mrq> is stored through the writer, fed to the alarm engine once
// committed, and only then answered with an <mrs> in a separate SIP MESSAGE (TR 91102 §7.5), on
// the same TCP connection for TCP. A voice alarm is answered HOLD (snu=4) while no operator has
// taken its alarm; the sender re-sends the same request (same cid and ref) until it gets snu=0
// with mre=1 (PROTOCOLS.md §4.5, §4.7). Asio stays in scaip_receiver.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "arc/config/daemon_config.hpp"
#include "arc/engine/alarm.hpp"
#include "arc/protocol/scaip.hpp"
#include "arc/storage/store.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace arc::daemon {

/// What the SCAIP receiver needs from the server; all called on the io thread.
struct scaip_hooks {
    /// Called on the io thread once the record is committed (ec empty, its id) or refused.
    using stored = std::function<void(std::error_code ec, std::int64_t id)>;
    /// Submits `rec` to the writer in `lane`; `done` must be called later, never inline.
    std::function<void(storage::event_record rec, storage::lane lane, stored done)> store;
    /// The engine events of a decoded request (alarm_service::normalise).
    std::function<void(const protocol::scaip_request& request, std::int64_t received_ms,
                       std::vector<engine::event>& out)>
        normalise;
    /// Feeds the engine the events of a request committed as `id` (alarm_service::ingest).
    std::function<void(std::int64_t id, std::vector<engine::event>& events)> ingest;
    /// The SIP digest password of the device whose account is `cid`; nullopt when the device
    /// is unknown, retired or has no key.
    std::function<std::optional<std::string>(std::string_view cid)> password;
    /// HOLD (§4.5): the open alarm an event of `account` and `kind` is in, nullopt when none
    /// (read-only query on the engine).
    std::function<std::optional<engine::alarm_id>(std::string_view account,
                                                  engine::event_kind kind)>
        open_alarm;
    /// HOLD: true while open alarm `id` (or the storm alarm grouping it) is new: no operator has
    /// taken it. False once taken, acknowledged or further, or closed.
    std::function<bool(engine::alarm_id id)> untaken;
};

/// Counters since start (io thread).
struct scaip_counters {
    std::uint64_t datagrams = 0;
    std::uint64_t keepalives = 0;
    std::uint64_t bad_sip = 0;          ///< not SIP, or a request missing what a reply needs
    std::uint64_t challenges = 0;       ///< 401 sent (no, stale or wrong credentials)
    std::uint64_t auth_failures = 0;    ///< credentials that did not verify
    std::uint64_t forbidden = 0;        ///< authenticated, but for another cid
    std::uint64_t requests = 0;         ///< authenticated MESSAGEs with an <mrq>
    std::uint64_t retransmissions = 0;  ///< the same SIP transaction again: 200 re-sent only
    std::uint64_t heartbeats = 0;       ///< mty=PI
    std::uint64_t refused = 0;          ///< <mrq> refused with snu != 0
    std::uint64_t store_failed = 0;     ///< not stored: answered snu=6 (busy)
    std::uint64_t responses_sent = 0;   ///< <mrs> MESSAGEs sent
    std::uint64_t dropped = 0;          ///< too many requests awaiting their commit: 503
    std::uint64_t holds = 0;            ///< <mrs> snu=4: a voice alarm no operator has taken yet
    std::uint64_t held_released = 0;    ///< snu=0 (mre=1) to a re-sent request after a HOLD
    std::uint64_t tcp_connections = 0;  ///< TCP connections accepted
    std::uint64_t tcp_refused = 0;      ///< closed at once: limits.max_connections reached
    std::uint64_t tcp_idle_closed = 0;  ///< closed after limits.idle_timeout_s without a byte
};

/// The listen.scaip_udp and listen.scaip_tcp listeners.
class scaip_receiver {
public:
    /// Nothing is opened until start().
    scaip_receiver(boost::asio::io_context& io, const config::daemon_config& cfg,
                   scaip_hooks hooks);
    scaip_receiver(const scaip_receiver&) = delete;
    scaip_receiver& operator=(const scaip_receiver&) = delete;
    scaip_receiver(scaip_receiver&&) = delete;
    scaip_receiver& operator=(scaip_receiver&&) = delete;
    ~scaip_receiver();

    /// Binds listen.scaip_udp and listen.scaip_tcp when set; throws std::runtime_error naming
    /// the key if it fails.
    void start();
    /// Closes the sockets and connections; requests awaiting their commit still complete (their
    /// <mrs> is not sent once the socket is closed).
    void stop();

    /// The bound UDP port (0 when off).
    std::uint16_t udp_port() const noexcept;
    /// The bound TCP port (0 when off).
    std::uint16_t tcp_port() const noexcept;
    /// Counters as JSON for the status command.
    nlohmann::json status() const;
    const scaip_counters& stats() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The SIP digest password of a device key: the key's bytes as text when they are printable
/// ASCII (a key given to arcctl as 16/24/32 characters), else their lower-case hex.
std::string scaip_password_of_key(const std::vector<std::uint8_t>& key);

}  // namespace arc::daemon
