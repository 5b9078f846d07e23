// Purpose: a small blocking client of arcd's admin API (Unix socket, one JSON object per line).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace arc::api {

/// An error response from arcd (`"ok":false`): `code` is one of docs/admin-api.md's error codes.
class api_error : public std::runtime_error {
public:
    api_error(std::string code, const std::string& message);
    const std::string& code() const noexcept { return code_; }

private:
    std::string code_;
};

/// One connection to arcd's admin socket. Blocking; not thread-safe; movable.
class client {
public:
    /// Longest response line accepted (event lists can be long).
    static constexpr std::size_t max_line = 1024 * 1024;

    /// Connects to the Unix socket at `path`; throws std::runtime_error naming the path.
    static client connect(const std::string& path,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

    client(client&& other) noexcept;
    client& operator=(client&& other) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client();

    /// Sends `req` as one line and returns the response's `result`. Throws api_error when the
    /// response has `"ok":false`, std::runtime_error on I/O failure, timeout or a bad response.
    nlohmann::json request(const nlohmann::json& req);

    /// Sends one raw line (a '\n' is appended). Throws std::runtime_error on I/O failure.
    void send_line(const std::string& line);

    /// Reads one line and parses it; nullopt on timeout. Throws std::runtime_error on I/O
    /// failure, end of stream, an over-long line or invalid JSON.
    std::optional<nlohmann::json> read_line(std::chrono::milliseconds timeout);

    /// The receive timeout used by request().
    void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }

private:
    client(int fd, std::chrono::milliseconds timeout) noexcept;
    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::string buf_;
};

}  // namespace arc::api
