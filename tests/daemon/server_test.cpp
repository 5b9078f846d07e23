#include "server.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "arc/api/client.hpp"
#include "arc/config/event_codes.hpp"
#include "arc/protocol/dc09.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/store.hpp"

namespace {

namespace net = boost::asio;
namespace protocol = arc::protocol;
namespace storage = arc::storage;
using tcp = net::ip::tcp;
using udp = net::ip::udp;
using namespace std::chrono_literals;

const std::string clear_account = "1234";
const std::string crypt_account = "ABCD";
const std::string key_hex = "000102030405060708090A0B0C0D0E0F";

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string clear_frame(const std::string& seq, const std::string& account = clear_account) {
    protocol::dc09_message_spec spec;
    spec.seq = seq;
    spec.acct = account;
    spec.data = "#" + account + "|Nri1/MA015";
    return protocol::encode_dc09(spec);
}

// The reply's token and sequence: `"ACK"0001` etc.
std::string reply_head(const std::string& reply) {
    const auto q = reply.find('"');
    if (q == std::string::npos) {
        return reply;
    }
    return reply.substr(q, reply.find_first_of("RL#", q + 1) - q);
}

class server_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "arc-daemon-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
        cfg_.storage_path = dir_ / "arc.db";
        cfg_.api_socket = dir_ / "arcd.sock";
        cfg_.dc09_tcp = {"127.0.0.1", 0, true};
        cfg_.dc09_udp = {"127.0.0.1", 0, true};
        cfg_.max_frame = 256;
        cfg_.idle_timeout = 1s;
    }

    void TearDown() override {
        if (server_) {
            server_->stop();
            io_.restart();
            io_.run_for(10s);
        }
        server_.reset();
        writer_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    // Creates the writer, the two devices and the server (after the test adjusted cfg_).
    void start() {
        writer_ = std::make_unique<storage::writer>(cfg_.storage_path, storage::writer::options{});
        {
            auto db = storage::database::open(cfg_.storage_path);
            storage::device clear;
            clear.account = clear_account;
            storage::insert_device(db, clear);
            storage::device crypt;
            crypt.account = crypt_account;
            crypt.key = *protocol::parse_aes_key(key_hex);
            storage::insert_device(db, crypt);
        }
        arc::daemon::server_options opts;
        opts.handle_signals = false;
        opts.event_codes = arc::config::load_event_codes(ARC_SOURCE_DIR "/config/event-codes.toml");
        opts.shutdown_grace = 2s;
        server_ = std::make_unique<arc::daemon::server>(io_, cfg_, *writer_, opts);
        server_->start();
        ASSERT_NE(server_->tcp_port(), 0);
        ASSERT_NE(server_->udp_port(), 0);
    }

    tcp::endpoint tcp_ep() const {
        return {net::ip::make_address("127.0.0.1"), server_->tcp_port()};
    }

    // Runs a client coroutine on the server's io_context, bounded in time.
    void run_client(std::function<net::awaitable<void>()> client,
                    std::chrono::milliseconds bound = 10s) {
        bool done = false;
        std::exception_ptr error;
        net::co_spawn(io_, client(), [&](std::exception_ptr e) {
            done = true;
            error = std::move(e);
        });
        const auto end = std::chrono::steady_clock::now() + bound;
        io_.restart();
        while (!done && std::chrono::steady_clock::now() < end) {
            io_.run_one_for(50ms);
        }
        ASSERT_TRUE(done) << "client did not finish in time";
        if (error) {
            std::rethrow_exception(error);
        }
    }

    static net::awaitable<std::string> read_reply(tcp::socket& s, std::string& buf) {
        const std::size_t n =
            co_await net::async_read_until(s, net::dynamic_buffer(buf), '\r', net::use_awaitable);
        std::string reply = buf.substr(0, n);
        buf.erase(0, n);
        co_return reply;
    }

    std::filesystem::path dir_;
    arc::config::daemon_config cfg_;
    net::io_context io_{1};
    std::unique_ptr<storage::writer> writer_;
    std::unique_ptr<arc::daemon::server> server_;
};

