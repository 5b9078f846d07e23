#include "logging.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace arc::daemon {
namespace {

std::filesystem::path log_file_path;
spdlog::level::level_enum log_level = spdlog::level::info;
bool log_journald = false;

std::shared_ptr<spdlog::logger> make_logger() {
    spdlog::sink_ptr sink;
    if (!log_file_path.empty()) {
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file_path.string(), false);
    } else if (log_journald) {
        // The journal stamps time and priority itself (journalctl -p warning): message only.
        sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("arcd");
    } else {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    }
    auto logger = std::make_shared<spdlog::logger>("arcd", std::move(sink));
    logger->set_level(log_level);
    if (log_journald && log_file_path.empty()) {
        logger->set_pattern("%v");
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    }
    logger->flush_on(spdlog::level::warn);
    return logger;
}

// Empty when a datagram socket connects to journald's native socket, else why not.
std::string journal_unreachable() {
    constexpr std::string_view path = "/run/systemd/journal/socket";
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return std::strerror(errno);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(path.begin(), path.end(), addr.sun_path);
    std::string error;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        error = fmt::format("{}: {}", path, std::strerror(errno));
    }
    ::close(fd);
    return error;
}

}  // namespace

log_target parse_log_target(const std::string& text) {
    if (text == "auto") {
        return log_target::automatic;
    }
    if (text == "journald") {
        return log_target::journald;
    }
    if (text == "stderr") {
        return log_target::stderr_;
    }
    throw std::runtime_error(
        fmt::format("--log: unknown target '{}' (auto, journald or stderr)", text));
}

bool stderr_is_journal() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (env == nullptr || *env == '\0') {
        return false;
    }
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) {
        return false;
    }
    return std::string_view(env) == fmt::format("{}:{}", st.st_dev, st.st_ino);
}

void setup_logging(const std::string& level, const std::filesystem::path& file, log_target target) {
    const auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off") {
        throw std::runtime_error(fmt::format("log.level: unknown level '{}'", level));
    }
    log_level = parsed;
    log_file_path = file;
    log_journald = false;
    std::string journal_error;
    if (file.empty() && (target == log_target::journald ||
                         (target == log_target::automatic && stderr_is_journal()))) {
        // Probe once: sd_journal_send drops messages silently when no journald listens (a
        // container, no systemd-journald); arcd then logs to stderr and says why.
        journal_error = journal_unreachable();
        log_journald = journal_error.empty();
    }
    if (!file.empty() && file.has_parent_path()) {
        std::filesystem::create_directories(file.parent_path());
    }
    try {
        spdlog::set_default_logger(make_logger());
    } catch (const spdlog::spdlog_ex& e) {
        throw std::runtime_error(fmt::format("log.file: {}", e.what()));
    }
    spdlog::flush_every(std::chrono::seconds(1));
    if (!journal_error.empty()) {
        spdlog::warn("--log journald: the journal is not reachable ({}); logging to stderr",
                     journal_error);
    }
}

void log_exception(std::string_view what, const std::exception_ptr& e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        spdlog::error("{}: {}", what, ex.what());
    } catch (...) {
        spdlog::error("{}: unknown exception", what);
    }
}

void reopen_log() {
    if (log_file_path.empty()) {
        return;
    }
    try {
        spdlog::default_logger()->flush();
        spdlog::set_default_logger(make_logger());
    } catch (const spdlog::spdlog_ex& e) {
        spdlog::error("cannot reopen log file {}: {}", log_file_path.string(), e.what());
    }
}

}  // namespace arc::daemon
