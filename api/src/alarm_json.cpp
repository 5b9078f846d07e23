#include "arc/api/alarm_json.hpp"

#include <algorithm>
#include <iterator>
#include <string>

#include "arc/api/json.hpp"
#include "arc/config/event_codes.hpp"

namespace arc::api {
namespace {

using nlohmann::json;

std::string iso_ms(arc::engine::time_point t) { return iso8601_utc_ms(arc::engine::to_ms(t)); }

json optional_iso_ms(const std::optional<std::int64_t>& ms) {
    return ms ? json(iso8601_utc_ms(*ms)) : json(nullptr);
}

json optional_state(const std::string& state) {
    return state.empty() ? json(nullptr) : json(state);
}

json optional_id(const std::optional<arc::engine::alarm_id>& id) {
    return id ? json(*id) : json(nullptr);
}

// An alarm's closing instant: the last step into `closed` (a closed alarm has exactly one).
json closed_at(const arc::engine::alarm& a) {
    if (a.state != arc::engine::alarm_state::closed) {
        return nullptr;
    }
    const auto it = std::find_if(a.timeline.rbegin(), a.timeline.rend(), [](const auto& step) {
        return step.to == arc::engine::alarm_state::closed;
    });
    return it == a.timeline.rend() ? json(nullptr) : json(iso_ms(it->at));
}

}  // namespace

nlohmann::json alarm_to_json(const arc::engine::alarm& a) {
    return json{{"id", a.id},
                {"class", std::string(arc::config::to_string(a.cls))},
                {"kind", std::string(arc::config::to_string(a.kind))},
                {"state", std::string(arc::engine::to_string(a.state))},
                {"level", a.level},
                {"account", a.account},
                {"code", a.code},
                {"zone", a.zone},
                {"text", a.text},
                {"holder", a.holder},
                {"team", a.team},
                {"outcome", a.outcome},
                {"opened", iso_ms(a.opened_at)},
                {"last_event", iso_ms(a.last_event_at)},
                {"event_count", a.event_count},
                {"restored", a.restored_at ? json(iso_ms(*a.restored_at)) : json(nullptr)},
                {"closed", closed_at(a)},
                {"storm", a.storm},
                {"storm_id", optional_id(a.storm_id)},
                {"members", a.members.size()}};
}

nlohmann::json alarm_row_to_json(const arc::storage::alarm_row& r, std::size_t members) {
    const auto& h = r.header;
    return json{{"id", h.id},
                {"class", std::string(arc::config::to_string(h.cls))},
                {"kind", std::string(arc::config::to_string(h.kind))},
                {"state", std::string(arc::engine::to_string(h.state))},
                {"level", h.level},
                {"account", h.account},
                {"code", r.code},
                {"zone", r.zone},
                {"text", r.text},
                {"holder", h.holder},
                {"team", r.team},
                {"outcome", r.outcome},
                {"opened", iso_ms(h.opened_at)},
                {"last_event", iso_ms(h.last_event_at)},
                {"event_count", h.event_count},
                {"restored", optional_iso_ms(r.restored_ms)},
                {"closed", optional_iso_ms(r.closed_ms)},
                {"storm", h.storm},
                {"storm_id", optional_id(h.storm_id)},
                {"members", members}};
}

nlohmann::json log_to_json(const arc::storage::alarm_log_entry& e) {
    return json{{"at", iso8601_utc_ms(e.at_ms)},
                {"change", e.change},
                {"event_id", e.event_id},
                {"actor", e.actor},
                {"from", optional_state(e.from_state)},
                {"to", optional_state(e.to_state)},
                {"detail", e.detail}};
}

nlohmann::json header_to_json(const arc::engine::alarm_header& h) {
    return json{{"id", h.id},
                {"class", std::string(arc::config::to_string(h.cls))},
                {"kind", std::string(arc::config::to_string(h.kind))},
                {"state", std::string(arc::engine::to_string(h.state))},
                {"level", h.level},
                {"account", h.account},
                {"holder", h.holder},
                {"opened", iso_ms(h.opened_at)},
                {"last_event", iso_ms(h.last_event_at)},
                {"event_count", h.event_count},
                {"storm", h.storm},
                {"storm_id", optional_id(h.storm_id)}};
}

nlohmann::json change_to_json(const arc::engine::change& c, std::uint64_t seq,
                              std::optional<std::size_t> rank,
                              std::optional<arc::engine::alarm_id> head) {
    json members = json::array();
    const std::size_t listed = std::min(c.members.size(), change_members_max);
    std::copy_n(c.members.begin(), listed, std::back_inserter(members));
    json from = nullptr;
    json to = nullptr;
    if (c.transition) {
        from = std::string(arc::engine::to_string(c.transition->from));
        to = std::string(arc::engine::to_string(c.transition->to));
    }
    return json{{"seq", seq},
                {"change", std::string(arc::engine::to_string(c.kind))},
                {"at", iso_ms(c.at)},
                {"event_id", c.event_id},
                {"alarm", c.alarm.id == 0 ? json(nullptr) : header_to_json(c.alarm)},
                {"account", c.alarm.account},
                {"actor", c.actor},
                {"detail", c.detail},
                {"from", std::move(from)},
                {"to", std::move(to)},
                {"members", std::move(members)},
                {"members_count", c.members.size()},
                {"rank", rank ? json(*rank) : json(nullptr)},
                {"head", optional_id(head)}};
}

}  // namespace arc::api
