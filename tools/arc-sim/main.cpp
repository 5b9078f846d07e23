// arc-sim: simulates DC-09 devices, hardware receivers and SCAIP senders against arcd (one alarm
// or a load) and reports.
#include <cstdio>
#include <exception>
#include <string>

#include "scaip_sim.hpp"
#include "scenario.hpp"
#include "serial_sim.hpp"
#include "sim.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include "arc/protocol/aes.hpp"

namespace {

// 10,000 idle connections need more descriptors than the usual soft limit of 1024.
void raise_fd_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

bool is_hex_account(const std::string& a) {
    if (a.size() < 3 || a.size() > 16) {
        return false;
    }
    for (const char c : a) {
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "arc-sim: simulates DC-09 devices (SIA-DCS, ADM-CID, NULL; clear or AES; TCP or "
        "UDP), hardware receivers (--serial, --receiver-tcp) and SCAIP senders (--scaip) as "
        "one alarm or a load, and reports replies and latency"};
    arc::sim::options opts;
    std::string key_text;
    std::string data;
    unsigned timeout_ms = 2000;
    unsigned deadline_s = 300;
    bool json = false;
    bool quiet = false;
    bool no_tag = false;
    app.add_option("--host", opts.host, "receiver address")->capture_default_str();
    app.add_option("--port", opts.port, "receiver port (required unless --list)");
    app.add_flag("--udp", opts.udp, "send over UDP (default TCP)");
    app.add_option("--account", opts.account,
                   "account (3-16 hex digits; scenarios with many homes count up from it)");
    app.add_option("--key", key_text, "AES key: 32/48/64 hex or 16/24/32 ASCII characters");
    app.add_option("--token", opts.token, "message type")
        ->check(CLI::IsMember({"SIA-DCS", "ADM-CID", "NULL"}))
        ->capture_default_str();
    app.add_option("--data", data,
                   "data block without brackets (default \"#A|Nri1/QA001\", \"#A|1101 01 001\" "
                   "or empty for NULL)");
    app.add_flag("--no-tag", no_tag,
                 "do not add the [Isim-cC-mM] block that makes every frame unique");
    app.add_option("--connections", opts.connections, "simultaneous devices")
        ->capture_default_str();
    app.add_option("--count", opts.count, "messages per connection")->capture_default_str();
    app.add_option("--timeout-ms", timeout_ms, "reply wait before retransmitting")
        ->capture_default_str();
    app.add_option("--retries", opts.retries, "retransmissions after timeouts")
        ->capture_default_str();
    app.add_option("--rate", opts.rate,
                   "messages per second in total, 0 = as fast as replies allow")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--idle", opts.idle, "extra TCP connections held open that send nothing")
        ->capture_default_str();
    app.add_option("--acked-log", opts.acked_log, "append each ACKed frame, hex, one per line");
    app.add_option("--deadline-s", deadline_s, "stop and report after this many seconds")
        ->capture_default_str();
    app.add_flag("--json", json, "print the report as one JSON object");
    app.add_flag("--quiet", quiet, "print nothing but errors");
    app.add_flag("--verbose", opts.verbose, "print every frame sent and every reply");
    std::string scenario;
    bool list = false;
    arc::sim::scenario_params params;
    app.add_option("--scenario", scenario, "run a scenario (see --list) instead of one message");
    app.add_flag("--list", list, "list the scenarios and what they send");
    app.add_option("--devices", params.devices, "scenario: number of homes");
    app.add_option("--interval-s", params.interval_s, "scenario: periodic test interval")
        ->capture_default_str();
    app.add_option("--duration-s", params.duration_s, "scenario: how long it runs")
        ->capture_default_str();
    app.add_option("--window-s", params.window_s, "scenario powercut: length of each wave")
        ->capture_default_str();
    app.add_option("--alarm-share", params.alarm_share,
                   "scenario municipality: share of messages that are alarms")
        ->capture_default_str();
    app.add_option("--pause-ms", params.pause_ms, "scenario home: pause between steps")
        ->capture_default_str();
    std::string serial_device;
    bool receiver_tcp = false;
    arc::sim::serial_options serial;
    std::string serial_format = "surgard";
    auto* serial_group = app.add_option_group(
        "receiver", "play a hardware alarm receiver (Sur-Gard / Ademco 685 automation lines)");
    serial_group->add_option("--serial", serial_device,
                             "write receiver lines into this serial port or pty");
    serial_group->add_flag("--receiver-tcp", receiver_tcp,
                           "write receiver lines to --host/--port (arcd listen.receiver_tcp)");
    serial_group->add_flag("--b32", serial.b32, "receiver over TCP: B32 header on every packet");
    serial_group->add_option("--format", serial_format, "receiver line format")
        ->check(CLI::IsMember({"surgard", "ademco685"}))
        ->capture_default_str();
    serial_group->add_option("--baud", serial.baud, "serial speed")->capture_default_str();
    serial_group->add_option("--event", serial.event, "Contact ID event: E|R|P and 3 digits")
        ->capture_default_str();
    serial_group->add_option("--zone", serial.zone, "zone (counts up with --count)")
        ->capture_default_str();
    serial_group->add_option("--group", serial.group, "Contact ID group")->capture_default_str();
    serial_group->add_option("--receiver", serial.receiver, "receiver number")
        ->capture_default_str();
    serial_group->add_option("--line", serial.line, "line card number")->capture_default_str();
    serial_group->add_flag("--heartbeat", serial.heartbeat, "send a receiver heartbeat first");
    serial_group
        ->add_option("--accounts", serial.accounts, "distinct accounts, counting up from --account")
        ->capture_default_str();
    bool scaip_mode = false;
    arc::sim::scaip_options scaip;
    std::string scaip_mty = "ME";
    int scaip_stc = -1;
    int scaip_lco = -1;
    unsigned hold_retry_s = 5;
    unsigned hold_max_s = 180;
    auto* scaip_group = app.add_option_group(
        "scaip", "play a SCAIP sender (SIP MESSAGE + <mrq>, digest auth, <mrs> awaited)");
    scaip_group->add_flag(
        "--scaip", scaip_mode,
        "send SCAIP to --port (listen.scaip_udp, or listen.scaip_tcp with --tcp); "
        "--account is the cid");
    scaip_group->add_flag("--tcp", scaip.tcp, "SCAIP over TCP (default UDP)");
    scaip_group->add_option("--password", scaip.password, "the device's SIP digest password");
    scaip_group->add_option("--dty", scaip.dty, "device type (Annex A; 3 pendant, 5 fall)")
        ->capture_default_str();
    scaip_group->add_option("--stc", scaip_stc,
                            "status code (Annex C; 16 battery low); omitted: the alarm state");
    scaip_group->add_option("--mty", scaip_mty, "message type")
        ->check(CLI::IsMember({"ME", "PI", "IN", "RE"}))
        ->capture_default_str();
    scaip_group->add_option("--crd", scaip.crd,
                            "caller id, repeatable (\"no-voice:\", \"gsm:+39...\"); omitted: "
                            "sip: (voice on the SIP session)");
    scaip_group->add_option("--ref", scaip.ref, "reference (default: from the clock)");
    scaip_group->add_option("--lco", scaip_lco, "location code (Annex D; 11 bathroom)");
    scaip_group->add_option("--lte", scaip.lte, "location text");
    scaip_group->add_option("--geo", scaip.geo, "geographic position \"lat,lon\" (in <lge>)");
    scaip_group->add_option("--hold-retry-s", hold_retry_s, "re-send after HOLD (snu=4)")
        ->check(CLI::Range(1U, 60U))
        ->capture_default_str();
    scaip_group->add_option("--hold-max-s", hold_max_s, "give up when still on hold after this")
        ->check(CLI::Range(1U, 1800U))
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    }

