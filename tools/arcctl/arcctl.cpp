#include "arcctl.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <iterator>
#include <random>
#include <span>
#include <stdexcept>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arc/api/client.hpp"
#include "arc/api/json.hpp"
#include "arc/config/daemon_config.hpp"
#include "arc/protocol/contact_id.hpp"
#include "arc/protocol/error.hpp"
#include "arc/protocol/sia_dcs.hpp"

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

json call(const globals& g, json req) {
    const auto path = socket_path(g);
    std::optional<arc::api::client> client;
    try {
        client.emplace(arc::api::client::connect(path, std::chrono::seconds(30)));
    } catch (const std::exception& e) {
        std::string reason = e.what();
        const auto prefix = "connect " + path + ": ";
        if (reason.rfind(prefix, 0) == 0) {
            reason.erase(0, prefix.size());
        }
        throw connect_failure(
            fmt::format("arcctl: cannot connect to {}: {} (is arcd running?)", path, reason));
    }
    return client->request(req);
}

void print_result(const globals& g, const json& result, const std::string& text) {
    if (g.json) {
        std::cout << result.dump() << '\n';
    } else {
        std::cout << text;
    }
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

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
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
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front())) != 0) {
            rest.remove_prefix(1);
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
    return static_cast<std::int64_t>(timegm(&tm));
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
    std::vector<std::pair<std::string, std::string>> rows;
    for (const char* name : {"account", "protocol", "mode", "label", "created", "last_seen"}) {
        rows.emplace_back(name, field(device, name));
    }
    const auto bits = device.value("key_bits", 0);
    rows.emplace(rows.begin() + 2, "encryption", bits > 0 ? fmt::format("AES-{}", bits) : "none");
    return lines(rows);
}

std::string devices_to_text(const json& devices) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : devices) {
        const auto bits = d.value("key_bits", 0);
        rows.push_back({field(d, "account"), field(d, "protocol"),
                        bits > 0 ? fmt::format("AES-{}", bits) : "none", field(d, "mode"),
                        field(d, "last_seen"), field(d, "label")});
    }
    if (rows.empty()) {
        return "no devices\n";
    }
    return format_table({"account", "protocol", "encryption", "mode", "last seen", "label"}, rows);
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
    } else if (auto cid = decoded.find("cid"); cid != decoded.end()) {
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
    return out;
}

int run(int argc, const char* const* argv) {
    CLI::App app{"arcctl: administer arcd (devices, events, status) and decode DC-09 frames"};
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
    add->add_option("--protocol", protocol_name, "protocol")
        ->check(CLI::IsMember({"dc09"}))
        ->capture_default_str();
    add->add_option("--key", key, "AES key: 32/48/64 hex or 16/24/32 ASCII characters");
    add->add_option("--mode", mode, "active, test or retired (default active)")
        ->check(CLI::IsMember({"active", "test", "retired"}));
    add->add_option("--label", label, "free text, e.g. the subscriber and the device");
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

    auto* events = app.add_subcommand("events", "what the centre received from an account");
    events->add_option("account", account, "account")->required();
    events->add_option("--limit", limit, "newest N events (1-1000)")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();

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
        if (*add) {
            json req{{"cmd", "device.add"}, {"account", account}, {"protocol", protocol_name}};
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
        } else if (*events) {
            const auto r = call(g, {{"cmd", "events"}, {"account", account}, {"limit", limit}});
            print_result(g, r, events_to_text(r.value("events", json::array())));
        } else if (*status) {
            const auto r = call(g, {{"cmd", "status"}});
            print_result(g, r, status_to_text(r));
        }
        return 0;
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
