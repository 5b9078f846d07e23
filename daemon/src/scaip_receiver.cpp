#include "scaip_receiver.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <list>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>

#include "alarm_service.hpp"
#include "logging.hpp"
#include "registry.hpp"
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "arc/protocol/error.hpp"
#include "arc/protocol/sip.hpp"
#include "arc/protocol/sip_digest.hpp"

namespace arc::daemon {

namespace net = boost::asio;
namespace protocol = arc::protocol;
using udp = net::ip::udp;
using tcp = net::ip::tcp;
using namespace net::experimental::awaitable_operators;

namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t max_datagram = 65536;
// Requests awaiting their commit; beyond it a device gets 503 and re-sends (SCAIP retransmits).
constexpr std::size_t max_in_flight = 256;
// SIP transactions remembered to spot a retransmitted MESSAGE (its 200 was lost).
constexpr std::size_t remembered_transactions = 1024;
// A nonce is good for this long; an older one gets `stale=true` and a fresh challenge.
constexpr std::int64_t nonce_lifetime_s = 300;
constexpr std::string_view realm = "arc";
constexpr std::string_view scaip_content_type = "application/scaip+xml";
// HOLD (§4.5): a sender polls at most 30 min; requests held are remembered that long, at most
// this many (the oldest go first: their sender then gets snu=0 on its next re-send).
constexpr auto hold_memory = std::chrono::minutes(30);
constexpr std::size_t max_holds = 4096;
// TCP: bytes read at a time, and replies queued on one connection before it is dropped as
// not reading (a device has at most a 200 and an <mrs> per request outstanding).
constexpr std::size_t tcp_read_chunk = 4096;
constexpr std::size_t tcp_max_write_queue = 64;

// Where the replies to one request go: the UDP source address, or the TCP connection it came on.
struct reply_path {
    std::string transport;      ///< "scaip_udp" or "scaip_tcp" (events.transport)
    std::string via_transport;  ///< "UDP" or "TCP" (our Via on the <mrs> MESSAGE)
    std::string peer;           ///< "host:port"
    std::string sent_by;        ///< our listening "host:port"
    std::function<void(std::string bytes)> send;
};
using path_ptr = std::shared_ptr<const reply_path>;

// One SCAIP TCP connection: the reader coroutine parses; replies (200 at once, <mrs> after the
// commit) are queued and written in order.
struct tcp_connection : std::enable_shared_from_this<tcp_connection> {
    explicit tcp_connection(tcp::socket s) : socket(std::move(s)) {}

    void send(std::string bytes) {
        if (!socket.is_open()) {
            return;
        }
        if (queue.size() >= tcp_max_write_queue) {
            close();
            return;
        }
        queue.push_back(std::move(bytes));
        if (!writing) {
            write_next();
        }
    }

    void write_next() {
        writing = true;
        net::async_write(
            socket, net::buffer(queue.front()),
            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                self->queue.pop_front();
                if (ec) {
                    self->writing = false;
                    self->queue.clear();
                    self->close();
                    return;
                }
                if (self->queue.empty()) {
                    self->writing = false;
                } else {
                    self->write_next();
                }
            });
    }

    void close() {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
    }

    tcp::socket socket;
    std::string peer;
    std::deque<std::string> queue;
    bool writing = false;
};

std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string random_hex(std::size_t bytes) {
    std::array<std::uint8_t, 32> buf{};
    bytes = std::min(bytes, buf.size());
    randombytes_buf(buf.data(), bytes);
    std::string out;
    static constexpr char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < bytes; ++i) {
        out += digits[buf[i] >> 4U];
        out += digits[buf[i] & 0x0FU];
    }
    return out;
}

