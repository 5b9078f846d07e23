#include "arc/api/report_json.hpp"

#include <fmt/format.h>

#include "arc/api/json.hpp"

namespace arc::api {
namespace {

using nlohmann::json;

double share(std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// `first` and `second` name the targets: "60s"/"180s" or "45min"/"60min".
json stats_json(const storage::wait_stats& st, const char* first, const char* second) {
    return json{{"count", st.count},
                {"reached", st.reached},
                {fmt::format("within_{}", first), st.within_first},
                {fmt::format("within_{}", second), st.within_second},
                {fmt::format("share_{}", first), share(st.within_first, st.count)},
                {fmt::format("share_{}", second), share(st.within_second, st.count)},
                {"median_s", st.median_s},
                {"p90_s", st.p90_s},
                {"max_s", st.max_s}};
}

json named_json(const std::vector<storage::named_stats>& list, const char* key, const char* first,
                const char* second) {
    json out = json::array();
    for (const auto& n : list) {
        json row = stats_json(n.stats, first, second);
        row[key] = n.name;
        out.push_back(std::move(row));
    }
    return out;
}

json counts_json(const std::vector<storage::named_count>& list, const char* key,
                 const char* sub_key = nullptr) {
    json out = json::array();
    for (const auto& c : list) {
        json row{{key, c.name}, {"count", c.count}};
        if (sub_key != nullptr) {
            row[sub_key] = c.sub;
        }
        out.push_back(std::move(row));
    }
    return out;
}

std::string csv_cell(const json& v) {
    std::string text;
    if (v.is_string()) {
        text = v.get<std::string>();
    } else if (v.is_null()) {
        text = "";
    } else if (v.is_number_float()) {
        text = fmt::format("{:.3f}", v.get<double>());
    } else {
        text = v.dump();
    }
    if (text.find_first_of(",\"\r\n") == std::string::npos) {
        return text;
    }
    std::string quoted = "\"";
    for (const char c : text) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

// One section: a header row of `section` and the objects' keys (of the first row), then rows.
void csv_section(std::string& out, const std::string& name, const json& rows) {
    if (!rows.is_array() || rows.empty()) {
        out += csv_cell(name) + "\r\n\r\n";
        return;
    }
    std::vector<std::string> keys;
    for (const auto& [k, v] : rows.front().items()) {
        keys.push_back(k);
    }
    out += "section";
    for (const auto& k : keys) {
        out += "," + csv_cell(k);
    }
    out += "\r\n";
    for (const json& row : rows) {
        out += csv_cell(name);
        for (const auto& k : keys) {
            out += "," + csv_cell(row.value(k, json(nullptr)));
        }
        out += "\r\n";
    }
    out += "\r\n";
}

}  // namespace

nlohmann::json report_to_json(const storage::service_report& r) {
    json untaken = json::array();
    for (const auto& a : r.untaken) {
        untaken.push_back(
            json{{"alarm", a.id},
                 {"class", a.cls},
                 {"kind", a.kind},
                 {"account", a.account},
                 {"state", a.state},
                 {"opened", iso8601_utc_ms(a.opened_ms)},
                 {"taken", a.answered_ms ? json(iso8601_utc_ms(*a.answered_ms)) : json(nullptr)},
                 {"taken_by", a.answered_by},
                 {"wait_s", static_cast<double>(a.wait_ms) / 1000.0}});
    }
    json overall = stats_json(r.answer, "60s", "180s");
    overall["class"] = "all";
    json dispatch = stats_json(r.dispatch, "60s", "180s");
    dispatch["class"] = "all";
    return json{{"from", iso8601_utc_ms(r.from_ms)},
                {"to", iso8601_utc_ms(r.to_ms)},
                {"generated", iso8601_utc_ms(r.now_ms)},
                {"alarms",
                 {{"total", r.alarms},
                  {"storm_members", r.storm_members},
                  {"auto_closed", r.auto_closed},
                  {"by_class", counts_json(r.by_class, "class")},
                  {"by_class_kind", counts_json(r.by_class_kind, "class", "kind")}}},
                {"answer",
                 {{"all", std::move(overall)},
                  {"by_class", named_json(r.answer_by_class, "class", "60s", "180s")},
                  {"by_operator", named_json(r.answer_by_operator, "operator", "60s", "180s")}}},
                {"dispatch",
                 {{"all", std::move(dispatch)},
                  {"by_class", named_json(r.dispatch_by_class, "class", "60s", "180s")}}},
                {"on_site", {{"by_team", named_json(r.on_site_by_team, "team", "45min", "60min")}}},
                {"outcomes", counts_json(r.outcomes, "outcome")},
                {"mission_outcomes", counts_json(r.mission_outcomes, "outcome")},
                {"untaken", std::move(untaken)}};
}

std::string report_to_csv(const nlohmann::json& report) {
    std::string out;
    csv_section(out, "period",
                json::array({json{{"from", report.value("from", "")},
                                  {"to", report.value("to", "")},
                                  {"generated", report.value("generated", "")},
                                  {"alarms", report["alarms"].value("total", 0)},
                                  {"storm_members", report["alarms"].value("storm_members", 0)},
                                  {"auto_closed", report["alarms"].value("auto_closed", 0)}}}));
    csv_section(out, "alarms_by_class_kind", report["alarms"]["by_class_kind"]);
    json answer = json::array({report["answer"]["all"]});
    for (const json& row : report["answer"]["by_class"]) {
        answer.push_back(row);
    }
    csv_section(out, "answer_by_class", answer);
    csv_section(out, "answer_by_operator", report["answer"]["by_operator"]);
    json dispatch = json::array({report["dispatch"]["all"]});
    for (const json& row : report["dispatch"]["by_class"]) {
        dispatch.push_back(row);
    }
    csv_section(out, "dispatch_by_class", dispatch);
    csv_section(out, "on_site_by_team", report["on_site"]["by_team"]);
    csv_section(out, "outcomes", report["outcomes"]);
    csv_section(out, "mission_outcomes", report["mission_outcomes"]);
    csv_section(out, "untaken_over_180s", report["untaken"]);
    return out;
}

}  // namespace arc::api
