#include "scaip_sim.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "sim.hpp"
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arc/protocol/error.hpp"
#include "arc/protocol/sip.hpp"
#include "arc/protocol/sip_digest.hpp"

namespace arc::sim {
namespace {

using clock_type = std::chrono::steady_clock;
namespace protocol = arc::protocol;

constexpr std::size_t max_connections = 64;
constexpr std::size_t max_stash = 1024;  // <mrs> received for refs not (yet) awaited
constexpr std::size_t max_results = 100;

std::string random_hex(std::size_t n) {
    thread_local std::mt19937_64 gen{std::random_device{}()};
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[gen() & 0x0FU];
    }
    return out;
}

/// The value of `name="..."` or `name=token` in a WWW-Authenticate value; empty when absent.
std::string challenge_param(std::string_view value, std::string_view name) {
    std::size_t pos = 0;
    while ((pos = value.find(name, pos)) != std::string_view::npos) {
        const bool starts = pos == 0 || value[pos - 1] == ' ' || value[pos - 1] == ',';
        const std::size_t eq = pos + name.size();
        if (!starts || eq >= value.size() || value[eq] != '=') {
            pos = eq;
            continue;
        }
        std::size_t i = eq + 1;
        std::string out;
        if (i < value.size() && value[i] == '"') {
            for (++i; i < value.size() && value[i] != '"'; ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) {
                    ++i;
                }
                out += value[i];
            }
            return out;
        }
        while (i < value.size() && value[i] != ',' && value[i] != ' ') {
            out += value[i++];
        }
        return out;
    }
    return {};
}

std::string first_line(const std::string& bytes) { return bytes.substr(0, bytes.find('\r')); }

