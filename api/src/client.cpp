#include "arc/api/client.hpp"

#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace arc::api {
namespace {

std::runtime_error sys_error(std::string_view what) {
    return std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

std::string ssl_error_text() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        if (!out.empty()) {
            out += "; ";
        }
        out += buf;
    }
    return out.empty() ? std::string("unknown TLS error") : out;
}

void set_nonblocking(int fd) {
    const int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        throw sys_error("fcntl");
    }
}

int ms_left(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

/// Waits for `events` on fd until deadline; false on timeout.
bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        pollfd pfd{fd, events, 0};
        const int ready = ::poll(&pfd, 1, ms_left(deadline));
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw sys_error("poll");
        }
        return ready > 0;
    }
}

/// Splits "host:port" / "[v6]:port".
std::pair<std::string, std::string> split_host_port(const std::string& hp) {
    std::string host;
    std::string port;
    if (!hp.empty() && hp.front() == '[') {
        const auto close = hp.find(']');
        if (close == std::string::npos || close + 1 >= hp.size() || hp[close + 1] != ':') {
            throw std::runtime_error(fmt::format("{}: expected [ADDRESS]:PORT", hp));
        }
        host = hp.substr(1, close - 1);
        port = hp.substr(close + 2);
    } else {
        const auto colon = hp.rfind(':');
        if (colon == std::string::npos || colon == 0) {
            throw std::runtime_error(fmt::format("{}: expected HOST:PORT", hp));
        }
        host = hp.substr(0, colon);
        port = hp.substr(colon + 1);
    }
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
        throw std::runtime_error(fmt::format("{}: the port must be a number", hp));
    }
    return {host, port};
}

}  // namespace

struct client::tls_state {
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    tls_state() = default;
    tls_state(const tls_state&) = delete;
    tls_state& operator=(const tls_state&) = delete;
    ~tls_state() {
        if (ssl != nullptr) {
            SSL_free(ssl);
        }
        if (ctx != nullptr) {
            SSL_CTX_free(ctx);
        }
    }
};

api_error::api_error(std::string code, const std::string& message)
    : std::runtime_error(code + ": " + message), code_(std::move(code)) {}

client::client(int fd, std::chrono::milliseconds timeout) noexcept : fd_(fd), timeout_(timeout) {}

client client::connect(const std::string& path, std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) {
        throw std::runtime_error(fmt::format("{}: socket path too long", path));
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw sys_error("socket");
    }
    // sockaddr_un is layout-compatible with sockaddr by POSIX contract.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        auto err = sys_error(fmt::format("connect {}", path));
        ::close(fd);
        throw err;
    }
    client c(fd, timeout);
    set_nonblocking(fd);
    return c;
}

client client::connect_tcp(const std::string& host_port, const tls_options& tls,
                           std::chrono::milliseconds timeout) {
    const auto [host, port] = split_host_port(host_port);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        throw std::runtime_error(fmt::format("{}: {}", host_port, ::gai_strerror(rc)));
    }
    std::string last_error = "no address";
    int fd = -1;
    for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
        const int s = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                               ai->ai_protocol);
        if (s < 0) {
            last_error = std::strerror(errno);
            continue;
        }
        int rc = ::connect(s, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            if (!wait_fd(s, POLLOUT, deadline)) {
                last_error = "timed out";
                ::close(s);
                continue;
            }
            int err = 0;
            socklen_t len = sizeof(err);
            ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
            rc = err == 0 ? 0 : -1;
            errno = err;
        }
        if (rc != 0) {
            last_error = std::strerror(errno);
            ::close(s);
            continue;
        }
        fd = s;
    }
    ::freeaddrinfo(res);
    if (fd < 0) {
        throw std::runtime_error(fmt::format("connect {}: {}", host_port, last_error));
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    client c(fd, timeout);
    if (!tls.enabled) {
        return c;
    }
    auto st = std::make_unique<tls_state>();
    st->ctx = SSL_CTX_new(TLS_client_method());
    if (st->ctx == nullptr) {
        throw std::runtime_error("TLS: " + ssl_error_text());
    }
    SSL_CTX_set_min_proto_version(st->ctx, TLS1_2_VERSION);
    if (tls.insecure) {
        SSL_CTX_set_verify(st->ctx, SSL_VERIFY_NONE, nullptr);
    } else {
        SSL_CTX_set_verify(st->ctx, SSL_VERIFY_PEER, nullptr);
        const int ok = tls.ca_file.empty()
                           ? SSL_CTX_set_default_verify_paths(st->ctx)
                           : SSL_CTX_load_verify_locations(st->ctx, tls.ca_file.c_str(), nullptr);
        if (ok != 1) {
            throw std::runtime_error(
                fmt::format("TLS: cannot load CA file {}: {}", tls.ca_file, ssl_error_text()));
        }
    }
    st->ssl = SSL_new(st->ctx);
    if (st->ssl == nullptr || SSL_set_fd(st->ssl, fd) != 1) {
        throw std::runtime_error("TLS: " + ssl_error_text());
    }
    const std::string name = tls.server_name.empty() ? host : tls.server_name;
    in6_addr probe{};
    const bool is_ip = ::inet_pton(AF_INET, name.c_str(), &probe) == 1 ||
                       ::inet_pton(AF_INET6, name.c_str(), &probe) == 1;
    if (!is_ip) {
        // SSL_set_tlsext_host_name is a macro with a C cast inside.
        SSL_ctrl(st->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(name.c_str()));
    }
    if (!tls.insecure) {
        X509_VERIFY_PARAM* param = SSL_get0_param(st->ssl);
        const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                             : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
        if (ok != 1) {
            throw std::runtime_error("TLS: bad server name " + name);
        }
    }
    for (;;) {
        ERR_clear_error();
        const int rc = SSL_connect(st->ssl);
        if (rc == 1) {
            break;
        }
        const int err = SSL_get_error(st->ssl, rc);
        short want = 0;
        if (err == SSL_ERROR_WANT_READ) {
            want = POLLIN;
        } else if (err == SSL_ERROR_WANT_WRITE) {
            want = POLLOUT;
        } else {
            std::string why = ssl_error_text();
            const long vr = SSL_get_verify_result(st->ssl);
            if (vr != X509_V_OK) {
                why = X509_verify_cert_error_string(vr);
            }
            throw std::runtime_error(fmt::format("TLS handshake with {}: {}", host_port, why));
        }
        if (!wait_fd(fd, want, deadline)) {
            throw std::runtime_error(fmt::format("TLS handshake with {}: timed out", host_port));
        }
    }
    c.tls_ = std::move(st);
    return c;
}

