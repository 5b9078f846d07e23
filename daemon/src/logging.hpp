// Purpose: arcd's spdlog setup from [log], and reopening the log file on SIGHUP (logrotate).
#pragma once

#include <filesystem>
#include <string>

namespace arc::daemon {

/// Installs the default logger: stderr when `file` is empty, else the file (appended). Throws
/// std::runtime_error when the level is unknown or the file cannot be opened.
void setup_logging(const std::string& level, const std::filesystem::path& file);

/// Recreates the file sink (after logrotate moved the file); no-op when logging to stderr.
void reopen_log();

}  // namespace arc::daemon
