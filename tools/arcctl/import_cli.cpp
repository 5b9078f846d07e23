#include "import_cli.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arc/api/client.hpp"
#include "arc/api/csv.hpp"

namespace arc::arcctl {

using nlohmann::json;
namespace csv = arc::api::csv;

struct import_cli {
    CLI::App* import_cmd = nullptr;
    CLI::App* export_cmd = nullptr;
    std::string kind;
    std::string file;
    bool dry_run = false;
    std::string separator = "auto";
    std::string export_kind;
    std::string output;
    std::string export_separator = ";";
    bool sensitive = false;
};

namespace {

// One import.rows request stays well under the admin API's 64 KiB request line.
constexpr std::size_t chunk_bytes = 48 * 1024;

struct local_error {
    std::int64_t row;
    std::string column;
    std::string message;
};

std::string read_file(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) {
        throw std::runtime_error(fmt::format("{}: {}", path, ec.message()));
    }
    if (size > import_max_file) {
        throw std::runtime_error(fmt::format("{}: {} bytes; at most {} MiB in one file (split it)",
                                             path, size, import_max_file / (1024 * 1024)));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error(fmt::format("{}: cannot open", path));
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

char separator_of(const std::string& option, std::string_view text) {
    if (option == "auto") {
        if (text.starts_with("\xEF\xBB\xBF")) {
            text.remove_prefix(3);
        }
        return csv::detect_separator(text);
    }
    return option == "," ? ',' : ';';
}

// import.commit; while arcd's worker is busy (a backup or retention run: `busy`, the rows stay
// staged) it is sent again once a second for up to 60 s, then the import is cancelled.
json commit_with_retries(const std::function<json(const json&)>& call, const std::string& id,
                         bool dry_run) {
    constexpr int attempts = 60;
    const json req{{"cmd", "import.commit"}, {"import", id}, {"dry_run", dry_run}};
    std::optional<arc::api::api_error> busy;
    for (int attempt = 1;; ++attempt) {
        try {
            return call(req);
        } catch (const arc::api::api_error& e) {
            if (busy && e.code() == "not_found") {
                throw *busy;  // the busy answer came after arcd had consumed the rows
            }
            if (e.code() != "busy" || attempt == attempts) {
                try {
                    call(json{{"cmd", "import.cancel"}, {"import", id}});
                } catch (const std::exception&) {  // consumed already, or the link is gone
                }
                throw;
            }
            if (!busy) {
                std::cerr << "arcctl: " << e.what() << "; retrying for up to " << attempts
                          << " s\n";
            }
            busy = e;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

import_outcome run_import(const import_cli& c, const std::function<json(const json&)>& call) {
    const std::string text = read_file(c.file);
    const char sep = separator_of(c.separator, text);
    csv::reader reader(sep);
    std::vector<csv::record> records;
    if (!reader.feed(text, records) || !reader.finish(records)) {
        const auto& e = *reader.failure();
        throw std::runtime_error(
            fmt::format("{}:{}: {} (line {}); nothing imported", c.file, e.row, e.message, e.line));
    }
    if (records.empty()) {
        throw std::runtime_error(fmt::format("{}: empty (a header row is needed)", c.file));
    }
    const csv::record& header = records.front();
    if (header.bad_utf8) {
        throw std::runtime_error(
            fmt::format("{}:1: the header is not valid UTF-8 (save the file "
                        "as UTF-8)",
                        c.file));
    }
    const std::string name = std::filesystem::path(c.file).filename().string();
    std::vector<local_error> local;
    const json begun = call(
        json{{"cmd", "import.begin"}, {"kind", c.kind}, {"file", name}, {"header", header.cells}});
    const std::string id = begun.at("import").get<std::string>();
    json chunk = json::array();
    std::size_t chunk_size = 0;
    const auto flush = [&] {
        if (!chunk.empty()) {
            call(json{{"cmd", "import.rows"}, {"import", id}, {"rows", chunk}});
            chunk = json::array();
            chunk_size = 0;
        }
    };
    for (std::size_t i = 1; i < records.size(); ++i) {
        const csv::record& r = records[i];
        const auto row = static_cast<std::int64_t>(r.row);
        if (r.bad_utf8) {
            const std::size_t at = *r.bad_utf8;
            local.push_back(
                {row,
                 at < header.cells.size() ? header.cells[at] : fmt::format("column {}", at + 1),
                 "not valid UTF-8 (save the file as UTF-8)"});
            continue;
        }
        std::vector<std::string> cells;
        cells.reserve(r.cells.size());
        for (const std::string& cell : r.cells) {
            cells.push_back(csv::unguard_formula(cell));  // as export guarded it
        }
        json item{{"row", row}, {"cells", std::move(cells)}};
        const std::size_t size = item.dump().size();
        if (chunk_size + size > chunk_bytes) {
            flush();
        }
        chunk_size += size + 1;
        chunk.push_back(std::move(item));
    }
    flush();
    const bool dry_run = c.dry_run || !local.empty();
    json result = commit_with_retries(call, id, dry_run);

    std::vector<local_error> all = local;
    for (const json& e : result.value("errors", json::array())) {
        all.push_back({e.value("row", std::int64_t{0}), e.value("column", std::string()),
                       e.value("message", std::string())});
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const local_error& a, const local_error& b) { return a.row < b.row; });
    const std::size_t total_errors = local.size() + result.value("errors_total", std::size_t{0});
    std::string out;
    for (const auto& e : all) {
        out += bad_row_line(c.file, e.row, e.column, e.message) + "\n";
    }
    if (total_errors > all.size()) {
        out += fmt::format("{}: ... and {} more\n", c.file, total_errors - all.size());
    }
    const std::size_t rows = records.size() - 1;
    std::set<std::int64_t> bad_rows;
    for (const auto& e : all) {
        bad_rows.insert(e.row);
    }
    int exit_code = 0;
    if (total_errors > 0) {
        out += fmt::format("{}: {} rows, {} with errors; nothing imported\n", c.file, rows,
                           bad_rows.size());
        exit_code = 1;
    } else if (c.dry_run) {
        out += fmt::format("{}: {} rows, all valid (dry run: nothing imported)\n", c.file, rows);
    } else {
        out += fmt::format("{}: imported {} {}\n", c.file, result.value("imported", 0), c.kind);
    }
    result["errors_total"] = total_errors;
    json errors = json::array();
    for (const auto& e : all) {
        errors.push_back(json{{"row", e.row}, {"column", e.column}, {"message", e.message}});
    }
    result["errors"] = std::move(errors);
    return import_outcome{std::move(result), std::move(out), exit_code};
}

import_outcome run_export(const import_cli& c, const std::function<json(const json&)>& call) {
    const char sep = c.export_separator == "," ? ',' : ';';
    // A BOM first: spreadsheets then read the file as UTF-8 (import skips it).
    std::string text = "\xEF\xBB\xBF";
    std::size_t offset = 0;
    std::size_t rows = 0;
    bool first = true;
    for (;;) {
        const json page = call(json{{"cmd", "export"},
                                    {"kind", c.export_kind},
                                    {"sensitive", c.sensitive},
                                    {"offset", offset},
                                    {"limit", 1000}});
        if (first) {
            text += csv::write_record(page.at("columns").get<std::vector<std::string>>(), sep);
            first = false;
        }
        for (const json& r : page.at("rows")) {
            // A cell a spreadsheet would run as a formula is written as text.
            std::vector<std::string> cells = r.get<std::vector<std::string>>();
            for (std::string& cell : cells) {
                cell = csv::guard_formula(std::move(cell));
            }
            text += csv::write_record(cells, sep);
            ++rows;
        }
        if (page.value("next", json(nullptr)).is_null()) {
            break;
        }
        offset = page["next"].get<std::size_t>();
    }
    json result{{"kind", c.export_kind}, {"rows", rows}, {"sensitive", c.sensitive}};
    if (c.output.empty()) {
        return import_outcome{std::move(result), std::move(text), 0};
    }
    const std::string tmp = c.output + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) {
            throw std::runtime_error(fmt::format("{}: cannot write", tmp));
        }
    }
    std::filesystem::rename(tmp, c.output);
    result["output"] = c.output;
    return import_outcome{std::move(result),
                          fmt::format("wrote {} {} to {}\n", rows, c.export_kind, c.output), 0};
}

}  // namespace

std::string bad_row_line(const std::string& file, std::int64_t row, const std::string& column,
                         const std::string& message) {
    std::string line = fmt::format("{}:{}: {}: {}", file, row, column, message);
    for (char& ch : line) {
        if (static_cast<unsigned char>(ch) < 0x20) {
            ch = '?';  // a cell's line break or a terminal escape
        }
    }
    return line;
}

std::shared_ptr<import_cli> add_import_commands(CLI::App& app) {
    auto c = std::make_shared<import_cli>();
    const std::vector<std::string> kinds{"subscribers", "contacts", "devices", "teams"};
    c->import_cmd = app.add_subcommand(
        "import", "load subscribers, contacts, devices or teams from a CSV file: all rows or none");
    c->import_cmd->add_option("kind", c->kind, "subscribers, contacts, devices or teams")
        ->required()
        ->check(CLI::IsMember(kinds));
    c->import_cmd->add_option("file", c->file, "the CSV file (UTF-8, header row)")->required();
    c->import_cmd->add_flag("--dry-run", c->dry_run,
                            "check every row and report the bad ones; import nothing");
    c->import_cmd
        ->add_option("--separator", c->separator,
                     "auto (from the header row), ';' or ','; default auto")
        ->check(CLI::IsMember({"auto", ";", ","}));
    c->export_cmd =
        app.add_subcommand("export", "write subscribers, contacts, devices or teams as CSV");
    c->export_cmd->add_option("kind", c->export_kind, "subscribers, contacts, devices or teams")
        ->required()
        ->check(CLI::IsMember(kinds));
    c->export_cmd->add_option("--output,-o", c->output, "the file to write (default stdout)");
    c->export_cmd->add_option("--separator", c->export_separator, "';' (default) or ','")
        ->check(CLI::IsMember({";", ","}));
    c->export_cmd->add_flag("--sensitive", c->sensitive,
                            "include medical notes, key-safe codes and device keys (audited)");
    return c;
}

std::optional<import_outcome> run_import_commands(const import_cli& cli,
                                                  const std::function<json(const json&)>& call) {
    if (*cli.import_cmd) {
        return run_import(cli, call);
    }
    if (*cli.export_cmd) {
        return run_export(cli, call);
    }
    return std::nullopt;
}

}  // namespace arc::arcctl
