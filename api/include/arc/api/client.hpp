// Purpose: a small blocking client of arcd's JSON-lines APIs: the admin Unix socket and the
// operator API over TCP (optionally TLS). Usable from a poll() loop (fd(), has_line(),
// try_read_line()).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
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

/// TLS settings for connect_tcp(). With `enabled` false the connection is plain TCP.
struct tls_options {
    bool enabled = false;
    /// PEM file of the CA (or the self-signed certificate) that must have signed the server's
    /// certificate. Empty: the system's default trust store.
    std::string ca_file;
    /// Host name checked against the certificate (empty: the host of "host:port"). An IP
    /// address is checked as an IP SAN.
    std::string server_name;
    /// Accept any certificate (tests only): the connection is encrypted but not authenticated.
    bool insecure = false;
};

/// One connection to arcd. Blocking; not thread-safe; movable.
class client {
public:
    /// Longest response line accepted (event lists can be long).
    static constexpr std::size_t max_line = 1024 * 1024;

    /// Connects to the Unix socket at `path`; throws std::runtime_error naming the path.
    static client connect(const std::string& path,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

    /// Connects to the operator API at "host:port" ("[::1]:12001" for IPv6), with TLS when
    /// `tls.enabled` (TLS 1.2 minimum, certificate verified unless `tls.insecure`). Throws
    /// std::runtime_error naming the address, or the TLS failure.
    static client connect_tcp(const std::string& host_port, const tls_options& tls = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));

    client(client&& other) noexcept;
    client& operator=(client&& other) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client();

    /// Sends `req` as one line and returns the response's `result` (the next line read: use
    /// send_line/read_line after alarms.subscribe, where push lines interleave). Throws
    /// api_error when the response has `"ok":false`, std::runtime_error on I/O failure,
    /// timeout or a bad response.
    nlohmann::json request(const nlohmann::json& req);

    /// Sends one raw line (a '\n' is appended). Throws std::runtime_error on I/O failure.
    void send_line(const std::string& line);

    /// Reads one line and parses it; nullopt on timeout. Throws std::runtime_error on I/O
    /// failure, end of stream, an over-long line or invalid JSON.
    std::optional<nlohmann::json> read_line(std::chrono::milliseconds timeout);

    /// read_line(0): returns a line already buffered or readable now without waiting.
    std::optional<nlohmann::json> try_read_line() {
        return read_line(std::chrono::milliseconds(0));
    }

    /// True when a complete line is already buffered here or, with TLS, decrypted bytes wait
    /// inside OpenSSL: call try_read_line() then instead of waiting in poll() on fd().
    bool has_line() const noexcept;

    /// The socket, for poll(POLLIN). Check has_line() first.
    int fd() const noexcept { return fd_; }

    /// Whether the connection is TLS.
    bool tls() const noexcept { return tls_ != nullptr; }

    /// The receive timeout used by request().
    void set_timeout(std::chrono::milliseconds timeout) noexcept { timeout_ = timeout; }

private:
    struct tls_state;
    client(int fd, std::chrono::milliseconds timeout) noexcept;
    /// Reads what is available (one recv / SSL_read); false when nothing was (would block).
    bool read_some();
    int fd_ = -1;
    std::chrono::milliseconds timeout_;
    std::string buf_;
    std::size_t scanned_ = 0;  // bytes of buf_ known to hold no '\n'
    std::unique_ptr<tls_state> tls_;
};

}  // namespace arc::api
