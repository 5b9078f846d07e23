// arcd: the alarm-receiving centre daemon (DC-09 over TCP/UDP, admin API on a Unix socket).
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "logging.hpp"
#include "server.hpp"
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include "arc/config/daemon_config.hpp"
#include "arc/config/event_codes.hpp"
#include "arc/storage/store.hpp"

namespace {

// 10,000+ idle device connections need more descriptors than the usual soft limit of 1024.
void raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
            spdlog::warn("cannot raise RLIMIT_NOFILE to {}", lim.rlim_max);
        }
    }
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        spdlog::info("file descriptor limit {}", lim.rlim_cur);
    }
}

void create_parent(const std::filesystem::path& p) {
    if (p.has_parent_path()) {
        std::filesystem::create_directories(p.parent_path());
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"arcd: Telesoccorso alarm-receiving centre daemon"};
    std::string config_file;
    std::vector<std::string> overrides;
    app.add_option("--config", config_file, "configuration file (arcd.toml)")->required();
    app.add_option("--set", overrides, "override a configuration key: key=value (repeatable)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    arc::config::daemon_config cfg;
    arc::config::event_code_map event_codes;
    try {
        cfg = arc::config::load_daemon_config(config_file, overrides);
        event_codes =
            arc::config::load_event_codes(cfg.engine.event_codes, cfg.engine.event_code_overrides);
    } catch (const arc::config::config_error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", config_file.c_str(), e.what());
        return 2;
    }

    try {
        arc::daemon::setup_logging(cfg.log_level, cfg.log_file);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", config_file.c_str(), e.what());
        return 2;
    }

    try {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium initialisation failed");
        }
        raise_fd_limit();
        create_parent(cfg.storage_path);
        create_parent(cfg.api_socket);

        arc::storage::writer writer(cfg.storage_path, {.queue_limit = cfg.storage_queue_limit,
                                                       .max_batch = cfg.storage_max_batch});
        boost::asio::io_context io(1);
        arc::daemon::server_options opts;
        opts.on_sighup = [] { arc::daemon::reopen_log(); };
        opts.event_codes = std::move(event_codes);
        arc::daemon::server srv(io, cfg, writer, opts);
        srv.start();
        spdlog::info("arcd {} started (config {}, database {})", ARC_VERSION, config_file,
                     cfg.storage_path.string());
        io.run();
        writer.stop();
        spdlog::info("arcd stopped");
        spdlog::shutdown();
        return 0;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        spdlog::shutdown();
        return 1;
    }
}
