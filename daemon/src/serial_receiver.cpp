#include "serial_receiver.hpp"

#include <array>
#include <chrono>
#include <list>
#include <string>
#include <utility>

#include "alarm_service.hpp"
#include "logging.hpp"
#include "registry.hpp"
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arc/protocol/dc09.hpp"
#include "arc/protocol/error.hpp"

namespace arc::daemon {

namespace net = boost::asio;
namespace protocol = arc::protocol;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace net::experimental::awaitable_operators;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
// A vanished port (USB adapter unplugged) is tried again this often.
constexpr std::chrono::seconds reopen_interval{3};
constexpr std::chrono::seconds supervision_tick{1};
// Sur-Gard packets are at most ~90 bytes (66 bytes of SIA data plus header); 256 bounds a line
// that lost its terminator.
constexpr std::size_t max_line = 256;
constexpr std::size_t read_chunk = 512;
// A receiver connection sends a heartbeat every 30 s by default; twice the DC-09 idle limit is
// left before a silent one is closed.
constexpr int tcp_idle_factor = 2;

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Completes once the hooks' store reports the commit (or refusal) of `rec`.
template <class Token>
auto async_store_line(const receiver_hooks& hooks, storage::event_record rec, storage::lane lane,
                      Token&& token) {
    return net::async_initiate<Token, void(std::error_code, std::int64_t)>(
        [&hooks, lane](auto handler, storage::event_record r) {
            auto shared = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
            hooks.store(std::move(r), lane, [shared](std::error_code ec, std::int64_t id) {
                std::move (*shared)(ec, id);
            });
        },
        token, std::move(rec));
}

nlohmann::json decoded_json(const protocol::receiver_result& r, protocol::receiver_format format) {
    nlohmann::json out = nlohmann::json::object();
    if (!r.line) {
        return out;
    }
    const protocol::receiver_line& l = *r.line;
    out["format"] = protocol::to_string(format);
    out["protocol"] = std::string(1, l.protocol);
    out["kind"] = protocol::to_string(l.kind);
    out["receiver"] = l.receiver;
    out["line"] = l.line_number;
    if (!l.account.empty()) {
        out["account"] = l.account;
    }
    if (l.cid) {
        out["cid"] = {{"qualifier", std::string(1, l.cid->qualifier)},
                      {"code", l.cid->code},
                      {"group", l.cid->group},
                      {"zone", l.cid->zone},
                      {"known", l.cid->known},
                      {"meaning", std::string(protocol::cid_code_meaning(l.cid->code))}};
        out["mt"] = l.message_type;
    }
    if (l.sia) {
        nlohmann::json events = nlohmann::json::array();
        for (const protocol::sia_event& e : l.sia->events) {
            events.push_back(
                {{"code", e.code}, {"address", e.address}, {"text", e.text}, {"known", e.known}});
        }
        out["sia"] = {{"data", l.sia_data}, {"events", std::move(events)}};
    }
    if (l.kind == protocol::receiver_line_kind::basic) {
        out["basic"] = {{"event", l.basic_event}, {"group", l.basic_group}, {"zone", l.basic_zone}};
    }
    return out;
}

}  // namespace

struct receiver_ports::impl {
    // One [[serial]] port: its settings, the open handle and its supervision.
    struct port_state {
        port_state(net::io_context& io, config::serial_receiver_config c)
            : cfg(std::move(c)), port(io), retry(io), tick(io) {}
        config::serial_receiver_config cfg;
        net::serial_port port;
        net::steady_timer retry;
        net::steady_timer tick;
        std::string transport;
        protocol::receiver_format format = protocol::receiver_format::surgard;
        bool open = false;
        bool ever_opened = false;
        bool down_logged = false;  // the current outage was logged
        bool silent = false;       // a silence alarm is open for this receiver
        steady::time_point last_traffic{};
    };

    struct tcp_session {
        explicit tcp_session(tcp::socket s) : socket(std::move(s)) {}
        tcp::socket socket;
        std::string peer;
        steady::time_point deadline{};
        bool storing = false;
    };

