#include "arcctl.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

#include "cases_cli.hpp"
#include "import_cli.hpp"
#include "report_cli.hpp"
#include "retention_cli.hpp"
#include "subscribers_cli.hpp"
#include "teams_cli.hpp"
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include "arc/api/client.hpp"
#include "arc/api/json.hpp"
#include "arc/api/security_json.hpp"
#include "arc/config/daemon_config.hpp"
#include "arc/protocol/contact_id.hpp"
#include "arc/protocol/error.hpp"
#include "arc/protocol/sia_dcs.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/store.hpp"

namespace arc::arcctl {
namespace {

using nlohmann::json;

std::string yes_no(bool b) { return b ? "yes" : "no"; }

// A JSON value as a table cell: strings bare, null as "-".
std::string cell(const json& v) {
    if (v.is_null()) {
        return "-";
    }
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        return s.empty() ? "-" : s;
    }
    if (v.is_boolean()) {
        return yes_no(v.get<bool>());
    }
    return v.dump();
}

std::string field(const json& obj, const char* name) {
    auto it = obj.find(name);
    return it == obj.end() ? "-" : cell(*it);
}

std::string lines(const std::vector<std::pair<std::string, std::string>>& rows) {
    std::size_t width = 0;
    for (const auto& [name, value] : rows) {
        width = std::max(width, name.size());
    }
    std::string out;
    for (const auto& [name, value] : rows) {
        out += fmt::format("{:<{}}  {}\n", name, width, value);
    }
    return out;
}

// A device's supervision interval: its override, else the default of its type.
std::string interval_text(const json& device) {
    auto it = device.find("interval_s");
    if (it == device.end() || !it->is_number_integer()) {
        return "type default";
    }
    return format_duration(it->get<std::int64_t>());
}

// A JSON value as an alarm id ("#42"); "-" for null.
std::string id_text(const json& v) { return v.is_number() ? "#" + v.dump() : "-"; }

std::string sia_event_text(const json& ev) {
    std::string out = fmt::format("{} {} {}", field(ev, "function"), field(ev, "code"),
                                  ev.value("address", std::string()));
    const auto meaning = ev.value("meaning", std::string());
    out += meaning.empty() ? "  (unknown code)" : "  " + meaning;
    auto mods = ev.find("modifiers");
    if (mods != ev.end() && mods->is_object() && !mods->empty()) {
        std::string m;
        for (const auto& [k, v] : mods->items()) {
            m += fmt::format("{}{}={}", m.empty() ? "" : " ", k, cell(v));
        }
        out += "  [" + m + "]";
    }
    const auto text = ev.value("text", std::string());
    if (!text.empty()) {
        out += "  ^" + text + "^";
    }
    return out;
}

std::string cid_text(const json& cid) {
    const auto q = cid.value("qualifier", std::string());
    const char* qname = q == "1" ? "new" : q == "3" ? "restore" : q == "6" ? "status" : "?";
    const auto meaning = cid.value("meaning", std::string());
    return fmt::format("{}{} {} {}  {} ({})", q, field(cid, "code"), field(cid, "group"),
                       field(cid, "zone"), meaning.empty() ? "(unknown code)" : meaning, qname);
}

std::string error_text(const std::error_code& ec) {
    return ec ? ec.message() : std::string("none");
}

// ---- admin API commands ------------------------------------------------------------------------

struct globals {
    std::string socket;
    std::string config;
    bool json = false;
};

// A failure to reach arcd: printed as one line, exit 1.
struct connect_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string socket_path(const globals& g) {
    if (!g.socket.empty()) {
        return g.socket;
    }
    if (!g.config.empty()) {
        return arc::config::load_daemon_config(g.config).api_socket.string();
    }
    return "var/arcd.sock";
}

arc::api::client connect_client(const globals& g) {
    const auto path = socket_path(g);
    try {
        return arc::api::client::connect(path, std::chrono::seconds(30));
    } catch (const std::exception& e) {
        std::string reason = e.what();
        const auto prefix = "connect " + path + ": ";
        if (reason.rfind(prefix, 0) == 0) {
            reason.erase(0, prefix.size());
        }
        throw connect_failure(
            fmt::format("arcctl: cannot connect to {}: {} (is arcd running?)", path, reason));
    }
}

json call(const globals& g, const json& req) { return connect_client(g).request(req); }

std::int64_t now_unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "42" or "#42" (as `alarms --watch` prints them).
std::optional<std::uint64_t> parse_alarm_id(std::string_view text) {
    if (!text.empty() && text.front() == '#') {
        text.remove_prefix(1);
    }
    if (text.empty() || text.size() > 18) {
        return std::nullopt;
    }
    std::uint64_t id = 0;
    for (const char c : text) {
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return std::nullopt;
        }
        id = id * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (id == 0) {
        return std::nullopt;
    }
    return id;
}

// ---- alarms --watch ----------------------------------------------------------------------------

volatile std::sig_atomic_t stop_requested = 0;

extern "C" void on_stop_signal(int /*signo*/) { stop_requested = 1; }

// SIGINT and SIGTERM end the watch cleanly; without SA_RESTART a blocked poll returns at once.
void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

void emit(const std::string& text) { std::cout << text << std::flush; }

// Subscribes and prints the queue, then every change until a signal (0) or until arcd ends the
// connection (1). Pushes that arrive before the subscribe response, or that the snapshot already
// holds (seq <= the snapshot's), are not printed twice.
int run_watch(const globals& g, int limit) {
    constexpr auto poll_slice = std::chrono::milliseconds(200);
    constexpr auto response_timeout = std::chrono::seconds(30);
    install_stop_handlers();
    auto client = connect_client(g);
    client.send_line(json{{"cmd", "alarms.subscribe"}, {"id", "watch"}, {"limit", limit}}.dump());

    std::vector<json> early;
    std::optional<json> response;
    const auto deadline = std::chrono::steady_clock::now() + response_timeout;
    while (!response) {
        if (stop_requested != 0) {
            return 0;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("admin client: timed out waiting for arcd");
        }
        auto line = client.read_line(poll_slice);
        if (!line || !line->is_object()) {
            continue;
        }
        if (line->contains("push")) {
            early.push_back(std::move(*line));
        } else if (line->contains("ok")) {
            response = std::move(*line);
        }
    }
    if (!response->value("ok", false)) {
        const json err = response->value("error", json::object());
        throw arc::api::api_error(err.value("code", std::string("internal")),
                                  err.value("message", std::string("error without details")));
    }
    const json result = response->value("result", json::object());
    const auto snapshot_seq = result.value("seq", static_cast<std::uint64_t>(0));
    emit(g.json ? result.dump() + "\n" : alarms_to_text(result, now_unix_ms()));

    // true: go on; false: the subscription ended (overflow).
    const auto handle_push = [&g, snapshot_seq](const json& line) {
        const auto kind = line.value("push", std::string());
        if (kind == "overflow") {
            std::cerr << "arcctl: arcd ended the subscription: this watch fell too far behind "
                         "(overflow)\n";
            return false;
        }
        if (kind != "change") {
            return true;
        }
        const json change = line.value("change", json::object());
        if (change.value("seq", static_cast<std::uint64_t>(0)) <= snapshot_seq) {
            return true;
        }
        emit(g.json ? change.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"
                    : change_to_text(change));
        return true;
    };
    for (const auto& line : early) {
        if (!handle_push(line)) {
            return 1;
        }
    }
    for (;;) {
        if (stop_requested != 0) {
            return 0;
        }
        std::optional<json> line;
        try {
            line = client.read_line(poll_slice);
        } catch (const std::runtime_error& e) {
            if (stop_requested != 0) {
                return 0;
            }
            std::cerr << "arcctl: watch ended: " << e.what() << '\n';
            return 1;
        }
        // Responses to other requests on this connection are not ours: only pushes count.
        if (line && line->is_object() && line->contains("push") && !handle_push(*line)) {
            return 1;
        }
    }
}

// ---- device diag --follow -----------------------------------------------------------------------

enum class follow_end { stopped, done, timeout, failed };

// Polls `events` every 500 ms and hands the frames newer than `after_id` to `on_frame`, oldest
// first, until it returns false (done), a signal (stopped), `deadline` (timeout) or a failure to
// reach arcd (failed). `device diag --follow` prints them; `device test` takes the first.
follow_end follow_frames(const globals& g, const std::string& account, std::int64_t after_id,
                         std::optional<std::chrono::steady_clock::time_point> deadline,
                         const std::function<bool(const json&)>& on_frame) {
    constexpr auto poll_interval = std::chrono::milliseconds(500);
    constexpr int poll_limit = 1000;
    install_stop_handlers();
    auto client = connect_client(g);
    while (stop_requested == 0) {
        json r;
        try {
            r = client.request(
                json{{"cmd", "events"}, {"account", account}, {"limit", poll_limit}});
        } catch (const arc::api::api_error&) {
            throw;
        } catch (const std::runtime_error& e) {
            if (stop_requested != 0) {
                break;
            }
            std::cerr << "arcctl: follow ended: " << e.what() << '\n';
            return follow_end::failed;
        }
        const json events = r.value("events", json::array());
        // Newest first: hand over those above after_id from the oldest.
        for (auto it = events.rbegin(); it != events.rend(); ++it) {
            const auto id = it->value("id", std::int64_t{0});
            if (id <= after_id) {
                continue;
            }
            after_id = id;
            if (!on_frame(*it)) {
                return follow_end::done;
            }
        }
        // Sleep in slices so that ^C ends the wait at once.
        auto until = std::chrono::steady_clock::now() + poll_interval;
        if (deadline) {
            if (std::chrono::steady_clock::now() >= *deadline) {
                return follow_end::timeout;
            }
            until = std::min(until, *deadline);
        }
        while (stop_requested == 0 && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    return follow_end::stopped;
}

// Prints each new frame until a signal (0) or a failure to reach arcd (1).
int run_follow(const globals& g, const std::string& account, std::int64_t after_id) {
    const follow_end end = follow_frames(g, account, after_id, std::nullopt, [&g](const json& ev) {
        emit(g.json ? ev.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"
                    : event_to_line(ev));
        return true;
    });
    return end == follow_end::failed ? 1 : 0;
}

// ---- device test -------------------------------------------------------------------------------

// Waits for the device's next frame (the installer presses its button meanwhile), then prints
// what the centre received, decoded, answered and what the engine did: 0; nothing within
// `timeout_s`: 1.
int run_device_test(const globals& g, const std::string& account, int timeout_s) {
    const json diag = call(g, {{"cmd", "device.diag"}, {"account", account}, {"limit", 1}});
    std::int64_t last_id = 0;
    for (const auto& f : diag.value("frames", json::array())) {
        last_id = std::max(last_id, f.value("id", std::int64_t{0}));
    }
    std::cerr << fmt::format(
        "waiting up to {} s for a frame from {}: trigger the device now (press its button)\n",
        timeout_s, account);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    std::optional<json> frame;
    const follow_end end = follow_frames(g, account, last_id, deadline, [&frame](const json& ev) {
        frame = ev;
        return false;
    });
    if (!frame) {
        if (end == follow_end::timeout) {
            std::cerr << fmt::format(
                "arcctl: device test: no frame from {} within {} s (is it powered, on the "
                "network, and set to report to this centre?)\n",
                account, timeout_s);
        } else if (end == follow_end::stopped) {
            std::cerr << "arcctl: device test: interrupted before a frame arrived\n";
        }
        return 1;
    }
    // The engine handles the frame right after its commit: ask until it has (a few seconds).
    const std::int64_t id = frame->value("id", std::int64_t{0});
    json shown;
    for (int i = 0; i < 25; ++i) {
        shown = call(g, {{"cmd", "device.event"}, {"event", id}});
        const json eng = shown.value("engine", json::object());
        if (eng.value("processed", false)) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (g.json) {
        std::cout << shown.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
        return 0;
    }
    const json ev = shown.value("event", *frame);
    const json eng = shown.value("engine", json::object());
    std::vector<std::pair<std::string, std::string>> rows{
        {"received", fmt::format("{} over {} from {}", field(ev, "received"),
                                 field(ev, "transport"), field(ev, "peer"))},
        {"raw frame", arc::protocol::escape_frame(ev.value("raw", std::string()))},
        {"decoded", fmt::format("{} seq {}: {}", field(ev, "token"), field(ev, "seq"),
                                summarize_decoded(ev.value("decoded", json::object())))},
        {"answered", fmt::format("{} {}", field(ev, "reply_kind"),
                                 arc::protocol::escape_frame(ev.value("reply", std::string())))}};
    if (const std::string error = ev.value("error", std::string()); !error.empty()) {
        rows.emplace_back("error", error);
    }
    rows.emplace_back("engine", field(eng, "outcome"));
    rows.emplace_back("device mode", field(eng, "device_mode"));
    std::cout << lines(rows);
    return 0;
}

void print_result(const globals& g, const json& result, const std::string& text) {
    if (g.json) {
        std::cout << result.dump() << '\n';
    } else {
        std::cout << text;
    }
}

// ---- passwords ---------------------------------------------------------------------------------

// A usage problem found after parsing (passwords that differ, no terminal): exit 2.
struct usage_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The terminal whose echo is off, so that a signal can turn it back on before the process ends.
int tty_fd = -1;
termios tty_saved{};

extern "C" void on_password_signal(int signo) {
    if (tty_fd >= 0) {
        ::tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
        static constexpr char newline = '\n';
        (void)::write(tty_fd, &newline, 1);
    }
    ::signal(signo, SIG_DFL);
    ::raise(signo);
}

// One line typed on the controlling terminal with echo off; nullopt when there is none.
std::optional<std::string> read_tty_password(const std::string& prompt) {
    const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return std::nullopt;
    }
    termios saved{};
    if (::tcgetattr(fd, &saved) != 0) {
        ::close(fd);
        return std::nullopt;
    }
    (void)::write(fd, prompt.data(), prompt.size());
    tty_fd = fd;
    tty_saved = saved;
    struct sigaction sa {};
    sa.sa_handler = on_password_signal;
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int {};
    struct sigaction old_term {};
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
    std::string line;
    char c = 0;
    // Bounded: the API refuses passwords longer than 1024 bytes anyway.
    while (line.size() <= 4096) {
        const ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || c == '\n') {
            break;
        }
        line.push_back(c);
    }
    ::tcsetattr(fd, TCSAFLUSH, &saved);
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    tty_fd = -1;
    (void)::write(fd, "\n", 1);
    ::close(fd);
    return strip_line_end(std::move(line));
}

// The new password: from stdin (one line) for scripts, else typed twice on the terminal.
std::string new_password(bool from_stdin, const std::string& username) {
    if (from_stdin) {
        std::string line;
        if (!std::getline(std::cin, line)) {
            throw usage_failure("--password-stdin: no password on standard input");
        }
        return strip_line_end(std::move(line));
    }
    auto first = read_tty_password(fmt::format("New password for {}: ", username));
    if (!first) {
        throw usage_failure("no terminal to read the password from: use --password-stdin");
    }
    auto second = read_tty_password("Repeat it: ");
    if (!second || *second != *first) {
        throw usage_failure("the two passwords differ: nothing changed");
    }
    return std::move(*first);
}

// ---- audit verify --db -------------------------------------------------------------------------

// Verifies the audit trail in the database file itself (read-only: arcd may be stopped, or
// running; it is not disturbed). Exit 0 intact, 1 broken or unreadable.
int run_offline_verify(const globals& g, const std::string& path) {
    if (!std::filesystem::exists(path)) {
        std::cerr << "arcctl: " << path << ": no such database\n";
        return 1;
    }
    auto db = arc::storage::database::open_read_only(path);
    const int version = db.schema_version();
    if (version < 3) {
        std::cerr << "arcctl: " << path << ": schema version " << version
                  << " has no audit trail (arcd upgrades it at its next start)\n";
        return 1;
    }
    const json result = arc::api::audit_verify_to_json(arc::storage::verify_audit(db),
                                                       arc::storage::read_audit_head(db));
    print_result(g, result, audit_verify_to_text(result));
    return result.value("intact", false) ? 0 : 1;
}

// ---- decode ------------------------------------------------------------------------------------

struct decode_args {
    std::string key;
    std::string now;
    std::string frame;
};

int run_decode(const globals& g, const decode_args& a) {
    decode_options opts;
    if (!a.key.empty()) {
        auto key = protocol::parse_aes_key(a.key);
        if (!key) {
            std::cerr << "arcctl: --key: 32/48/64 hex digits or 16/24/32 characters expected\n";
            return 2;
        }
        opts.key = std::move(*key);
    }
    if (!a.now.empty()) {
        auto now = parse_iso8601(a.now);
        if (!now) {
            std::cerr << "arcctl: --now: expected YYYY-MM-DDTHH:MM:SSZ, got '" << a.now << "'\n";
            return 2;
        }
        opts.now_unix = *now;
    } else {
        opts.now_unix = static_cast<std::int64_t>(std::time(nullptr));
    }
    if (!g.config.empty()) {
        const auto cfg = arc::config::load_daemon_config(g.config);
        opts.policy.ack_unknown_account = cfg.dc09.ack_unknown_account;
        opts.policy.accept_clear_text = cfg.dc09.accept_clear_text;
        opts.policy.ack_unknown_code = cfg.dc09.ack_unknown_code;
        opts.policy.window_for_clear_text = cfg.dc09.window_for_clear_text;
        opts.policy.window_past_s = cfg.dc09.window_past_s;
        opts.policy.window_future_s = cfg.dc09.window_future_s;
    }
    std::string bytes;
    if (a.frame.empty() || a.frame == "-") {
        bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        auto text = unescape(a.frame);
        if (!text) {
            std::cerr << "arcctl: FRAME: bad escape (use \\n \\r \\0 \\\\ \\xHH)\n";
            return 2;
        }
        bytes = std::move(*text);
    }
    const auto frames = decode_frames(bytes, opts);
    if (frames.empty()) {
        std::cerr << "arcctl: no frame in the input\n";
        return 1;
    }
    bool first = true;
    for (const auto& f : frames) {
        if (g.json) {
            std::cout << decode_to_json(f).dump() << '\n';
        } else {
            std::cout << (first ? "" : "\n") << decode_to_text(f);
        }
        first = false;
    }
    return 0;
}

}  // namespace

std::optional<std::string> unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (++i == text.size()) {
            return std::nullopt;
        }
        switch (text[i]) {
            case 'n':
                out += '\n';
                break;
            case 'r':
                out += '\r';
                break;
            case 't':
                out += '\t';
                break;
            case '0':
                out += '\0';
                break;
            case '\\':
                out += '\\';
                break;
            case 'x': {
                if (i + 2 >= text.size()) {
                    return std::nullopt;
                }
                const auto hex = text.substr(i + 1, 2);
                if (hex.size() != 2 || std::isxdigit(static_cast<unsigned char>(hex[0])) == 0 ||
                    std::isxdigit(static_cast<unsigned char>(hex[1])) == 0) {
                    return std::nullopt;
                }
                out += static_cast<char>(std::stoi(std::string(hex), nullptr, 16));
                i += 2;
                break;
            }
            default:
                return std::nullopt;
        }
    }
    return out;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
    int y = 0;
    int mo = 0;
    int d = 0;
    int h = 0;
    int mi = 0;
    int s = 0;
    int used = 0;
    const std::string t(text);
    if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
        used != 19) {
        return std::nullopt;
    }
    std::string_view rest = text.substr(19);
    std::int64_t frac_ms = 0;
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        int digits = 0;
        while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front())) != 0) {
            if (digits < 3) {
                frac_ms = frac_ms * 10 + (rest.front() - '0');
            }
            ++digits;
            rest.remove_prefix(1);
        }
        for (; digits < 3; ++digits) {
            frac_ms *= 10;
        }
    }
    if (rest == "Z" || rest == "+00:00") {
        rest = {};
    }
    if (!rest.empty() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000 + frac_ms;
}

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
    const auto ms = parse_iso8601_ms(text);
    if (!ms) {
        return std::nullopt;
    }
    // Floor: the second the instant falls in, also before 1970.
    return *ms >= 0 ? *ms / 1000 : -((-*ms + 999) / 1000);
}

