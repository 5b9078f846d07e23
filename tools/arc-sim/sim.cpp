#include "sim.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "arc/protocol/dc09.hpp"

namespace net = boost::asio;
using net::ip::tcp;
using net::ip::udp;

namespace arc::sim {
namespace {

constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);
using clock = std::chrono::steady_clock;

// A real panel backs off before redialling; 100 ms keeps a restarting daemon's log readable.
constexpr auto reconnect_backoff = std::chrono::milliseconds(100);

enum class reply_class { ack, nak, duh, bad, stale };

// State shared by every device coroutine; one io_context thread, so no locking.
struct shared_state {
    options opts;
    report rep;
    std::vector<double> latencies_ms;
    std::ofstream acked_log;
    std::mt19937 rng{std::random_device{}()};
    clock::time_point start = clock::now();
    clock::time_point deadline = start;
    tcp::endpoint tcp_ep;
    udp::endpoint udp_ep;
    std::size_t running = 0;
    net::io_context* io = nullptr;

    void fill_random(std::span<std::uint8_t> out) {
        std::uniform_int_distribution<int> dist(0, 255);
        for (auto& b : out) {
            b = static_cast<std::uint8_t>(dist(rng));
        }
    }
    bool past_deadline() const { return clock::now() >= deadline; }
};

using state_ptr = std::shared_ptr<shared_state>;

std::string format_seq(unsigned seq) { return fmt::format("{:04d}", seq); }

// The frame for message `msg` of connection `conn`; sequence `seq`.
std::string make_frame(shared_state& st, std::size_t conn, std::size_t msg, unsigned seq) {
    const auto& o = st.opts;
    protocol::dc09_message_spec spec;
    spec.token = o.token;
    spec.seq = format_seq(seq);
    spec.acct = account_for(o, conn);
    if (o.data_fn) {
        spec.data = o.data_fn(conn, msg, spec.acct);
    } else {
        spec.data = o.data ? *o.data : default_data(o.token, spec.acct);
    }
    if (o.tag) {
        // Makes every frame unique so that each ACKed one can be found in the database.
        spec.xdata.push_back(fmt::format("Isim-c{}-m{}", conn, msg));
    }
    spec.timestamp_unix = static_cast<std::int64_t>(std::time(nullptr));
    if (!o.key) {
        return protocol::encode_dc09(spec);
    }
    auto frame = protocol::encode_dc09_encrypted(
        spec, *o.key, [&st](std::span<std::uint8_t> out) { st.fill_random(out); });
    if (!frame) {
        throw std::runtime_error("cannot encrypt: " + frame.error().message());
    }
    return *frame;
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::toupper(static_cast<unsigned char>(x)) ==
               std::toupper(static_cast<unsigned char>(y));
    });
}

reply_class classify(const shared_state& st, std::string_view raw, const std::string& seq,
                     std::string_view account) {
    auto frame = protocol::parse_dc09_frame(raw);
    if (!frame) {
        return reply_class::bad;
    }
    if (frame->token == "NAK" && !frame->encrypted) {
        return reply_class::nak;
    }
    if (frame->token != "ACK" && frame->token != "DUH") {
        return reply_class::bad;
    }
    if (!iequals(frame->acct, account)) {
        return reply_class::bad;
    }
    if (frame->seq != seq) {
        return reply_class::stale;
    }
    if (frame->token == "DUH") {
        return frame->encrypted ? reply_class::bad : reply_class::duh;
    }
    if (frame->encrypted != st.opts.key.has_value()) {
        return reply_class::bad;
    }
    if (frame->encrypted && !protocol::decrypt_body(*st.opts.key, frame->body)) {
        return reply_class::bad;
    }
    return reply_class::ack;
}