    impl(net::io_context& io_, const config::daemon_config& cfg_, receiver_hooks hooks_)
        : io(io_), cfg(cfg_), hooks(std::move(hooks_)), acceptor(io_) {
        for (const config::serial_receiver_config& c : cfg.serial) {
            port_state& p = ports.emplace_back(io, c);
            p.transport = "serial:" + c.name;
            p.format = c.format == "ademco685" ? protocol::receiver_format::ademco685
                                               : protocol::receiver_format::surgard;
        }
    }

    template <class Awaitable>
    void spawn(std::string what, Awaitable&& task) {
        net::co_spawn(
            io, std::forward<Awaitable>(task),
            [what = std::move(what)](const std::exception_ptr& e) { log_exception(what, e); });
    }

    void start() {
        for (port_state& p : ports) {
            p.last_traffic = steady::now();
            spawn("serial " + p.cfg.name, port_loop(p));
            if (p.cfg.heartbeat_timeout.count() > 0) {
                spawn("serial supervision " + p.cfg.name, supervise(p));
            }
        }
        if (cfg.receiver_tcp.enabled) {
            boost::system::error_code ec;
            const auto addr = net::ip::make_address(cfg.receiver_tcp.host, ec);
            if (ec) {
                throw std::runtime_error(fmt::format("listen.receiver_tcp: '{}' is not an address",
                                                     cfg.receiver_tcp.host));
            }
            const tcp::endpoint ep(addr, cfg.receiver_tcp.port);
            try {
                acceptor.open(ep.protocol());
                acceptor.set_option(tcp::acceptor::reuse_address(true));
                acceptor.bind(ep);
                acceptor.listen();
            } catch (const boost::system::system_error& e) {
                throw std::runtime_error(fmt::format("listen.receiver_tcp {}:{}: {}",
                                                     cfg.receiver_tcp.host, cfg.receiver_tcp.port,
                                                     e.code().message()));
            }
            spdlog::info("receiver TCP listening on {}:{}",
                         acceptor.local_endpoint().address().to_string(),
                         acceptor.local_endpoint().port());
            spawn("receiver tcp accept loop", accept_loop());
        }
    }

    void stop() {
        stopping = true;
        boost::system::error_code ignored;
        for (port_state& p : ports) {
            p.port.close(ignored);
            p.retry.cancel();
            p.tick.cancel();
        }
        acceptor.close(ignored);
        for (tcp_session* s : sessions) {
            if (!s->storing) {
                s->socket.close(ignored);
            }
        }
    }

    // ---- one line --------------------------------------------------------------------------
    // Stores the packet, feeds the engine after the commit, returns the reply to send: ACK only
    // for a stored, well-formed line (PROTOCOLS.md §5.1: never ACK before the event is stored).
    net::awaitable<std::string> process(arc::expected<protocol::receiver_frame> frame,
                                        std::string transport, std::string peer,
                                        protocol::receiver_format format) {
        ++counters.lines;
        const std::int64_t now_ms = unix_ms_now();
        protocol::receiver_result result;
        if (frame) {
            result = protocol::handle_receiver_frame(*frame, format);
        } else {
            result.error = frame.error();
            result.reply_bytes = protocol::build_receiver_reply(protocol::receiver_nak, false);
        }
        storage::event_record rec;
        rec.received_ms = now_ms;
        rec.transport = transport;
        rec.peer = peer;
        rec.raw = frame ? frame->raw : std::string();
        rec.protocol = protocol::to_string(format);
        if (result.line) {
            rec.account = device_registry::normalise(result.line->account);
            rec.token = protocol::to_string(result.line->kind);
        }
        rec.decoded_json = decoded_json(result, format)
                               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        rec.reply_kind = result.accepted ? "ACK" : "NAK";
        rec.reply = result.reply_bytes;
        if (result.error) {
            rec.error = result.error.message();
        }
        rec.accepted = result.accepted;
        if (result.is_heartbeat()) {
            ++counters.heartbeats;
        }
        std::vector<engine::event> events;
        hooks.normalise(result, now_ms, events);
        const storage::lane lane = alarm_service::lane_of(events);
        if (spdlog::should_log(spdlog::level::debug)) {
            spdlog::debug("{} {} line \"{}\" -> {} {}", transport, peer,
                          protocol::escape_frame(rec.raw), rec.reply_kind, rec.error);
        }
        const auto [ec, id] = co_await async_store_line(hooks, std::move(rec), lane, use_nothrow);
        if (ec) {
            ++counters.store_rejected;
            ++counters.nak;
            spdlog::warn("{}: line not stored ({}): answering NAK", transport, ec.message());
            co_return protocol::build_receiver_reply(protocol::receiver_nak, frame && frame->b32);
        }
        if (!events.empty()) {
            hooks.ingest(id, events);
        }
        ++(result.accepted ? counters.ack : counters.nak);
        co_return std::move(result.reply_bytes);
    }

