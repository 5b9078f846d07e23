#include "serial_sim.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

namespace arc::sim {
namespace {

using clock_type = std::chrono::steady_clock;

constexpr char ack_byte = '\x06';
constexpr char nak_byte = '\x15';

class fd_handle {
public:
    explicit fd_handle(int fd) noexcept : fd_(fd) {}
    fd_handle(const fd_handle&) = delete;
    fd_handle& operator=(const fd_handle&) = delete;
    fd_handle(fd_handle&&) = delete;
    fd_handle& operator=(fd_handle&&) = delete;
    ~fd_handle() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

speed_t baud_constant(unsigned baud) {
    switch (baud) {
        case 1200:
            return B1200;
        case 2400:
            return B2400;
        case 4800:
            return B4800;
        case 9600:
            return B9600;
        case 19200:
            return B19200;
        case 38400:
            return B38400;
        case 57600:
            return B57600;
        case 115200:
            return B115200;
        default:
            throw std::invalid_argument(fmt::format("--baud: {} is not supported", baud));
    }
}

int open_serial(const serial_options& opts) {
    const int fd = ::open(opts.device.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        throw std::runtime_error(
            fmt::format("cannot open {}: {}", opts.device, std::strerror(errno)));
    }
    termios tio{};
    if (::tcgetattr(fd, &tio) == 0) {  // a pseudo-terminal takes these too; a file does not
        ::cfmakeraw(&tio);
        const speed_t speed = baud_constant(opts.baud);
        ::cfsetispeed(&tio, speed);
        ::cfsetospeed(&tio, speed);
        tio.c_cflag |= CLOCAL | CREAD;
        ::tcsetattr(fd, TCSANOW, &tio);
    }
    return fd;
}

int open_tcp(const serial_options& opts) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(opts.port);
    if (::getaddrinfo(opts.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
        throw std::runtime_error(fmt::format("cannot resolve {}", opts.host));
    }
    int fd = -1;
    for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(res);
    if (fd < 0) {
        throw std::runtime_error(fmt::format("cannot connect to {}:{}", opts.host, opts.port));
    }
    return fd;
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool is_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

/// The account of line n: `account` + (n - 1) % accounts in hex of the same width.
std::string account_of(const serial_options& opts, std::size_t n) {
    if (opts.accounts <= 1) {
        return opts.account;
    }
    const unsigned long base = std::stoul(opts.account, nullptr, 16);
    return fmt::format("{:0{}X}", base + (n - 1) % opts.accounts, opts.account.size());
}

/// B32 header: `00 00` and the packet's whole length (header included) in two BCD bytes.
std::string with_b32(const std::string& packet) {
    const std::size_t total = packet.size() + 4;
    if (total > 9999) {
        throw std::invalid_argument("packet too long for a B32 header");
    }
    const auto bcd = [](std::size_t v) { return static_cast<char>(((v / 10) << 4U) | (v % 10)); };
    std::string out;
    out += '\0';
    out += '\0';
    out += bcd(total / 100);
    out += bcd(total % 100);
    return out + packet;
}

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw std::runtime_error(fmt::format("write failed: {}", std::strerror(errno)));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

enum class answer { ack, nak, none, closed };

/// Waits up to `timeout` for ACK or NAK (the last byte of a B32 reply); other bytes are skipped.
answer wait_answer(int fd, std::chrono::milliseconds timeout, bool verbose) {
    const auto until = clock_type::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now());
        if (left.count() <= 0) {
            return answer::none;
        }
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return r == 0 ? answer::none : answer::closed;
        }
        char buf[64];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
                continue;
            }
            return answer::closed;
        }
        for (ssize_t i = 0; i < n; ++i) {
            if (buf[i] == ack_byte || buf[i] == nak_byte) {
                if (verbose) {
                    std::printf("<- %s\n", buf[i] == ack_byte ? "ACK" : "NAK");
                }
                return buf[i] == ack_byte ? answer::ack : answer::nak;
            }
        }
    }
}

std::string printable(std::string_view bytes) {
    std::string out;
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        out += (u >= 0x20 && u < 0x7f) ? std::string(1, c) : fmt::format("<{:02X}>", u);
    }
    return out;
}

}  // namespace

std::string receiver_heartbeat(const serial_options& opts) {
    if (opts.format == protocol::receiver_format::ademco685) {
        return fmt::format("\n{}{} OKAY @\r", opts.receiver.substr(0, 1), opts.line.substr(0, 1));
    }
    return fmt::format("1{}000{:11}@{:4}{}", opts.receiver, "", "", protocol::surgard_terminator);
}