void record_reply(shared_state& st, reply_class kind, const std::string& frame,
                  std::string_view reply, clock::time_point sent_at) {
    const double ms = std::chrono::duration<double, std::milli>(clock::now() - sent_at).count();
    st.latencies_ms.push_back(ms);
    switch (kind) {
        case reply_class::ack:
            ++st.rep.acked;
            if (st.acked_log.is_open()) {
                st.acked_log << protocol::hex_encode(frame) << '\n';
            }
            break;
        case reply_class::nak:
            ++st.rep.nak;
            break;
        case reply_class::duh:
            ++st.rep.duh;
            break;
        case reply_class::bad:
        case reply_class::stale:
            ++st.rep.bad_replies;
            break;
    }
    if (st.opts.verbose) {
        std::printf("reply %s (%.3f ms)\n", protocol::escape_frame(reply).c_str(), ms);
    }
}

// What waiting for one reply gave.
enum class wait_result { replied, timeout, dropped };

// Times out the pending operation of a socket by cancelling it. A timer operation per message
// (`read || timer`) costs more than the read itself at tens of thousands of messages per
// second, so the deadline is a plain value that arm() moves, and the timer wakes at most once
// per timeout period: every deadline is "arm time + timeout", so a wait that started before
// the arm always ends at or before the new deadline.
template <class Socket>
class watchdog {
public:
    watchdog(Socket& socket, clock::duration timeout)
        : socket_(socket), timer_(socket.get_executor()), timeout_(timeout) {}

    void arm(clock::time_point from) {
        deadline_ = from + timeout_;
        armed_ = true;
        fired_ = false;
    }
    void disarm() { armed_ = false; }
    bool fired() const { return fired_; }
    void stop() {
        stopped_ = true;
        timer_.cancel();
    }

    net::awaitable<void> run() {
        while (!stopped_) {
            const auto now = clock::now();
            if (armed_ && deadline_ <= now) {
                armed_ = false;
                fired_ = true;
                boost::system::error_code ignored;
                socket_.cancel(ignored);
            }
            timer_.expires_at(armed_ ? deadline_ : now + timeout_);
            co_await timer_.async_wait(use_nothrow);
        }
    }

private:
    Socket& socket_;
    net::steady_timer timer_;
    clock::duration timeout_;
    clock::time_point deadline_{};
    bool armed_ = false;
    bool fired_ = false;
    bool stopped_ = false;
};

// The send time of message `msg` (1-based) of connection `index` when the load is paced: the
// connections interleave evenly so that the total rate is opts.rate.
clock::time_point paced_send_time(const shared_state& st, std::size_t index, std::size_t msg) {
    const double at_s = (static_cast<double>(index) +
                         static_cast<double>(msg - 1) * static_cast<double>(st.opts.connections)) /
                        st.opts.rate;
    return st.start +
           std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(at_s));
}

// One TCP device: frames on one connection, reconnecting when it drops.
class tcp_device {
public:
    tcp_device(state_ptr st, std::size_t index, const net::any_io_executor& ex)
        : st_(std::move(st)),
          index_(index),
          socket_(ex),
          timer_(ex),
          watchdog_(socket_, st_->opts.timeout) {}

    watchdog<tcp::socket>& guard() { return watchdog_; }

    /// Connects ahead of the load; a failure is retried when the first message is delivered.
    net::awaitable<void> preconnect() {
        auto& st = *st_;
        if (!co_await connect()) {
            ++st.rep.errors;
        }
    }

