#include "metrics_http.hpp"

#include <chrono>
#include <list>
#include <stdexcept>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace arc::daemon {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::uint32_t header_limit = 8192;
constexpr auto read_deadline = std::chrono::seconds(5);
constexpr int max_requests_per_connection = 1000;
}  // namespace

struct metrics_http::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& io, render_fn r) : acceptor(io), render(std::move(r)) {}

    tcp::acceptor acceptor;
    render_fn render;
    std::list<beast::tcp_stream*> streams;  // open scraper connections, for stop()
    bool stopped = false;

    net::awaitable<void> accept_loop() {
        const auto self = shared_from_this();
        while (!stopped) {
            auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
            if (ec) {
                if (ec == net::error::operation_aborted || stopped) {
                    co_return;
                }
                spdlog::warn("metrics: accept failed: {}", ec.message());
                continue;
            }
            if (streams.size() >= max_connections) {
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            net::co_spawn(acceptor.get_executor(), serve(std::move(socket)), net::detached);
        }
    }

    net::awaitable<void> serve(tcp::socket socket) {
        const auto self = shared_from_this();
        beast::tcp_stream stream(std::move(socket));
        const auto it = streams.insert(streams.end(), &stream);
        beast::flat_buffer buffer(header_limit);
        for (int n = 0; n < max_requests_per_connection && !stopped; ++n) {
            stream.expires_after(read_deadline);
            http::request_parser<http::empty_body> parser;
            parser.header_limit(header_limit);
            parser.body_limit(0);
            auto [rec, bytes] = co_await http::async_read(stream, buffer, parser, use_nothrow);
            if (rec) {
                // Closed or timed out: nobody to answer. Oversize or malformed: say so, close.
                const bool gone = rec == http::error::end_of_stream ||
                                  rec == beast::error::timeout || rec == net::error::eof ||
                                  rec == net::error::connection_reset ||
                                  rec == net::error::operation_aborted || stopped;
                if (!gone) {
                    http::response<http::string_body> bad;
                    bad.version(11);
                    bad.keep_alive(false);
                    bad.set(http::field::server, "arcd");
                    bad.set(http::field::content_type, "text/plain; charset=utf-8");
                    if (rec == http::error::header_limit) {
                        bad.result(http::status::request_header_fields_too_large);
                        bad.body() = fmt::format("request header over {} bytes\n", header_limit);
                    } else if (rec == http::error::body_limit) {
                        bad.result(http::status::payload_too_large);
                        bad.body() = "a scrape has no body\n";
                    } else {
                        bad.result(http::status::bad_request);
                        bad.body() = fmt::format("bad request: {}\n", rec.message());
                    }
                    bad.prepare_payload();
                    stream.expires_after(read_deadline);
                    co_await http::async_write(stream, bad, use_nothrow);
                }
                break;
            }
            const auto& req = parser.get();
            http::response<http::string_body> res;
            res.version(req.version());
            res.keep_alive(req.keep_alive());
            res.set(http::field::server, "arcd");
            res.set(http::field::content_type, "text/plain; charset=utf-8");
            const bool get = req.method() == http::verb::get;
            if (req.target() != "/metrics") {
                res.result(http::status::not_found);
                res.body() = "not found: arcd serves /metrics only\n";
            } else if (!get && req.method() != http::verb::head) {
                res.result(http::status::method_not_allowed);
                res.set(http::field::allow, "GET, HEAD");
                res.body() = "method not allowed\n";
            } else {
                res.result(http::status::ok);
                res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                res.body() = render();
            }
            res.prepare_payload();
            if (!get && res.result() == http::status::ok) {
                res.body().clear();  // HEAD: the length of the GET, no body
            }
            stream.expires_after(read_deadline);
            auto [wec, written] = co_await http::async_write(stream, res, use_nothrow);
            if (wec || !res.keep_alive()) {
                break;
            }
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        streams.erase(it);
    }
};

metrics_http::metrics_http(net::io_context& io, render_fn render)
    : impl_(std::make_shared<impl>(io, std::move(render))) {}

metrics_http::~metrics_http() { stop(); }

void metrics_http::start(const std::string& address, std::uint16_t port) {
    try {
        const tcp::endpoint ep(net::ip::make_address(address), port);
        impl_->acceptor.open(ep.protocol());
        impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
        impl_->acceptor.bind(ep);
        impl_->acceptor.listen(net::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error(
            fmt::format("listen.metrics {}:{}: {}", address, port, e.code().message()));
    }
    spdlog::info("metrics listening on http://{}:{}/metrics", address, this->port());
    net::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), net::detached);
}

void metrics_http::stop() {
    impl_->stopped = true;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (beast::tcp_stream* s : impl_->streams) {
        s->socket().close(ignored);
    }
}

bool metrics_http::is_open() const noexcept { return impl_->acceptor.is_open(); }

std::uint16_t metrics_http::port() const noexcept {
    boost::system::error_code ec;
    const auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

}  // namespace arc::daemon
