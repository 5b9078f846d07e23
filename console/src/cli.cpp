#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "arc/console/terminal.hpp"

namespace arc::console {

int run_cli(int argc, char** argv) {
    CLI::App cli{
        "arc-console: the operators' terminal. Shows the live alarm queue, the selected alarm's\n"
        "subscriber, device and timeline, and takes, notes, calls, dispatches and closes alarms.\n"
        "Keys are shown at the bottom of the screen: arrows/j k select, t take, r release,\n"
        "a acknowledge, n note, c call log, d dispatch (to a proposed team), x close, p phone\n"
        "report (a case from a call), s sensitive data (while you hold the alarm), Tab switch\n"
        "pane, L language, v/F2 supervisor view, q quit.\n"
        "With --team (a login of role team gets it anyway): the field team's missions, with\n"
        "a accept, x decline, w on the way, s on site, f done (outcome and note), c key-safe\n"
        "code (audited).",
        "arc-console"};
    std::string socket;
    std::string connect;
    bool tls = false;
    std::string ca;
    std::string user;
    std::string language = "it";
    bool ascii = false;
    std::string team;
    auto* sock_opt = cli.add_option(
        "--socket", socket,
        "arcd's admin Unix socket (local administration, no login; default var/arcd.sock)");
    auto* conn_opt = cli.add_option("--connect", connect,
                                    "arcd's operator API, HOST:PORT (login with username and "
                                    "password)");
    sock_opt->excludes(conn_opt);
    cli.add_flag("--tls", tls, "use TLS on --connect (required when arcd is not on loopback)")
        ->needs(conn_opt);
    cli.add_option("--ca", ca, "PEM file of the CA that signed arcd's certificate (with --tls)")
        ->check(CLI::ExistingFile);
    cli.add_option("--user", user,
                   "with --connect: the username offered at login; with --socket: the name "
                   "recorded as actor of this console's steps (default $USER)");
    cli.add_option("--lang", language, "labels: it or en")
        ->check(CLI::IsMember({"it", "en"}))
        ->capture_default_str();
    cli.add_flag("--ascii", ascii,
                 "draw with ASCII only (also chosen when the locale is not UTF-8)");
    cli.add_option("--team", team,
                   "the field team's client: the team's missions (accept, on the way, on site, "
                   "done). With --socket give the team's name (--team \"PIS Centro\"); with "
                   "--connect log in with the team's account")
        ->expected(0, 1);
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    options opts;
    opts.language = language == "en" ? lang::en : lang::it;
    opts.ascii = ascii;
    opts.user = user;
    opts.team = cli.count("--team") > 0;
    opts.team_name = team;
    if (opts.team && connect.empty() && team.empty()) {
        std::cerr << "arc-console: --team needs the team's name on the admin socket "
                     "(--team \"PIS Centro\"), or --connect and a team account\n";
        return 2;
    }
    if (!connect.empty()) {
        opts.transport = options::transport_kind::tcp;
        opts.target = connect;
        opts.tls = tls;
        opts.ca_file = ca;
    } else {
        opts.transport = options::transport_kind::unix_socket;
        opts.target = socket.empty() ? "var/arcd.sock" : socket;
        if (opts.user.empty()) {
            const char* env = std::getenv("USER");
            opts.user = env != nullptr && *env != '\0' ? env : "console";
        }
    }
    return run_terminal(std::move(opts));
}

}  // namespace arc::console
