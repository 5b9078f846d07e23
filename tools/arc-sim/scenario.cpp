#include "scenario.hpp"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace arc::sim {
namespace {

// A deterministic draw in [0, 1) for message `msg` of connection `conn` (runs are repeatable).
double draw(std::size_t conn, std::size_t msg) {
    // splitmix64 of (conn, msg).
    std::uint64_t x = conn * 1000003ULL + msg + 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    x ^= x >> 31U;
    return static_cast<double>(x >> 11U) / static_cast<double>(1ULL << 53U);
}

std::string sia(const std::string& account, const std::string& code_zone) {
    return fmt::format("#{}|Nri1/{}", account, code_zone);
}

struct home_step {
    const char* label;
    const char* token;
    const char* event;  // SIA code+zone, or Contact ID "QEEE GG CCC"
};

// One home through a day: the pendant, a fall, smoke, the battery, a power cut, the tests.
constexpr home_step home_steps[] = {
    {"pendant press", "SIA-DCS", "QA001"},
    {"pendant restore", "SIA-DCS", "QR001"},
    {"fall (medical alarm from the fall detector, zone 002)", "SIA-DCS", "MA002"},
    {"smoke detector (Contact ID 111, zone 003)", "ADM-CID", "1111 01 003"},
    {"smoke restore (Contact ID qualifier 3)", "ADM-CID", "3111 01 003"},
    {"low battery", "SIA-DCS", "YT000"},
    {"battery restored", "SIA-DCS", "YR000"},
    {"mains loss", "SIA-DCS", "AT000"},
    {"mains restored", "SIA-DCS", "AR000"},
    {"periodic test", "SIA-DCS", "RP000"},
    {"link test", "NULL", ""},
};

std::string home_data(const home_step& step, const std::string& account) {
    if (std::string_view(step.token) == "NULL") {
        return "";
    }
    if (std::string_view(step.token) == "ADM-CID") {
        return fmt::format("#{}|{}", account, step.event);
    }
    return sia(account, step.event);
}

scenario_step run_step(std::string label, options opts) {
    scenario_step step;
    step.label = std::move(label);
    step.token = opts.token;
    if (opts.data_fn) {
        step.data = opts.data_fn(1, 1, account_for(opts, 1));
    } else {
        step.data = opts.data.value_or(default_data(opts.token, opts.account));
    }
    step.rep = run(opts);
    return step;
}

void require_positive(double value, const char* name) {
    if (!(value > 0) || !std::isfinite(value)) {
        throw std::invalid_argument(fmt::format("{} must be greater than 0", name));
    }
}

}  // namespace

const std::vector<scenario_info>& scenarios() {
    static const std::vector<scenario_info> list{
        {"home",
         "one home, step by step: pendant press and restore, fall, smoke and restore, low "
         "battery and restore, mains loss and restore, periodic test, link test"},
        {"municipality",
         "--devices N homes (default 50), accounts from --account up, each sending periodic "
         "tests every --interval-s (default 30) for --duration-s (default 60); --alarm-share "
         "(default 0.05) of the messages are alarms instead (pendant, low battery, mains loss)"},
        {"powercut",
         "a mass power cut: --devices N homes (default 500) report mains loss within --window-s "
         "(default 30), then mains restored in a second wave of the same length"},
    };
    return list;
}

std::vector<scenario_step> run_scenario(const std::string& name, const options& base,
                                        const scenario_params& params,
                                        const std::function<void(const scenario_step&)>& on_step) {
    std::vector<scenario_step> steps;
    const auto done = [&](scenario_step step) {
        if (on_step) {
            on_step(step);
        }
        steps.push_back(std::move(step));
    };
    if (name == "home") {
        bool first = true;
        for (const home_step& hs : home_steps) {
            if (!first) {
                std::this_thread::sleep_for(std::chrono::milliseconds(params.pause_ms));
            }
            first = false;
            options opts = base;
            opts.connections = 1;
            opts.count = 1;
            opts.accounts = 1;
            opts.token = hs.token;
            opts.data = home_data(hs, base.account);
            done(run_step(fmt::format("{} ({})", hs.label, hs.event[0] != '\0' ? hs.event : "NULL"),
                          opts));
        }
        return steps;
    }
    if (name == "municipality") {
        require_positive(params.interval_s, "--interval-s");
        require_positive(params.duration_s, "--duration-s");
        if (params.alarm_share < 0 || params.alarm_share > 1) {
            throw std::invalid_argument("--alarm-share must be between 0 and 1");
        }
        options opts = base;
        opts.connections = params.devices == 0 ? 50 : params.devices;
        opts.accounts = opts.connections;
        opts.count = static_cast<std::size_t>(
            std::max(1.0, std::floor(params.duration_s / params.interval_s)));
        opts.rate = static_cast<double>(opts.connections) / params.interval_s;
        opts.token = "SIA-DCS";
        const double share = params.alarm_share;
        opts.data_fn = [share](std::size_t conn, std::size_t msg, const std::string& account) {
            const double d = draw(conn, msg);
            if (d >= share) {
                return sia(account, "RP000");
            }
            static constexpr const char* alarms[] = {"QA001", "YT000", "AT000"};
            const auto pick = static_cast<std::size_t>(d / share * 3.0) % 3;
            return sia(account, alarms[pick]);
        };
        done(run_step(fmt::format("{} homes, periodic tests every {} s, {:.0f} % alarms",
                                  opts.connections, params.interval_s, share * 100.0),
                      std::move(opts)));
        return steps;
    }
    if (name == "powercut") {
        require_positive(params.window_s, "--window-s");
        options opts = base;
        opts.connections = params.devices == 0 ? 500 : params.devices;
        opts.accounts = opts.connections;
        opts.count = 2;
        opts.rate = static_cast<double>(opts.connections) / params.window_s;
        opts.token = "SIA-DCS";
        // Message 1 of every home goes out in the first window, message 2 in the second.
        opts.data_fn = [](std::size_t /*conn*/, std::size_t msg, const std::string& account) {
            return sia(account, msg == 1 ? "AT000" : "AR000");
        };
        done(run_step(fmt::format("{} homes lose mains power within {} s, then it comes back",
                                  opts.connections, params.window_s),
                      std::move(opts)));
        return steps;
    }
    throw std::invalid_argument(
        fmt::format("unknown scenario '{}' (arc-sim --list shows them)", name));
}

std::string step_to_text(const scenario_step& step) {
    const report& r = step.rep;
    if (r.messages == 1) {
        const char* outcome = r.acked == 1 ? "ACK"
                              : r.nak == 1 ? "NAK"
                              : r.duh == 1 ? "DUH"
                                           : "no reply";
        return fmt::format("{:<58} {:<8} {:.1f} ms\n", step.label, outcome, r.max_ms);
    }
    return fmt::format(
        "{}\n  {} messages: {} ACK, {} NAK, {} DUH, {} unanswered; p50 {:.1f} ms, "
        "p99 {:.1f} ms, {:.1f} s\n",
        step.label, r.messages, r.acked, r.nak, r.duh, r.unanswered, r.p50_ms, r.p99_ms,
        r.elapsed_s);
}

nlohmann::json step_to_json(const scenario_step& step) {
    return nlohmann::json{{"label", step.label},
                          {"token", step.token},
                          {"data", step.data},
                          {"report", to_json(step.rep)}};
}

}  // namespace arc::sim
