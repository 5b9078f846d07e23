#include "arc/api/client.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace arc::api {
namespace {

std::runtime_error sys_error(std::string_view what) {
    return std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

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
    return client(fd, timeout);
}

client::client(client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), timeout_(other.timeout_), buf_(std::move(other.buf_)) {}

client& client::operator=(client&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = std::exchange(other.fd_, -1);
        timeout_ = other.timeout_;
        buf_ = std::move(other.buf_);
    }
    return *this;
}

client::~client() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void client::send_line(const std::string& line) {
    if (fd_ < 0) {
        throw std::runtime_error("admin client: not connected");
    }
    std::string out = line;
    out.push_back('\n');
    std::size_t sent = 0;
    while (sent < out.size()) {
        const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw sys_error("admin client: send");
        }
        sent += static_cast<std::size_t>(n);
    }
}

std::optional<nlohmann::json> client::read_line(std::chrono::milliseconds timeout) {
    if (fd_ < 0) {
        throw std::runtime_error("admin client: not connected");
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t scanned = 0;
    for (;;) {
        const auto nl = buf_.find('\n', scanned);
        if (nl != std::string::npos) {
            std::string line = buf_.substr(0, nl);
            buf_.erase(0, nl + 1);
            auto parsed = nlohmann::json::parse(line, nullptr, false);
            if (parsed.is_discarded()) {
                throw std::runtime_error("admin client: response is not JSON");
            }
            return parsed;
        }
        scanned = buf_.size();
        if (buf_.size() > max_line) {
            throw std::runtime_error("admin client: response line too long");
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd pfd{fd_, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw sys_error("admin client: poll");
        }
        if (ready == 0) {
            return std::nullopt;
        }
        char chunk[65536];
        const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            throw sys_error("admin client: recv");
        }
        if (n == 0) {
            throw std::runtime_error("admin client: connection closed by arcd");
        }
        buf_.append(chunk, static_cast<std::size_t>(n));
    }
}

nlohmann::json client::request(const nlohmann::json& req) {
    send_line(req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    auto resp = read_line(timeout_);
    if (!resp) {
        throw std::runtime_error("admin client: timed out waiting for arcd");
    }
    if (!resp->is_object()) {
        throw std::runtime_error("admin client: response is not a JSON object");
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
