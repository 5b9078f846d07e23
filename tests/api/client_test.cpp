// api::client over TCP against a tiny in-test server on 127.0.0.1 port 0: lines read whole,
// several lines in one segment stay buffered (has_line) and come out without waiting.
#include "arc/api/client.hpp"

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

struct listener {
    int fd = -1;
    int port = 0;
    listener() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
        EXPECT_EQ(::listen(fd, 4), 0);
        socklen_t len = sizeof(a);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;
    ~listener() { ::close(fd); }
};

void write_all(int fd, const std::string& s) {
    ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

}  // namespace

TEST(ApiClientTcp, RequestAndBufferedLines) {
    listener l;
    std::thread server([&] {
        const int c = ::accept(l.fd, nullptr, nullptr);
        std::string got;
        char ch = 0;
        while (::recv(c, &ch, 1, 0) == 1 && ch != '\n') {
            got.push_back(ch);
        }
        EXPECT_NE(got.find("\"hello\""), std::string::npos);
        // The response and two pushes in one segment.
        write_all(c,
                  "{\"id\":1,\"ok\":true,\"result\":{\"tls\":false}}\n{\"push\":\"change\"}\n"
                  "{\"push\":\"overflow\"}\n");
        char buf[16];
        (void)::recv(c, buf, sizeof(buf), 0);  // until the client closes
        ::close(c);
    });
    {
        auto c = arc::api::client::connect_tcp("127.0.0.1:" + std::to_string(l.port));
        EXPECT_GE(c.fd(), 0);
        EXPECT_FALSE(c.tls());
        EXPECT_FALSE(c.has_line());
        const auto r = c.request({{"cmd", "hello"}, {"id", 1}});
        EXPECT_EQ(r.at("tls"), false);
        ASSERT_TRUE(c.has_line());
        auto p1 = c.try_read_line();
        ASSERT_TRUE(p1);
        EXPECT_EQ(p1->at("push"), "change");
        ASSERT_TRUE(c.has_line());
        auto p2 = c.try_read_line();
        ASSERT_TRUE(p2);
        EXPECT_EQ(p2->at("push"), "overflow");
        EXPECT_FALSE(c.has_line());
        const auto t0 = std::chrono::steady_clock::now();
        EXPECT_FALSE(c.try_read_line());
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
    }
    server.join();
}

TEST(ApiClientTcp, RefusedAndMalformedAddresses) {
    EXPECT_THROW((void)arc::api::client::connect_tcp("127.0.0.1"), std::runtime_error);
    EXPECT_THROW((void)arc::api::client::connect_tcp("127.0.0.1:x"), std::runtime_error);
    int port = 0;
    {
        listener l;
        port = l.port;
    }  // closed: nothing listens there now
    EXPECT_THROW((void)arc::api::client::connect_tcp("127.0.0.1:" + std::to_string(port)),
                 std::runtime_error);
}
