#include "report_cli.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "arcctl.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "arc/api/report_json.hpp"
#include "arc/storage/report.hpp"
#include "arc/storage/store.hpp"

namespace arc::arcctl {

using nlohmann::json;

struct report_cli {
    CLI::App* cmd = nullptr;
    std::string from;
    std::string to;
    bool csv = false;
    std::string db;
    std::string output;
};

namespace {

std::string str(const json& obj, const char* key) {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return "-";
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string pct(const json& obj, const char* key) {
    return fmt::format("{:.0f}%", 100.0 * obj.value(key, 0.0));
}

std::string secs(const json& obj, const char* key) {
    const double s = obj.value(key, 0.0);
    if (s < 10) {
        return fmt::format("{:.1f}s", s);
    }
    return s < 120 ? fmt::format("{:.0f}s", s) : format_duration(static_cast<std::int64_t>(s));
}

std::vector<std::string> stats_row(const std::string& name, const json& st, const char* first,
                                   const char* second) {
    return {name,
            str(st, "count"),
            str(st, "reached"),
            pct(st, fmt::format("share_{}", first).c_str()),
            pct(st, fmt::format("share_{}", second).c_str()),
            secs(st, "median_s"),
            secs(st, "p90_s"),
            secs(st, "max_s")};
}

json build_offline(const std::string& path, std::int64_t from, std::int64_t to) {
    if (!std::filesystem::exists(path)) {
        throw std::runtime_error(path + ": no such database");
    }
    auto db = arc::storage::database::open_read_only(path);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return arc::api::report_to_json(arc::storage::build_report(db, from, to, now));
}

}  // namespace

std::int64_t next_local_midnight(std::int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    localtime_r(&t, &tm);
    tm.tm_mday += 1;
    tm.tm_hour = 0;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    t = std::mktime(&tm);
    return static_cast<std::int64_t>(t) * 1000;
}

std::optional<std::int64_t> parse_local_date(const std::string& text) {
    std::tm tm{};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0;
    char tail = 0;
    const int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%c", &y, &mo, &d, &h, &mi, &tail);
    if (!(n == 3 && text.size() == 10) && !(n == 5 && text.size() == 16)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || y < 1970 || y > 9999) {
        return std::nullopt;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_isdst = -1;  // the zone's rule decides (CET or CEST in Italy)
    const std::time_t t = std::mktime(&tm);
    if (t == -1 || tm.tm_mday != d || tm.tm_mon != mo - 1) {
        return std::nullopt;  // 31/02 normalised to March: not a date
    }
    return static_cast<std::int64_t>(t) * 1000;
}

std::string report_to_text(const json& r) {
    std::string out;
    const json& alarms = r["alarms"];
    out += fmt::format("Service report {} .. {} (generated {})\n\n", str(r, "from"), str(r, "to"),
                       str(r, "generated"));
    out += fmt::format(
        "Alarms: {} ({} storm members counted in their storm; {} closed by the system with "
        "nobody needed)\n",
        str(alarms, "total"), str(alarms, "storm_members"), str(alarms, "auto_closed"));
    std::vector<std::vector<std::string>> rows;
    for (const json& c : alarms["by_class_kind"]) {
        rows.push_back({str(c, "class"), str(c, "kind"), str(c, "count")});
    }
    out += format_table({"class", "kind", "alarms"}, rows) + "\n";

    out += "Answer time (receipt -> first operator step; targets 60 s and 180 s)\n";
    rows.clear();
    rows.push_back(stats_row("all", r["answer"]["all"], "60s", "180s"));
    for (const json& c : r["answer"]["by_class"]) {
        rows.push_back(stats_row(str(c, "class"), c, "60s", "180s"));
    }
    out += format_table({"class", "alarms", "answered", "<=60s", "<=180s", "median", "p90", "max"},
                        rows);
    rows.clear();
    for (const json& c : r["answer"]["by_operator"]) {
        rows.push_back(stats_row(str(c, "operator"), c, "60s", "180s"));
    }
    if (!rows.empty()) {
        out += format_table(
            {"operator", "alarms", "answered", "<=60s", "<=180s", "median", "p90", "max"}, rows);
    }
    out += "\nDispatch time (receipt -> dispatched)\n";
    rows.clear();
    const auto dispatch_row = [](const std::string& name, const json& st) {
        return std::vector<std::string>{name, str(st, "count"), secs(st, "median_s"),
                                        secs(st, "p90_s"), secs(st, "max_s")};
    };
    rows.push_back(dispatch_row("all", r["dispatch"]["all"]));
    for (const json& c : r["dispatch"]["by_class"]) {
        rows.push_back(dispatch_row(str(c, "class"), c));
    }
    out += format_table({"class", "dispatched", "median", "p90", "max"}, rows);
    out += "\nOn site per team (dispatched -> on site; targets 45 and 60 min)\n";
    rows.clear();
    for (const json& c : r["on_site"]["by_team"]) {
        rows.push_back(stats_row(str(c, "team"), c, "45min", "60min"));
    }
    out += rows.empty() ? "  no missions\n"
                        : format_table({"team", "missions", "on site", "<=45min", "<=60min",
                                        "median", "p90", "max"},
                                       rows);
    out += "\nOutcomes (closed alarms)\n";
    rows.clear();
    for (const json& c : r["outcomes"]) {
        rows.push_back({str(c, "outcome"), str(c, "count")});
    }
    out += rows.empty() ? "  none closed\n" : format_table({"outcome", "alarms"}, rows);
    out += "\nMissions by outcome\n";
    rows.clear();
    for (const json& c : r["mission_outcomes"]) {
        const std::string name = str(c, "outcome");
        rows.push_back({name.empty() ? "(still open)" : name, str(c, "count")});
    }
    out += rows.empty() ? "  no missions\n" : format_table({"outcome", "missions"}, rows);
    out += "\nUntaken after 180 s\n";
    rows.clear();
    for (const json& a : r["untaken"]) {
        rows.push_back({str(a, "alarm"), str(a, "class"), str(a, "kind"), str(a, "account"),
                        str(a, "opened"), str(a, "taken"), str(a, "taken_by"), secs(a, "wait_s")});
    }
    out +=
        rows.empty()
            ? "  none\n"
            : format_table({"alarm", "class", "kind", "account", "opened", "taken", "by", "waited"},
                           rows);
    return out;
}

std::shared_ptr<report_cli> add_report_command(CLI::App& app) {
    auto cli = std::make_shared<report_cli>();
    cli->cmd = app.add_subcommand(
        "report",
        "service-level report: alarms, answer time (share within 60/180 s), dispatch, time on "
        "site per team, outcomes, alarms untaken past 180 s");
    cli->cmd->add_option("--from", cli->from, "first day, YYYY-MM-DD local time (or T HH:MM)")
        ->required();
    cli->cmd->add_option("--to", cli->to, "last day, inclusive (default: today)");
    cli->cmd->add_flag("--csv", cli->csv, "CSV for spreadsheets (one section per table)");
    cli->cmd->add_option("--db", cli->db,
                         "read this database file directly, read-only (arcd stopped or not)");
    cli->cmd->add_option("--output", cli->output, "write to this file instead of stdout");
    return cli;
}

std::optional<int> run_report_command(const report_cli& cli, bool json_out,
                                      const std::function<json(const json&)>& call) {
    if (cli.cmd == nullptr || !*cli.cmd) {
        return std::nullopt;
    }
    const auto from = parse_local_date(cli.from);
    if (!from) {
        std::cerr << "arcctl: --from: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, got '" << cli.from
                  << "'\n";
        return 2;
    }
    std::int64_t to = 0;
    if (cli.to.empty()) {
        to = next_local_midnight(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());  // today inclusive
    } else {
        const auto last = parse_local_date(cli.to);
        if (!last) {
            std::cerr << "arcctl: --to: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM, got '" << cli.to
                      << "'\n";
            return 2;
        }
        // A day is inclusive (up to the next local midnight); a time is the end itself.
        to = cli.to.size() == 10 ? next_local_midnight(*last) : *last;
    }
    if (to <= *from) {
        std::cerr << "arcctl: --to: must be after --from\n";
        return 2;
    }
    json report;
    if (!cli.db.empty()) {
        try {
            report = build_offline(cli.db, *from, to);
        } catch (const std::exception& e) {
            std::cerr << "arcctl: " << e.what() << '\n';
            return 1;
        }
    } else {
        report = call(json{{"cmd", "report"}, {"from_ms", *from}, {"to_ms", to}})["report"];
    }
    const std::string text = cli.csv    ? arc::api::report_to_csv(report)
                             : json_out ? report.dump() + "\n"
                                        : report_to_text(report);
    if (cli.output.empty()) {
        std::cout << text;
        return 0;
    }
    std::ofstream f(cli.output, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
        std::cerr << "arcctl: " << cli.output << ": cannot write\n";
        return 1;
    }
    return 0;
}

}  // namespace arc::arcctl