std::string format_peer(const udp::endpoint& ep) {
    return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

nlohmann::json decoded_json(const protocol::scaip_request& r) {
    nlohmann::json out = {{"ref", r.ref},
                          {"mty", std::string(protocol::to_string(r.mty))},
                          {"cid", r.cid},
                          {"dty", r.dty},
                          {"pri", r.pri}};
    if (r.stc) {
        out["stc"] = *r.stc;
    }
    if (!r.did.empty()) {
        out["did"] = r.did;
    }
    if (r.dco) {
        out["dco"] = *r.dco;
    }
    if (!r.dte.empty()) {
        out["dte"] = r.dte;
    }
    if (!r.stt.empty()) {
        out["stt"] = r.stt;
    }
    if (r.lco) {
        out["lco"] = *r.lco;
    }
    if (!r.lte.empty()) {
        out["lte"] = r.lte;
    }
    if (r.lge) {
        out["lge"] = {{"geo", r.lge->geo}, {"tim", r.lge->tim}, {"gga", r.lge->gga}};
    }
    nlohmann::json crd = nlohmann::json::array();
    for (const auto& c : r.crd) {
        crd.push_back(c.value);
    }
    if (!crd.empty()) {
        out["crd"] = std::move(crd);
    }
    return out;
}

// §4.5/§4.7 (TR 91102: "voice alarm; ARC answers HOLD first"): a message (mty ME or IN) that
// raises a critical alarm and asks for voice: no crd (= `sip:`, voice on the SIP session) or
// any crd other than `no-voice:`. A technical or urgent alarm, a heartbeat or a `no-voice:`
// sender gets snu=0 at once.
bool is_voice_alarm(const protocol::scaip_request& r, const std::vector<engine::event>& events) {
    if (r.mty != protocol::scaip_message_type::message &&
        r.mty != protocol::scaip_message_type::information) {
        return false;
    }
    if (events.size() != 1 || events.front().cls != engine::alarm_class::critical) {
        return false;
    }
    return r.crd.empty() || std::any_of(r.crd.begin(), r.crd.end(), [](const auto& c) {
               return c.medium != protocol::scaip_medium::no_voice;
           });
}

}  // namespace

std::string scaip_password_of_key(const std::vector<std::uint8_t>& key) {
    const bool text =
        std::all_of(key.begin(), key.end(), [](std::uint8_t b) { return b >= 0x21 && b <= 0x7E; });
    if (text) {
        return {key.begin(), key.end()};
    }
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : key) {
        out += digits[b >> 4U];
        out += digits[b & 0x0FU];
    }
    return out;
}

struct scaip_receiver::impl {
    impl(net::io_context& io_, const config::daemon_config& cfg_, scaip_hooks hooks_)
        : io(io_),
          cfg(cfg_),
          hooks(std::move(hooks_)),
          socket(io_),
          acceptor(io_),
          secret(random_hex(16)) {}

    void start() {
        start_udp();
        start_tcp();
    }

    void start_tcp() {
        if (!cfg.scaip_tcp.enabled) {
            return;
        }
        boost::system::error_code ec;
        const auto addr = net::ip::make_address(cfg.scaip_tcp.host, ec);
        if (ec) {
            throw std::runtime_error(
                fmt::format("listen.scaip_tcp: '{}' is not an address", cfg.scaip_tcp.host));
        }
        const tcp::endpoint ep(addr, cfg.scaip_tcp.port);
        try {
            acceptor.open(ep.protocol());
            acceptor.set_option(tcp::acceptor::reuse_address(true));
            acceptor.bind(ep);
            acceptor.listen();
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error(fmt::format("listen.scaip_tcp {}:{}: {}", cfg.scaip_tcp.host,
                                                 cfg.scaip_tcp.port, e.code().message()));
        }
        tcp_local = acceptor.local_endpoint();
        spdlog::info("SCAIP TCP listening on {}:{}", tcp_local.address().to_string(),
                     tcp_local.port());
        net::co_spawn(io, accept_loop(), [](const std::exception_ptr& e) {
            log_exception("scaip tcp accept loop", e);
        });
    }

    void start_udp() {
        if (!cfg.scaip_udp.enabled) {
            return;
        }
        boost::system::error_code ec;
        const auto addr = net::ip::make_address(cfg.scaip_udp.host, ec);
        if (ec) {
            throw std::runtime_error(
                fmt::format("listen.scaip_udp: '{}' is not an address", cfg.scaip_udp.host));
        }
        const udp::endpoint ep(addr, cfg.scaip_udp.port);
        try {
            socket.open(ep.protocol());
            socket.bind(ep);
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error(fmt::format("listen.scaip_udp {}:{}: {}", cfg.scaip_udp.host,
                                                 cfg.scaip_udp.port, e.code().message()));
        }
        local = socket.local_endpoint();
        spdlog::info("SCAIP UDP listening on {}", format_peer(local));
        net::co_spawn(io, receive_loop(), [](const std::exception_ptr& e) {
            log_exception("scaip udp receive loop", e);
        });
    }