std::optional<std::int64_t> parse_duration(std::string_view text) {
    static constexpr std::string_view units = "dhms";
    static constexpr std::array<std::int64_t, 4> unit_seconds{86'400, 3'600, 60, 1};
    // A year is far more than any interval or test period; the cap keeps the sum from overflow.
    constexpr std::int64_t max_seconds = 10LL * 366 * 86'400;
    std::int64_t total = 0;
    std::size_t next_unit = 0;  // units must come largest first, each once
    std::size_t i = 0;
    if (text.empty()) {
        return std::nullopt;
    }
    while (i < text.size()) {
        std::int64_t n = 0;
        const std::size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
            n = n * 10 + (text[i] - '0');
            if (n > max_seconds) {
                return std::nullopt;
            }
            ++i;
        }
        if (i == start || i == text.size()) {
            return std::nullopt;
        }
        const auto u = units.find(text[i], next_unit);
        if (u == std::string_view::npos) {
            return std::nullopt;
        }
        total += n * unit_seconds[u];
        if (total > max_seconds) {
            return std::nullopt;
        }
        next_unit = u + 1;
        ++i;
    }
    return total;
}

std::string format_duration(std::int64_t seconds) {
    if (seconds <= 0) {
        return "0s";
    }
    std::string out;
    const std::int64_t parts[] = {seconds / 86'400, seconds % 86'400 / 3'600, seconds % 3'600 / 60,
                                  seconds % 60};
    const char names[] = {'d', 'h', 'm', 's'};
    for (std::size_t i = 0; i < std::size(parts); ++i) {
        if (parts[i] != 0) {
            out += fmt::format("{}{}", parts[i], names[i]);
        }
    }
    return out;
}

