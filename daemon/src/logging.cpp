#include "logging.hpp"

#include <memory>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace arc::daemon {
namespace {

std::filesystem::path log_file_path;
spdlog::level::level_enum log_level = spdlog::level::info;

std::shared_ptr<spdlog::logger> make_logger() {
    spdlog::sink_ptr sink;
    if (log_file_path.empty()) {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file_path.string(), false);
    }
    auto logger = std::make_shared<spdlog::logger>("arcd", std::move(sink));
    logger->set_level(log_level);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    logger->flush_on(spdlog::level::warn);
    return logger;
}

}  // namespace

void setup_logging(const std::string& level, const std::filesystem::path& file) {
    const auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off") {
        throw std::runtime_error(fmt::format("log.level: unknown level '{}'", level));
    }
    log_level = parsed;
    log_file_path = file;
    if (!file.empty() && file.has_parent_path()) {
        std::filesystem::create_directories(file.parent_path());
    }
    try {
        spdlog::set_default_logger(make_logger());
    } catch (const spdlog::spdlog_ex& e) {
        throw std::runtime_error(fmt::format("log.file: {}", e.what()));
    }
    spdlog::flush_every(std::chrono::seconds(1));
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