    // ---- serial ports ----------------------------------------------------------------------
    static bool open_port(port_state& p, boost::system::error_code& ec) {
        p.port.open(p.cfg.device.string(), ec);
        if (ec) {
            return false;
        }
        using sp = net::serial_port_base;
        const sp::parity::type parity = p.cfg.parity == "even"  ? sp::parity::even
                                        : p.cfg.parity == "odd" ? sp::parity::odd
                                                                : sp::parity::none;
        p.port.set_option(sp::baud_rate(p.cfg.baud), ec);
        if (!ec) {
            p.port.set_option(sp::parity(parity), ec);
        }
        if (!ec) {
            p.port.set_option(sp::character_size(p.cfg.data_bits), ec);
        }
        if (!ec) {
            p.port.set_option(
                sp::stop_bits(p.cfg.stop_bits == 2 ? sp::stop_bits::two : sp::stop_bits::one), ec);
        }
        if (!ec) {
            p.port.set_option(sp::flow_control(sp::flow_control::none), ec);
        }
        if (ec) {
            boost::system::error_code ignored;
            p.port.close(ignored);
            return false;
        }
        return true;
    }

    net::awaitable<void> port_loop(port_state& p) {
        while (!stopping) {
            boost::system::error_code ec;
            if (!open_port(p, ec)) {
                // Logged once per outage: a missing adapter must not flood the log.
                if (!p.down_logged) {
                    spdlog::warn("serial {}: cannot open {}: {}; retrying every {} s", p.cfg.name,
                                 p.cfg.device.string(), ec.message(), reopen_interval.count());
                    p.down_logged = true;
                }
                p.retry.expires_after(reopen_interval);
                co_await p.retry.async_wait(use_nothrow);
                continue;
            }
            p.open = true;
            p.ever_opened = true;
            p.down_logged = false;
            ++counters.port_opens;
            spdlog::info("serial {}: {} open ({} baud, {}{}{}, {})", p.cfg.name,
                         p.cfg.device.string(), p.cfg.baud, p.cfg.data_bits,
                         p.cfg.parity == "none"   ? 'N'
                         : p.cfg.parity == "even" ? 'E'
                                                  : 'O',
                         p.cfg.stop_bits, p.cfg.format);
            const boost::system::error_code why = co_await read_port(p);
            p.open = false;
            boost::system::error_code ignored;
            p.port.close(ignored);
            if (stopping) {
                break;
            }
            ++counters.port_losses;
            spdlog::warn("serial {}: {} lost ({}); reopening every {} s", p.cfg.name,
                         p.cfg.device.string(), why.message(), reopen_interval.count());
            p.down_logged = true;
            p.retry.expires_after(reopen_interval);
            co_await p.retry.async_wait(use_nothrow);
        }
    }