    if (list) {
        for (const auto& s : arc::sim::scenarios()) {
            std::printf("%-14s %s\n", s.name.c_str(), s.description.c_str());
        }
        return 0;
    }
    if (!serial_device.empty() || receiver_tcp) {
        serial.device = serial_device;
        serial.host = opts.host;
        serial.port = receiver_tcp ? opts.port : 0;
        serial.format = serial_format == "ademco685" ? arc::protocol::receiver_format::ademco685
                                                     : arc::protocol::receiver_format::surgard;
        if (app.count("--account") > 0) {
            serial.account = opts.account;
        }
        serial.count = app.count("--count") > 0 ? opts.count : 1;
        serial.rate = opts.rate;
        serial.timeout =
            std::chrono::milliseconds(app.count("--timeout-ms") > 0 ? timeout_ms : 4000);
        if (app.count("--retries") > 0) {
            serial.retries = opts.retries;
        }
        serial.deadline = std::chrono::seconds(deadline_s);
        serial.verbose = opts.verbose || (serial.count <= 4 && !quiet && !json);
        try {
            const auto rep = arc::sim::run_serial(serial);
            if (json) {
                std::printf("%s\n", arc::sim::to_json(rep).dump().c_str());
            } else if (!quiet) {
                std::printf("%s", arc::sim::to_text(rep).c_str());
            }
            return rep.acked == rep.messages ? 0 : 1;
        } catch (const std::invalid_argument& e) {
            std::fprintf(stderr, "arc-sim: %s\n", e.what());
            return 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "arc-sim: %s\n", e.what());
            return 1;
        }
    }
    if (scaip_mode) {
        scaip.host = opts.host;
        scaip.port = opts.port;
        scaip.cid = opts.account;
        if (scaip_stc >= 0) {
            scaip.stc = scaip_stc;
        }
        if (scaip_lco >= 0) {
            scaip.lco = scaip_lco;
        }
        scaip.mty = scaip_mty == "PI"   ? arc::protocol::scaip_message_type::heartbeat
                    : scaip_mty == "IN" ? arc::protocol::scaip_message_type::information
                    : scaip_mty == "RE" ? arc::protocol::scaip_message_type::reset
                                        : arc::protocol::scaip_message_type::message;
        scaip.connections = opts.connections;
        scaip.count = opts.count;
        scaip.timeout = std::chrono::milliseconds(timeout_ms);
        scaip.retries = opts.retries;
        scaip.hold_retry = std::chrono::seconds(hold_retry_s);
        scaip.hold_max = std::chrono::seconds(hold_max_s);
        scaip.deadline = std::chrono::seconds(deadline_s);
        scaip.verbose = opts.verbose;
        // One request by hand shows its answer; a load shows the summary only.
        const bool each = !quiet && !json && scaip.connections * scaip.count <= 4;
        try {
            const auto rep = arc::sim::run_scaip(scaip, [each](const arc::sim::scaip_result& r) {
                if (each) {
                    std::printf("%s", arc::sim::to_text(r).c_str());
                    std::fflush(stdout);
                }
            });
            if (json) {
                std::printf("%s\n", arc::sim::to_json(rep).dump().c_str());
            } else if (!quiet && !each) {
                std::printf("%s", arc::sim::to_text(rep).c_str());
            }
            return rep.ok == rep.messages ? 0 : 1;
        } catch (const std::invalid_argument& e) {
            std::fprintf(stderr, "arc-sim: %s\n", e.what());
            return 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "arc-sim: %s\n", e.what());
            return 1;
        }
    }
    if (opts.port == 0) {
        std::fprintf(stderr, "arc-sim: --port is required\n");
        return 2;
    }
    if (!is_hex_account(opts.account)) {
        std::fprintf(stderr, "arc-sim: --account: 3 to 16 hex digits expected, got '%s'\n",
                     opts.account.c_str());
        return 2;
    }
    if (!key_text.empty()) {
        auto key = arc::protocol::parse_aes_key(key_text);
        if (!key) {
            std::fprintf(stderr,
                         "arc-sim: --key: 32/48/64 hex digits or 16/24/32 characters expected\n");
            return 2;
        }
        opts.key = std::move(*key);
    }
    if (app.count("--data") > 0) {
        opts.data = data;
    }
    opts.tag = !no_tag;
    opts.timeout = std::chrono::milliseconds(timeout_ms);
    opts.deadline = std::chrono::seconds(deadline_s);
    if (scenario.empty() && opts.connections * opts.count <= 4 && !quiet && !json) {
        opts.verbose = true;  // one alarm by hand: show the frames
    }
    raise_fd_limit();

    if (!scenario.empty()) {
        try {
            nlohmann::json steps = nlohmann::json::array();
            bool all_replied = true;
            arc::sim::run_scenario(scenario, opts, params, [&](const arc::sim::scenario_step& s) {
                all_replied = all_replied && s.rep.all_replied();
                if (json) {
                    steps.push_back(arc::sim::step_to_json(s));
                } else if (!quiet) {
                    std::printf("%s", arc::sim::step_to_text(s).c_str());
                    std::fflush(stdout);
                }
            });
            if (json) {
                std::printf(
                    "%s\n",
                    nlohmann::json{{"scenario", scenario}, {"steps", steps}}.dump().c_str());
            }
            return all_replied ? 0 : 1;
        } catch (const std::invalid_argument& e) {
            std::fprintf(stderr, "arc-sim: %s\n", e.what());
            return 2;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "arc-sim: %s\n", e.what());
            return 1;
        }
    }

    try {
        const auto rep = arc::sim::run(opts);
        if (json) {
            std::printf("%s\n", arc::sim::to_json(rep).dump().c_str());
        } else if (!quiet) {
            std::printf("%s", arc::sim::to_text(rep).c_str());
        }
        return rep.all_replied() ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "arc-sim: %s\n", e.what());
        return 1;
    }
}