TEST_F(server_test, frame_split_across_two_writes_gets_one_ack) {
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket s(io_);
        co_await s.async_connect(tcp_ep(), net::use_awaitable);
        const std::string f = clear_frame("0001");
        co_await net::async_write(s, net::buffer(f.substr(0, 10)), net::use_awaitable);
        net::steady_timer t(io_, 20ms);
        co_await t.async_wait(net::use_awaitable);
        co_await net::async_write(s, net::buffer(f.substr(10)), net::use_awaitable);
        std::string buf;
        const std::string reply = co_await read_reply(s, buf);
        EXPECT_EQ(reply_head(reply), "\"ACK\"0001");
        EXPECT_TRUE(buf.empty());
    });
    EXPECT_EQ(server_->stats().ack, 1U);
    EXPECT_EQ(server_->stats().frames, 1U);
}

TEST_F(server_test, two_frames_in_one_write_get_two_acks_in_order) {
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket s(io_);
        co_await s.async_connect(tcp_ep(), net::use_awaitable);
        const std::string both = clear_frame("0007") + clear_frame("0008");
        co_await net::async_write(s, net::buffer(both), net::use_awaitable);
        std::string buf;
        EXPECT_EQ(reply_head(co_await read_reply(s, buf)), "\"ACK\"0007");
        EXPECT_EQ(reply_head(co_await read_reply(s, buf)), "\"ACK\"0008");
    });
    EXPECT_EQ(server_->stats().ack, 2U);
}

TEST_F(server_test, bad_crc_gets_nak) {
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket s(io_);
        co_await s.async_connect(tcp_ep(), net::use_awaitable);
        std::string f = clear_frame("0001");
        f[1] = f[1] == '0' ? '1' : '0';  // first CRC digit
        co_await net::async_write(s, net::buffer(f), net::use_awaitable);
        std::string buf;
        EXPECT_EQ(reply_head(co_await read_reply(s, buf)), "\"NAK\"0000");
    });
    EXPECT_EQ(server_->stats().nak, 1U);
}

TEST_F(server_test, encrypted_frame_gets_encrypted_ack) {
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket s(io_);
        co_await s.async_connect(tcp_ep(), net::use_awaitable);
        protocol::dc09_message_spec spec;
        spec.seq = "0042";
        spec.acct = crypt_account;
        spec.data = "#" + crypt_account + "|Nri1/MA015";
        spec.timestamp_unix = now_unix();
        const auto f = protocol::encode_dc09_encrypted(spec, *protocol::parse_aes_key(key_hex),
                                                       [](std::span<std::uint8_t> out) {
                                                           for (auto& b : out) {
                                                               b = 0x41;
                                                           }
                                                       });
        EXPECT_TRUE(f.has_value());
        co_await net::async_write(s, net::buffer(*f), net::use_awaitable);
        std::string buf;
        EXPECT_EQ(reply_head(co_await read_reply(s, buf)), "\"*ACK\"0042");
    });
    EXPECT_EQ(server_->stats().ack_encrypted, 1U);
}

TEST_F(server_test, event_is_durable_when_the_ack_arrives) {
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket s(io_);
        co_await s.async_connect(tcp_ep(), net::use_awaitable);
        const std::string f = clear_frame("0005");
        co_await net::async_write(s, net::buffer(f), net::use_awaitable);
        std::string buf;
        EXPECT_EQ(reply_head(co_await read_reply(s, buf)), "\"ACK\"0005");
        // Checked before the io_context runs anything else.
        auto db = storage::database::open_read_only(cfg_.storage_path);
        const auto events = storage::events_for_account(db, clear_account, 10);
        EXPECT_EQ(events.size(), 1U);
        if (!events.empty()) {
            EXPECT_EQ(events[0].raw, f);
            EXPECT_EQ(events[0].seq, "0005");
            EXPECT_EQ(events[0].transport, "tcp");
            EXPECT_EQ(events[0].reply_kind, "ACK");
            EXPECT_TRUE(events[0].accepted);
            EXPECT_NE(events[0].decoded_json.find("\"MA\""), std::string::npos);
        }
    });
}

TEST_F(server_test, idle_connection_is_closed) {
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket s(io_);
        co_await s.async_connect(tcp_ep(), net::use_awaitable);
        const auto t0 = std::chrono::steady_clock::now();
        char c = 0;
        const auto [ec, n] =
            co_await s.async_read_some(net::buffer(&c, 1), net::as_tuple(net::use_awaitable));
        EXPECT_EQ(ec, net::error::eof);
        EXPECT_GE(std::chrono::steady_clock::now() - t0, 900ms);
    });
    EXPECT_EQ(server_->stats().tcp_idle_closed, 1U);
}