std::string format_age(std::int64_t ms) {
    const std::int64_t s = std::max<std::int64_t>(ms, 0) / 1000;
    if (s < 60) {
        return fmt::format("{}s", s);
    }
    if (s < 3'600) {
        return fmt::format("{}m{:02}s", s / 60, s % 60);
    }
    if (s < 86'400) {
        return fmt::format("{}h{:02}m", s / 3'600, s % 3'600 / 60);
    }
    return fmt::format("{}d{:02}h", s / 86'400, s % 86'400 / 3'600);
}

std::vector<decoded_frame> decode_frames(std::string_view bytes, const decode_options& opts) {
    std::string input(bytes);
    // A frame typed or pasted without its CR would never complete.
    const auto last = input.find_last_not_of(std::string_view("\n\0 ", 3));
    if (last != std::string::npos && input[last] != '\r') {
        input.insert(last + 1, "\r");
    }
    protocol::dc09_framer framer(1 << 16);
    framer.feed(input);
    std::mt19937 rng{std::random_device{}()};
    protocol::receive_context ctx;
    ctx.now_unix = opts.now_unix;
    ctx.policy = &opts.policy;
    ctx.lookup = [&opts](std::string_view) -> std::optional<protocol::account_info> {
        protocol::account_info info;
        info.key = opts.key;
        return info;
    };
    ctx.random = [&rng](std::span<std::uint8_t> out) {
        std::uniform_int_distribution<int> dist(0, 255);
        for (auto& b : out) {
            b = static_cast<std::uint8_t>(dist(rng));
        }
    };
    std::vector<decoded_frame> out;
    for (;;) {
        auto frame = framer.next();
        if (!frame) {
            if (frame.error() == protocol::error::need_more) {
                break;
            }
            continue;
        }
        decoded_frame d;
        d.raw = std::move(*frame);
        d.result = protocol::handle_dc09_frame(d.raw, ctx);
        out.push_back(std::move(d));
    }
    return out;
}

std::string decode_to_text(const decoded_frame& frame) {
    const auto& r = frame.result;
    std::vector<std::pair<std::string, std::string>> rows;
    rows.emplace_back("frame", arc::protocol::escape_frame(frame.raw));
    rows.emplace_back("bytes", std::to_string(frame.raw.size()));
    if (r.frame) {
        const auto& f = *r.frame;
        rows.emplace_back("crc", fmt::format("{:04X}", f.crc));
        rows.emplace_back("length", fmt::format("{:04X}{}", f.length,
                                                f.length_mismatch ? " (mismatch tolerated)" : ""));
        rows.emplace_back("token", f.token);
        rows.emplace_back("encrypted", yes_no(f.encrypted));
        rows.emplace_back("sequence", f.seq);
        rows.emplace_back("receiver", f.rcvr ? *f.rcvr : "-");
        rows.emplace_back("prefix", f.pref.empty() ? "(empty)" : f.pref);
        rows.emplace_back("account", f.acct);
    }
    if (r.content) {
        const auto& c = *r.content;
        rows.emplace_back("data", c.data.empty() ? "(empty)" : arc::protocol::escape_frame(c.data));
        std::string x;
        for (const auto& block : c.xdata) {
            x += (x.empty() ? "" : " ") + ("[" + arc::protocol::escape_frame(block) + "]");
        }
        rows.emplace_back("xdata", x.empty() ? "-" : x);
        std::string ts = c.timestamp ? *c.timestamp : "-";
        if (r.skew_s) {
            ts += fmt::format("  (skew {:+} s{})", *r.skew_s,
                              r.outside_window ? ", outside the window" : "");
        }
        rows.emplace_back("timestamp", ts);
        if (r.frame && r.frame->encrypted) {
            rows.emplace_back("pad", fmt::format("{} bytes", c.pad_length));
        }
    }
    if (r.sia) {
        const auto& sia = *r.sia;
        rows.emplace_back("sia account", sia.account ? *sia.account : "-");
        std::size_t n = 0;
        for (const auto& ev : sia.events) {
            json mods = json::object();
            for (const auto& [k, v] : ev.modifiers) {
                mods[k] = v;
            }
            const json j{{"function", std::string(1, ev.function)},
                         {"code", ev.code},
                         {"address", ev.address},
                         {"modifiers", mods},
                         {"text", ev.text},
                         {"meaning", std::string(protocol::sia_code_meaning(ev.code))}};
            rows.emplace_back(fmt::format("sia event {}", ++n), sia_event_text(j));
        }
        if (!sia.ascii_text.empty()) {
            rows.emplace_back("sia text", sia.ascii_text);
        }
    }
    if (r.cid) {
        const auto& cid = *r.cid;
        rows.emplace_back("cid account", cid.account ? *cid.account : "-");
        const json j{{"qualifier", std::string(1, cid.event.qualifier)},
                     {"code", cid.event.code},
                     {"group", cid.event.group},
                     {"zone", cid.event.zone},
                     {"meaning", std::string(protocol::cid_code_meaning(cid.event.code))}};
        rows.emplace_back("cid event", cid_text(j));
    }
    if (r.is_link_test()) {
        rows.emplace_back("link test", "yes (NULL)");
    }
    rows.emplace_back("error", error_text(r.error));
    rows.emplace_back("accepted", yes_no(r.accepted));
    rows.emplace_back("reply", std::string(protocol::to_string(r.reply)));
    rows.emplace_back("reply bytes", r.reply_bytes.empty()
                                         ? "(nothing sent)"
                                         : arc::protocol::escape_frame(r.reply_bytes));
    return lines(rows);
}

json decode_to_json(const decoded_frame& frame) {
    const auto& r = frame.result;
    return {{"raw", frame.raw},
            {"decoded", arc::api::to_json(r)},
            {"reply_kind", std::string(protocol::to_string(r.reply))},
            {"reply", r.reply_bytes},
            {"error", r.error ? json(r.error.message()) : json(nullptr)},
            {"accepted", r.accepted}};
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size(), 0);
    for (std::size_t i = 0; i < header.size(); ++i) {
        width[i] = header[i].size();
    }
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    }
    auto render = [&width](const std::vector<std::string>& row, bool upper) {
        std::string line;
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
            std::string c = row[i];
            if (upper) {
                std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) {
                    return static_cast<char>(std::toupper(ch));
                });
            }
            if (i + 1 < row.size()) {
                line += fmt::format("{:<{}}  ", c, width[i]);
            } else {
                line += c;
            }
        }
        return line + "\n";
    };
    std::string out = render(header, true);
    for (const auto& row : rows) {
        out += render(row, false);
    }
    return out;
}

