// Purpose: the loopback HTTP endpoint Prometheus scrapes (GET /metrics), on arcd's io_context.
// Boost.Beast stays in metrics_http.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace arc::daemon {

class metrics_http {
public:
    using render_fn = std::function<std::string()>;
    /// At most this many scrapers at once; more are closed at accept.
    static constexpr std::size_t max_connections = 8;

    metrics_http(boost::asio::io_context& io, render_fn render);
    ~metrics_http();
    metrics_http(const metrics_http&) = delete;
    metrics_http& operator=(const metrics_http&) = delete;

    /// Binds `address:port` and starts accepting; throws std::runtime_error naming
    /// listen.metrics when it cannot.
    void start(const std::string& address, std::uint16_t port);
    /// Closes the listener and every scraper connection.
    void stop();
    bool is_open() const noexcept;
    std::uint16_t port() const noexcept;  ///< bound port (0 when off)

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace arc::daemon