TEST_F(server_test, connection_caps_reject_the_extra_connection) {
    cfg_.max_connections_per_peer = 1;
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket first(io_);
        co_await first.async_connect(tcp_ep(), net::use_awaitable);
        // Make sure the first one is accepted before the second arrives.
        const std::string f = clear_frame("0001");
        co_await net::async_write(first, net::buffer(f), net::use_awaitable);
        std::string buf;
        EXPECT_EQ(reply_head(co_await read_reply(first, buf)), "\"ACK\"0001");

        tcp::socket second(io_);
        co_await second.async_connect(tcp_ep(), net::use_awaitable);
        char c = 0;
        const auto [ec, n] =
            co_await second.async_read_some(net::buffer(&c, 1), net::as_tuple(net::use_awaitable));
        EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();

        const std::string g = clear_frame("0002");
        co_await net::async_write(first, net::buffer(g), net::use_awaitable);
        EXPECT_EQ(reply_head(co_await read_reply(first, buf)), "\"ACK\"0002");
    });
    EXPECT_EQ(server_->stats().tcp_rejected, 1U);
    EXPECT_EQ(server_->stats().tcp_connections_total, 1U);
}

// Connects that are all in the backlog at once are taken in one pass of the accept loop (not
// one per pass behind the session traffic), and the caps still count every one of them.
class accept_burst_test : public server_test {
protected:
    void connect_burst(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            clients_.emplace_back(io_);
            clients_.back().connect(tcp_ep());  // completed by the kernel's backlog
        }
        const auto end = std::chrono::steady_clock::now() + 10s;
        io_.restart();
        while (server_->stats().tcp_connections_total + server_->stats().tcp_rejected < n &&
               std::chrono::steady_clock::now() < end) {
            io_.run_one_for(50ms);
        }
    }

    std::vector<tcp::socket> clients_;
};

TEST_F(accept_burst_test, max_connections_is_exact) {
    cfg_.max_connections = 5;
    cfg_.max_connections_per_peer = 100;
    start();
    connect_burst(12);
    EXPECT_EQ(server_->stats().tcp_connections_total, 5U);
    EXPECT_EQ(server_->stats().tcp_connections_open, 5U);
    EXPECT_EQ(server_->stats().tcp_rejected, 7U);
}

TEST_F(accept_burst_test, max_connections_per_peer_is_exact) {
    cfg_.max_connections = 100;
    cfg_.max_connections_per_peer = 3;
    start();
    connect_burst(10);
    EXPECT_EQ(server_->stats().tcp_connections_total, 3U);
    EXPECT_EQ(server_->stats().tcp_connections_open, 3U);
    EXPECT_EQ(server_->stats().tcp_rejected, 7U);
}

TEST_F(server_test, oversize_frame_gets_nak_and_the_next_frame_works) {
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket s(io_);
        co_await s.async_connect(tcp_ep(), net::use_awaitable);
        const std::string big = "\n" + std::string(1000, 'A') + "\r";
        co_await net::async_write(s, net::buffer(big + clear_frame("0009")), net::use_awaitable);
        std::string buf;
        EXPECT_EQ(reply_head(co_await read_reply(s, buf)), "\"NAK\"0000");
        EXPECT_EQ(reply_head(co_await read_reply(s, buf)), "\"ACK\"0009");
    });
    EXPECT_EQ(server_->stats().oversize_frames, 1U);
    EXPECT_EQ(server_->stats().ack, 1U);
}

TEST_F(server_test, unknown_account_gets_nak) {
    start();
    run_client([&]() -> net::awaitable<void> {
        tcp::socket s(io_);
        co_await s.async_connect(tcp_ep(), net::use_awaitable);
        const std::string f = clear_frame("0003", "9999");
        co_await net::async_write(s, net::buffer(f), net::use_awaitable);
        std::string buf;
        EXPECT_EQ(reply_head(co_await read_reply(s, buf)), "\"NAK\"0000");
    });
}

