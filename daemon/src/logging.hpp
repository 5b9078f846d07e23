// Purpose: arcd's spdlog setup from [log], and reopening the log file on SIGHUP (logrotate).
#pragma once

#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

namespace arc::daemon {

/// Where logs go when `log.file` is empty (`arcd --log`).
enum class log_target {
    automatic,  ///< journald when stderr is the journal stream systemd gave arcd, else stderr
    journald,   ///< journald with priorities (falls back to stderr, with a warning, without one)
    stderr_,    ///< stderr, one timestamped line per message
};

/// Parses "auto", "journald" or "stderr"; throws std::runtime_error naming `--log` otherwise.
log_target parse_log_target(const std::string& text);

/// True when stderr is the stream systemd connected to the journal (JOURNAL_STREAM, holding
/// "device:inode", matches stderr's; see systemd.exec(5)).
bool stderr_is_journal();

/// Installs the default logger: the file (appended) when `file` is set, else journald or stderr
/// as `target` says. Throws std::runtime_error when the level is unknown or the file cannot be
/// opened.
void setup_logging(const std::string& level, const std::filesystem::path& file,
                   log_target target = log_target::stderr_);

/// Logs, as an error under `what`, the exception a finished coroutine ended with; no-op when `e`
/// is empty (the completion handler of every net::co_spawn in arcd).
void log_exception(std::string_view what, const std::exception_ptr& e);

/// Recreates the file sink (after logrotate moved the file); no-op without a log file.
void reopen_log();

}  // namespace arc::daemon
