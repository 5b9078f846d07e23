// Purpose: arcd's hardware alarm receivers (PROTOCOLS.md §5): Sur-Gard / Ademco 685 automation
// output read from serial ports and from a TCP listener. Every line is stored, fed to the alarm
// engine once committed, and only then answered ACK; a port that disappears is reopened every few
// seconds, and a receiver silent past its heartbeat timeout raises a technical alarm. Asio stays
// in serial_receiver.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "arc/config/daemon_config.hpp"
#include "arc/engine/alarm.hpp"
#include "arc/protocol/surgard.hpp"
#include "arc/storage/store.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace arc::daemon {

/// What the receivers need from the server; all called on the io thread.
struct receiver_hooks {
    /// Called on the io thread once `rec` is committed (ec empty, its id) or refused (ec set).
    using stored = std::function<void(std::error_code ec, std::int64_t id)>;
    /// Submits `rec` to the writer in `lane`; `done` must be called later, never inline.
    std::function<void(storage::event_record rec, storage::lane lane, stored done)> store;
    /// The engine events of a decoded line (alarm_service::normalise).
    std::function<void(const protocol::receiver_result& result, std::int64_t received_ms,
                       std::vector<engine::event>& out)>
        normalise;
    /// Feeds the engine the events of a line committed as `id` (alarm_service::ingest).
    std::function<void(std::int64_t id, std::vector<engine::event>& events)> ingest;
};

/// Counters of the receivers since start (io thread).
struct receiver_counters {
    std::uint64_t lines = 0;           ///< packets cut from the streams (oversize included)
    std::uint64_t heartbeats = 0;      ///< heartbeat lines
    std::uint64_t ack = 0;             ///< ACKs sent after the commit
    std::uint64_t nak = 0;             ///< NAKs (malformed, oversize, not stored)
    std::uint64_t store_rejected = 0;  ///< lines the writer refused or failed to commit
    std::uint64_t port_opens = 0;      ///< successful opens of serial ports (reopens included)
    std::uint64_t port_losses = 0;     ///< serial ports that failed while open
    std::uint64_t silent_alarms = 0;   ///< receivers that went silent past heartbeat_timeout_s
    std::uint64_t tcp_connections = 0;
};

/// The configured `[[serial]]` ports and the `listen.receiver_tcp` listener.
class receiver_ports {
public:
    /// Nothing is opened until start().
    receiver_ports(boost::asio::io_context& io, const config::daemon_config& cfg,
                   receiver_hooks hooks);
    receiver_ports(const receiver_ports&) = delete;
    receiver_ports& operator=(const receiver_ports&) = delete;
    receiver_ports(receiver_ports&&) = delete;
    receiver_ports& operator=(receiver_ports&&) = delete;
    ~receiver_ports();

    /// Starts a reader per serial port (a port that cannot be opened is retried, never fatal)
    /// and binds listen.receiver_tcp when set; throws std::runtime_error if that bind fails.
    void start();
    /// Closes ports, the listener and connections; lines awaiting their commit still finish.
    void stop();

    /// The bound receiver_tcp port (0 when off).
    std::uint16_t tcp_port() const noexcept;
    /// `{"serial":[{"name","device","open","silent"}…],"counters":{…}}` for the status command.
    nlohmann::json status() const;
    const receiver_counters& stats() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace arc::daemon