    net::awaitable<void> run() {
        auto& st = *st_;
        const auto& o = st.opts;
        unsigned seq = 0;
        for (std::size_t msg = 1; msg <= o.count; ++msg) {
            seq = seq % 9999 + 1;
            if (o.rate > 0) {
                timer_.expires_at(paced_send_time(st, index_, msg));
                co_await timer_.async_wait(use_nothrow);
            }
            if (st.past_deadline()) {
                break;
            }
            const std::string frame = make_frame(st, index_, msg, seq);
            ++st.rep.sent;
            co_await deliver(frame, format_seq(seq));
        }
        watchdog_.stop();
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

private:
    // Sends `frame` until it gets a reply, the retries are used up or the deadline passes.
    net::awaitable<void> deliver(const std::string& frame, const std::string& seq) {
        auto& st = *st_;
        unsigned timeouts = 0;
        bool first = true;
        while (!st.past_deadline()) {
            if (!socket_.is_open()) {
                if (!co_await connect()) {
                    ++st.rep.errors;
                    timer_.expires_after(reconnect_backoff);
                    co_await timer_.async_wait(use_nothrow);
                    continue;
                }
            }
            if (!first) {
                ++st.rep.retransmits;
            }
            first = false;
            ++st.rep.frames;
            if (st.opts.verbose) {
                std::printf("send  %s\n", protocol::escape_frame(frame).c_str());
            }
            const auto sent_at = clock::now();
            watchdog_.arm(sent_at);
            auto [wec, wn] = co_await net::async_write(socket_, net::buffer(frame), use_nothrow);
            if (wec) {
                watchdog_.disarm();
                ++st.rep.errors;
                drop();
                continue;
            }
            const auto result = co_await wait_reply(frame, seq, sent_at);
            watchdog_.disarm();
            if (result == wait_result::replied) {
                co_return;
            }
            if (result == wait_result::dropped) {
                ++st.rep.errors;
                drop();
                continue;
            }
            ++st.rep.timeouts;
            if (timeouts++ >= st.opts.retries) {
                break;
            }
        }
        ++st.rep.unanswered;
    }

    net::awaitable<bool> connect() {
        framer_ = protocol::dc09_framer(4096);
        watchdog_.arm(clock::now());
        auto [ec] = co_await socket_.async_connect(st_->tcp_ep, use_nothrow);
        watchdog_.disarm();
        if (ec) {
            drop();
            co_return false;
        }
        boost::system::error_code ignored;
        socket_.set_option(tcp::no_delay(true), ignored);
        co_return true;
    }

    void drop() {
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    net::awaitable<wait_result> wait_reply(const std::string& frame, const std::string& seq,
                                           clock::time_point sent_at) {
        auto& st = *st_;
        for (;;) {
            for (auto reply = framer_.next(); reply; reply = framer_.next()) {
                const auto kind = classify(st, *reply, seq, account_for(st.opts, index_));
                if (kind == reply_class::stale) {
                    ++st.rep.stale_replies;
                    continue;
                }
                record_reply(st, kind, frame, *reply, sent_at);
                co_return wait_result::replied;
            }
            if (watchdog_.fired()) {
                co_return wait_result::timeout;
            }
            auto [ec, n] = co_await socket_.async_read_some(net::buffer(buf_), use_nothrow);
            if (ec == net::error::operation_aborted && watchdog_.fired()) {
                co_return wait_result::timeout;
            }
            if (ec) {
                co_return wait_result::dropped;
            }
            framer_.feed(std::string_view(buf_.data(), n));
        }
    }

    state_ptr st_;
    std::size_t index_;
    tcp::socket socket_;
    net::steady_timer timer_;  // pacing and reconnect back-off
    watchdog<tcp::socket> watchdog_;
    protocol::dc09_framer framer_{4096};
    std::array<char, 2048> buf_{};
};

// One UDP device: one datagram per frame, replies from the receiver's address.
class udp_device {
public:
    udp_device(state_ptr st, std::size_t index, const net::any_io_executor& ex)
        : st_(std::move(st)),
          index_(index),
          socket_(ex),
          timer_(ex),
          watchdog_(socket_, st_->opts.timeout) {}

    watchdog<udp::socket>& guard() { return watchdog_; }

    net::awaitable<void> run() {
        auto& st = *st_;
        const auto& o = st.opts;
        boost::system::error_code ec;
        socket_.open(st.udp_ep.protocol(), ec);
        if (!ec) {
            socket_.connect(st.udp_ep, ec);
        }
        if (ec) {
            ++st.rep.errors;
            st.rep.unanswered += o.count;
            watchdog_.stop();
            co_return;
        }
        unsigned seq = 0;
        for (std::size_t msg = 1; msg <= o.count; ++msg) {
            seq = seq % 9999 + 1;
            if (o.rate > 0) {
                timer_.expires_at(paced_send_time(st, index_, msg));
                co_await timer_.async_wait(use_nothrow);
            }
            if (st.past_deadline()) {
                break;
            }
            const std::string frame = make_frame(st, index_, msg, seq);
            ++st.rep.sent;
            co_await deliver(frame, format_seq(seq));
        }
        watchdog_.stop();
        socket_.close(ec);
    }

private:
    net::awaitable<void> deliver(const std::string& frame, const std::string& seq) {
        auto& st = *st_;
        unsigned timeouts = 0;
        bool first = true;
        while (!st.past_deadline()) {
            if (!first) {
                ++st.rep.retransmits;
            }
            first = false;
            ++st.rep.frames;
            if (st.opts.verbose) {
                std::printf("send  %s\n", protocol::escape_frame(frame).c_str());
            }
            const auto sent_at = clock::now();
            auto [wec, wn] = co_await socket_.async_send(net::buffer(frame), use_nothrow);
            if (wec) {
                ++st.rep.errors;
                timer_.expires_after(reconnect_backoff);
                co_await timer_.async_wait(use_nothrow);
                continue;
            }
            watchdog_.arm(sent_at);
            const auto result = co_await wait_reply(frame, seq, sent_at);
            watchdog_.disarm();
            if (result == wait_result::replied) {
                co_return;
            }
            if (result == wait_result::dropped) {
                // ECONNREFUSED: nobody listens (daemon restarting); wait and resend.
                ++st.rep.errors;
                timer_.expires_after(reconnect_backoff);
                co_await timer_.async_wait(use_nothrow);
                continue;
            }
            ++st.rep.timeouts;
            if (timeouts++ >= st.opts.retries) {
                break;
            }
        }
        ++st.rep.unanswered;
    }

    net::awaitable<wait_result> wait_reply(const std::string& frame, const std::string& seq,
                                           clock::time_point sent_at) {
        auto& st = *st_;
        for (;;) {
            if (watchdog_.fired()) {
                co_return wait_result::timeout;
            }
            auto [ec, n] = co_await socket_.async_receive(net::buffer(buf_), use_nothrow);
            if (ec == net::error::operation_aborted && watchdog_.fired()) {
                co_return wait_result::timeout;
            }
            if (ec) {
                co_return wait_result::dropped;
            }
            const std::string_view reply(buf_.data(), n);
            const auto kind = classify(st, reply, seq, account_for(st.opts, index_));
            if (kind == reply_class::stale) {
                ++st.rep.stale_replies;
                continue;
            }
            record_reply(st, kind, frame, reply, sent_at);
            co_return wait_result::replied;
        }
    }

    state_ptr st_;
    std::size_t index_;
    udp::socket socket_;
    net::steady_timer timer_;  // pacing and back-off
    watchdog<udp::socket> watchdog_;
    std::array<char, 2048> buf_{};
};

// Holds one idle connection open until the server closes it or the run ends.
net::awaitable<void> hold_idle(state_ptr st, tcp::socket socket) {
    std::array<char, 256> buf{};
    for (;;) {
        auto [ec, n] = co_await socket.async_read_some(net::buffer(buf), use_nothrow);
        if (ec) {
            if (ec != net::error::operation_aborted) {
                ++st->rep.idle_closed;
            }
            co_return;
        }
    }
}

void on_done(const state_ptr& st) {
    if (--st->running == 0) {
        st->io->stop();
    }
}

void rethrow_handler(std::exception_ptr e) {
    if (e) {
        std::rethrow_exception(e);
    }
}

// Runs a device and its watchdog; the run ends when every device has.
template <class Device>
void start_device(const state_ptr& st, std::shared_ptr<Device> dev) {
    auto ex = st->io->get_executor();
    net::co_spawn(
        ex, [dev]() { return dev->guard().run(); }, rethrow_handler);
    net::co_spawn(
        ex, [dev]() { return dev->run(); },
        [st, dev](std::exception_ptr e) {
            on_done(st);
            rethrow_handler(e);
        });
}

// Opens the idle connections one after another (so that the listen backlog never overflows),
// then starts the devices.
net::awaitable<void> launch(state_ptr st) {
    auto ex = co_await net::this_coro::executor;
    const auto connect_start = clock::now();
    for (std::size_t i = 0; i < st->opts.idle && !st->past_deadline(); ++i) {
        tcp::socket socket(ex);
        auto [ec] = co_await socket.async_connect(st->tcp_ep, use_nothrow);
        if (ec) {
            ++st->rep.errors;
            continue;
        }
        ++st->rep.idle_open;
        net::co_spawn(ex, hold_idle(st, std::move(socket)), rethrow_handler);
    }
    st->running = st->opts.connections;
    if (st->opts.udp) {
        st->start = clock::now();
        for (std::size_t i = 0; i < st->opts.connections; ++i) {
            start_device(st, std::make_shared<udp_device>(st, i + 1, ex));
        }
    } else {
        // Connections are opened one after another before the load starts: a burst of a
        // thousand SYNs makes the kernel fall back to retransmissions and syncookies, which
        // shows up as one-second reply times that belong to the simulator, not the receiver.
        std::vector<std::shared_ptr<tcp_device>> devices;
        devices.reserve(st->opts.connections);
        for (std::size_t i = 0; i < st->opts.connections; ++i) {
            devices.push_back(std::make_shared<tcp_device>(st, i + 1, ex));
            net::co_spawn(
                ex, [dev = devices.back()]() { return dev->guard().run(); }, rethrow_handler);
            if (!st->past_deadline()) {
                co_await devices.back()->preconnect();
            }
        }
        st->rep.connect_s = std::chrono::duration<double>(clock::now() - connect_start).count();
        st->start = clock::now();
        for (auto& dev : devices) {
            net::co_spawn(
                ex, [dev]() { return dev->run(); },
                [st, dev](std::exception_ptr e) {
                    on_done(st);
                    rethrow_handler(e);
                });
        }
    }
    if (st->opts.connections == 0) {
        st->io->stop();
    }
}

}  // namespace

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double report::acked_per_s() const noexcept {
    return elapsed_s > 0 ? static_cast<double>(acked) / elapsed_s : 0;
}

bool report::all_replied() const noexcept {
    return bad_replies == 0 && acked + nak + duh == messages;
}

std::string account_for(const options& opts, std::size_t conn) {
    if (opts.accounts <= 1 || conn == 0) {
        return opts.account;
    }
    const std::uint64_t base = std::stoull(opts.account, nullptr, 16);
    return fmt::format("{:0{}X}", base + (conn - 1) % opts.accounts, opts.account.size());
}

std::string default_data(const std::string& token, const std::string& account) {
    if (token == "SIA-DCS") {
        return "#" + account + "|Nri1/QA001";
    }
    if (token == "ADM-CID") {
        return "#" + account + "|1101 01 001";
    }
    return "";
}

report run(const options& opts) {
    net::io_context io(1);
    auto st = std::make_shared<shared_state>();
    st->opts = opts;
    st->io = &io;
    st->rep.messages = opts.connections * opts.count;
    if (!opts.acked_log.empty()) {
        st->acked_log.open(opts.acked_log, std::ios::app);
        if (!st->acked_log) {
            throw std::runtime_error("cannot open " + opts.acked_log);
        }
    }
    const auto port = std::to_string(opts.port);
    if (opts.udp) {
        udp::resolver resolver(io);
        st->udp_ep = *resolver.resolve(udp::v4(), opts.host, port).begin();
    } else {
        tcp::resolver resolver(io);
        st->tcp_ep = *resolver.resolve(tcp::v4(), opts.host, port).begin();
    }
    if (opts.idle > 0) {
        tcp::resolver resolver(io);
        st->tcp_ep = *resolver.resolve(tcp::v4(), opts.host, port).begin();
    }
    st->start = clock::now();
    st->deadline = st->start + opts.deadline;
    net::co_spawn(io, launch(st), rethrow_handler);
    // SIGINT/SIGTERM end the run like the deadline: the report is printed, the acked log flushed.
    net::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&io, st](const boost::system::error_code& ec, int) {
        if (!ec) {
            st->rep.interrupted = true;
            io.stop();
        }
    });
    io.run_for(opts.deadline + std::chrono::seconds(1));
    const auto end = clock::now();

    report rep = st->rep;
    rep.deadline_hit = end >= st->deadline;
    rep.elapsed_s = std::chrono::duration<double>(end - st->start).count();
    std::sort(st->latencies_ms.begin(), st->latencies_ms.end());
    rep.p50_ms = percentile(st->latencies_ms, 0.50);
    rep.p99_ms = percentile(st->latencies_ms, 0.99);
    rep.max_ms = st->latencies_ms.empty() ? 0 : st->latencies_ms.back();
    const auto answered = rep.acked + rep.nak + rep.duh + rep.bad_replies + rep.unanswered;
    if (answered < rep.messages) {
        rep.unanswered += rep.messages - answered;
    }
    st->acked_log.flush();
    return rep;
}

