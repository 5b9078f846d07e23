// Test helpers: ALARM / CHANGE objects as arcd sends them (docs/admin-api.md).
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace arc::console::test {

using nlohmann::json;

// 2026-12-05T10:00:00.000Z
inline constexpr std::int64_t t0_ms = 1796464800000;

inline std::string iso(std::int64_t ms) {
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return buf;
}

struct alarm_spec {
    std::uint64_t id = 0;
    std::string cls = "critical";
    std::string kind = "personal_emergency";
    std::string state = "new";
    int level = 0;
    std::string account = "1234";
    std::string holder = {};
    std::int64_t opened_ms = t0_ms;
    bool storm = false;
    std::optional<std::uint64_t> storm_id = std::nullopt;
    int members = 0;
};

inline json header(const alarm_spec& a) {
    return json{{"id", a.id},
                {"class", a.cls},
                {"kind", a.kind},
                {"state", a.state},
                {"level", a.level},
                {"account", a.account},
                {"holder", a.holder},
                {"opened", iso(a.opened_ms)},
                {"last_event", iso(a.opened_ms)},
                {"event_count", 1},
                {"storm", a.storm},
                {"storm_id", a.storm_id ? json(*a.storm_id) : json(nullptr)}};
}

inline json alarm(const alarm_spec& a) {
    json j = header(a);
    j["code"] = "QA";
    j["zone"] = "001";
    j["text"] = "Richiesta di soccorso";
    j["team"] = "";
    j["outcome"] = "";
    j["restored"] = nullptr;
    j["closed"] = nullptr;
    j["members"] = a.members;
    return j;
}

inline json snapshot(std::uint64_t seq, const std::vector<alarm_spec>& alarms) {
    json list = json::array();
    for (const auto& a : alarms) {
        list.push_back(alarm(a));
    }
    return json{{"subscribed", true}, {"seq", seq}, {"open", alarms.size()}, {"alarms", list}};
}

inline json change(std::uint64_t seq, const std::string& kind, const alarm_spec& a,
                   std::optional<std::size_t> rank, std::vector<std::uint64_t> members = {},
                   std::string from = "", std::string to = "") {
    return json{{"seq", seq},
                {"change", kind},
                {"at", iso(a.opened_ms)},
                {"event_id", 0},
                {"alarm", header(a)},
                {"account", a.account},
                {"actor", a.holder},
                {"detail", ""},
                {"from", from.empty() ? json(nullptr) : json(from)},
                {"to", to.empty() ? json(nullptr) : json(to)},
                {"members", members},
                {"members_count", members.size()},
                {"rank", rank ? json(*rank) : json(nullptr)},
                {"head", nullptr}};
}

inline json push(const json& c) { return json{{"push", "change"}, {"change", c}}; }

}  // namespace arc::console::test