std::string device_to_text(const json& device) {
    const auto bits = device.value("key_bits", 0);
    const auto sub = device.find("subscriber");
    const std::string subscriber_line =
        sub != device.end() && sub->is_number() ? "subscriber  " + sub->dump() + "\n" : "";
    return subscriber_line + lines({{"account", field(device, "account")},
                                    {"protocol", field(device, "protocol")},
                                    {"encryption", bits > 0 ? fmt::format("AES-{}", bits) : "none"},
                                    {"mode", field(device, "mode")},
                                    {"test until", field(device, "test_until")},
                                    {"type", field(device, "type")},
                                    {"interval", interval_text(device)},
                                    {"vendor", field(device, "vendor")},
                                    {"label", field(device, "label")},
                                    {"created", field(device, "created")},
                                    {"last_seen", field(device, "last_seen")}});
}

std::string devices_to_text(const json& devices) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : devices) {
        const auto bits = d.value("key_bits", 0);
        std::string mode = field(d, "mode");
        if (auto until = d.find("test_until"); until != d.end() && until->is_string()) {
            mode += " until " + until->get<std::string>();
        }
        rows.push_back({field(d, "account"), field(d, "protocol"),
                        bits > 0 ? fmt::format("AES-{}", bits) : "none", mode, field(d, "type"),
                        interval_text(d), field(d, "last_seen"), field(d, "label")});
    }
    if (rows.empty()) {
        return "no devices\n";
    }
    return format_table(
        {"account", "protocol", "encryption", "mode", "type", "interval", "last seen", "label"},
        rows);
}

std::string summarize_decoded(const json& decoded) {
    if (!decoded.is_object()) {
        return "-";
    }
    std::string out;
    if (auto sia = decoded.find("sia"); sia != decoded.end()) {
        for (const auto& ev : sia->value("events", json::array())) {
            out += (out.empty() ? "SIA " : "; ") + sia_event_text(ev);
        }
        if (out.empty()) {
            out = "SIA (no event)";
        }
    } else if (decoded.contains("mty") && decoded.contains("ref")) {
        // A SCAIP <mrq> (its "cid" is the controller id, not Contact ID).
        out = fmt::format("SCAIP {} ref {} dty {}", field(decoded, "mty"), field(decoded, "ref"),
                          field(decoded, "dty"));
        if (decoded.contains("stc")) {
            out += " stc " + field(decoded, "stc");
        }
    } else if (auto cid = decoded.find("cid"); cid != decoded.end() && cid->is_object()) {
        out = "CID " + cid_text(*cid);
    } else if (decoded.value("token", std::string()) == "NULL") {
        out = "link test";
    }
    if (decoded.value("outside_window", false)) {
        out += fmt::format(" (timestamp outside the window, skew {} s)", field(decoded, "skew_s"));
    }
    return out.empty() ? "-" : out;
}