/// One socket to arcd: a connected UDP socket or a TCP connection with SIP stream framing.
class sip_link {
public:
    explicit sip_link(const scaip_options& opts) : tcp_(opts.tcp) {
        addrinfo hints{};
        hints.ai_family = AF_INET;
        hints.ai_socktype = tcp_ ? SOCK_STREAM : SOCK_DGRAM;
        addrinfo* res = nullptr;
        const std::string port = std::to_string(opts.port);
        if (::getaddrinfo(opts.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
            throw std::runtime_error(fmt::format("cannot resolve {}", opts.host));
        }
        fd_ = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
        if (fd_ >= 0 && tcp_) {
            // The 200 to arcd's <mrs> and the next request are small writes in a row.
            const int one = 1;
            ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        const bool connected = fd_ >= 0 && ::connect(fd_, res->ai_addr, res->ai_addrlen) == 0;
        ::freeaddrinfo(res);
        if (!connected) {
            const std::string why = std::strerror(errno);
            close();
            throw std::runtime_error(fmt::format("cannot connect to {}:{} ({}): {}", opts.host,
                                                 opts.port, tcp_ ? "TCP" : "UDP", why));
        }
        sockaddr_in local{};
        socklen_t len = sizeof local;
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
        char text[INET_ADDRSTRLEN] = {};
        ::inet_ntop(AF_INET, &local.sin_addr, text, sizeof text);
        local_ = fmt::format("{}:{}", text, ntohs(local.sin_port));
    }
    sip_link(const sip_link&) = delete;
    sip_link& operator=(const sip_link&) = delete;
    sip_link(sip_link&&) = delete;
    sip_link& operator=(sip_link&&) = delete;
    ~sip_link() { close(); }

    bool tcp() const noexcept { return tcp_; }
    const std::string& local() const noexcept { return local_; }

    void send(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && !tcp_) {
                return;  // ECONNREFUSED from an earlier ICMP: the wait times out and re-sends
            }
            if (n <= 0) {
                throw std::runtime_error(fmt::format("send failed: {}", std::strerror(errno)));
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    /// The next SIP message, nullopt when `until` passes first. Throws when the TCP connection
    /// closes or its stream is out of step.
    std::optional<protocol::sip_message> receive(clock_type::time_point until) {
        for (;;) {
            if (tcp_) {
                auto m = stream_.next();
                if (m) {
                    return std::move(*m);
                }
                if (m.error().code != protocol::make_error_code(protocol::error::need_more)) {
                    throw std::runtime_error("bad SIP stream from arcd: " + m.error().detail);
                }
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now());
            if (left.count() <= 0) {
                return std::nullopt;
            }
            pollfd p{fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                return std::nullopt;
            }
            const ssize_t n = ::recv(fd_, buf_.data(), buf_.size(), 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN || !tcp_)) {
                continue;  // UDP: ECONNREFUSED (nothing listens yet) is not fatal
            }
            if (n <= 0) {
                throw std::runtime_error("arcd closed the TCP connection");
            }
            const std::string_view bytes(buf_.data(), static_cast<std::size_t>(n));
            if (tcp_) {
                stream_.feed(bytes);
                continue;
            }
            auto m = protocol::parse_sip_datagram(bytes);
            if (m) {
                return std::move(*m);
            }
        }
    }

private:
    void close() noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    bool tcp_;
    int fd_ = -1;
    std::string local_;
    std::vector<char> buf_ = std::vector<char>(65536);
    protocol::sip_stream_parser stream_;
};

struct sender_stats {
    std::uint64_t sip_sent = 0;
    std::uint64_t challenges = 0;
    std::uint64_t holds = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t sip_errors = 0;
};

/// One simulated device on one socket, one request outstanding.
class sender {
public:
    sender(const scaip_options& opts, std::size_t conn, clock_type::time_point deadline)
        : opts_(opts), conn_(conn), deadline_(deadline), link_(opts) {
        uri_ = fmt::format("sip:arc@{}:{}", opts.host, opts.port);
    }

    sender_stats stats;

    scaip_result run_one(const std::string& ref) {
        scaip_result r;
        r.connection = conn_;
        r.ref = ref;
        const std::string body = scaip_request_body(opts_, ref);
        const auto start = clock_type::now();
        const auto hold_end = start + opts_.hold_max;
        unsigned failures = 0;
        for (;;) {
            if (clock_type::now() >= deadline_) {
                r.error = "deadline";
                return r;
            }
            const auto [status, reason] = transact(body);
            if (status == 0 || status == 503) {
                ++stats.timeouts;
                if (++failures > opts_.retries) {
                    r.error = status == 0 ? "timeout (no SIP response)" : "SIP 503";
                    return r;
                }
                if (status == 503) {
                    pump(clock_type::now() + std::chrono::seconds(1));
                }
                continue;
            }
            if (status != 200 && status != 202) {
                ++stats.sip_errors;
                r.error = fmt::format("SIP {} {}", status, reason);
                return r;
            }
            auto mrs = wait_mrs(ref, std::min(deadline_, clock_type::now() + opts_.timeout));
            if (!mrs) {
                ++stats.timeouts;
                if (++failures > opts_.retries) {
                    r.error = "timeout (no <mrs>)";
                    return r;
                }
                continue;  // SCAIP retransmission: the same request in a new transaction
            }
            if (mrs->snu == protocol::scaip_status::hold) {
                ++r.holds;
                ++stats.holds;
                if (opts_.verbose) {
                    std::printf("[%zu] ref %s: HOLD, re-sending in %lld s\n", conn_, ref.c_str(),
                                static_cast<long long>(opts_.hold_retry.count()));
                }
                if (clock_type::now() + opts_.hold_retry > hold_end) {
                    r.error = "still on hold at the hold limit";
                    return r;
                }
                pump(std::min(deadline_, clock_type::now() + opts_.hold_retry));
                continue;
            }
            r.snu = static_cast<int>(mrs->snu);
            r.ste = mrs->ste;
            r.mre = mrs->mre;
            r.latency_ms =
                std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
            return r;
        }
    }

private:
    // One SIP transaction for `body` (with digest credentials once challenged): the final
    // status and reason, {0, ""} when no response came.
    std::pair<int, std::string> transact(const std::string& body) {
        for (int round = 0; round < 3; ++round) {
            protocol::sip_message_request req;
            req.request_uri = uri_;
            req.from_uri = fmt::format("sip:{}@{}", opts_.cid, link_.local());
            req.from_tag = random_hex(8);
            req.to_uri = uri_;
            req.call_id = random_hex(16) + "@arc-sim";
            req.cseq = ++cseq_;
            req.via_transport = link_.tcp() ? "TCP" : "UDP";
            req.via_sent_by = link_.local();
            req.via_branch = random_hex(12);
            req.extra.push_back({"Contact", fmt::format("<sip:{}@{}>", opts_.cid, link_.local())});
            if (!nonce_.empty()) {
                req.extra.push_back({"Authorization", authorization()});
            }
            req.body = body;
            const std::string bytes =
                protocol::serialize_sip(protocol::make_sip_message_request(req));
            const std::string cseq = fmt::format("{} MESSAGE", req.cseq);
            std::optional<protocol::sip_message> resp;
            const unsigned sends = link_.tcp() ? 1 : opts_.retries + 1;
            for (unsigned i = 0; i < sends && !resp; ++i) {
                if (opts_.verbose) {
                    std::printf("[%zu] -> %s %s\n", conn_, first_line(bytes).c_str(), body.c_str());
                }
                link_.send(bytes);
                ++stats.sip_sent;
                const auto until = std::min(deadline_, clock_type::now() + opts_.timeout);
                resp = wait_response(req.call_id, cseq, until);
                if (!resp && i + 1 < sends) {
                    ++stats.timeouts;  // SIP retransmission of the same transaction
                }
            }
            if (!resp) {
                return {0, ""};
            }
            if (resp->status == 401) {
                ++stats.challenges;
                const std::string challenge(resp->header("WWW-Authenticate").value_or(""));
                nonce_ = challenge_param(challenge, "nonce");
                realm_ = challenge_param(challenge, "realm");
                nc_ = 0;
                if (nonce_.empty() || round == 2) {
                    return {401, resp->reason};
                }
                continue;
            }
            if (resp->status < 200) {
                continue;
            }
            return {resp->status, resp->reason};
        }
        return {401, "Unauthorized"};
    }

    std::string authorization() {
        protocol::digest_credentials c;
        c.username = opts_.cid;
        c.realm = realm_;
        c.nonce = nonce_;
        c.uri = uri_;
        c.qop = "auth";
        c.nc = fmt::format("{:08x}", ++nc_);
        c.cnonce = random_hex(8);
        c.algorithm = "MD5";
        const std::string response = protocol::digest_response(
            c, "MESSAGE", protocol::digest_ha1(c.username, c.realm, opts_.password));
        return fmt::format(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", qop=auth, nc={}, "
            "cnonce=\"{}\", response=\"{}\", algorithm=MD5",
            c.username, c.realm, c.nonce, c.uri, c.nc, c.cnonce, response);
    }

    // Handles one message from arcd: a MESSAGE (an <mrs>) is answered 200 and kept by ref; a
    // response is returned to the caller.
    std::optional<protocol::sip_message> dispatch(protocol::sip_message m) {
        if (!m.is_request) {
            if (opts_.verbose) {
                std::printf("[%zu] <- SIP/2.0 %d %s\n", conn_, m.status, m.reason.c_str());
            }
            return m;
        }
        if (opts_.verbose) {
            std::printf("[%zu] <- %s %s %s\n", conn_, m.method.c_str(), m.uri.c_str(),
                        m.body.c_str());
        }
        if (m.method != "MESSAGE") {
            link_.send(protocol::serialize_sip(
                protocol::make_sip_response(m, 405, "Method Not Allowed", random_hex(8))));
            return std::nullopt;
        }
        link_.send(
            protocol::serialize_sip(protocol::make_sip_response(m, 200, "OK", random_hex(8))));
        auto mrs = protocol::parse_scaip_response(m.body);
        if (mrs) {
            if (stash_.size() >= max_stash) {
                stash_.clear();
            }
            std::string ref = mrs->ref;
            stash_.insert_or_assign(std::move(ref), std::move(*mrs));
        }
        return std::nullopt;
    }

    std::optional<protocol::sip_message> wait_response(const std::string& call_id,
                                                       const std::string& cseq,
                                                       clock_type::time_point until) {
        for (;;) {
            auto m = link_.receive(until);
            if (!m) {
                return std::nullopt;
            }
            auto resp = dispatch(std::move(*m));
            if (resp && resp->header("Call-ID").value_or("") == call_id &&
                resp->header("CSeq").value_or("") == cseq && resp->status >= 200) {
                return resp;
            }
        }
    }

    std::optional<protocol::scaip_response> wait_mrs(const std::string& ref,
                                                     clock_type::time_point until) {
        for (;;) {
            if (auto it = stash_.find(ref); it != stash_.end()) {
                auto out = std::move(it->second);
                stash_.erase(it);
                return out;
            }
            auto m = link_.receive(until);
            if (!m) {
                return std::nullopt;
            }
            dispatch(std::move(*m));
        }
    }

    // Waits until `until`, answering what arcd sends meanwhile.
    void pump(clock_type::time_point until) {
        while (auto m = link_.receive(until)) {
            dispatch(std::move(*m));
        }
    }

    const scaip_options& opts_;
    std::size_t conn_;
    clock_type::time_point deadline_;
    sip_link link_;
    std::string uri_;
    std::string nonce_;
    std::string realm_ = "arc";
    unsigned nc_ = 0;
    unsigned cseq_ = 0;
    std::map<std::string, protocol::scaip_response> stash_;
};

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void check(const scaip_options& opts) {
    if (opts.port == 0) {
        throw std::invalid_argument("--port is required");
    }
    if (!is_digits(opts.cid) || opts.cid.size() > 32) {
        throw std::invalid_argument(
            fmt::format("--account: the SCAIP cid is 1-32 digits, got '{}'", opts.cid));
    }
    if (opts.password.empty()) {
        throw std::invalid_argument("--password: the device's SIP digest password is required");
    }
    if (opts.connections == 0 || opts.connections > max_connections) {
        throw std::invalid_argument(fmt::format("--connections: 1-{} for SCAIP", max_connections));
    }
    if (opts.count == 0 || opts.count > 0xFFFFFF) {
        throw std::invalid_argument("--count: 1-16777215");
    }
    if (opts.dty < 0 || opts.dty > 9999 || (opts.stc && (*opts.stc < 0 || *opts.stc > 9999))) {
        throw std::invalid_argument("--dty, --stc: 0-9999");
    }
    const bool ref_ok = opts.ref.size() <= (opts.count > 1 ? 10 : 16) &&
                        std::all_of(opts.ref.begin(), opts.ref.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) != 0;
                        });
    if (!ref_ok || (opts.connections > 1 && !opts.ref.empty())) {
        throw std::invalid_argument(
            "--ref: 1-16 letters or digits (at most 10 with --count, not with --connections)");
    }
}

}  // namespace

