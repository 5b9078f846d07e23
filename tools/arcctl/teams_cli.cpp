#include "teams_cli.hpp"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "arcctl.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace arc::arcctl {

using nlohmann::json;

struct team_cli {
    CLI::App* add = nullptr;
    CLI::App* update = nullptr;
    CLI::App* show = nullptr;
    CLI::App* list = nullptr;
    CLI::App* state = nullptr;
    CLI::App* remove = nullptr;
    CLI::App* propose = nullptr;
    std::string name;
    std::string new_name;
    std::string phone;
    std::vector<std::string> members;
    std::vector<std::string> territory;
    std::string schedule;
    std::vector<std::string> holidays;
    std::string state_value;
    std::string at;
    std::int64_t alarm = 0;
    std::string comune;
};

namespace {

// Free text from the server as a cell: control characters shown as '?', empty as "-".
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

std::string joined(const json& list) {
    if (!list.is_array() || list.empty()) {
        return "-";
    }
    std::string out;
    for (const auto& v : list) {
        out += (out.empty() ? "" : ", ") + cell(v);
    }
    return out;
}

// "yes, until 2026-12-10 08:00", "no, from 2026-12-09 17:00", "no (off_duty)".
std::string duty_text(const json& t) {
    const json change = t.value("schedule_change_local", json());
    if (t.value("on_duty", false)) {
        return change.is_string() ? "yes, until " + cell(change) : "yes";
    }
    if (t.contains("schedule_error")) {
        return "no (bad schedule)";
    }
    if (t.value("scheduled_on_duty", false)) {
        return "no (" + at(t, "state") + ")";
    }
    return change.is_string() ? "no, from " + cell(change) : "no";
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

bool given(const CLI::App& cmd, const char* name) {
    const CLI::Option* opt = cmd.get_option_no_throw(name);
    return opt != nullptr && opt->count() > 0;
}

// The schedule text with the --holiday days appended as clauses.
std::string with_holidays(std::string schedule, const std::vector<std::string>& holidays) {
    for (const auto& h : holidays) {
        schedule += "; holiday " + h;
    }
    return schedule;
}

void team_options(CLI::App& cmd, team_cli& c) {
    cmd.add_option("--phone", c.phone, "the team's phone");
    cmd.add_option("--member", c.members, "a member's name (repeat for several)");
    cmd.add_option("--territory", c.territory, "comuni served, e.g. Torino,Moncalieri")
        ->delimiter(',');
    cmd.add_option("--schedule", c.schedule,
                   "outside-office-hours, 24x7, or ranges such as "
                   "'mon-fri 17:00-08:00; sat,sun,holidays 00:00-24:00'");
    cmd.add_option("--holiday", c.holidays,
                   "a local holiday: MM-DD every year (06-24) or YYYY-MM-DD (repeat)");
}

json team_request(const CLI::App& cmd, const team_cli& c) {
    json req = json::object();
    if (given(cmd, "--phone")) {
        req["phone"] = c.phone;
    }
    if (given(cmd, "--member")) {
        req["members"] = c.members;
    }
    if (given(cmd, "--territory")) {
        req["territory"] = c.territory;
    }
    if (given(cmd, "--schedule")) {
        req["schedule"] = with_holidays(c.schedule, c.holidays);
    }
    return req;
}

}  // namespace

std::string teams_to_text(const json& teams) {
    if (!teams.is_array() || teams.empty()) {
        return "no teams (add one with: arcctl team add NAME --territory Torino --schedule 24x7)\n";
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : teams) {
        rows.push_back({at(t, "name"), duty_text(t), at(t, "state"), at(t, "phone"),
                        joined(t.value("territory", json::array())), at(t, "schedule")});
    }
    return format_table({"name", "on duty now", "state", "phone", "territory", "schedule"}, rows);
}

std::string team_to_text(const json& t) {
    return lines({{"name", at(t, "name")},
                  {"on duty now", duty_text(t)},
                  {"state", at(t, "state")},
                  {"phone", at(t, "phone")},
                  {"members", joined(t.value("members", json::array()))},
                  {"territory", joined(t.value("territory", json::array()))},
                  {"schedule", at(t, "schedule")},
                  {"created", at(t, "created")},
                  {"updated", at(t, "updated")}});
}

std::string proposal_to_text(const json& r) {
    std::string head = "teams for " + at(r, "comune");
    if (r.contains("alarm")) {
        head = fmt::format("teams for alarm {} (subscriber {}, {})", at(r, "alarm"),
                           at(r.value("subscriber", json::object()), "code"), at(r, "comune"));
    }
    head += " at " + at(r, "at") + "\n";
    const json teams = r.value("teams", json::array());
    if (teams.empty()) {
        return head + "no team on duty covers " + at(r, "comune") + "\n";
    }
    std::vector<std::vector<std::string>> rows;
    std::size_t n = 0;
    for (const auto& t : teams) {
        rows.push_back(
            {std::to_string(++n), at(t, "name"), at(t, "state"), at(t, "phone"), at(t, "why")});
    }
    return head + format_table({"#", "team", "state", "phone", "why"}, rows);
}

std::shared_ptr<team_cli> add_team_commands(CLI::App& app) {
    auto c = std::make_shared<team_cli>();
    auto* team = app.add_subcommand("team", "PIS teams: territory, duty schedule, state, dispatch");
    team->require_subcommand(1);
    c->add = team->add_subcommand("add", "add a team");
    c->add->add_option("name", c->name, "team name, e.g. \"PIS Torino Nord\"")->required();
    team_options(*c->add, *c);
    c->add->get_option("--territory")->required();
    c->add->get_option("--schedule")->required();
    c->update = team->add_subcommand("update", "change some fields of a team");
    c->update->add_option("name", c->name, "team name")->required();
    c->update->add_option("--name", c->new_name, "new name");
    team_options(*c->update, *c);
    c->show = team->add_subcommand("show", "one team");
    c->show->add_option("name", c->name, "team name")->required();
    c->list = team->add_subcommand("list", "the teams, on duty now or not, and their state");
    for (CLI::App* cmd : {c->show, c->list}) {
        cmd->add_option("--at", c->at, "at this instant instead of now: YYYY-MM-DDTHH:MM:SSZ");
    }
    c->state = team->add_subcommand("state", "available, or off_duty (overrides the schedule)");
    c->state->add_option("name", c->name, "team name")->required();
    c->state->add_option("state", c->state_value, "available, off_duty or on_mission")
        ->required()
        ->check(CLI::IsMember({"available", "off_duty", "on_mission"}));
    c->remove = team->add_subcommand("remove", "remove a team");
    c->remove->add_option("name", c->name, "team name")->required();
    c->propose = team->add_subcommand(
        "propose",
        "the teams to dispatch: on duty, territory covering the comune, available first");
    auto* alarm = c->propose->add_option("--alarm", c->alarm, "alarm id (its subscriber's comune)")
                      ->check(CLI::PositiveNumber);
    auto* comune = c->propose->add_option("--comune", c->comune, "a comune");
    alarm->excludes(comune);
    c->propose->add_option("--at", c->at, "at this instant instead of now: YYYY-MM-DDTHH:MM:SSZ");
    return c;
}

std::optional<std::pair<json, std::string>> run_team_commands(
    const team_cli& c, const std::function<json(const json&)>& call) {
    const auto team_result = [&](const json& req) {
        json r = call(req);
        return std::make_pair(r, team_to_text(r.value("team", json::object())));
    };
    const auto with_at = [&](json req) {
        if (!c.at.empty()) {
            req["at"] = c.at;
        }
        return req;
    };
    if (*c.add) {
        json req = team_request(*c.add, c);
        req["cmd"] = "team.add";
        req["name"] = c.name;
        return team_result(req);
    }
    if (*c.update) {
        json req = team_request(*c.update, c);
        if (given(*c.update, "--holiday") && !given(*c.update, "--schedule")) {
            // Holidays join the schedule text: add them to the stored one.
            const json current = call(json{{"cmd", "team.show"}, {"team", c.name}});
            req["schedule"] = with_holidays(
                current.value("team", json::object()).value("schedule", std::string()), c.holidays);
        }
        if (given(*c.update, "--name")) {
            req["name"] = c.new_name;
        }
        if (req.empty()) {
            throw std::invalid_argument("team update: give at least one field to change");
        }
        req["cmd"] = "team.update";
        req["team"] = c.name;
        return team_result(req);
    }
    if (*c.show) {
        return team_result(with_at(json{{"cmd", "team.show"}, {"team", c.name}}));
    }
    if (*c.list) {
        json r = call(with_at(json{{"cmd", "team.list"}}));
        return std::make_pair(r, teams_to_text(r.value("teams", json::array())));
    }
    if (*c.state) {
        return team_result(
            json{{"cmd", "team.set_state"}, {"team", c.name}, {"state", c.state_value}});
    }
    if (*c.remove) {
        json r = call(json{{"cmd", "team.remove"}, {"team", c.name}});
        return std::make_pair(r, fmt::format("removed team {}\n", c.name));
    }
    if (*c.propose) {
        json req{{"cmd", "team.propose"}};
        if (given(*c.propose, "--alarm")) {
            req["alarm"] = c.alarm;
        } else if (given(*c.propose, "--comune")) {
            req["comune"] = c.comune;
        } else {
            throw std::invalid_argument("team propose: give --alarm ID or --comune NAME");
        }
        json r = call(with_at(req));
        return std::make_pair(r, proposal_to_text(r));
    }
    return std::nullopt;
}

}  // namespace arc::arcctl