TEST_F(server_test, udp_frame_gets_its_ack) {
    start();
    run_client([&]() -> net::awaitable<void> {
        udp::socket s(io_, udp::endpoint(udp::v4(), 0));
        const udp::endpoint to(net::ip::make_address("127.0.0.1"), server_->udp_port());
        const std::string f = clear_frame("0011") + std::string(3, '\0');  // NUL padding
        co_await s.async_send_to(net::buffer(f), to, net::use_awaitable);
        std::array<char, 512> buf{};
        udp::endpoint from;
        const std::size_t n =
            co_await s.async_receive_from(net::buffer(buf), from, net::use_awaitable);
        EXPECT_EQ(reply_head(std::string(buf.data(), n)), "\"ACK\"0011");
        EXPECT_EQ(from, to);
    });
    EXPECT_EQ(server_->stats().udp_datagrams, 1U);
    EXPECT_EQ(server_->stats().ack, 1U);
}

TEST_F(server_test, admin_api_over_the_socket_with_the_blocking_client) {
    start();
    std::thread io_thread([&] {
        io_.restart();
        io_.run_for(20s);
    });
    try {
        auto c = arc::api::client::connect(cfg_.api_socket.string(), 5s);
        const auto status = c.request({{"cmd", "status"}});
        EXPECT_EQ(status["listeners"][0]["name"], "dc09_tcp");
        EXPECT_EQ(status["listeners"][0]["port"], server_->tcp_port());
        EXPECT_TRUE(status["counters"].contains("store_rejected"));
        EXPECT_TRUE(status["storage"].contains("mean_batch"));
        const auto added =
            c.request({{"cmd", "device.add"}, {"account", "beef01"}, {"protocol", "dc09"}});
        EXPECT_EQ(added["device"]["account"], "BEEF01");
        try {
            c.request({{"cmd", "device.add"}, {"account", "beef01"}, {"protocol", "dc09"}});
            ADD_FAILURE() << "duplicate accepted";
        } catch (const arc::api::api_error& e) {
            EXPECT_EQ(e.code(), "exists");
        }
        c.send_line(std::string(70 * 1024, 'x'));
        const auto r = c.read_line(5s);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ((*r)["error"]["code"], "bad_request");
    } catch (...) {
        net::post(io_, [&] { server_->stop(); });
        io_thread.join();
        throw;
    }
    net::post(io_, [&] { server_->stop(); });
    io_thread.join();
    server_.reset();
}

TEST_F(server_test, events_stored_without_their_alarm_changes_are_fed_again_at_start) {
    // As after a kill -9 between an event's commit and its alarm changes' commit: the event is
    // on disk (and was ACKed), the engine cursor is behind it.
    std::int64_t event_id = 0;
    {
        auto db = storage::database::open(cfg_.storage_path);
        storage::event_record rec;
        rec.received_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
        rec.transport = "tcp";
        rec.peer = "127.0.0.1:1";
        protocol::dc09_message_spec spec;
        spec.seq = "0042";
        spec.acct = clear_account;
        spec.data = "#" + std::string(clear_account) + "|Nri1/QA001";
        rec.raw = protocol::encode_dc09(spec);
        rec.account = clear_account;
        rec.token = "SIA-DCS";
        rec.seq = "0042";
        rec.decoded_json = "{}";
        rec.reply_kind = "ACK";
        rec.accepted = true;
        event_id = storage::insert_event(db, rec);
    }
    start();
    std::thread io_thread([&] {
        io_.restart();
        io_.run_for(20s);
    });
    try {
        auto c = arc::api::client::connect(cfg_.api_socket.string(), 5s);
        const auto listing = c.request({{"cmd", "alarms"}});
        ASSERT_EQ(listing["open"], 1) << listing.dump();
        EXPECT_EQ(listing["alarms"][0]["account"], clear_account);
        EXPECT_EQ(listing["alarms"][0]["kind"], "personal_emergency");
        const auto status = c.request({{"cmd", "status"}});
        EXPECT_EQ(status["alarms"]["replayed_events"], 1) << status.dump();
    } catch (...) {
        net::post(io_, [&] { server_->stop(); });
        io_thread.join();
        throw;
    }
    net::post(io_, [&] { server_->stop(); });
    io_thread.join();
    server_.reset();
    // The alarm and the cursor are on disk now: the next start feeds nothing again.
    auto db = storage::database::open(cfg_.storage_path);
    EXPECT_EQ(storage::engine_event_cursor(db), event_id);
    EXPECT_EQ(storage::load_open_alarms(db).open.size(), 1U);
}

}  // namespace