std::string scaip_ref(const scaip_options& opts, std::size_t conn, std::size_t n,
                      std::uint64_t clock_ms) {
    if (!opts.ref.empty()) {
        return opts.count > 1 ? fmt::format("{}{}", opts.ref, n) : opts.ref;
    }
    return fmt::format("{:08x}{:02x}{:x}", clock_ms & 0xFFFFFFFFU, conn & 0xFFU, n);
}

std::string scaip_request_body(const scaip_options& opts, const std::string& ref) {
    protocol::scaip_request r;
    r.ref = ref;
    r.cid = opts.cid;
    r.dty = opts.dty;
    r.stc = opts.stc;
    r.mty = opts.mty;
    for (const std::string& c : opts.crd) {
        r.crd.push_back({protocol::scaip_medium::other, c});
    }
    r.lco = opts.lco;
    r.lte = opts.lte;
    if (!opts.geo.empty()) {
        protocol::scaip_geo g;
        g.geo = opts.geo;
        r.lge = g;
    }
    return protocol::build_scaip_request(r);
}

double scaip_report::ok_per_s() const noexcept {
    return elapsed_s > 0 ? static_cast<double>(ok) / elapsed_s : 0;
}

scaip_report run_scaip(const scaip_options& opts,
                       const std::function<void(const scaip_result&)>& on_result) {
    check(opts);
    const auto start = clock_type::now();
    const auto deadline = start + opts.deadline;
    const auto clock_ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    // Open every socket first: a connection refused is a usage problem, reported at once.
    std::vector<std::unique_ptr<sender>> senders;
    for (std::size_t c = 1; c <= opts.connections; ++c) {
        senders.push_back(std::make_unique<sender>(opts, c, deadline));
    }
    scaip_report rep;
    rep.messages = opts.connections * opts.count;
    std::mutex mu;
    std::vector<double> latencies;
    std::vector<std::string> failures;
    const auto work = [&](std::size_t index) {
        sender& s = *senders[index];
        for (std::size_t n = 1; n <= opts.count; ++n) {
            if (clock_type::now() >= deadline) {
                const std::lock_guard lock(mu);
                rep.deadline_hit = true;
                rep.unanswered += opts.count - n + 1;
                return;
            }
            scaip_result r;
            try {
                r = s.run_one(scaip_ref(opts, index + 1, n, clock_ms));
            } catch (const std::exception& e) {
                const std::lock_guard lock(mu);
                rep.unanswered += opts.count - n + 1;
                failures.emplace_back(e.what());
                return;
            }
            const std::lock_guard lock(mu);
            if (!r.snu) {
                ++rep.unanswered;
                rep.deadline_hit = rep.deadline_hit || r.error == "deadline";
            } else if (*r.snu == 0) {
                ++rep.ok;
                latencies.push_back(r.latency_ms);
            } else {
                ++rep.refused;
            }
            if (on_result) {
                on_result(r);
            }
            if (rep.results.size() < max_results) {
                rep.results.push_back(std::move(r));
            }
        }
    };
    if (senders.size() == 1) {
        work(0);
    } else {
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < senders.size(); ++i) {
            threads.emplace_back(work, i);
        }
        for (std::thread& t : threads) {
            t.join();
        }
    }
    for (const auto& s : senders) {
        rep.sip_sent += s->stats.sip_sent;
        rep.challenges += s->stats.challenges;
        rep.holds += s->stats.holds;
        rep.timeouts += s->stats.timeouts;
        rep.sip_errors += s->stats.sip_errors;
    }
    rep.elapsed_s = std::chrono::duration<double>(clock_type::now() - start).count();
    std::sort(latencies.begin(), latencies.end());
    rep.p50_ms = percentile(latencies, 0.50);
    rep.p99_ms = percentile(latencies, 0.99);
    rep.max_ms = latencies.empty() ? 0 : latencies.back();
    if (!failures.empty() && rep.ok == 0 && rep.refused == 0) {
        throw std::runtime_error(failures.front());
    }
    return rep;
}