    // Reads lines until the port fails; returns why.
    net::awaitable<boost::system::error_code> read_port(port_state& p) {
        protocol::receiver_framer framer(max_line);
        std::array<char, read_chunk> buf{};
        for (;;) {
            const auto [ec, n] = co_await p.port.async_read_some(net::buffer(buf), use_nothrow);
            if (ec) {
                co_return ec;  // EIO when the adapter or pty goes away; aborted at shutdown
            }
            framer.feed(std::string_view(buf.data(), n));
            for (;;) {
                auto frame = framer.next();
                if (!frame && frame.error() == protocol::error::need_more) {
                    break;
                }
                p.last_traffic = steady::now();
                if (p.silent) {
                    p.silent = false;
                    co_await report_silence(p, false);
                }
                const std::string reply = co_await process(std::move(frame), p.transport,
                                                           p.cfg.device.string(), p.format);
                if (!p.port.is_open()) {
                    co_return net::error::operation_aborted;
                }
                const auto [wec, wn] =
                    co_await net::async_write(p.port, net::buffer(reply), use_nothrow);
                if (wec) {
                    co_return wec;
                }
            }
        }
    }

    // Heartbeats (or any line) must arrive within heartbeat_timeout_s; an unplugged port is
    // silent too.
    net::awaitable<void> supervise(port_state& p) {
        while (!stopping) {
            p.tick.expires_after(supervision_tick);
            const auto [ec] = co_await p.tick.async_wait(use_nothrow);
            if (ec || stopping) {
                co_return;
            }
            if (!p.silent && steady::now() - p.last_traffic > p.cfg.heartbeat_timeout) {
                p.silent = true;
                ++counters.silent_alarms;
                spdlog::warn("serial {}: no heartbeat for {} s: receiver silent", p.cfg.name,
                             p.cfg.heartbeat_timeout.count());
                co_await report_silence(p, true);
            }
        }
    }

    // The receiver's silence (or its end) as a stored event and a technical alarm on the
    // pseudo-account RECEIVER-NAME: the engine needs no change, and the fact is on disk first.
    net::awaitable<void> report_silence(port_state& p, bool silent) const {
        const std::int64_t now_ms = unix_ms_now();
        storage::event_record rec;
        rec.received_ms = now_ms;
        rec.transport = p.transport;
        rec.peer = p.cfg.device.string();
        rec.protocol = protocol::to_string(p.format);
        rec.account = device_registry::normalise("receiver-" + p.cfg.name);
        rec.token = silent ? "receiver_silent" : "receiver_back";
        rec.decoded_json = nlohmann::json{{"receiver", p.cfg.name},
                                          {"silent", silent},
                                          {"heartbeat_timeout_s", p.cfg.heartbeat_timeout.count()}}
                               .dump();
        rec.reply_kind = "NONE";
        rec.accepted = true;
        engine::event ev;
        ev.account = rec.account;
        ev.received = engine::from_ms(now_ms);
        ev.cls = engine::alarm_class::technical;
        ev.kind = engine::event_kind::comms_fail;
        ev.is_restore = !silent;
        ev.code = silent ? "RECEIVER-SILENT" : "RECEIVER-BACK";
        ev.text = silent ? fmt::format("Ricevitore {} silenzioso da oltre {} s", p.cfg.name,
                                       p.cfg.heartbeat_timeout.count())
                         : fmt::format("Ricevitore {} di nuovo attivo", p.cfg.name);
        std::vector<engine::event> events{std::move(ev)};
        const auto [ec, id] =
            co_await async_store_line(hooks, std::move(rec), storage::lane::alarm, use_nothrow);
        if (ec) {
            spdlog::error("serial {}: silence event not stored: {}", p.cfg.name, ec.message());
            co_return;
        }
        hooks.ingest(id, events);
    }

