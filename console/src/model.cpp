#include "arc/console/model.hpp"

#include <algorithm>
#include <stdexcept>

#include "arc/console/text.hpp"

namespace arc::console {
namespace {

using nlohmann::json;

int class_rank(const std::string& cls) noexcept {
    if (cls == "critical") {
        return 0;
    }
    if (cls == "urgent") {
        return 1;
    }
    if (cls == "technical") {
        return 2;
    }
    return 3;
}

std::string string_field(const json& obj, const char* name, bool required) {
    const auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) {
        if (required) {
            throw std::invalid_argument(std::string("alarm: missing field ") + name);
        }
        return {};
    }
    if (!it->is_string()) {
        throw std::invalid_argument(std::string("alarm: field ") + name + " is not a string");
    }
    return it->get<std::string>();
}

std::uint64_t uint_field(const json& obj, const char* name, bool required) {
    const auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) {
        if (required) {
            throw std::invalid_argument(std::string("missing field ") + name);
        }
        return 0;
    }
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
        throw std::invalid_argument(std::string("field ") + name + " is not a count");
    }
    return it->get<std::uint64_t>();
}

}  // namespace

queue_entry entry_from_json(const json& alarm) {
    if (!alarm.is_object()) {
        throw std::invalid_argument("alarm: not an object");
    }
    queue_entry e;
    e.id = uint_field(alarm, "id", true);
    e.cls = string_field(alarm, "class", true);
    e.kind = string_field(alarm, "kind", false);
    e.state = string_field(alarm, "state", true);
    e.level = static_cast<int>(std::min<std::uint64_t>(uint_field(alarm, "level", false), 1000));
    e.account = string_field(alarm, "account", false);
    e.holder = string_field(alarm, "holder", false);
    e.opened = string_field(alarm, "opened", false);
    e.opened_ms = parse_iso8601_ms(e.opened).value_or(0);
    e.last_event = string_field(alarm, "last_event", false);
    e.event_count = uint_field(alarm, "event_count", false);
    if (const auto it = alarm.find("storm"); it != alarm.end() && it->is_boolean()) {
        e.storm = it->get<bool>();
    }
    if (const auto it = alarm.find("storm_id"); it != alarm.end() && it->is_number_integer()) {
        e.storm_id = it->get<alarm_id>();
    }
    if (const auto it = alarm.find("members"); it != alarm.end() && it->is_number_integer()) {
        e.members = it->get<std::size_t>();
    }
    return e;
}

bool queue_before(const queue_entry& a, const queue_entry& b) noexcept {
    const int ca = class_rank(a.cls);
    const int cb = class_rank(b.cls);
    if (ca != cb) {
        return ca < cb;
    }
    if (a.level != b.level) {
        return a.level > b.level;
    }
    if (a.opened_ms != b.opened_ms) {
        return a.opened_ms < b.opened_ms;
    }
    return a.id < b.id;
}

void queue_model::clear() noexcept {
    entries_.clear();
    open_ = 0;
    seq_ = 0;
    loaded_ = false;
}

void queue_model::load_snapshot(const json& result) {
    if (!result.is_object()) {
        throw std::invalid_argument("subscribe result: not an object");
    }
    const auto alarms = result.find("alarms");
    if (alarms == result.end() || !alarms->is_array()) {
        throw std::invalid_argument("subscribe result: missing field alarms");
    }
    std::vector<queue_entry> fresh;
    fresh.reserve(alarms->size());
    for (const json& a : *alarms) {
        queue_entry e = entry_from_json(a);
        if (e.storm_id || e.state == "closed") {
            continue;  // members are shown through their storm
        }
        fresh.push_back(std::move(e));
    }
    seq_ = uint_field(result, "seq", true);
    open_ = static_cast<std::size_t>(uint_field(result, "open", false));
    open_ = std::max(open_, fresh.size());
    entries_ = std::move(fresh);
    loaded_ = true;
}