std::string events_to_text(const json& events) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : events) {
        std::string token = field(e, "token");
        const json decoded = e.value("decoded", json::object());
        if (decoded.value("encrypted", false) && token.rfind('*', 0) != 0) {
            token = "*" + token;
        }
        rows.push_back({field(e, "received"), field(e, "transport"), field(e, "peer"), token,
                        field(e, "seq"), field(e, "reply_kind"), field(e, "error"),
                        summarize_decoded(decoded),
                        arc::protocol::escape_frame(e.value("raw", std::string()))});
    }
    if (rows.empty()) {
        return "no events\n";
    }
    return format_table(
        {"received", "transport", "peer", "token", "seq", "reply", "error", "decoded", "raw"},
        rows);
}

std::string device_diag_to_text(const json& diag) {
    const json device = diag.value("device", json::object());
    const json supervision = diag.value("supervision", json::object());
    std::string interval = "-";
    if (const auto it = supervision.find("interval_s");
        it != supervision.end() && it->is_number_integer()) {
        interval = format_duration(it->get<std::int64_t>());
    }
    std::string out = lines({{"account", field(device, "account")},
                             {"mode", field(diag, "mode")},
                             {"test until", field(diag, "test_until")},
                             {"type", field(diag, "type")},
                             {"label", field(device, "label")},
                             {"last seen", field(diag, "last_seen")},
                             {"interval", interval},
                             {"silent at", field(supervision, "silent_at")}});
    const json c = diag.value("counters", json::object());
    out += "\ncounters\n" + lines({{"frames", field(c, "frames")},
                                   {"accepted", field(c, "accepted")},
                                   {"NAK", field(c, "naks")},
                                   {"DUH", field(c, "duhs")},
                                   {"CRC errors", field(c, "crc_errors")},
                                   {"format errors", field(c, "format_errors")},
                                   {"decryption failures", field(c, "decryption_failures")},
                                   {"outside window", field(c, "outside_window")},
                                   {"max clock skew", field(c, "max_skew_s") + " s"}});
    const json alarms = diag.value("alarms", json::array());
    out += fmt::format("\n{} open alarm{}\n", alarms.size(), alarms.size() == 1 ? "" : "s");
    if (!alarms.empty()) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& a : alarms) {
            rows.push_back({id_text(a.value("id", json())), field(a, "class"), field(a, "kind"),
                            field(a, "state"), field(a, "opened"), field(a, "event_count")});
        }
        out += format_table({"id", "class", "kind", "state", "opened", "events"}, rows);
    }
    out += "\nlast frames\n" + events_to_text(diag.value("frames", json::array()));
    return out;
}

std::string event_to_line(const json& event) {
    std::string out =
        fmt::format("{} {} {} {} {} -> {}", field(event, "received"), field(event, "transport"),
                    field(event, "peer"), field(event, "token"), field(event, "seq"),
                    field(event, "reply_kind"));
    if (const std::string error = event.value("error", std::string()); !error.empty()) {
        out += " [" + error + "]";
    }
    out += " " + summarize_decoded(event.value("decoded", json::object())) + " " +
           arc::protocol::escape_frame(event.value("raw", std::string())) + "\n";
    return out;
}

std::string backup_to_text(const json& result) {
    return fmt::format("backup {}: {} bytes, {} pages, {} events in {:.0f} ms\n",
                       field(result, "path"), field(result, "bytes"), field(result, "pages"),
                       field(result, "events"), result.value("ms", 0.0));
}

std::string status_to_text(const json& status) {
    std::string out = lines({{"version", field(status, "version")},
                             {"started", field(status, "started")},
                             {"uptime", field(status, "uptime_s") + " s"}});
    std::vector<std::vector<std::string>> listeners;
    for (const auto& l : status.value("listeners", json::array())) {
        if (l.contains("path")) {
            listeners.push_back({field(l, "name"), field(l, "path"), "-"});
        } else {
            listeners.push_back({field(l, "name"), field(l, "address"), field(l, "port")});
        }
    }
    out += "\n" + format_table({"listener", "address", "port"}, listeners);
    std::vector<std::pair<std::string, std::string>> counters;
    const json all_counters = status.value("counters", json::object());
    for (const auto& [k, v] : all_counters.items()) {
        counters.emplace_back(k, cell(v));
    }
    out += "\ncounters\n" + lines(counters);
    const json storage = status.value("storage", json::object());
    std::vector<std::pair<std::string, std::string>> st;
    for (const auto& [k, v] : storage.items()) {
        if (k == "mean_batch" && v.is_number()) {
            st.emplace_back("mean batch size", fmt::format("{:.2f}", v.get<double>()));
        } else {
            st.emplace_back(k, cell(v));
        }
    }
    out += "\nstorage\n" + lines(st);
    if (status.contains("retention")) {
        out += "\nretention\n" + retention_status_to_text(status["retention"]);
    }
    return out;
}

std::string alarms_to_text(const json& result, std::int64_t now_ms) {
    const json alarms = result.value("alarms", json::array());
    const auto open = result.value("open", static_cast<std::int64_t>(alarms.size()));
    std::string out = fmt::format("{} open alarm{}", open, open == 1 ? "" : "s");
    if (static_cast<std::int64_t>(alarms.size()) < open) {
        out += fmt::format(" (the first {} shown)", alarms.size());
    }
    out += "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : alarms) {
        const auto opened = parse_iso8601_ms(a.value("opened", std::string()));
        const bool storm = a.value("storm", false);
        rows.push_back(
            {field(a, "id"), field(a, "class"), field(a, "level"), field(a, "state"),
             opened ? format_age(now_ms - *opened) : "-", field(a, "account"), field(a, "kind"),
             field(a, "event_count"), field(a, "holder"),
             storm ? fmt::format("storm ({} members)", field(a, "members")) : field(a, "text")});
    }
    if (!rows.empty()) {
        out += format_table(
            {"id", "class", "lvl", "state", "age", "account", "kind", "n", "holder", "text"}, rows);
    }
    return out;
}

std::string alarm_to_text(const json& alarm) {
    std::string storm = "no";
    if (alarm.value("storm", false)) {
        storm = fmt::format("yes, {} members", field(alarm, "members"));
    } else if (auto it = alarm.find("storm_id"); it != alarm.end() && it->is_number()) {
        storm = "member of " + id_text(*it);
    }
    return lines({{"id", field(alarm, "id")},
                  {"class", field(alarm, "class")},
                  {"kind", field(alarm, "kind")},
                  {"state", field(alarm, "state")},
                  {"level", field(alarm, "level")},
                  {"account", field(alarm, "account")},
                  {"code", field(alarm, "code")},
                  {"zone", field(alarm, "zone")},
                  {"text", field(alarm, "text")},
                  {"holder", field(alarm, "holder")},
                  {"team", field(alarm, "team")},
                  {"outcome", field(alarm, "outcome")},
                  {"opened", field(alarm, "opened")},
                  {"last event", field(alarm, "last_event")},
                  {"events", field(alarm, "event_count")},
                  {"restored", field(alarm, "restored")},
                  {"closed", field(alarm, "closed")},
                  {"storm", storm}});
}