std::string to_text(const scaip_result& r) {
    if (!r.snu) {
        return fmt::format("ref {}: no final <mrs>: {} ({} holds)\n", r.ref, r.error, r.holds);
    }
    std::string out = fmt::format("ref {}: snu {}", r.ref, *r.snu);
    if (!r.ste.empty()) {
        out += fmt::format(" ({})", r.ste);
    }
    if (r.mre) {
        out += fmt::format(" mre {}", *r.mre);
    }
    if (r.holds > 0) {
        out += fmt::format(" after {} holds", r.holds);
    }
    return out + fmt::format(", {:.1f} ms\n", r.latency_ms);
}

std::string to_text(const scaip_report& rep) {
    std::string out;
    const auto line = [&out](std::string_view name, const std::string& value) {
        out += fmt::format("{:<14}{}\n", name, value);
    };
    line("requests", std::to_string(rep.messages));
    line("snu=0", std::to_string(rep.ok));
    line("refused", std::to_string(rep.refused));
    line("holds", std::to_string(rep.holds));
    line("unanswered", std::to_string(rep.unanswered));
    line("sip sent", std::to_string(rep.sip_sent));
    line("challenges", std::to_string(rep.challenges));
    line("timeouts", std::to_string(rep.timeouts));
    line("sip errors", std::to_string(rep.sip_errors));
    line("elapsed", fmt::format("{:.3f} s", rep.elapsed_s));
    line("rate", fmt::format("{:.0f} snu=0/s", rep.ok_per_s()));
    line("latency", fmt::format("p50 {:.3f} ms, p99 {:.3f} ms, max {:.3f} ms (request -> snu=0)",
                                rep.p50_ms, rep.p99_ms, rep.max_ms));
    if (rep.deadline_hit) {
        line("deadline", "hit");
    }
    return out;
}