    // ---- TCP -------------------------------------------------------------------------------
    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
            if (stopping || ec == net::error::operation_aborted) {
                co_return;
            }
            if (ec) {
                net::steady_timer pause(io, std::chrono::milliseconds(50));
                co_await pause.async_wait(use_nothrow);
                continue;
            }
            ++counters.tcp_connections;
            spawn("receiver tcp session", run_session(std::move(socket)));
        }
    }

    net::awaitable<void> run_session(tcp::socket socket) {
        tcp_session s(std::move(socket));
        boost::system::error_code ec;
        const auto remote = s.socket.remote_endpoint(ec);
        s.peer = ec ? "?" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
        sessions.push_back(&s);
        struct cleanup {
            impl& self;
            tcp_session& s;
            ~cleanup() { self.sessions.remove(&s); }
        } guard{*this, s};
        spdlog::info("receiver_tcp {} connected", s.peer);
        co_await (session_reader(s) || session_watchdog(s));
        spdlog::info("receiver_tcp {} closed", s.peer);
    }

    net::awaitable<void> session_reader(tcp_session& s) {
        protocol::receiver_framer framer(max_line);
        std::array<char, read_chunk> buf{};
        for (;;) {
            s.deadline = steady::now() + cfg.idle_timeout * tcp_idle_factor;
            const auto [ec, n] = co_await s.socket.async_read_some(
                net::buffer(buf),
                net::bind_cancellation_slot(net::cancellation_slot(), use_nothrow));
            if (ec || stopping) {
                co_return;
            }
            framer.feed(std::string_view(buf.data(), n));
            for (;;) {
                auto frame = framer.next();
                if (!frame && frame.error() == protocol::error::need_more) {
                    break;
                }
                s.storing = true;
                const std::string reply = co_await process(std::move(frame), "receiver_tcp", s.peer,
                                                           protocol::receiver_format::surgard);
                s.storing = false;
                const auto [wec, wn] =
                    co_await net::async_write(s.socket, net::buffer(reply), use_nothrow);
                if (wec) {
                    co_return;
                }
            }
        }
    }

    // Closes a connection that sent nothing (not even heartbeats) past its deadline.
    net::awaitable<void> session_watchdog(tcp_session& s) {
        net::steady_timer timer(io);
        for (;;) {
            timer.expires_after(supervision_tick);
            const auto [ec] = co_await timer.async_wait(use_nothrow);
            if (ec) {
                co_return;
            }
            if (stopping && !s.storing) {
                break;
            }
            if (!s.storing && steady::now() > s.deadline) {
                spdlog::warn("receiver_tcp {}: silent for {} s: closed", s.peer,
                             (cfg.idle_timeout * tcp_idle_factor).count());
                break;
            }
        }
        boost::system::error_code ignored;
        s.socket.close(ignored);
    }

    net::io_context& io;
    const config::daemon_config& cfg;
    receiver_hooks hooks;
    tcp::acceptor acceptor;
    std::list<port_state> ports;  // stable addresses for the coroutines
    std::list<tcp_session*> sessions;
    receiver_counters counters;
    bool stopping = false;
};

receiver_ports::receiver_ports(net::io_context& io, const config::daemon_config& cfg,
                               receiver_hooks hooks)
    : impl_(std::make_unique<impl>(io, cfg, std::move(hooks))) {}

receiver_ports::~receiver_ports() = default;

void receiver_ports::start() { impl_->start(); }

void receiver_ports::stop() { impl_->stop(); }

std::uint16_t receiver_ports::tcp_port() const noexcept {
    boost::system::error_code ec;
    return impl_->acceptor.is_open() ? impl_->acceptor.local_endpoint(ec).port() : 0;
}

nlohmann::json receiver_ports::status() const {
    nlohmann::json serial = nlohmann::json::array();
    for (const impl::port_state& p : impl_->ports) {
        serial.push_back({{"name", p.cfg.name},
                          {"device", p.cfg.device.string()},
                          {"format", p.cfg.format},
                          {"open", p.open},
                          {"silent", p.silent}});
    }
    const receiver_counters& c = impl_->counters;
    return {{"serial", std::move(serial)},
            {"counters",
             {{"lines", c.lines},
              {"heartbeats", c.heartbeats},
              {"ack", c.ack},
              {"nak", c.nak},
              {"store_rejected", c.store_rejected},
              {"port_opens", c.port_opens},
              {"port_losses", c.port_losses},
              {"silent_alarms", c.silent_alarms},
              {"tcp_connections", c.tcp_connections}}}};
}

const receiver_counters& receiver_ports::stats() const noexcept { return impl_->counters; }

}  // namespace arc::daemon
