#include "retention_cli.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "arcctl.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace arc::arcctl {

using nlohmann::json;

namespace {

// A JSON value as a cell: strings bare (empty as "-", control characters as '?'), null as "-".
std::string cell(const json& v) {
    if (v.is_null()) {
        return "-";
    }
    if (v.is_string()) {
        std::string s = v.get<std::string>();
        for (char& c : s) {
            if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f') {
                c = '?';
            }
        }
        return s.empty() ? "-" : s;
    }
    if (v.is_boolean()) {
        return v.get<bool>() ? "yes" : "no";
    }
    return v.dump();
}

std::string at(const json& obj, const char* name) {
    if (!obj.is_object()) {
        return "-";
    }
    const auto it = obj.find(name);
    return it == obj.end() ? "-" : cell(*it);
}

std::string lines(const std::vector<std::pair<std::string, std::string>>& rows) {
    std::size_t width = 0;
    for (const auto& [name, value] : rows) {
        width = std::max(width, name.size());
    }
    std::string out;
    for (const auto& [name, value] : rows) {
        out += fmt::format("{:<{}}  {}\n", name, width, value);
    }
    return out;
}

}  // namespace

struct retention_cli {
    CLI::App* hold_add = nullptr;
    CLI::App* hold_list = nullptr;
    CLI::App* hold_release = nullptr;
    CLI::App* run = nullptr;
    std::int64_t alarm = 0;
    std::int64_t subscriber = 0;
    std::string account;
    std::string reason;
    std::int64_t hold_id = 0;
    bool all = false;
    bool dry_run = false;
};

std::string holds_to_text(const json& holds) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& h : holds) {
        const bool active = h.value("active", false);
        rows.push_back({at(h, "id"), at(h, "scope"), at(h, "ref"),
                        active ? "active" : "released " + at(h, "released"), at(h, "created"),
                        at(h, "created_by"), at(h, "reason")});
    }
    if (rows.empty()) {
        return "no legal holds\n";
    }
    return format_table({"id", "scope", "ref", "state", "created", "by", "reason"}, rows);
}

std::string hold_to_text(const json& h) {
    std::vector<std::pair<std::string, std::string>> rows{
        {"hold", at(h, "id")},
        {"scope", at(h, "scope")},
        {"ref", at(h, "ref")},
        {"reason", at(h, "reason")},
        {"created", at(h, "created")},
        {"created by", at(h, "created_by")},
        {"state", h.value("active", false) ? "active" : "released"}};
    if (!h.value("active", false)) {
        rows.emplace_back("released", at(h, "released"));
        rows.emplace_back("released by", at(h, "released_by"));
        rows.emplace_back("release reason", at(h, "release_reason"));
    }
    return lines(rows);
}

std::string retention_to_text(const json& r) {
    const bool dry = r.value("dry_run", false);
    std::string out = dry ? "dry run: nothing deleted\n" : "";
    std::vector<std::pair<std::string, std::string>> rows{
        {"cutoff", at(r, "cutoff")},
        {dry ? "events to purge" : "events purged", at(r, "events")},
        {dry ? "alarms to purge" : "alarms purged", at(r, "alarms")},
        {dry ? "alarm log rows to purge" : "alarm log rows purged", at(r, "alarm_log")}};
    if (!dry) {
        rows.emplace_back("batches", at(r, "batches"));
    }
    return out + lines(rows);
}

std::string retention_status_to_text(const json& r) {
    if (!r.is_object()) {
        return "";
    }
    const std::int64_t days = r.value("days", std::int64_t{0});
    std::vector<std::pair<std::string, std::string>> rows{
        {"keep", days == 0 ? std::string("forever (days = 0)") : fmt::format("{} days", days)},
        {"daily at", at(r, "run_at") + " local time"},
        {"next run", at(r, "next_run")},
        {"running", at(r, "running")}};
    const json last = r.value("last_run", json(nullptr));
    if (last.is_object()) {
        rows.emplace_back("last run", fmt::format("{} by {} (cutoff {})", at(last, "finished"),
                                                  at(last, "by"), at(last, "cutoff")));
        rows.emplace_back("last purged", fmt::format("{} events, {} alarms", at(last, "events"),
                                                     at(last, "alarms")));
        if (last.contains("error") && last["error"].is_string()) {
            rows.emplace_back("last error", at(last, "error"));
        }
    } else {
        rows.emplace_back("last run", "none since arcd started");
    }
    const json total = r.value("purged_since_start", json::object());
    rows.emplace_back("purged since start", fmt::format("{} events, {} alarms", at(total, "events"),
                                                        at(total, "alarms")));
    return lines(rows);
}

std::shared_ptr<retention_cli> add_retention_commands(CLI::App& app) {
    auto c = std::make_shared<retention_cli>();
    auto* hold = app.add_subcommand("hold", "legal holds: keep cases from the retention purge");
    hold->require_subcommand(1);
    c->hold_add = hold->add_subcommand("add", "hold an alarm, a subscriber or a device account");
    auto* a = c->hold_add->add_option("--alarm", c->alarm, "alarm id")->check(CLI::PositiveNumber);
    auto* s = c->hold_add->add_option("--subscriber", c->subscriber, "subscriber id")
                  ->check(CLI::PositiveNumber);
    auto* d = c->hold_add->add_option("--account", c->account, "device account");
    a->excludes(s)->excludes(d);
    s->excludes(d);
    c->hold_add->add_option("--reason", c->reason, "why (a court order, a complaint)")->required();
    c->hold_list = hold->add_subcommand("list", "the active holds");
    c->hold_list->add_flag("--all", c->all, "released ones too");
    c->hold_release = hold->add_subcommand("release", "end a hold (its rows may then be purged)");
    c->hold_release->add_option("hold", c->hold_id, "hold id")
        ->required()
        ->check(CLI::PositiveNumber);
    c->hold_release->add_option("--reason", c->reason, "why it ends")->required();

    auto* retention = app.add_subcommand("retention", "the purge of old events and alarms");
    retention->require_subcommand(1);
    c->run = retention->add_subcommand("run", "purge now what is older than retention.days");
    c->run->add_flag("--dry-run", c->dry_run, "only count what would be purged");
    return c;
}

std::optional<std::pair<json, std::string>> run_retention_commands(
    const retention_cli& c, const std::function<json(const json&)>& call) {
    if (*c.hold_add) {
        json req{{"cmd", "hold.add"}, {"reason", c.reason}};
        if (c.alarm > 0) {
            req["alarm"] = c.alarm;
        } else if (c.subscriber > 0) {
            req["subscriber"] = c.subscriber;
        } else if (!c.account.empty()) {
            req["account"] = c.account;
        } else {
            throw std::invalid_argument("hold add: give one of --alarm, --subscriber, --account");
        }
        json r = call(req);
        return std::make_pair(r, hold_to_text(r.value("hold", json::object())));
    }
    if (*c.hold_list) {
        json r = call(json{{"cmd", "hold.list"}, {"all", c.all}});
        return std::make_pair(r, holds_to_text(r.value("holds", json::array())));
    }
    if (*c.hold_release) {
        json r = call(json{{"cmd", "hold.release"}, {"hold", c.hold_id}, {"reason", c.reason}});
        return std::make_pair(r, hold_to_text(r.value("hold", json::object())));
    }
    if (*c.run) {
        json r = call(json{{"cmd", "retention.run"}, {"dry_run", c.dry_run}});
        return std::make_pair(r, retention_to_text(r.value("retention", json::object())));
    }
    return std::nullopt;
}

}  // namespace arc::arcctl