nlohmann::json to_json(const scaip_report& rep) {
    nlohmann::json results = nlohmann::json::array();
    for (const scaip_result& r : rep.results) {
        nlohmann::json j{{"connection", r.connection}, {"ref", r.ref}, {"holds", r.holds}};
        if (r.snu) {
            j["snu"] = *r.snu;
            j["latency_ms"] = r.latency_ms;
        } else {
            j["error"] = r.error;
        }
        if (!r.ste.empty()) {
            j["ste"] = r.ste;
        }
        if (r.mre) {
            j["mre"] = *r.mre;
        }
        results.push_back(std::move(j));
    }
    return {{"protocol", "scaip"},
            {"messages", rep.messages},
            {"ok", rep.ok},
            {"refused", rep.refused},
            {"holds", rep.holds},
            {"unanswered", rep.unanswered},
            {"sip_sent", rep.sip_sent},
            {"challenges", rep.challenges},
            {"timeouts", rep.timeouts},
            {"sip_errors", rep.sip_errors},
            {"deadline_hit", rep.deadline_hit},
            {"elapsed_s", rep.elapsed_s},
            {"msgs_per_s", rep.ok_per_s()},
            {"latency_ms", {{"p50", rep.p50_ms}, {"p99", rep.p99_ms}, {"max", rep.max_ms}}},
            {"results", std::move(results)}};
}

}  // namespace arc::sim
