#include "arc/engine/alarm.hpp"

namespace arc::engine {

std::int64_t to_ms(time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

time_point from_ms(std::int64_t ms) noexcept {
    return time_point(std::chrono::duration_cast<time_point::duration>(duration(ms)));
}

std::string_view to_string(alarm_state value) noexcept {
    switch (value) {
        case alarm_state::new_alarm:
            return "new";
        case alarm_state::taken:
            return "taken";
        case alarm_state::acknowledged:
            return "acknowledged";
        case alarm_state::dispatched:
            return "dispatched";
        case alarm_state::accepted:
            return "accepted";
        case alarm_state::on_the_way:
            return "on_the_way";
        case alarm_state::on_site:
            return "on_site";
        case alarm_state::mission_done:
            return "mission_done";
        case alarm_state::closed:
            return "closed";
    }
    return "?";
}

std::string_view to_string(device_mode value) noexcept {
    switch (value) {
        case device_mode::active:
            return "active";
        case device_mode::test:
            return "test";
        case device_mode::retired:
            return "retired";
    }
    return "?";
}

std::string_view to_string(change_kind value) noexcept {
    switch (value) {
        case change_kind::opened:
            return "opened";
        case change_kind::merged:
            return "merged";
        case change_kind::retransmitted:
            return "retransmitted";
        case change_kind::transitioned:
            return "transitioned";
        case change_kind::escalated:
            return "escalated";
        case change_kind::restore_noted:
            return "restore_noted";
        case change_kind::closed:
            return "closed";
        case change_kind::noted:
            return "noted";
        case change_kind::storm_grouped:
            return "storm_grouped";
        case change_kind::storm_joined:
            return "storm_joined";
        case change_kind::test_event:
            return "test_event";
        case change_kind::ignored:
            return "ignored";
        case change_kind::logged:
            return "logged";
        case change_kind::mode_changed:
            return "mode_changed";
        case change_kind::storm_closed:
            return "storm_closed";
    }
    return "?";
}

void apply_classification(event& ev, const arc::config::classification& c) {
    ev.cls = c.cls;
    ev.kind = c.kind;
    ev.is_restore = c.is_restore;
    // Italian first: the Centrale Operativa works in Italian; English stays in the map.
    ev.text = c.label_it;
}

alarm_header header_of(const alarm& a) {
    return alarm_header{a.id,     a.cls,       a.kind,          a.state,       a.level, a.account,
                        a.holder, a.opened_at, a.last_event_at, a.event_count, a.storm, a.storm_id};
}

}  // namespace arc::engine