std::string receiver_event_line(const serial_options& opts, std::size_t n) {
    const std::string account = account_of(opts, n);
    if (account.size() != 4 || !is_hex(account)) {
        throw std::invalid_argument(
            fmt::format("--account: 4 hex digits expected, got '{}'", account));
    }
    if (opts.event.size() != 4 ||
        (opts.event[0] != 'E' && opts.event[0] != 'R' && opts.event[0] != 'P') ||
        !is_digits(opts.event.substr(1))) {
        throw std::invalid_argument(
            fmt::format("--event: E, R or P and 3 digits expected, got '{}'", opts.event));
    }
    if (opts.zone.empty() || opts.zone.size() > 3 || !is_digits(opts.zone) ||
        opts.group.size() != 2 || !is_digits(opts.group)) {
        throw std::invalid_argument("--zone: 1-3 digits, --group: 2 digits expected");
    }
    // Lines differ by zone so that a load is not a run of repeats.
    const unsigned long zone = (std::stoul(opts.zone) + (n - 1)) % 1000;
    const std::string zone_text = fmt::format("{:03}", zone);
    if (opts.format == protocol::receiver_format::ademco685) {
        return fmt::format("\n{}{} {} 18 {} {} C{}\r", opts.receiver.substr(0, 1),
                           opts.line.substr(0, 1), account, opts.event, opts.group, zone_text);
    }
    protocol::cid_event ev;
    ev.qualifier = opts.event[0] == 'E' ? '1' : opts.event[0] == 'R' ? '3' : '6';
    ev.code = opts.event.substr(1);
    ev.group = opts.group;
    ev.zone = zone_text;
    return protocol::encode_surgard_cid(opts.receiver, opts.line, account, ev);
}

report run_serial(const serial_options& opts) {
    if (opts.device.empty() && opts.port == 0) {
        throw std::invalid_argument("--serial PATH or --receiver-tcp with --port is required");
    }
    std::vector<std::string> packets;
    if (opts.heartbeat) {
        packets.push_back(receiver_heartbeat(opts));
    }
    for (std::size_t n = 1; n <= opts.count; ++n) {
        packets.push_back(receiver_event_line(opts, n));
    }
    const fd_handle fd(opts.device.empty() ? open_tcp(opts) : open_serial(opts));
    const bool b32 = opts.b32 && opts.device.empty();

    report rep;
    rep.messages = packets.size();
    std::vector<double> latencies;
    latencies.reserve(packets.size());
    const auto start = clock_type::now();
    const auto deadline = start + opts.deadline;
    const auto spacing = opts.rate > 0 ? std::chrono::duration<double>(1.0 / opts.rate)
                                       : std::chrono::duration<double>(0);
    for (std::size_t i = 0; i < packets.size(); ++i) {
        if (spacing.count() > 0) {
            std::this_thread::sleep_until(
                start + std::chrono::duration_cast<clock_type::duration>(spacing * i));
        }
        if (clock_type::now() >= deadline) {
            rep.deadline_hit = true;
            rep.unanswered += packets.size() - i;
            break;
        }
        const std::string bytes = b32 ? with_b32(packets[i]) : packets[i];
        bool done = false;
        for (unsigned attempt = 0; attempt <= opts.retries && !done; ++attempt) {
            if (opts.verbose) {
                std::printf("-> %s\n", printable(bytes).c_str());
            }
            const auto sent_at = clock_type::now();
            write_all(fd.get(), bytes);
            ++rep.frames;
            if (attempt == 0) {
                ++rep.sent;
            } else {
                ++rep.retransmits;
            }
            const answer a = wait_answer(fd.get(), opts.timeout, opts.verbose);
            if (a == answer::ack) {
                ++rep.acked;
                latencies.push_back(
                    std::chrono::duration<double, std::milli>(clock_type::now() - sent_at).count());
                done = true;
            } else if (a == answer::nak) {
                ++rep.nak;  // the receiver re-sends a NAKed line, as the real one does
            } else if (a == answer::none) {
                ++rep.timeouts;
            } else {
                ++rep.errors;
                throw std::runtime_error("the port closed");
            }
        }
        if (!done) {
            ++rep.unanswered;
        }
    }
    rep.elapsed_s = std::chrono::duration<double>(clock_type::now() - start).count();
    std::sort(latencies.begin(), latencies.end());
    rep.p50_ms = percentile(latencies, 0.50);
    rep.p99_ms = percentile(latencies, 0.99);
    rep.max_ms = latencies.empty() ? 0 : latencies.back();
    return rep;
}

}  // namespace arc::sim
