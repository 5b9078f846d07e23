// arcd: the alarm-receiving centre daemon (DC-09 over TCP/UDP, admin API on a Unix socket).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "logging.hpp"
#include "server.hpp"
#include "systemd_notify.hpp"
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "arc/config/daemon_config.hpp"
#include "arc/config/event_codes.hpp"
#include "arc/security/field_crypto.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/store.hpp"
#include "arc/teams/schedule.hpp"

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

// The next key during a rotation: written first, renamed over the key file last.
std::filesystem::path next_key_path(const std::filesystem::path& key_path) {
    return key_path.string() + ".next";
}

// Seals every sensitive field again with the key in `key_path`.next, then makes it the key
// file. Safe to repeat after a crash at any step: rows open with either key until the rename.
std::size_t finish_rotation(const std::filesystem::path& storage_path,
                            const std::filesystem::path& key_path) {
    const arc::security::data_key current = arc::security::load_or_create_key_file(key_path);
    const arc::security::data_key next =
        arc::security::load_or_create_key_file(next_key_path(key_path));
    arc::storage::database db = arc::storage::database::open(storage_path);
    const std::vector<arc::security::data_key> openers{current, next};
    const std::size_t written = arc::storage::reseal_fields(db, openers, next);
    std::filesystem::rename(next_key_path(key_path), key_path);
    spdlog::info("data key rotated: {} field(s) sealed with key {:08x} (was {:08x}); {}", written,
                 next.id(), current.id(), key_path.string());
    return written;
}

// Refuses to rotate while an arcd answers on the admin socket (it holds the old key).
bool arcd_running(const std::filesystem::path& api_socket) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = api_socket.string();
    if (path.size() >= sizeof(addr.sun_path)) {
        ::close(fd);
        return false;
    }
    std::copy(path.begin(), path.end(), addr.sun_path);
    const bool up = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return up;
}

// Loads (or creates at the first start) the data key and makes storage seal sensitive fields
// with it; device keys stored in clear by an older arcd are sealed now, before any other
// connection opens. Throws on a refused key file (wrong mode or size): never runs without it.
void setup_field_encryption(const std::filesystem::path& storage_path) {
    const std::filesystem::path key_path = data_key_path(storage_path);
    if (std::filesystem::exists(next_key_path(key_path))) {
        spdlog::warn("{} exists: finishing an interrupted key rotation",
                     next_key_path(key_path).string());
        finish_rotation(storage_path, key_path);
    }
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

// The STATUS= line systemd shows once arcd is ready (systemctl status arcd).
std::string listening_status(const arc::config::daemon_config& cfg,
                             const arc::daemon::server& srv) {
    std::vector<std::string> parts;
    if (cfg.dc09_tcp.enabled) {
        parts.push_back(fmt::format("DC-09 TCP {}:{}", cfg.dc09_tcp.host, srv.tcp_port()));
    }
    if (cfg.dc09_udp.enabled) {
        parts.push_back(fmt::format("DC-09 UDP {}:{}", cfg.dc09_udp.host, srv.udp_port()));
    }
    if (!cfg.api_socket.empty()) {
        parts.push_back(fmt::format("admin API {}", cfg.api_socket.string()));
    }
    return fmt::format("listening on {}", fmt::join(parts, ", "));
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"arcd: Telesoccorso alarm-receiving centre daemon"};
    std::string config_file;
    std::vector<std::string> overrides;
    app.add_option("--config", config_file, "configuration file (arcd.toml)")->required();
    app.add_option("--set", overrides, "override a configuration key: key=value (repeatable)");
    bool rotate_key = false;
    app.add_flag("--rotate-data-key", rotate_key,
                 "make a new data key, seal every sensitive field with it, replace the key file, "
                 "and exit (arcd must be stopped)");
    std::string log_to = "auto";
    app.add_option("--log", log_to,
                   "where logs go when log.file is empty: auto (journald under systemd, else "
                   "stderr), journald or stderr")
        ->check(CLI::IsMember({"auto", "journald", "stderr"}))
        ->capture_default_str();
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
        arc::daemon::setup_logging(cfg.log_level, cfg.log_file,
                                   arc::daemon::parse_log_target(log_to));
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
        if (rotate_key) {
            if (arcd_running(cfg.api_socket)) {
                throw std::runtime_error(
                    fmt::format("--rotate-data-key: an arcd answers on {}: stop it first",
                                cfg.api_socket.string()));
            }
            const std::filesystem::path key_path = data_key_path(cfg.storage_path);
            if (!std::filesystem::exists(key_path)) {
                throw std::runtime_error(
                    fmt::format("--rotate-data-key: no data key {} yet (start arcd once first)",
                                key_path.string()));
            }
            finish_rotation(cfg.storage_path, key_path);
            spdlog::shutdown();
            return 0;
        }
        setup_field_encryption(cfg.storage_path);

        arc::storage::writer writer(cfg.storage_path, {.queue_limit = cfg.storage_queue_limit,
                                                       .max_batch = cfg.storage_max_batch});
        boost::asio::io_context io(1);
        // systemd: pings from the io thread while the writer makes progress (or has nothing to
        // do); READY=1 once started and io.run() runs; STOPPING=1 when a shutdown begins.
        arc::daemon::systemd::watchdog dog(
            io, [&writer, progress = arc::daemon::systemd::writer_progress{}]() mutable {
                return progress.update(writer.snapshot());
            });
        arc::daemon::server_options opts;
        opts.on_sighup = [] { arc::daemon::reopen_log(); };
        opts.on_stop = [&dog] {
            arc::daemon::systemd::notify_stopping();
            dog.stop();
        };
        opts.event_codes = std::move(event_codes);
        try {
            // Duty schedules and the dispatch proposal read Italian local time from tzdata.
            (void)arc::teams::format_local(std::chrono::time_point_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now()));
        } catch (const std::exception& e) {
            spdlog::error(
                "time zone Europe/Rome unavailable ({}): team duty schedules and the "
                "dispatch proposal fail until tzdata is installed (apt-get install "
                "tzdata); alarms are received and shown as usual",
                e.what());
        }
        arc::daemon::server srv(io, cfg, writer, opts);
        srv.start();
        dog.start();
        arc::daemon::systemd::post_ready(io, listening_status(cfg, srv));
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
