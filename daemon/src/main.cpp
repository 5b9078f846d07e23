// arcd: the alarm-receiving centre daemon (DC-09 over TCP/UDP, admin API on a Unix socket).
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
#include "arc/security/field_crypto.hpp"
#include "arc/storage/security.hpp"
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

// The data key file: ARC_KEY_FILE, else arc.key beside the database (a config key will take
// over). It lives outside the database file: a copy of the database alone opens no sealed field.
std::filesystem::path data_key_path(const std::filesystem::path& storage_path) {
    if (const char* env = std::getenv("ARC_KEY_FILE"); env != nullptr && *env != '\0') {
        return env;
    }
    return storage_path.parent_path() / "arc.key";
}

// Loads (or creates at the first start) the data key and makes storage seal sensitive fields
// with it; device keys stored in clear by an older arcd are sealed now, before any other
// connection opens. Throws on a refused key file (wrong mode or size): never runs without it.
void setup_field_encryption(const std::filesystem::path& storage_path) {
    const std::filesystem::path key_path = data_key_path(storage_path);
    const arc::security::data_key key = arc::security::load_or_create_key_file(key_path);
    arc::storage::set_field_key(key);
    arc::storage::database db = arc::storage::database::open(storage_path);
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::size_t sealed = arc::storage::seal_plain_device_keys(db, now_ms);
    if (sealed > 0) {
        spdlog::info("sealed {} device key(s) stored in clear with the data key", sealed);
    }
    spdlog::info("data key {} (id {:08x})", key_path.string(), key.id());
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
        setup_field_encryption(cfg.storage_path);

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