client::client(client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      timeout_(other.timeout_),
      buf_(std::move(other.buf_)),
      scanned_(std::exchange(other.scanned_, 0)),
      tls_(std::move(other.tls_)) {}

client& client::operator=(client&& other) noexcept {
    if (this != &other) {
        tls_.reset();
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = std::exchange(other.fd_, -1);
        timeout_ = other.timeout_;
        buf_ = std::move(other.buf_);
        scanned_ = std::exchange(other.scanned_, 0);
        tls_ = std::move(other.tls_);
    }
    return *this;
}

client::~client() {
    tls_.reset();
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void client::send_line(const std::string& line) {
    if (fd_ < 0) {
        throw std::runtime_error("api client: not connected");
    }
    std::string out = line;
    out.push_back('\n');
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    std::size_t sent = 0;
    while (sent < out.size()) {
        if (tls_) {
            ERR_clear_error();
            const int n =
                SSL_write(tls_->ssl, out.data() + sent, static_cast<int>(out.size() - sent));
            if (n > 0) {
                sent += static_cast<std::size_t>(n);
                continue;
            }
            const int err = SSL_get_error(tls_->ssl, n);
            const short want = err == SSL_ERROR_WANT_READ    ? POLLIN
                               : err == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                             : 0;
            if (want == 0) {
                throw std::runtime_error("api client: TLS send: " + ssl_error_text());
            }
            if (!wait_fd(fd_, want, deadline)) {
                throw std::runtime_error("api client: send timed out");
            }
            continue;
        }
        const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                if (!wait_fd(fd_, POLLOUT, deadline)) {
                    throw std::runtime_error("api client: send timed out");
                }
                continue;
            }
            throw sys_error("api client: send");
        }
        sent += static_cast<std::size_t>(n);
    }
}

bool client::read_some() {
    char chunk[65536];
    if (tls_) {
        ERR_clear_error();
        const int n = SSL_read(tls_->ssl, chunk, sizeof(chunk));
        if (n > 0) {
            buf_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        const int err = SSL_get_error(tls_->ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            return false;
        }
        if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
            throw std::runtime_error("api client: connection closed by arcd");
        }
        throw std::runtime_error("api client: TLS read: " + ssl_error_text());
    }
    for (;;) {
        const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                return false;
            }
            throw sys_error("api client: recv");
        }
        if (n == 0) {
            throw std::runtime_error("api client: connection closed by arcd");
        }
        buf_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
}

bool client::has_line() const noexcept {
    if (buf_.find('\n', scanned_) != std::string::npos) {
        return true;
    }
    return tls_ && SSL_pending(tls_->ssl) > 0;
}

std::optional<nlohmann::json> client::read_line(std::chrono::milliseconds timeout) {
    if (fd_ < 0) {
        throw std::runtime_error("api client: not connected");
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto nl = buf_.find('\n', scanned_);
        if (nl != std::string::npos) {
            std::string line = buf_.substr(0, nl);
            buf_.erase(0, nl + 1);
            scanned_ = 0;
            auto parsed = nlohmann::json::parse(line, nullptr, false);
            if (parsed.is_discarded()) {
                throw std::runtime_error("api client: response is not JSON");
            }
            return parsed;
        }
        scanned_ = buf_.size();
        if (buf_.size() > max_line) {
            throw std::runtime_error("api client: response line too long");
        }
        if (read_some()) {
            continue;
        }
        if (ms_left(deadline) <= 0) {
            return std::nullopt;
        }
        if (!wait_fd(fd_, POLLIN, deadline)) {
            return std::nullopt;
        }
    }
}

nlohmann::json client::request(const nlohmann::json& req) {
    send_line(req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    auto resp = read_line(timeout_);
    if (!resp) {
        throw std::runtime_error("api client: timed out waiting for arcd");
    }
    if (!resp->is_object()) {
        throw std::runtime_error("api client: response is not a JSON object");
    }
    if (resp->value("ok", false)) {
        auto it = resp->find("result");
        return it != resp->end() ? *it : nlohmann::json::object();
    }
    std::string code = "internal";
    std::string message = "error without details";
    if (auto it = resp->find("error"); it != resp->end() && it->is_object()) {
        if (auto c = it->find("code"); c != it->end() && c->is_string()) {
            code = c->get<std::string>();
        }
        if (auto m = it->find("message"); m != it->end() && m->is_string()) {
            message = m->get<std::string>();
        }
    }
    throw api_error(std::move(code), message);
}

}  // namespace arc::api
