// arc-sim: simulates DC-09 devices against a receiver (one alarm or a load) and reports.
#include <cstdio>
#include <exception>
#include <string>

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
        "UDP) as one alarm or a load, and reports replies and latency"};
    arc::sim::options opts;
    std::string key_text;
    std::string data;
    unsigned timeout_ms = 2000;
    unsigned deadline_s = 300;
    bool json = false;
    bool quiet = false;
    bool no_tag = false;
    app.add_option("--host", opts.host, "receiver address")->capture_default_str();
    app.add_option("--port", opts.port, "receiver port")->required();
    app.add_flag("--udp", opts.udp, "send over UDP (default TCP)");
    app.add_option("--account", opts.account, "account (3-16 hex digits)")->required();
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
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
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
    if (opts.connections * opts.count <= 4 && !quiet && !json) {
        opts.verbose = true;
    }
    raise_fd_limit();

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