std::string alarm_show_to_text(const json& result) {
    const json alarm = result.value("alarm", json::object());
    std::string out = alarm_to_text(alarm);
    if (const auto loc = result.find("location"); loc != result.end() && loc->is_object()) {
        // "location    bagno (011), 45.07,7.68, primo piano"
        std::vector<std::string> parts;
        if (loc->contains("code") && (*loc)["code"].is_number_integer()) {
            const std::string code = fmt::format("{:03}", (*loc)["code"].get<int>());
            const std::string label = loc->value("label", std::string());
            parts.push_back(label.empty() ? code : fmt::format("{} ({})", label, code));
        }
        for (const char* key : {"geo", "text", "time"}) {
            if (const std::string v = loc->value(key, std::string()); !v.empty()) {
                parts.push_back(v);
            }
        }
        std::string line;
        for (const std::string& p : parts) {
            line += (line.empty() ? "" : ", ") + p;
        }
        out += fmt::format("{:<12}{}\n", "location", line.empty() ? "-" : line);
    }
    std::vector<std::vector<std::string>> steps;
    for (const auto& e : result.value("timeline", json::array())) {
        const auto from = e.value("from", json());
        const auto to = e.value("to", json());
        const std::string move =
            from.is_null() && to.is_null() ? "-" : cell(from) + "->" + cell(to);
        steps.push_back(
            {field(e, "at"), field(e, "change"), field(e, "actor"), move, field(e, "detail")});
    }
    out += "\ntimeline\n";
    out += steps.empty() ? std::string("no entries\n")
                         : format_table({"at", "change", "actor", "from->to", "detail"}, steps);
    if (const auto c = result.find("case"); c != result.end() && c->is_object()) {
        out += "\ncase (phone report)\n" + case_to_text(*c);
    }
    out += "\nevents\n" + events_to_text(result.value("events", json::array()));
    const json members = result.value("members", json::array());
    if (alarm.value("storm", false) || !members.empty()) {
        const auto count = alarm.value("members", static_cast<std::int64_t>(members.size()));
        out += fmt::format("\nmembers ({}{})\n", count,
                           static_cast<std::int64_t>(members.size()) < count
                               ? fmt::format(", the first {} listed", members.size())
                               : std::string());
        std::string line;
        for (const auto& m : members) {
            const std::string id = id_text(m);
            if (!line.empty() && line.size() + 1 + id.size() > 96) {
                out += line + "\n";
                line.clear();
            }
            line += (line.empty() ? "" : " ") + id;
        }
        if (!line.empty()) {
            out += line + "\n";
        }
    }
    return out;
}