nlohmann::json to_json(const report& rep) {
    return {{"messages", rep.messages},
            {"sent", rep.sent},
            {"frames", rep.frames},
            {"acked", rep.acked},
            {"nak", rep.nak},
            {"duh", rep.duh},
            {"timeouts", rep.timeouts},
            {"retransmits", rep.retransmits},
            {"bad_replies", rep.bad_replies},
            {"stale_replies", rep.stale_replies},
            {"errors", rep.errors},
            {"unanswered", rep.unanswered},
            {"idle_open", rep.idle_open},
            {"idle_closed", rep.idle_closed},
            {"deadline_hit", rep.deadline_hit},
            {"interrupted", rep.interrupted},
            {"elapsed_s", rep.elapsed_s},
            {"connect_s", rep.connect_s},
            {"msgs_per_s", rep.acked_per_s()},
            {"latency_ms", {{"p50", rep.p50_ms}, {"p99", rep.p99_ms}, {"max", rep.max_ms}}},
            {"ok", rep.all_replied()}};
}

std::string to_text(const report& rep) {
    std::string out;
    auto line = [&out](std::string_view name, const std::string& value) {
        out += fmt::format("{:<14}{}\n", name, value);
    };
    line("sent", std::to_string(rep.sent));
    line("acked", std::to_string(rep.acked));
    line("nak", std::to_string(rep.nak));
    line("duh", std::to_string(rep.duh));
    line("timeouts", std::to_string(rep.timeouts));
    line("retransmits", std::to_string(rep.retransmits));
    line("bad replies", std::to_string(rep.bad_replies));
    line("errors", std::to_string(rep.errors));
    line("unanswered", std::to_string(rep.unanswered));
    if (rep.idle_open > 0) {
        line("idle open", fmt::format("{} ({} closed by server)", rep.idle_open, rep.idle_closed));
    }
    if (rep.connect_s > 0.01) {
        line("connect s", fmt::format("{:.3f}", rep.connect_s));
    }
    line("elapsed s", fmt::format("{:.3f}{}", rep.elapsed_s,
                                  rep.deadline_hit  ? " (deadline)"
                                  : rep.interrupted ? " (interrupted)"
                                                    : ""));
    line("msgs/s", fmt::format("{:.0f}", rep.acked_per_s()));
    line("latency ms",
         fmt::format("p50 {:.3f}  p99 {:.3f}  max {:.3f}", rep.p50_ms, rep.p99_ms, rep.max_ms));
    return out;
}

}  // namespace arc::sim