    void stop() {
        stopping = true;
        boost::system::error_code ignored;
        socket.close(ignored);
        acceptor.close(ignored);
        for (const auto& weak : connections) {
            if (const auto c = weak.lock()) {
                c->close();
            }
        }
    }

    // ---- TCP (RFC 3261 §18.3: messages framed by Content-Length) ------------------------
    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, s] = co_await acceptor.async_accept(use_nothrow);
            if (stopping || ec == net::error::operation_aborted || !acceptor.is_open()) {
                co_return;
            }
            if (ec) {
                net::steady_timer pause(io, std::chrono::milliseconds(50));
                co_await pause.async_wait(use_nothrow);
                continue;
            }
            if (connections.size() >= cfg.max_connections) {
                ++counters.tcp_refused;
                boost::system::error_code ignored;
                s.close(ignored);
                continue;
            }
            ++counters.tcp_connections;
            auto c = std::make_shared<tcp_connection>(std::move(s));
            boost::system::error_code rec;
            // The 200 and the <mrs> are small writes in a row: without this, Nagle holds the
            // <mrs> until the device's delayed ACK of the 200 (~40 ms per alarm; bench/scaip).
            c->socket.set_option(tcp::no_delay(true), rec);
            const auto remote = c->socket.remote_endpoint(rec);
            c->peer = rec ? "?" : fmt::format("{}:{}", remote.address().to_string(), remote.port());
            connections.push_back(c);
            net::co_spawn(io, run_tcp_session(c), [](const std::exception_ptr& e) {
                log_exception("scaip tcp session", e);
            });
        }
    }

    net::awaitable<void> run_tcp_session(std::shared_ptr<tcp_connection> c) {
        struct cleanup {
            impl& self;
            tcp_connection* c;
            ~cleanup() {
                self.connections.remove_if([this](const std::weak_ptr<tcp_connection>& w) {
                    const auto p = w.lock();
                    return !p || p.get() == c;
                });
            }
        } guard{*this, c.get()};
        spdlog::debug("scaip_tcp {} connected", c->peer);
        auto path = std::make_shared<reply_path>();
        path->transport = "scaip_tcp";
        path->via_transport = "TCP";
        path->peer = c->peer;
        path->sent_by = fmt::format("{}:{}", tcp_local.address().to_string(), tcp_local.port());
        path->send = [weak = std::weak_ptr<tcp_connection>(c)](std::string bytes) {
            if (const auto conn = weak.lock()) {
                conn->send(std::move(bytes));
            }
        };
        protocol::sip_stream_parser parser;  // the sip_limits defaults: 8 KiB head, 16 KiB body
        std::array<char, tcp_read_chunk> buf{};
        net::steady_timer idle(io);
        while (!stopping && c->socket.is_open()) {
            // Every read has a deadline: a device silent for limits.idle_timeout_s is dropped
            // (a SCAIP sender reconnects for its next request or heartbeat).
            idle.expires_after(cfg.idle_timeout);
            auto result = co_await (c->socket.async_read_some(net::buffer(buf), use_nothrow) ||
                                    idle.async_wait(use_nothrow));
            if (result.index() == 1) {
                ++counters.tcp_idle_closed;
                spdlog::debug("scaip_tcp {}: idle for {} s: closed", c->peer,
                              cfg.idle_timeout.count());
                break;
            }
            const auto [ec, n] = std::get<0>(result);
            if (ec) {
                break;
            }
            parser.feed(std::string_view(buf.data(), n));
            for (;;) {
                auto m = parser.next();
                if (m) {
                    on_sip(*m, path);
                    continue;
                }
                if (m.error().code == protocol::make_error_code(protocol::error::need_more)) {
                    break;
                }
                // Out of step: nothing after this can be framed. Say why, then close.
                ++counters.bad_sip;
                spdlog::warn("scaip_tcp {}: bad SIP stream, closing: {}: {}", c->peer,
                             m.error().field, m.error().detail);
                const std::string detail = m.error().field.empty()
                                               ? m.error().detail
                                               : m.error().field + ": " + m.error().detail;
                c->send(fmt::format(
                    "SIP/2.0 {} {}\r\nWarning: 399 arc \"{}\"\r\nContent-Length: 0\r\n\r\n",
                    m.error().status, m.error().status == 513 ? "Message Too Large" : "Bad Request",
                    detail));
                co_await drain_and_close(c);
                co_return;
            }
        }
        c->close();
        spdlog::debug("scaip_tcp {} closed", c->peer);
    }

    // Lets the queued replies go out (bounded: 2 s), then closes.
    net::awaitable<void> drain_and_close(std::shared_ptr<tcp_connection> c) {
        net::steady_timer t(io);
        for (int i = 0; i < 40 && c->writing; ++i) {
            t.expires_after(std::chrono::milliseconds(50));
            co_await t.async_wait(use_nothrow);
        }
        c->close();
    }

    net::awaitable<void> receive_loop() {
        std::vector<char> buf(max_datagram);
        while (!stopping) {
            udp::endpoint from;
            const auto [ec, n] =
                co_await socket.async_receive_from(net::buffer(buf), from, use_nothrow);
            if (ec) {
                if (ec == net::error::operation_aborted || !socket.is_open()) {
                    co_return;
                }
                continue;  // ICMP port unreachable from an earlier send and the like
            }
            ++counters.datagrams;
            on_datagram(std::string_view(buf.data(), n), from);
        }
    }

    void send(std::string bytes, const udp::endpoint& to) {
        if (!socket.is_open()) {
            return;
        }
        auto shared = std::make_shared<std::string>(std::move(bytes));
        socket.async_send_to(net::buffer(*shared), to,
                             [shared](const boost::system::error_code&, std::size_t) {});
    }

    static void respond(const protocol::sip_message& response, const reply_path& to) {
        to.send(protocol::serialize_sip(response));
    }

    path_ptr udp_path(const udp::endpoint& from) {
        auto p = std::make_shared<reply_path>();
        p->transport = "scaip_udp";
        p->via_transport = "UDP";
        p->peer = format_peer(from);
        p->sent_by = format_peer(local);
        p->send = [this, from](std::string bytes) { send(std::move(bytes), from); };
        return p;
    }

    // A nonce we issued: "<unix seconds hex>.<16 hex of MD5(secret:time)>".
    std::string make_nonce(std::int64_t now_s) const {
        const std::string t = fmt::format("{:x}", now_s);
        return t + "." + protocol::md5_hex(secret + ":" + t).substr(0, 16);
    }

    enum class nonce_state { good, stale, bad };
    nonce_state check_nonce(std::string_view nonce, std::int64_t now_s) const {
        const auto dot = nonce.find('.');
        if (dot == std::string_view::npos || dot == 0 || dot > 15) {
            return nonce_state::bad;
        }
        std::int64_t t = 0;
        for (const char c : nonce.substr(0, dot)) {
            const int v = (c >= '0' && c <= '9')   ? c - '0'
                          : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                                   : -1;
            if (v < 0) {
                return nonce_state::bad;
            }
            t = t * 16 + v;
        }
        if (make_nonce(t) != nonce) {
            return nonce_state::bad;
        }
        return now_s - t > nonce_lifetime_s || t > now_s + 5 ? nonce_state::stale
                                                             : nonce_state::good;
    }

    void on_datagram(std::string_view datagram, const udp::endpoint& from) {
        auto parsed = protocol::parse_sip_datagram(datagram);
        if (!parsed) {
            if (parsed.error().code == protocol::make_error_code(protocol::error::empty_data)) {
                ++counters.keepalives;
                return;
            }
            // No headers to copy, so nothing can be answered (RFC 3261 §18.3 drops it too).
            ++counters.bad_sip;
            spdlog::warn("scaip_udp {}: not SIP, dropped: {}", format_peer(from),
                         parsed.error().detail);
            return;
        }
        on_sip(*parsed, udp_path(from));
    }

    // One SIP message from a device, over either transport.
    void on_sip(const protocol::sip_message& m, const path_ptr& from) {
        const std::string& peer = from->peer;
        const std::string& transport = from->transport;
        if (!m.is_request) {
            return;  // the device's 200 to one of our <mrs> MESSAGEs
        }
        const std::string tag = random_hex(8);
        if (auto problem = protocol::check_sip_request(m)) {
            ++counters.bad_sip;
            spdlog::warn("{} {}: bad request: {}", transport, peer, problem->detail);
            respond(
                protocol::make_sip_response(m, 400, "Bad Request", tag,
                                            {{"Warning", "399 arc \"" + problem->detail + "\""}}),
                *from);
            return;
        }
        if (m.method != "MESSAGE") {
            respond(protocol::make_sip_response(m, 405, "Method Not Allowed", tag,
                                                {{"Allow", "MESSAGE"}}),
                    *from);
            return;
        }
        const auto ctype = m.header("Content-Type").value_or("");
        if (ctype.substr(0, ctype.find(';')) != scaip_content_type) {
            respond(protocol::make_sip_response(m, 415, "Unsupported Media Type", tag,
                                                {{"Accept", std::string(scaip_content_type)}}),
                    *from);
            return;
        }
        // Digest authentication (PROTOCOLS.md §4.2): only authenticated senders are accepted.
        const std::int64_t now_s = unix_ms_now() / 1000;
        const auto auth = m.header("Authorization");
        const auto creds = auth ? protocol::parse_digest_authorization(*auth)
                                : std::optional<protocol::digest_credentials>{};
        if (!creds) {
            challenge(m, tag, now_s, false, from);
            return;
        }
        const nonce_state ns = check_nonce(creds->nonce, now_s);
        const auto password = hooks.password(creds->username);
        const bool verified =
            ns != nonce_state::bad && creds->realm == realm && password &&
            protocol::verify_digest(*creds, m.method,
                                    protocol::digest_ha1(creds->username, realm, *password));
        if (!verified) {
            ++counters.auth_failures;
            spdlog::warn("{} {}: digest authentication failed for '{}'", transport, peer,
                         creds->username.substr(0, 32));
            challenge(m, tag, now_s, false, from);
            return;
        }
        if (ns == nonce_state::stale) {
            challenge(m, tag, now_s, true, from);
            return;
        }
        // A retransmission (our 200 was lost): answer it again, handle it once.
        const std::string transaction = std::string(m.header("Call-ID").value_or("")) + "|" +
                                        std::string(m.header("CSeq").value_or(""));
        if (seen.contains(transaction)) {
            ++counters.retransmissions;
            respond(protocol::make_sip_response(m, 200, "OK", tag), *from);
            return;
        }
        if (in_flight >= max_in_flight) {
            ++counters.dropped;
            respond(protocol::make_sip_response(m, 503, "Service Unavailable", tag,
                                                {{"Retry-After", "5"}}),
                    *from);
            return;
        }
        remember(transaction);
        // Transport OK now; the alarm is accepted only by the <mrs> snu=0 after the commit.
        respond(protocol::make_sip_response(m, 200, "OK", tag), *from);
        handle_mrq(m, creds->username, from);
    }

    void challenge(const protocol::sip_message& m, const std::string& tag, std::int64_t now_s,
                   bool stale, const path_ptr& from) {
        ++counters.challenges;
        respond(protocol::make_sip_challenge(m, realm, make_nonce(now_s), tag, stale), *from);
    }

    void remember(const std::string& transaction) {
        seen.insert(transaction);
        order.push_back(transaction);
        if (order.size() > remembered_transactions) {
            seen.erase(order.front());
            order.pop_front();
        }
    }

    void handle_mrq(const protocol::sip_message& m, const std::string& username,
                    const path_ptr& from) {
        ++counters.requests;
        const std::int64_t received_ms = unix_ms_now();
        storage::event_record rec;
        rec.received_ms = received_ms;
        rec.transport = from->transport;
        rec.peer = from->peer;
        rec.raw = m.body;  // the SCAIP message; the SIP head (with Authorization) is not kept
        rec.protocol = "scaip";
        auto request = protocol::parse_scaip_request(m.body);
        protocol::scaip_response response;
        std::vector<engine::event> events;
        hold_query hold;  // a voice alarm: correlated with its alarm by cid + ref
        if (request &&
            device_registry::normalise(request->cid) != device_registry::normalise(username)) {
            // Per-device credentials: a device reports for its own cid only.
            ++counters.forbidden;
            protocol::scaip_error e;
            e.snu = protocol::scaip_status::wrong_data;
            e.field = "cid";
            e.detail = "cid: does not match the authenticated device";
            e.ref = request->ref;
            request = tl::unexpected(std::move(e));
        }
        if (request) {
            rec.account = request->cid;
            rec.token = std::string(protocol::to_string(request->mty));
            rec.seq = request->ref;
            rec.decoded_json = decoded_json(*request).dump();
            rec.accepted = true;
            response.ref = request->ref;
            response.snu = protocol::scaip_status::ok;
            if (request->mty == protocol::scaip_message_type::heartbeat) {
                ++counters.heartbeats;
            }
            hooks.normalise(*request, received_ms, events);
            std::string key = device_registry::normalise(request->cid) + '\x1f' + request->ref;
            if (request->mty == protocol::scaip_message_type::reset) {
                holds.erase(key);  // aborted: the sender takes its alternative action
            } else if (hooks.open_alarm && hooks.untaken && is_voice_alarm(*request, events)) {
                // Decided again after the commit; the stored reply is this first decision.
                hold.key = std::move(key);
                hold.account = events.front().account;
                hold.kind = events.front().kind;
                decide_hold(hold, response, false);
            }
        } else {
            ++counters.refused;
            rec.account = username.substr(0, 32);
            rec.seq = request.error().ref;
            rec.decoded_json = "{}";
            rec.error = request.error().detail;
            response = protocol::scaip_refusal(request.error());
        }
        rec.reply_kind = fmt::format("SNU{}", static_cast<int>(response.snu));
        rec.reply = protocol::build_scaip_response(response);
        const storage::lane lane = alarm_service::lane_of(events);
        ++in_flight;
        mrs_target target{m, from};
        hooks.store(std::move(rec), lane,
                    [this, events = std::move(events), response = std::move(response),
                     target = std::move(target),
                     hold = std::move(hold)](std::error_code ec, std::int64_t id) mutable {
                        --in_flight;
                        if (ec) {
                            ++counters.store_failed;
                            spdlog::error("{} {}: ref {} not stored: {}", target.to->transport,
                                          target.to->peer, response.ref, ec.message());
                            response.snu = protocol::scaip_status::busy;  // try later
                            response.ste = "not stored";
                        } else {
                            if (!events.empty()) {
                                hooks.ingest(id, events);
                            }
                            if (!hold.key.empty()) {
                                decide_hold(hold, response, true);
                            }
                        }
                        send_mrs(target, response);
                    });
    }

    struct hold_query {
        std::string key;  ///< cid + ref; empty: not a voice alarm
        std::string account;
        engine::event_kind kind = engine::event_kind::unknown;
    };
    struct held {
        engine::alarm_id alarm = 0;
        std::chrono::steady_clock::time_point until;
    };

    // HOLD (§4.5) while the alarm of a voice request waits for an operator; snu=0 with mre=1
    // (duplex voice) once it is taken or further, or closed. A re-send is found by cid + ref.
    // Before the commit (`committed` false) a request with no open alarm yet will open one.
    void decide_hold(const hold_query& q, protocol::scaip_response& response, bool committed) {
        std::optional<engine::alarm_id> alarm;
        if (const auto it = holds.find(q.key); it != holds.end()) {
            alarm = it->second.alarm;
        } else {
            alarm = hooks.open_alarm(q.account, q.kind);
        }
        const bool waiting = alarm ? hooks.untaken(*alarm) : !committed;
        if (waiting) {
            response.snu = protocol::scaip_status::hold;
            response.mre.reset();
            if (committed) {
                ++counters.holds;
                remember_hold(q.key, *alarm);
            }
            return;
        }
        response.snu = protocol::scaip_status::ok;
        response.mre = 1;
        if (committed && holds.erase(q.key) > 0) {
            ++counters.held_released;
        }
    }

    void remember_hold(const std::string& key, engine::alarm_id alarm) {
        const auto now = std::chrono::steady_clock::now();
        if (holds.size() >= max_holds && !holds.contains(key)) {
            std::erase_if(holds, [now](const auto& kv) { return kv.second.until <= now; });
            if (holds.size() >= max_holds) {
                holds.erase(holds.begin());
            }
        }
        holds.try_emplace(key, held{alarm, now + hold_memory});  // the first HOLD's limit stays
    }

    struct mrs_target {
        mrs_target(const protocol::sip_message& m, path_ptr to_)
            : from_header(m.header("From").value_or("")),
              to_header(m.header("To").value_or("")),
              contact(m.header("Contact").value_or("")),
              to(std::move(to_)) {}
        std::string from_header;
        std::string to_header;
        std::string contact;
        path_ptr to;
    };

    // TR 91102 §7.5: the response goes in a MESSAGE of its own, to the sender's contact (here
    // the address the request came from, or its TCP connection: no registrar, and it passes
    // NAT like rport).
    void send_mrs(const mrs_target& t, const protocol::scaip_response& response) {
        if (stopping) {
            return;
        }
        protocol::sip_message_request r;
        const std::string sender = protocol::sip_header_uri(t.from_header);
        r.request_uri = t.contact.empty() ? sender : protocol::sip_header_uri(t.contact);
        r.to_uri = sender;
        r.from_uri = protocol::sip_header_uri(t.to_header);
        r.from_tag = random_hex(8);
        r.call_id = random_hex(16) + "@arc";
        r.cseq = ++cseq;
        r.via_transport = t.to->via_transport;
        r.via_sent_by = t.to->sent_by;
        r.via_branch = random_hex(12);
        r.body = protocol::build_scaip_response(response);
        ++counters.responses_sent;
        t.to->send(protocol::serialize_sip(protocol::make_sip_message_request(r)));
    }

    nlohmann::json status() const {
        return {{"port", socket.is_open() ? local.port() : 0},
                {"tcp_port", acceptor.is_open() ? tcp_local.port() : 0},
                {"tcp_connections", counters.tcp_connections},
                {"tcp_open", connections.size()},
                {"tcp_refused", counters.tcp_refused},
                {"tcp_idle_closed", counters.tcp_idle_closed},
                {"datagrams", counters.datagrams},
                {"keepalives", counters.keepalives},
                {"bad_sip", counters.bad_sip},
                {"challenges", counters.challenges},
                {"auth_failures", counters.auth_failures},
                {"forbidden", counters.forbidden},
                {"requests", counters.requests},
                {"retransmissions", counters.retransmissions},
                {"heartbeats", counters.heartbeats},
                {"refused", counters.refused},
                {"store_failed", counters.store_failed},
                {"responses_sent", counters.responses_sent},
                {"dropped", counters.dropped},
                {"holds", counters.holds},
                {"held_released", counters.held_released},
                {"held_now", holds.size()}};
    }

    net::io_context& io;
    const config::daemon_config& cfg;
    scaip_hooks hooks;
    udp::socket socket;
    udp::endpoint local;
    tcp::acceptor acceptor;
    tcp::endpoint tcp_local;
    std::list<std::weak_ptr<tcp_connection>> connections;
    std::string secret;  ///< per process: nonces die with it (a restart re-challenges)
    bool stopping = false;
    std::size_t in_flight = 0;
    unsigned cseq = 0;
    std::unordered_set<std::string> seen;
    std::unordered_map<std::string, held> holds;  ///< cid + ref of requests answered HOLD
    std::deque<std::string> order;
    scaip_counters counters;
};

scaip_receiver::scaip_receiver(net::io_context& io, const config::daemon_config& cfg,
                               scaip_hooks hooks)
    : impl_(std::make_unique<impl>(io, cfg, std::move(hooks))) {}

scaip_receiver::~scaip_receiver() = default;

void scaip_receiver::start() { impl_->start(); }
void scaip_receiver::stop() { impl_->stop(); }

std::uint16_t scaip_receiver::udp_port() const noexcept {
    return impl_->socket.is_open() ? impl_->local.port() : 0;
}

std::uint16_t scaip_receiver::tcp_port() const noexcept {
    return impl_->acceptor.is_open() ? impl_->tcp_local.port() : 0;
}

nlohmann::json scaip_receiver::status() const { return impl_->status(); }
const scaip_counters& scaip_receiver::stats() const noexcept { return impl_->counters; }

}  // namespace arc::daemon
