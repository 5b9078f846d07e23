// Purpose: arcd's network side: DC-09 TCP and UDP listeners, the admin API socket, signals and
// graceful shutdown, all on one io_context thread. Asio stays in server.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "counters.hpp"

#include "arc/config/daemon_config.hpp"
#include "arc/config/event_codes.hpp"
#include "arc/storage/store.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace arc::daemon {

/// Options besides the configuration.
struct server_options {
    /// Install SIGINT/SIGTERM (graceful stop) and SIGHUP (`on_sighup`) handlers.
    bool handle_signals = true;
    /// Called on SIGHUP (arcd reopens its log file).
    std::function<void()> on_sighup;
    /// Called once when a graceful stop begins (arcd tells systemd STOPPING=1).
    std::function<void()> on_stop;
    /// Write deadline for a reply or response (a peer that does not read is closed after it).
    std::chrono::milliseconds write_timeout{10000};
    /// Longest wait at shutdown for in-flight frames to be committed and answered.
    std::chrono::milliseconds shutdown_grace{5000};
    /// The event-code map (loaded by main from `engine.event_codes`); an empty map makes every
    /// code an urgent "unknown event".
    arc::config::event_code_map event_codes;
};

/// The listeners and sessions of arcd. Runs on `io`'s one thread; `writer` must outlive it.
class server {
public:
    /// Opens a read connection to `cfg.storage_path`, loads the device registry and rebuilds the
    /// alarm engine from storage. Throws storage_error.
    server(boost::asio::io_context& io, const arc::config::daemon_config& cfg,
           arc::storage::writer& writer, server_options opts = {});
    server(const server&) = delete;
    server& operator=(const server&) = delete;
    ~server();

    /// Feeds the alarm engine the events stored after its cursor (a crash between an event's
    /// commit and its alarm changes'), binds the configured listeners and starts accepting. Throws
    /// std::runtime_error naming the listener on failure.
    void start();

    /// Graceful stop (call on the io thread, or post it): stop accepting, let in-flight frames
    /// be committed and answered within the grace period, stop the writer, close everything.
    /// io.run() returns once all of it is done.
    void stop();

    /// The bound DC-09 TCP port (0 when disabled).
    std::uint16_t tcp_port() const noexcept;
    /// The bound DC-09 UDP port (0 when disabled).
    std::uint16_t udp_port() const noexcept;
    /// Counters since start (read on the io thread).
    const counters& stats() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace arc::daemon
