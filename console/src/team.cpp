// The field team's client (arc-console --team, or a login of role team): the team's missions
// from mission.subscribe, fetched again (mission.list, without key-safe codes) when a push says
// one changed; the steps accept, decline, on the way, on site and done; the key-safe code only
// on request while the mission is open (arcd audits each view) and only for a while.
#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "arc/console/app.hpp"
#include "arc/console/text.hpp"

namespace arc::console {
namespace {

using nlohmann::json;

// Pushes coalesce: the list is fetched at most this often.
constexpr std::int64_t missions_refresh_ms = 300;
// Without pushes (an older arcd, a lost line) the list is fetched this often all the same.
constexpr std::int64_t missions_poll_ms = 60000;
// A key-safe code stays on the screen this long.
constexpr std::int64_t key_safe_shown_ms = 120000;

// The outcomes a team reports (storage::mission_outcomes()); the referral needs a note.
constexpr std::array mission_outcomes = {
    "resolved_on_site", "shelter_placement", "essential_goods_delivery",
    "health_services_accompaniment", "social_services_referral"};
constexpr std::string_view referral = "social_services_referral";

std::string fmt_tr(lang l, std::string_view english, const auto&... args) {
    return fmt::format(fmt::runtime(tr(l, english)), args...);
}

std::string str(const json& obj, const char* name) {
    if (!obj.is_object()) {
        return {};
    }
    const auto it = obj.find(name);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

alarm_id alarm_of(const json& m) {
    if (!m.is_object()) {
        return 0;
    }
    const auto it = m.find("alarm");
    return it != m.end() && it->is_number_unsigned() ? it->get<alarm_id>() : 0;
}

}  // namespace

const json* app::selected_mission() const noexcept {
    if (missions_.selected == 0 || !missions_.list.is_array()) {
        return nullptr;
    }
    for (const json& m : missions_.list) {
        if (alarm_of(m) == missions_.selected) {
            return &m;
        }
    }
    return nullptr;
}

void app::start_team_session(std::int64_t now_ms) {
    screen_ = screen::missions;
    link_ = link::subscribing;
    missions_.in_flight = true;
    missions_.dirty = false;
    missions_.fetched_ms = now_ms;
    json req{{"cmd", "mission.subscribe"}};
    if (opts_.transport == options::transport_kind::unix_socket) {
        req["team"] = opts_.team_name;
    }
    send(std::move(req), purpose{purpose::kind::missions, 0, {}, "subscribe", 0});
}

void app::fetch_missions(std::int64_t now_ms) {
    if (link_ != link::live || missions_.in_flight) {
        return;
    }
    missions_.in_flight = true;
    missions_.dirty = false;
    missions_.fetched_ms = now_ms;
    json req{{"cmd", "mission.list"}, {"key_safe", false}};
    if (opts_.transport == options::transport_kind::unix_socket) {
        req["team"] = opts_.team_name;
    }
    send(std::move(req), purpose{purpose::kind::missions, 0, {}, "list", 0});
}

void app::team_tick(std::int64_t now_ms) {
    if (missions_.key_safe_alarm != 0) {
        const json* m = selected_mission();
        const bool still = m != nullptr && alarm_of(*m) == missions_.key_safe_alarm &&
                           m->value("open", false) &&
                           now_ms - missions_.key_safe_at_ms < key_safe_shown_ms;
        if (!still) {
            std::fill(missions_.key_safe_code.begin(), missions_.key_safe_code.end(), '\0');
            missions_.key_safe_code.clear();
            missions_.key_safe_alarm = 0;
        }
    }
    if (!missions_.in_flight &&
        ((missions_.dirty && now_ms - missions_.fetched_ms >= missions_refresh_ms) ||
         now_ms - missions_.fetched_ms >= missions_poll_ms)) {
        fetch_missions(now_ms);
    }
}

void app::on_missions(const purpose& why, bool ok, const json& result, const std::string& code,
                      const std::string& message, std::int64_t now_ms) {
    const lang l = opts_.language;
    if (why.k == purpose::kind::key_safe) {
        if (!ok) {
            say(fmt_tr(l, "#{}: {}", why.alarm, message.empty() ? code : message), true, now_ms);
            return;
        }
        for (const json& m : result.value("missions", json::array())) {
            const json s = m.value("subscriber", json::object());
            const std::string c = str(s, "key_safe_code");
            if (alarm_of(m) == why.alarm && !c.empty()) {
                missions_.key_safe_alarm = why.alarm;
                missions_.key_safe_code = c;
                missions_.key_safe_at_ms = now_ms;
                say(fmt_tr(l, "#{}: key-safe code shown (audited)", why.alarm), false, now_ms);
                return;
            }
        }
        say(fmt_tr(l, "#{}: no key-safe code for this mission", why.alarm), true, now_ms);
        return;
    }
    missions_.in_flight = false;
    if (why.action == "subscribe") {
        link_ = link::live;
    }
    if (!ok) {
        missions_.error = message.empty() ? code : message;
        if (why.action == "subscribe") {
            say(fmt_tr(l, "not allowed to use the console: {}", missions_.error), true, now_ms);
        }
        return;
    }
    missions_.error.clear();
    missions_.loaded = true;
    missions_.team = str(result, "team");
    const json list = result.value("missions", json::array());
    missions_.list = list.is_array() ? list : json::array();
    // A new mission rings once; the selection stays on its mission while it is listed, else
    // goes to the first one (open missions come first).
    bool found = false;
    for (const json& m : missions_.list) {
        found = found || alarm_of(m) == missions_.selected;
        if (str(m, "state") == "dispatched" && rung_.insert(alarm_of(m)).second) {
            bell_ = true;
        }
    }
    if (!found) {
        missions_.selected = missions_.list.empty() ? 0 : alarm_of(missions_.list.front());
        missions_.scroll = 0;
    }
}

void app::on_mission_step(const purpose& why, bool ok, const json& result, const std::string& code,
                          const std::string& message, std::int64_t now_ms) {
    const lang l = opts_.language;
    if (!ok) {
        say(fmt_tr(l, "#{}: {}", why.alarm, message.empty() ? code : message), true, now_ms);
        return;
    }
    static const std::array<std::pair<std::string_view, std::string_view>, 5> done = {{
        {"accept", "#{}: mission accepted"},
        {"decline", "#{}: mission declined"},
        {"on_the_way", "#{}: on the way"},
        {"on_site", "#{}: on site"},
        {"done", "#{}: mission done"},
    }};
    for (const auto& [action, text] : done) {
        if (action == why.action) {
            say(fmt_tr(l, text, why.alarm), false, now_ms);
        }
    }
    // The step's answer carries the mission as it now is: the list shows it at once (the next
    // key may follow before the list is fetched again).
    const json mission = result.value("mission", json::object());
    if (mission.is_object() && alarm_of(mission) == why.alarm) {
        for (json& m : missions_.list) {
            if (alarm_of(m) == why.alarm) {
                for (const auto& [k, v] : mission.items()) {
                    m[k] = v;
                }
            }
        }
    }
    missions_.dirty = true;
}

void app::mission_step(const std::string& cmd, const std::string& action, json fields,
                       alarm_id alarm, std::int64_t now_ms) {
    if (link_ != link::live) {
        say(fmt_tr(opts_.language, "connection lost: {}", disconnect_reason_), true, now_ms);
        return;
    }
    fields["cmd"] = cmd;
    fields["alarm"] = alarm;
    if (opts_.transport == options::transport_kind::unix_socket && !me_.empty()) {
        fields["actor"] = me_;
    }
    send(std::move(fields), purpose{purpose::kind::mission, alarm, {}, action, 0});
}

void app::key_missions(int k, std::int64_t now_ms) {
    const lang l = opts_.language;
    const json& list = missions_.list;
    std::size_t at = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (alarm_of(list[i]) == missions_.selected) {
            at = i;
        }
    }
    const auto move_to = [&](std::size_t index) {
        if (!list.empty()) {
            const alarm_id id = alarm_of(list[std::min(index, list.size() - 1)]);
            if (id != missions_.selected) {
                missions_.selected = id;
                missions_.scroll = 0;
            }
        }
    };
    const json* m = selected_mission();
    const std::string state = m != nullptr ? str(*m, "state") : std::string();
    // A step needs a mission, and one in the state it follows (arcd checks it again).
    const auto need = [&](std::initializer_list<std::string_view> states) {
        if (m == nullptr) {
            say(std::string(tr(l, "no mission selected")), true, now_ms);
            return false;
        }
        if (std::find(states.begin(), states.end(), state) == states.end()) {
            say(fmt_tr(l, "#{}: not now (the mission is {})", missions_.selected,
                       state_label(l, state)),
                true, now_ms);
            return false;
        }
        return true;
    };
    switch (k) {
        case keys::up:
        case 'k':
            move_to(at > 0 ? at - 1 : 0);
            return;
        case keys::down:
        case 'j':
            move_to(at + 1);
            return;
        case keys::page_up:
            missions_.scroll = missions_.scroll > 5 ? missions_.scroll - 5 : 0;
            return;
        case keys::page_down:
            missions_.scroll += 5;  // the view clamps it
            return;
        case 'a':
            if (need({"dispatched"})) {
                mission_step("mission.accept", "accept", json::object(), missions_.selected,
                             now_ms);
            }
            return;
        case 'x':
            if (need({"dispatched"})) {  // once accepted, the team goes
                prompt_ = prompt_state{};
                prompt_.k = prompt_state::kind::mission_decline;
                prompt_.alarm = missions_.selected;
            }
            return;
        case 'w':
            if (need({"accepted"})) {
                mission_step("mission.on_the_way", "on_the_way", json::object(), missions_.selected,
                             now_ms);
            }
            return;
        case 's':
            if (need({"on_the_way"})) {
                mission_step("mission.on_site", "on_site", json::object(), missions_.selected,
                             now_ms);
            }
            return;
        case 'f':
            if (need({"on_site"})) {
                prompt_ = prompt_state{};
                prompt_.k = prompt_state::kind::mission_outcome;
                prompt_.alarm = missions_.selected;
                for (const char* o : mission_outcomes) {
                    prompt_.choices.emplace_back(o, std::string(mission_outcome_label(l, o)));
                }
            }
            return;
        case 'c': {
            if (m == nullptr) {
                say(std::string(tr(l, "no mission selected")), true, now_ms);
                return;
            }
            const json s = m->value("subscriber", json::object());
            if (!m->value("open", false) || !s.is_object() || !s.value("has_key_safe", false)) {
                say(fmt_tr(l, "#{}: no key-safe code for this mission", missions_.selected), true,
                    now_ms);
                return;
            }
            if (link_ != link::live) {
                return;
            }
            json req{{"cmd", "mission.list"}, {"alarm", missions_.selected}, {"key_safe", true}};
            if (opts_.transport == options::transport_kind::unix_socket) {
                req["team"] = opts_.team_name;
            }
            send(std::move(req),
                 purpose{purpose::kind::key_safe, missions_.selected, {}, "key_safe", 0});
            return;
        }
        case 'g':
            fetch_missions(now_ms);
            return;
        case 'L':
            opts_.language = opts_.language == lang::it ? lang::en : lang::it;
            say(std::string(tr(opts_.language, "language: English")), false, now_ms);
            return;
        case 'q':
            quit_ = true;
            return;
        default:
            return;
    }
}

// The mission prompts; true when the step was sent (the prompt ends), false when it goes on.
bool app::submit_mission_prompt(const std::string& text, bool blank, std::int64_t now_ms) {
    const lang l = opts_.language;
    switch (prompt_.k) {
        case prompt_state::kind::mission_decline:
            if (blank) {
                say(std::string(tr(l, "say why the team declines")), true, now_ms);
                return false;
            }
            mission_step("mission.decline", "decline", json{{"reason", text}}, prompt_.alarm,
                         now_ms);
            return true;
        case prompt_state::kind::mission_outcome:
            prompt_.outcome = prompt_.choices.at(prompt_.choice).first;
            prompt_.choices.clear();
            prompt_.input.clear();
            prompt_.k = prompt_state::kind::mission_note;
            return false;
        case prompt_state::kind::mission_note: {
            if (blank && prompt_.outcome == referral) {
                say(std::string(tr(l, "a referral needs the hand-over note")), true, now_ms);
                return false;
            }
            json f{{"outcome", prompt_.outcome}};
            if (!blank) {
                f["note"] = text;
            }
            mission_step("mission.done", "done", std::move(f), prompt_.alarm, now_ms);
            return true;
        }
        default:
            return true;
    }
}

}  // namespace arc::console