std::string change_to_text(const json& change) {
    // The time of day of the ISO-8601 UTC instant: "HH:MM:SS.mmm".
    const std::string at = change.value("at", std::string());
    std::string out = at.size() >= 23 ? at.substr(11, 12) : (at.empty() ? "-" : at);
    out += fmt::format(" #{} {}", field(change, "seq"), field(change, "change"));
    const json alarm = change.value("alarm", json());
    if (alarm.is_object()) {
        out += fmt::format(" {} {} {} {} state={} level={}", id_text(alarm.value("id", json())),
                           field(alarm, "class"), field(alarm, "kind"), field(alarm, "account"),
                           field(alarm, "state"), field(alarm, "level"));
    } else {
        out += " " + field(change, "account");
    }
    out += fmt::format(" rank={} head={}", field(change, "rank"),
                       id_text(change.value("head", json())));
    if (change.value("members_count", 0) > 0) {
        out += fmt::format(" members={}", field(change, "members_count"));
    }
    if (!change.value("actor", std::string()).empty()) {
        out += " actor=" + field(change, "actor");
    }
    const auto detail = change.value("detail", std::string());
    if (!detail.empty()) {
        // Quoted and escaped: a vendor's text cannot break the line or reach the terminal raw.
        out += " detail=" + json(detail).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return out + "\n";
}

std::string strip_line_end(std::string line) {
    if (!line.empty() && line.back() == '\n') {
        line.pop_back();
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

namespace {

// An operator's state in one word or three.
std::string operator_state(const json& op) {
    if (op.value("disabled", false)) {
        return "disabled";
    }
    const json locked = op.value("locked_until", json());
    return locked.is_string() ? "locked until " + locked.get<std::string>() : "active";
}

// Free text from the audit trail with control characters (a terminal's escape sequences) as '?'.
std::string printable(std::string text) {
    std::replace_if(
        text.begin(), text.end(),
        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; }, '?');
    return text;
}

}  // namespace

std::string operators_to_text(const json& operators) {
    if (operators.empty()) {
        return "no operators (add the first with: arcctl operator add NAME --role admin)\n";
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& op : operators) {
        rows.push_back({field(op, "username"), field(op, "display_name"), field(op, "role"),
                        operator_state(op), field(op, "created"), field(op, "updated")});
    }
    return format_table({"username", "name", "role", "state", "created", "updated"}, rows);
}

std::string operator_to_text(const json& op) {
    return lines({{"username", field(op, "username")},
                  {"name", field(op, "display_name")},
                  {"role", field(op, "role")},
                  {"state", operator_state(op)},
                  {"failed logins", field(op, "failed_logins")},
                  {"created", field(op, "created")},
                  {"updated", field(op, "updated")}});
}

std::string audit_to_text(const json& result) {
    const json entries = result.value("entries", json::array());
    if (entries.empty()) {
        return "no audit entries\n";
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : entries) {
        rows.push_back({field(e, "seq"), field(e, "at"), printable(field(e, "actor")),
                        field(e, "action"), printable(field(e, "target")),
                        printable(field(e, "peer")), printable(field(e, "detail"))});
    }
    return format_table({"seq", "at", "actor", "action", "target", "peer", "detail"}, rows);
}

std::string audit_verify_to_text(const json& result) {
    if (!result.value("intact", false)) {
        return fmt::format("audit trail BROKEN at seq {}: {}\n", field(result, "bad_seq"),
                           printable(field(result, "reason")));
    }
    const auto entries = result.value("entries", std::int64_t{0});
    if (entries == 0) {
        return "audit trail intact: no entries\n";
    }
    return fmt::format("audit trail intact: {} entr{}, head #{} {}\n", entries,
                       entries == 1 ? "y" : "ies", field(result, "head_seq"),
                       field(result, "head_hash"));
}

int run(int argc, const char* const* argv) {
    CLI::App app{
        "arcctl: administer arcd (devices, events, alarms, operators, audit, status) and decode "
        "DC-09 frames"};
    app.fallthrough();
    app.require_subcommand(1);
    globals g;
    app.add_option("--socket", g.socket,
                   "arcd admin socket (default: listen.api of --config, else var/arcd.sock)");
    app.add_option("--config", g.config, "arcd configuration file (for the socket and policy)");
    app.add_flag("--json", g.json, "print the result as JSON");

    auto* device = app.add_subcommand("device", "register and manage devices");
    device->require_subcommand(1);
    std::string account;
    std::string protocol_name = "dc09";
    std::string key;
    std::string mode;
    std::string label;
    int limit = 20;
    auto* add = device->add_subcommand("add", "register a device");
    add->add_option("--account", account, "account, 3-16 hex digits")->required();
    add->add_option("--protocol", protocol_name, "protocol (scaip: the key is the SIP password)")
        ->check(CLI::IsMember({"dc09", "scaip"}))
        ->capture_default_str();
    add->add_option("--key", key, "AES key: 32/48/64 hex or 16/24/32 ASCII characters");
    add->add_option("--mode", mode, "active, test or retired (default active)")
        ->check(CLI::IsMember({"active", "test", "retired"}));
    add->add_option("--label", label, "free text, e.g. the subscriber and the device");
    std::string device_type;
    std::string interval;
    std::string vendor;
    add->add_option("--type", device_type,
                    "device type: selects supervision defaults (default home_unit)");
    add->add_option("--interval", interval,
                    "supervision interval overriding the type's, e.g. 25h, 90m");
    add->add_option("--vendor", vendor, "vendor: selects the vendor's event-code table");
    const auto subscriber_cmds = add_subscriber_commands(app, *device, *add);
    const auto import_cmds = add_import_commands(app);
    const auto team_cmds = add_team_commands(app);
    const auto retention_cmds = add_retention_commands(app);
    const auto case_cmds = add_case_commands(app);
    auto* list = device->add_subcommand("list", "list the devices");
    auto* show = device->add_subcommand("show", "show one device");
    show->add_option("account", account, "account")->required();
    auto* remove = device->add_subcommand("remove", "remove a device");
    remove->add_option("account", account, "account")->required();
    auto* set_mode = device->add_subcommand("set-mode", "set a device's mode");
    set_mode->add_option("account", account, "account")->required();
    set_mode->add_option("mode", mode, "active, test or retired")
        ->required()
        ->check(CLI::IsMember({"active", "test", "retired"}));

    auto* test_mode = device->add_subcommand(
        "test-mode", "put a device in test mode (its events are recorded, never queued) or back");
    std::string on_off;
    std::string test_for;
    test_mode->add_option("account", account, "account")->required();
    test_mode->add_option("state", on_off, "on or off")
        ->required()
        ->check(CLI::IsMember({"on", "off"}));
    test_mode->add_option("--for", test_for,
                          "with on: test mode ends by itself after this long (1m to 7d), e.g. 2h");

    auto* diag = device->add_subcommand(
        "diag", "what the centre knows of a device: state, supervision, counters, last frames");
    bool follow = false;
    int diag_limit = 20;
    diag->add_option("account", account, "account")->required();
    diag->add_option("--limit", diag_limit, "the last N frames (1-1000)")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    diag->add_flag("--follow", follow, "then print each new frame as it arrives, until ^C");

    auto* device_test = device->add_subcommand(
        "test", "wait for the device's next frame and show what the centre made of it");
    int test_timeout = 120;
    device_test->add_option("account", account, "account")->required();
    device_test->add_option("--timeout", test_timeout, "seconds to wait (1-3600)")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();

    auto* backup = app.add_subcommand(
        "backup", "a consistent copy of the database, taken while arcd keeps receiving");
    std::string backup_file;
    bool overwrite = false;
    backup->add_option("file", backup_file, "the copy to write (arcd writes it)")->required();
    backup->add_flag("--overwrite", overwrite, "replace FILE if it exists");

    auto* events = app.add_subcommand("events", "what the centre received from an account");
    events->add_option("account", account, "account")->required();
    events->add_option("--limit", limit, "newest N events (1-1000)")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();

    auto* alarms = app.add_subcommand("alarms", "the open alarms in queue order");
    int alarm_limit = 1000;
    bool watch = false;
    alarms->add_option("--limit", alarm_limit, "the first N of the queue (1-10000)")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    alarms->add_flag("--watch", watch,
                     "print the queue, then every change as it happens, until interrupted");

    auto* alarm =
        app.add_subcommand("alarm", "one alarm: show it or move it through its lifecycle");
    alarm->require_subcommand(1);
    std::string alarm_id_text;
    std::string actor;
    std::string outcome;
    std::string note_text;
    std::string team;
    auto* alarm_show = alarm->add_subcommand("show", "an alarm, its timeline and its events");
    struct action {
        CLI::App* app;
        const char* cmd;
    };
    std::vector<action> actions;
    for (const auto& [name, cmd, help] :
         {std::tuple{"take", "alarm.take", "take a new alarm (it stops escalating)"},
          std::tuple{"ack", "alarm.acknowledge", "acknowledge a taken alarm"},
          std::tuple{"dispatch", "alarm.dispatch", "dispatch a team to an acknowledged alarm"},
          std::tuple{"close", "alarm.close", "close an alarm with an outcome"},
          std::tuple{"note", "alarm.note", "add a note to an open alarm"}}) {
        auto* sub = alarm->add_subcommand(name, help);
        sub->add_option("--actor", actor, "operator name (default: arcd's, \"admin\")");
        actions.push_back({sub, cmd});
    }
    for (auto* sub : std::vector<CLI::App*>{alarm_show, actions[0].app, actions[1].app,
                                            actions[2].app, actions[3].app, actions[4].app}) {
        sub->add_option("id", alarm_id_text, "alarm id (42 or #42)")->required();
    }
    actions[2].app->add_option("--team", team, "the team dispatched")->required();
    std::string instructions;
    actions[2].app->add_option("--instructions", instructions, "what the team is to do");
    actions[3]
        .app->add_option("--outcome", outcome, "what happened, e.g. \"false alarm\"")
        ->required();
    actions[4].app->add_option("--text", note_text, "the note")->required();

    auto* operator_cmd = app.add_subcommand(
        "operator", "operator accounts (passwords are read from the terminal, never arguments)");
    operator_cmd->require_subcommand(1);
    std::string username;
    std::string role;
    std::string display_name;
    bool password_stdin = false;
    auto* op_add = operator_cmd->add_subcommand("add", "add an operator account");
    op_add->add_option("username", username, "login name")->required();
    op_add->add_option("--role", role, "operator, supervisor, installer, admin or team")
        ->required()
        ->check(CLI::IsMember({"operator", "supervisor", "installer", "admin", "team"}));
    op_add->add_option("--name", display_name, "display name, e.g. \"Anna Rossi\"");
    std::string op_team;
    op_add->add_option("--team", op_team, "role team: the team whose missions it works");
    auto* op_passwd = operator_cmd->add_subcommand("passwd", "set an operator's password");
    op_passwd->add_option("username", username, "login name")->required();
    for (auto* sub : {op_add, op_passwd}) {
        sub->add_flag("--password-stdin", password_stdin,
                      "read the password from standard input (one line) instead of the terminal");
    }
    auto* op_disable =
        operator_cmd->add_subcommand("disable", "disable an operator account (its sessions end)");
    op_disable->add_option("username", username, "login name")->required();
    auto* op_enable =
        operator_cmd->add_subcommand("enable", "enable an operator account (lifts a lockout)");
    op_enable->add_option("username", username, "login name")->required();
    auto* op_list = operator_cmd->add_subcommand("list", "list the operator accounts");

    auto* audit_cmd = app.add_subcommand("audit", "the hash-chained audit trail");
    audit_cmd->require_subcommand(1);
    int audit_limit = 50;
    std::int64_t audit_from = 0;
    std::string audit_db;
    auto* audit_list = audit_cmd->add_subcommand("list", "audit entries, the newest by default");
    audit_list->add_option("--limit", audit_limit, "at most N entries (1-10000)")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    audit_list->add_option("--from", audit_from, "from this seq on instead of the newest")
        ->check(CLI::PositiveNumber);
    auto* audit_verify = audit_cmd->add_subcommand(
        "verify", "check the audit chain; exit 0 intact, 1 broken (naming the first bad seq)");
    audit_verify->add_option(
        "--db", audit_db,
        "verify this database file directly, read-only (works with arcd stopped)");

    const auto report_cmd = add_report_command(app);

    auto* status = app.add_subcommand("status", "listeners, counters, storage");

    decode_args dec;
    auto* decode = app.add_subcommand(
        "decode", "decode one frame offline and print the reply the centre would send");
    decode->add_option("--key", dec.key, "AES key of the frame's account");
    decode->add_option("--now", dec.now, "receiver time, ISO-8601 UTC (default: now)");
    decode->add_option("frame", dec.frame,
                       "the frame with \\n \\r escapes; '-' or absent: raw bytes on stdin");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    }

    try {
        if (*decode) {
            return run_decode(g, dec);
        }
        if (*audit_verify && !audit_db.empty()) {
            return run_offline_verify(g, audit_db);
        }
        if (const auto rc = run_report_command(*report_cmd, g.json,
                                               [&g](const json& req) { return call(g, req); })) {
            return *rc;
        }
        std::optional<std::uint64_t> alarm_id;
        if (!alarm_id_text.empty()) {
            alarm_id = parse_alarm_id(alarm_id_text);
            if (!alarm_id) {
                std::cerr << "arcctl: ID: expected an alarm id such as 42 or #42, got '"
                          << alarm_id_text << "'\n";
                return 2;
            }
        }
        std::optional<std::int64_t> interval_s;
        if (!interval.empty()) {
            interval_s = parse_duration(interval);
            if (!interval_s || *interval_s <= 0) {
                std::cerr << "arcctl: --interval: expected a duration such as 90m, 25h or 1h30m, "
                             "got '"
                          << interval << "'\n";
                return 2;
            }
        }
        std::optional<std::int64_t> for_s;
        if (!test_for.empty()) {
            for_s = parse_duration(test_for);
            if (!for_s) {
                std::cerr << "arcctl: --for: expected a duration such as 90s, 30m, 2h or 1h30m, "
                             "got '"
                          << test_for << "'\n";
                return 2;
            }
            if (*for_s < 60 || *for_s > 604'800) {
                std::cerr << "arcctl: --for: between 1m and 7d, got '" << test_for << "'\n";
                return 2;
            }
            if (on_off == "off") {
                std::cerr << "arcctl: --for: only with on\n";
                return 2;
            }
        }

        std::optional<std::pair<json, std::string>> subscriber_out;
        try {
            subscriber_out = run_subscriber_commands(
                *subscriber_cmds, [&g](const json& req) { return call(g, req); });
            if (!subscriber_out) {
                subscriber_out =
                    run_team_commands(*team_cmds, [&g](const json& req) { return call(g, req); });
            }
            if (!subscriber_out) {
                subscriber_out = run_retention_commands(
                    *retention_cmds, [&g](const json& req) { return call(g, req); });
            }
            if (!subscriber_out) {
                subscriber_out =
                    run_case_commands(*case_cmds, [&g](const json& req) { return call(g, req); });
            }
        } catch (const std::invalid_argument& e) {
            std::cerr << "arcctl: " << e.what() << '\n';
            return 2;
        }
        // import / export: one connection for all of a file's chunks (import_cli.cpp).
        std::optional<arc::api::client> import_client;
        if (const auto out = run_import_commands(*import_cmds, [&](const json& req) {
                if (!import_client) {
                    import_client.emplace(connect_client(g));
                }
                return import_client->request(req);
            })) {
            print_result(g, out->result, out->text);
            return out->exit_code;
        }
        if (subscriber_out) {
            print_result(g, subscriber_out->first, subscriber_out->second);
        } else if (*add) {
            json req{{"cmd", "device.add"}, {"account", account}, {"protocol", protocol_name}};
            if (const auto sid = device_add_subscriber(*subscriber_cmds)) {
                req["subscriber"] = *sid;
            }
            if (!device_type.empty()) {
                req["type"] = device_type;
            }
            if (interval_s) {
                req["interval_s"] = *interval_s;
            }
            if (add->count("--vendor") > 0) {
                req["vendor"] = vendor;
            }
            if (!key.empty()) {
                req["key"] = key;
            }
            if (!mode.empty()) {
                req["mode"] = mode;
            }
            if (add->count("--label") > 0) {
                req["label"] = label;
            }
            const auto r = call(g, req);
            print_result(g, r, device_to_text(r.value("device", json::object())));
        } else if (*list) {
            const auto r = call(g, {{"cmd", "device.list"}});
            print_result(g, r, devices_to_text(r.value("devices", json::array())));
        } else if (*show) {
            const auto r = call(g, {{"cmd", "device.show"}, {"account", account}});
            print_result(g, r, device_to_text(r.value("device", json::object())));
        } else if (*remove) {
            const auto r = call(g, {{"cmd", "device.remove"}, {"account", account}});
            print_result(g, r, "removed " + r.value("removed", account) + "\n");
        } else if (*set_mode) {
            const auto r =
                call(g, {{"cmd", "device.set_mode"}, {"account", account}, {"mode", mode}});
            print_result(g, r, device_to_text(r.value("device", json::object())));
        } else if (*test_mode) {
            json req{{"cmd", "device.set_mode"},
                     {"account", account},
                     {"mode", on_off == "on" ? "test" : "active"}};
            if (for_s) {
                req["for_s"] = *for_s;
            }
            const auto r = call(g, req);
            print_result(g, r, device_to_text(r.value("device", json::object())));
        } else if (*alarms) {
            if (watch) {
                return run_watch(g, alarm_limit);
            }
            const auto r = call(g, {{"cmd", "alarms"}, {"limit", alarm_limit}});
            print_result(g, r, alarms_to_text(r, now_unix_ms()));
        } else if (*alarm_show) {
            const auto r = call(g, {{"cmd", "alarm.show"}, {"alarm", *alarm_id}});
            print_result(g, r, alarm_show_to_text(r));
        } else if (*alarm) {
            for (const auto& a : actions) {
                if (!*a.app) {
                    continue;
                }
                json req{{"cmd", a.cmd}, {"alarm", *alarm_id}};
                // Each action has only some of the options: ask for those it has.
                const auto given = [&a](const char* name) {
                    const CLI::Option* opt = a.app->get_option_no_throw(name);
                    return opt != nullptr && opt->count() > 0;
                };
                if (given("--actor")) {
                    req["actor"] = actor;
                }
                if (given("--team")) {
                    req["team"] = team;
                }
                if (given("--instructions")) {
                    req["instructions"] = instructions;
                }
                if (given("--outcome")) {
                    req["outcome"] = outcome;
                }
                if (given("--text")) {
                    req["text"] = note_text;
                }
                const auto r = call(g, req);
                print_result(g, r, alarm_to_text(r.value("alarm", json::object())));
            }
        } else if (*device_test) {
            return run_device_test(g, account, test_timeout);
        } else if (*diag) {
            const auto r =
                call(g, {{"cmd", "device.diag"}, {"account", account}, {"limit", diag_limit}});
            print_result(g, r, device_diag_to_text(r));
            if (follow) {
                std::cout.flush();
                std::int64_t last_id = 0;
                for (const auto& f : r.value("frames", json::array())) {
                    last_id = std::max(last_id, f.value("id", std::int64_t{0}));
                }
                return run_follow(g, account, last_id);
            }
        } else if (*backup) {
            // arcd writes the file: it needs the full path, whatever its working directory.
            const std::string path =
                std::filesystem::absolute(backup_file).lexically_normal().string();
            // A large database takes a while to copy: wait up to an hour for the answer.
            auto client = connect_client(g);
            client.set_timeout(std::chrono::hours(1));
            json req{{"cmd", "backup"}, {"path", path}};
            if (overwrite) {
                req["overwrite"] = true;
            }
            const auto r = client.request(req);
            print_result(g, r, backup_to_text(r));
        } else if (*events) {
            const auto r = call(g, {{"cmd", "events"}, {"account", account}, {"limit", limit}});
            print_result(g, r, events_to_text(r.value("events", json::array())));
        } else if (*status) {
            const auto r = call(g, {{"cmd", "status"}});
            print_result(g, r, status_to_text(r));
        } else if (*op_add) {
            json req{{"cmd", "operator.add"},
                     {"username", username},
                     {"role", role},
                     {"password", new_password(password_stdin, username)}};
            if (op_add->count("--name") > 0) {
                req["display_name"] = display_name;
            }
            if (op_add->count("--team") > 0) {
                req["team"] = op_team;
            }
            const auto r = call(g, req);
            print_result(g, r, operator_to_text(r.value("operator", json::object())));
        } else if (*op_passwd) {
            const auto r = call(g, {{"cmd", "operator.passwd"},
                                    {"username", username},
                                    {"password", new_password(password_stdin, username)}});
            print_result(g, r, "password set for " + username + "; their sessions ended\n");
        } else if (*op_disable || *op_enable) {
            const auto r = call(g, {{"cmd", *op_disable ? "operator.disable" : "operator.enable"},
                                    {"username", username}});
            print_result(g, r, operator_to_text(r.value("operator", json::object())));
        } else if (*op_list) {
            const auto r = call(g, {{"cmd", "operator.list"}});
            print_result(g, r, operators_to_text(r.value("operators", json::array())));
        } else if (*audit_list) {
            json req{{"cmd", "audit.list"}, {"limit", audit_limit}};
            if (audit_from > 0) {
                req["from"] = audit_from;
            }
            const auto r = call(g, req);
            print_result(g, r, audit_to_text(r));
        } else if (*audit_verify) {
            const auto r = call(g, {{"cmd", "audit.verify"}});
            print_result(g, r, audit_verify_to_text(r));
            return r.value("intact", false) ? 0 : 1;
        }
        return 0;
    } catch (const usage_failure& e) {
        std::cerr << "arcctl: " << e.what() << '\n';
        return 2;
    } catch (const connect_failure& e) {
        std::cerr << e.what() << '\n';
        return 1;
    } catch (const arc::api::api_error& e) {
        std::cerr << "arcctl: " << e.what() << '\n';
        return 1;
    } catch (const arc::config::config_error& e) {
        std::cerr << "arcctl: " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "arcctl: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace arc::arcctl