const queue_entry* queue_model::find(alarm_id id) const noexcept {
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [id](const queue_entry& e) { return e.id == id; });
    return it == entries_.end() ? nullptr : &*it;
}

std::optional<std::size_t> queue_model::index_of(alarm_id id) const noexcept {
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [id](const queue_entry& e) { return e.id == id; });
    if (it == entries_.end()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(it - entries_.begin());
}

void queue_model::remove(alarm_id id, change_effect& effect) {
    const auto it = std::find_if(entries_.begin(), entries_.end(),
                                 [id](const queue_entry& e) { return e.id == id; });
    if (it == entries_.end()) {
        return;
    }
    entries_.erase(it);
    if (open_ > 0) {
        --open_;
    }
    effect.removed.push_back(id);
}

// The server's rank is the alarm's position after the change among the whole queue; the other
// alarms keep their relative order (one change moves one alarm). Without a rank (beyond the
// first screen, or not computed) the engine's order places it.
void queue_model::place(queue_entry entry, std::optional<std::size_t> rank) {
    if (rank) {
        const std::size_t at = std::min(*rank, entries_.size());
        entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(at), std::move(entry));
        return;
    }
    const auto at = std::find_if(entries_.begin(), entries_.end(),
                                 [&entry](const queue_entry& e) { return queue_before(entry, e); });
    entries_.insert(at, std::move(entry));
}

change_effect queue_model::apply_change(const json& change) {
    change_effect effect;
    if (!change.is_object()) {
        throw std::invalid_argument("change: not an object");
    }
    const std::uint64_t seq = uint_field(change, "seq", true);
    if (loaded_ && seq <= seq_) {
        return effect;
    }
    seq_ = seq;
    const std::string kind = string_field(change, "change", true);
    std::vector<alarm_id> members;
    if (const auto it = change.find("members"); it != change.end() && it->is_array()) {
        for (const json& m : *it) {
            if (m.is_number_integer()) {
                members.push_back(m.get<alarm_id>());
            }
        }
    }
    const std::size_t members_count =
        static_cast<std::size_t>(uint_field(change, "members_count", false));

    // Storm members leave the list whatever the change (they are shown through the storm).
    if (kind == "storm_grouped" || kind == "storm_joined" || kind == "storm_closed") {
        for (const alarm_id m : members) {
            remove(m, effect);
        }
    }
    const auto alarm = change.find("alarm");
    if (alarm == change.end() || alarm->is_null()) {
        effect.applied = !effect.removed.empty();
        return effect;
    }
    queue_entry entry = entry_from_json(*alarm);
    effect.alarm = entry.id;
    effect.applied = true;

    const queue_entry* existing = find(entry.id);
    const bool was_listed = existing != nullptr;
    if (existing != nullptr) {
        entry.members = existing->members;
    }
    if (entry.storm) {
        if (kind == "storm_grouped") {
            entry.members = std::max(members_count, members.size());
        } else if (kind == "storm_joined") {
            entry.members += std::max<std::size_t>(members_count, members.size());
        }
    }
    std::optional<std::size_t> rank;
    if (const auto r = change.find("rank"); r != change.end() && r->is_number_integer()) {
        rank = r->get<std::size_t>();
    }
    const bool gone = entry.state == "closed" || entry.storm_id.has_value() || kind == "closed" ||
                      kind == "storm_closed";
    if (was_listed) {
        const auto it = std::find_if(entries_.begin(), entries_.end(),
                                     [&entry](const queue_entry& e) { return e.id == entry.id; });
        entries_.erase(it);
        if (gone) {
            if (open_ > 0) {
                --open_;
            }
            effect.removed.push_back(entry.id);
            return effect;
        }
        place(std::move(entry), rank);
        return effect;
    }
    if (gone) {
        return effect;
    }
    // An alarm new to this console (opened now, or it changed while beyond the snapshot).
    if (kind == "opened" && entry.cls == "critical") {
        effect.opened_critical = true;
    }
    ++open_;
    place(std::move(entry), rank);
    return effect;
}

}  // namespace arc::console
