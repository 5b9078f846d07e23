#include "cases_cli.hpp"

#include <string>
#include <utility>
#include <vector>

#include "arcctl.hpp"
#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace arc::arcctl {

using nlohmann::json;

namespace {

// A text field for the terminal: control characters as '?', empty or missing as "-".
std::string shown(const json& obj, const char* name) {
    if (!obj.is_object()) {
        return "-";
    }
    const auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) {
        return "-";
    }
    std::string s = it->is_string() ? it->get<std::string>() : it->dump();
    for (char& c : s) {
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == '\x7f') {
            c = '?';
        }
    }
    return s.empty() ? "-" : s;
}

}  // namespace

struct cases_cli {
    CLI::App* open = nullptr;
    std::string category;
    std::string urgency = "urgent";
    std::string caller_kind;
    std::string caller_name;
    std::string caller_phone;
    std::string subscriber;
    std::string person;
    std::string details;
    std::string comune;
    std::string address;
    std::string summary;
    std::string actor = "admin";
    bool no_take = false;
};

std::string case_to_text(const json& c) {
    const json caller = c.value("caller", json::object());
    const json person = c.value("person", json::object());
    const json place = c.value("place", json::object());
    std::string who = shown(caller, "kind");
    if (shown(caller, "name") != "-") {
        who += ": " + shown(caller, "name");
    }
    if (shown(caller, "phone") != "-") {
        who += ", " + shown(caller, "phone");
    }
    std::string concerned = shown(person, "name");
    if (shown(person, "subscriber") != "-") {
        concerned += " (subscriber " + shown(person, "subscriber") + ")";
    }
    std::string where = shown(place, "comune");
    if (shown(place, "address") != "-") {
        where = shown(place, "address") + ", " + where;
    }
    std::string out;
    const std::vector<std::pair<std::string, std::string>> rows{
        {"alarm", shown(c, "alarm")},
        {"category", shown(c, "category")},
        {"caller", who},
        {"person", concerned},
        {"details", shown(person, "details")},
        {"place", where},
        {"summary", shown(c, "summary")},
        {"opened by", shown(c, "created_by")},
        {"opened", shown(c, "created")}};
    for (const auto& [name, value] : rows) {
        out += fmt::format("{:<9}  {}\n", name, value);
    }
    return out;
}

std::shared_ptr<cases_cli> add_case_commands(CLI::App& app) {
    auto c = std::make_shared<cases_cli>();
    auto* group = app.add_subcommand(
        "case", "phone reports (segnalazioni): a call with no device behind it becomes an alarm");
    group->require_subcommand(1);
    c->open = group->add_subcommand(
        "open", "open a case from a call; it joins the queue and is dispatched like an alarm");
    c->open->add_option("--category", c->category, "what it is about")
        ->required()
        ->check(CLI::IsMember({"frail_elderly", "housing_emergency", "essential_goods",
                               "domestic_violence", "minor_in_danger", "other"}));
    c->open->add_option("--urgency", c->urgency, "critical or urgent (default urgent)")
        ->check(CLI::IsMember({"critical", "urgent"}));
    c->open->add_option("--caller", c->caller_kind, "who called")
        ->required()
        ->check(CLI::IsMember({"citizen", "police", "health_service", "social_service", "other"}));
    c->open->add_option("--caller-name", c->caller_name, "the caller's name");
    c->open->add_option("--caller-phone", c->caller_phone, "the caller's number");
    auto* sub = c->open->add_option("--subscriber", c->subscriber,
                                    "the person is this subscriber (code, e.g. TS-0042)");
    auto* person = c->open->add_option("--person", c->person, "the person's name (someone new)");
    sub->excludes(person);
    c->open->add_option("--details", c->details, "about the person (age, situation)");
    c->open->add_option("--comune", c->comune, "where (default: the subscriber's comune)");
    c->open->add_option("--address", c->address, "street and number, floor, access");
    c->open->add_option("--summary", c->summary, "what the caller reported")->required();
    c->open->add_option("--actor", c->actor, "the operator on the phone (default admin)");
    c->open->add_flag("--no-take", c->no_take, "queue it for anyone instead of taking it");
    return c;
}

std::optional<std::pair<json, std::string>> run_case_commands(
    const cases_cli& cli, const std::function<json(const json&)>& call) {
    if (!*cli.open) {
        return std::nullopt;
    }
    json person = json::object();
    if (!cli.subscriber.empty()) {
        person["subscriber"] = cli.subscriber;
    }
    if (!cli.person.empty()) {
        person["name"] = cli.person;
    }
    if (!cli.details.empty()) {
        person["details"] = cli.details;
    }
    json place = json::object();
    if (!cli.comune.empty()) {
        place["comune"] = cli.comune;
    }
    if (!cli.address.empty()) {
        place["address"] = cli.address;
    }
    json caller{{"kind", cli.caller_kind}};
    if (!cli.caller_name.empty()) {
        caller["name"] = cli.caller_name;
    }
    if (!cli.caller_phone.empty()) {
        caller["phone"] = cli.caller_phone;
    }
    const json result = call(json{{"cmd", "case.open"},
                                  {"category", cli.category},
                                  {"urgency", cli.urgency},
                                  {"caller", caller},
                                  {"person", person},
                                  {"place", place},
                                  {"summary", cli.summary},
                                  {"actor", cli.actor},
                                  {"take", !cli.no_take}});
    const json alarm = result.value("alarm", json::object());
    std::string text = fmt::format(
        "case opened as alarm {} ({}, {}{})\n", shown(alarm, "id"), shown(alarm, "class"),
        shown(alarm, "state"),
        shown(alarm, "holder") != "-" ? " by " + shown(alarm, "holder") : std::string());
    text += case_to_text(result.value("case", json::object()));
    return std::make_pair(result, std::move(text));
}

}  // namespace arc::arcctl
