#include "arc/engine/engine.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace arc::engine {

namespace {

constexpr std::string_view system_actor = "system";

std::size_t class_index(alarm_class cls) { return static_cast<std::size_t>(cls); }

change make_change(change_kind kind, const alarm& a, time_point at, std::string_view actor = {},
                   std::uint64_t event_id = 0) {
    change c;
    c.kind = kind;
    c.at = at;
    c.event_id = event_id;
    c.alarm = header_of(a);
    c.actor = std::string(actor);
    return c;
}

// A change about a device rather than an alarm: alarm.id stays 0, alarm.account names it.
change device_change(change_kind kind, time_point at, std::uint64_t event_id,
                     std::string_view account, std::string detail = {}) {
    change c;
    c.kind = kind;
    c.at = at;
    c.event_id = event_id;
    c.alarm.account = std::string(account);
    c.actor = std::string(system_actor);
    c.detail = std::move(detail);
    return c;
}

// When the alarm's current mission was dispatched (its last step into dispatched).
std::optional<time_point> last_dispatch(const alarm& a) {
    for (auto it = a.timeline.rbegin(); it != a.timeline.rend(); ++it) {
        if (it->to == alarm_state::dispatched && it->from != alarm_state::dispatched) {
            return it->at;
        }
    }
    return std::nullopt;
}

}  // namespace

bool engine::queue_key::operator<(const queue_key& other) const {
    // Class first (critical = 0 on top), then level (higher first), then age (older first); the
    // id makes the order total so that a rebuilt queue lists ties the same way.
    return std::tuple(cls, -level, opened_at, id) <
           std::tuple(other.cls, -other.level, other.opened_at, other.id);
}

engine::engine(engine_config config) : config_(std::move(config)) {}

// ---- queue and timers ----

void engine::enqueue(const alarm& a) { queue_.insert({a.cls, a.level, a.opened_at, a.id}); }

void engine::dequeue(const alarm& a) { queue_.erase({a.cls, a.level, a.opened_at, a.id}); }

void engine::arm_escalation(const alarm& a) {
    const auto& steps = config_.escalation[class_index(a.cls)];
    if (a.state != alarm_state::new_alarm || a.storm_id ||
        static_cast<std::size_t>(a.level) >= steps.size()) {
        return;
    }
    // Measured from the alarm's opening, so a rebuilt engine resumes the same schedule.
    escalations_.push({a.opened_at + steps[static_cast<std::size_t>(a.level)], a.id, a.level});
}

void engine::arm_mission_timer(const alarm& a) {
    const std::optional<time_point> dispatched = last_dispatch(a);
    if (a.state != alarm_state::dispatched || !dispatched) {
        return;
    }
    // Already escalated for this dispatch (an escalation at or after it): once is enough.
    if (std::any_of(a.escalated_at.begin(), a.escalated_at.end(),
                    [&](time_point at) { return at >= *dispatched; })) {
        return;
    }
    mission_timers_.push({*dispatched + config_.mission_accept_timeout, a.id, *dispatched});
}

std::vector<alarm_id> engine::queue() const {
    std::vector<alarm_id> out;
    out.reserve(queue_.size());
    for (const auto& key : queue_) {
        out.push_back(key.id);
    }
    return out;
}

std::vector<alarm_id> engine::queue(std::size_t limit) const {
    std::vector<alarm_id> out;
    out.reserve(std::min(limit, queue_.size()));
    for (auto it = queue_.begin(); it != queue_.end() && out.size() < limit; ++it) {
        out.push_back(it->id);
    }
    return out;
}

std::optional<alarm_id> engine::head() const {
    if (queue_.empty()) {
        return std::nullopt;
    }
    return queue_.begin()->id;
}

const alarm* engine::find(alarm_id id) const {
    const auto it = alarms_.find(id);
    return it == alarms_.end() ? nullptr : &it->second;
}

std::optional<alarm_id> engine::open_alarm_of(std::string_view account, event_kind kind) const {
    const auto it = by_device_kind_.find({std::string(account), kind});
    if (it == by_device_kind_.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::vector<alarm> engine::open_alarms() const {
    std::vector<alarm> out;
    out.reserve(alarms_.size());
    for (const auto& [id, a] : alarms_) {
        out.push_back(a);
    }
    std::sort(out.begin(), out.end(), [](const alarm& x, const alarm& y) { return x.id < y.id; });
    return out;
}

// Every mutating call ends with settle(), so both heap tops are timers that still apply and
// next_deadline() can stay a const peek.
std::optional<time_point> engine::next_deadline() const {
    std::optional<time_point> next;
    if (!escalations_.empty()) {
        next = escalations_.top().due;
    }
    if (!mission_timers_.empty() && (!next || mission_timers_.top().due < *next)) {
        next = mission_timers_.top().due;
    }
    if (!device_timers_.empty() && (!next || device_timers_.top().due < *next)) {
        next = device_timers_.top().due;
    }
    return next;
}

std::size_t engine::pending_timers() const noexcept {
    return escalations_.size() + mission_timers_.size() + device_timers_.size();
}

bool engine::escalation_is_stale(const escalation_timer& timer) const {
    const auto it = alarms_.find(timer.id);
    return it == alarms_.end() || it->second.state != alarm_state::new_alarm ||
           it->second.level != timer.level || it->second.storm_id.has_value();
}

bool engine::mission_timer_is_stale(const mission_timer& timer) const {
    const auto it = alarms_.find(timer.id);
    return it == alarms_.end() || it->second.state != alarm_state::dispatched ||
           last_dispatch(it->second) != timer.dispatched_at;
}

void engine::fire_mission_timer(const mission_timer& timer, changes& out) {
    if (mission_timer_is_stale(timer)) {
        return;
    }
    alarm& a = alarms_.at(timer.id);
    // The same escalation as an untaken alarm's: one level up in the queue, pushed to every
    // console (the dispatching operator still holds it; supervisors see the level).
    dequeue(a);
    ++a.level;
    a.escalated_at.push_back(timer.due);
    enqueue(a);
    out.push_back(make_change(change_kind::escalated, a, timer.due, system_actor));
    out.back().detail = fmt::format(
        "level {}: mission not accepted by {} within {} s", a.level, a.team,
        std::chrono::duration_cast<std::chrono::seconds>(config_.mission_accept_timeout).count());
}

// Looks at the device heap's top once: drops it if superseded, moves it to the device's real
// deadline if the device reported since it was queued (lazy re-arming: one silence timer per
// device instead of one per event). Returns whether the top changed.
bool engine::settle_device_top() {
    if (device_timers_.empty()) {
        return false;
    }
    const device_timer& top = device_timers_.top();
    const auto it = devices_.find(top.account);
    if (it == devices_.end()) {
        device_timers_.pop();
        return true;
    }
    device_entry& entry = it->second;
    if (top.kind == device_timer_kind::test_end) {
        if (entry.state.mode == device_mode::test && entry.state.test_until == top.due) {
            return false;
        }
        device_timers_.pop();
        return true;
    }
    if (top.generation != entry.generation) {
        device_timers_.pop();
        return true;
    }
    if (!entry.deadline) {
        entry.heap_due.reset();
        device_timers_.pop();
        return true;
    }
    if (*entry.deadline > top.due) {
        device_timers_.pop();
        push_silence_timer(entry);
        return true;
    }
    return false;
}

void engine::settle() {
    while (!escalations_.empty() && escalation_is_stale(escalations_.top())) {
        escalations_.pop();
    }
    while (!mission_timers_.empty() && mission_timer_is_stale(mission_timers_.top())) {
        mission_timers_.pop();
    }
    while (settle_device_top()) {
    }
}

changes engine::advance(time_point now, std::size_t max_changes) {
    changes out;
    // Loop until nothing is due: a silent alarm opened at its deadline may itself be overdue.
    while (out.size() < max_changes) {
        settle();
        const bool escalation_due = !escalations_.empty() && escalations_.top().due <= now;
        const bool device_due = !device_timers_.empty() && device_timers_.top().due <= now;
        const bool mission_due = !mission_timers_.empty() && mission_timers_.top().due <= now;
        if (!escalation_due && !device_due && !mission_due) {
            break;
        }
        // Oldest first; on a tie escalations, then missions, then devices.
        if (mission_due &&
            (!escalation_due || mission_timers_.top().due < escalations_.top().due) &&
            (!device_due || mission_timers_.top().due <= device_timers_.top().due)) {
            const mission_timer timer = mission_timers_.top();
            mission_timers_.pop();
            fire_mission_timer(timer, out);
        } else if (escalation_due &&
                   (!device_due || escalations_.top().due <= device_timers_.top().due)) {
            const escalation_timer timer = escalations_.top();
            escalations_.pop();
            const auto it = alarms_.find(timer.id);
            // Stale timers (taken, closed, grouped, already escalated) are skipped, not removed
            // eagerly: the heap stays O(log n) per operation.
            if (it == alarms_.end() || it->second.state != alarm_state::new_alarm ||
                it->second.level != timer.level || it->second.storm_id) {
                continue;
            }
            alarm& a = it->second;
            dequeue(a);
            ++a.level;
            a.escalated_at.push_back(timer.due);
            enqueue(a);
            arm_escalation(a);
            out.push_back(make_change(change_kind::escalated, a, timer.due, system_actor));
            out.back().detail = fmt::format("level {}", a.level);
        } else {
            const device_timer timer = device_timers_.top();
            device_timers_.pop();
            fire_device_timer(timer, out);
        }
    }
    settle();
    return out;
}

// ---- events ----

bool engine::is_retransmission(const dc09_identity& id, time_point now) {
    while (!seen_order_.empty() &&
           seen_order_.front().first + config_.retransmission_window <= now) {
        const auto it = seen_frames_.find(seen_order_.front().second);
        if (it != seen_frames_.end() && it->second == seen_order_.front().first) {
            seen_frames_.erase(it);
        }
        seen_order_.pop_front();
    }
    std::string key = fmt::format("{}\x1f{}\x1f{}", id.account, id.seq, id.data);
    if (const auto it = seen_frames_.find(key); it != seen_frames_.end()) {
        return true;
    }
    seen_frames_.emplace(key, now);
    seen_order_.emplace_back(now, std::move(key));
    return false;
}

changes engine::ingest(const event& ev, time_point now) {
    changes out = ingest_event(ev, now);
    settle();
    return out;
}

changes engine::ingest_event(const event& ev, time_point now) {
    changes out;
    device_entry& device = ensure_device(ev, now);
    if (device.state.mode == device_mode::test && device.state.test_until &&
        *device.state.test_until <= now) {
        end_test_mode(device, now, out);
    }
    // Any message restarts supervision (PROTOCOLS.md §1.15), retransmissions included.
    touch_device(device, now, ev.event_id, out);

    if (ev.dc09 && !ev.dc09->seq.empty() && is_retransmission(*ev.dc09, now)) {
        out.push_back(device_change(change_kind::retransmitted, now, ev.event_id, ev.account));
        return out;
    }
    if (device.state.mode == device_mode::test) {
        out.push_back(device_change(change_kind::test_event, now, ev.event_id, ev.account));
        return out;
    }
    if (device.state.mode == device_mode::retired &&
        config_.retired == retired_policy::record_only) {
        out.push_back(device_change(change_kind::ignored, now, ev.event_id, ev.account));
        return out;
    }
    if (ev.is_restore) {
        handle_restore(ev, now, out);
        return out;
    }
    if (ev.cls == alarm_class::log_only) {
        out.push_back(device_change(change_kind::logged, now, ev.event_id, ev.account));
        return out;
    }
    if (ev.kind == event_kind::inactivity && device.state.paused_until &&
        *device.state.paused_until > now) {
        // The subscriber is away: nobody is at home to be inactive (stored and logged only).
        out.push_back(device_change(change_kind::logged, now, ev.event_id, ev.account,
                                    "inactivity while the subscriber is away"));
        return out;
    }
    if (const auto it = by_device_kind_.find({ev.account, ev.kind}); it != by_device_kind_.end()) {
        alarm& a = alarms_.at(it->second);
        ++a.event_count;
        a.last_event_at = ev.received;
        out.push_back(make_change(change_kind::merged, a, now, system_actor, ev.event_id));
        if (a.storm_id) {
            // The storm's line shows the total too.
            alarm& storm = alarms_.at(*a.storm_id);
            ++storm.event_count;
            storm.last_event_at = ev.received;
        }
        return out;
    }
    alarm& a = open_alarm(ev, ev.received, out);
    if (a.cls == alarm_class::technical) {
        check_storm(a, now, out);
    }
    return out;
}

alarm& engine::open_alarm(const event& ev, time_point opened_at, changes& out) {
    alarm a;
    a.id = next_id_++;
    a.cls = ev.cls;
    a.kind = ev.kind;
    a.account = ev.account;
    a.code = ev.code;
    a.zone = ev.zone;
    a.text = ev.text;
    a.opened_at = opened_at;
    a.last_event_at = opened_at;
    a.first_event_id = ev.event_id;
    a.timeline.push_back(
        {alarm_state::new_alarm, alarm_state::new_alarm, opened_at, std::string(system_actor), {}});
    const alarm_id id = a.id;
    alarm& stored = alarms_.emplace(id, std::move(a)).first->second;
    by_device_kind_[{stored.account, stored.kind}] = id;
    enqueue(stored);
    arm_escalation(stored);
    out.push_back(make_change(change_kind::opened, stored, opened_at, system_actor, ev.event_id));
    return stored;
}

void engine::handle_restore(const event& ev, time_point now, changes& out) {
    const auto it = by_device_kind_.find({ev.account, ev.kind});
    if (it == by_device_kind_.end()) {
        out.push_back(device_change(change_kind::logged, now, ev.event_id, ev.account));
        return;
    }
    alarm& a = alarms_.at(it->second);
    a.restored_at = ev.received;
    if (a.cls == alarm_class::technical) {
        // A technical condition that restored needs nobody: it closes itself, restore recorded.
        close_alarm(a, system_actor, "restored", now, ev.event_id, out);
        return;
    }
    // Critical and urgent alarms stay until an operator closes them: the person may still need
    // help after the pendant's restore.
    out.push_back(make_change(change_kind::restore_noted, a, now, system_actor, ev.event_id));
}

void engine::close_alarm(alarm& a, std::string_view actor, std::string outcome, time_point now,
                         std::uint64_t event_id, changes& out) {
    const alarm_state from = a.state;
    a.state = alarm_state::closed;
    a.outcome = std::move(outcome);
    transition_record record{from, alarm_state::closed, now, std::string(actor), a.outcome};
    a.timeline.push_back(record);
    if (!a.storm_id) {
        dequeue(a);
    }
    if (const auto it = by_device_kind_.find({a.account, a.kind});
        it != by_device_kind_.end() && it->second == a.id) {
        by_device_kind_.erase(it);
    }
    change c = make_change(change_kind::closed, a, now, actor, event_id);
    c.transition = std::move(record);
    c.detail = a.outcome;
    out.push_back(std::move(c));

    const std::optional<alarm_id> storm_id = a.storm_id;
    const bool storm = a.storm;
    const alarm_id id = a.id;
    const std::vector<alarm_id> members = storm ? a.members : std::vector<alarm_id>{};
    const event_kind kind = a.kind;
    alarms_.erase(id);  // `a` is gone from here on

    if (storm) {
        storm_open_members_.erase(id);
        if (auto track = storms_.find(kind); track != storms_.end() && track->second.storm == id) {
            track->second.storm.reset();
        }
        // One change lists every member: a storm of 50,000 homes would otherwise be 50,000
        // changes with a header each. Members are all still new (nobody can act on a member,
        // and their timers are off), so one transition record describes each of them.
        change members_closed = out.back();
        members_closed.kind = change_kind::storm_closed;
        members_closed.detail = fmt::format("closed with storm {}", id);
        members_closed.transition =
            transition_record{alarm_state::new_alarm, alarm_state::closed, now, std::string(actor),
                              members_closed.detail};
        members_closed.members.reserve(members.size());
        for (const alarm_id member_id : members) {
            const auto m = alarms_.find(member_id);
            if (m == alarms_.end()) {
                continue;  // restored earlier, already closed on its own
            }
            if (const auto k = by_device_kind_.find({m->second.account, m->second.kind});
                k != by_device_kind_.end() && k->second == member_id) {
                by_device_kind_.erase(k);
            }
            alarms_.erase(m);
            members_closed.members.push_back(member_id);
        }
        if (!members_closed.members.empty()) {
            out.push_back(std::move(members_closed));
        }
    } else if (storm_id) {
        // A storm whose members all restored (power back) closes itself.
        auto count = storm_open_members_.find(*storm_id);
        if (count != storm_open_members_.end() && --count->second == 0) {
            if (const auto s = alarms_.find(*storm_id); s != alarms_.end()) {
                s->second.restored_at = now;
                close_alarm(s->second, system_actor, "restored", now, 0, out);
            }
        }
    }
}

void engine::check_storm(alarm& a, time_point now, changes& out) {
    storm_track& track = storms_[a.kind];
    track.recent.emplace_back(a.opened_at, a.id);
    while (!track.recent.empty() && track.recent.front().first + config_.storm_window <= now) {
        track.recent.pop_front();
    }
    // A storm takes members only while its wave goes on (a window from its newest member): a
    // mains_loss the next day is a new alarm of its own, not one hidden in yesterday's storm.
    if (track.storm && alarms_.count(*track.storm) != 0 &&
        a.opened_at < track.last_joined + config_.storm_window) {
        alarm& storm = alarms_.at(*track.storm);
        dequeue(a);
        a.storm_id = storm.id;
        storm.members.push_back(a.id);
        ++storm.event_count;
        storm.last_event_at = a.opened_at;
        ++storm_open_members_[storm.id];
        track.last_joined = std::max(track.last_joined, a.opened_at);
        change c = make_change(change_kind::storm_joined, storm, now, system_actor);
        c.members = {a.id};
        out.push_back(std::move(c));
        return;
    }
    if (track.recent.size() < config_.storm_threshold) {
        return;
    }
    // Only untaken alarms move: one an operator already holds stays where it is.
    std::vector<alarm_id> moving;
    time_point first = a.opened_at;
    time_point last = a.opened_at;
    for (const auto& [opened, id] : track.recent) {
        const auto it = alarms_.find(id);
        if (it != alarms_.end() && it->second.state == alarm_state::new_alarm &&
            !it->second.storm_id) {
            moving.push_back(id);
            first = std::min(first, opened);
            last = std::max(last, opened);
        }
    }
    if (moving.size() < config_.storm_threshold) {
        return;
    }
    alarm storm;
    storm.id = next_id_++;
    storm.cls = alarm_class::technical;
    storm.kind = a.kind;
    storm.storm = true;
    storm.text = fmt::format("storm: {}", arc::config::to_string(a.kind));
    storm.opened_at = first;
    storm.last_event_at = a.opened_at;
    storm.event_count = 0;
    storm.timeline.push_back(
        {alarm_state::new_alarm, alarm_state::new_alarm, now, std::string(system_actor), {}});
    const alarm_id storm_id = storm.id;
    alarm& stored = alarms_.emplace(storm_id, std::move(storm)).first->second;
    for (const alarm_id id : moving) {
        alarm& member = alarms_.at(id);
        dequeue(member);
        member.storm_id = storm_id;
        stored.members.push_back(id);
        stored.event_count += member.event_count;
    }
    storm_open_members_[storm_id] = moving.size();
    track.storm = storm_id;
    track.last_joined = last;
    enqueue(stored);
    arm_escalation(stored);
    change c = make_change(change_kind::storm_grouped, stored, now, system_actor);
    c.members = std::move(moving);
    out.push_back(std::move(c));
}

// ---- lifecycle ----

expected<alarm*> engine::open_alarm_for_action(alarm_id id, std::string_view actor) {
    if (actor.empty()) {
        return tl::make_unexpected(make_error_code(errc::missing_operator));
    }
    const auto it = alarms_.find(id);
    if (it == alarms_.end()) {
        return tl::make_unexpected(make_error_code(errc::unknown_alarm));
    }
    if (it->second.storm_id) {
        return tl::make_unexpected(make_error_code(errc::storm_member));
    }
    return &it->second;
}

expected<changes> engine::step(alarm_id id, std::string_view actor, alarm_state from,
                               alarm_state to, std::string detail, time_point now) {
    auto found = open_alarm_for_action(id, actor);
    if (!found) {
        return tl::make_unexpected(found.error());
    }
    alarm& a = **found;
    if (a.state != from) {
        return tl::make_unexpected(make_error_code(errc::illegal_transition));
    }
    a.state = to;
    if (to == alarm_state::taken) {
        a.holder = std::string(actor);
    }
    if (to == alarm_state::dispatched) {
        a.team = detail;
    }
    transition_record record{from, to, now, std::string(actor), std::move(detail)};
    a.timeline.push_back(record);
    change c = make_change(change_kind::transitioned, a, now, actor);
    c.detail = record.detail;
    c.transition = std::move(record);
    settle();  // a taken alarm's escalation timer must not wake the daemon
    return changes{std::move(c)};
}

expected<changes> engine::take(alarm_id id, std::string_view op, time_point now) {
    if (const alarm* a = find(id); a != nullptr && a->state != alarm_state::new_alarm &&
                                   !a->holder.empty() && !op.empty() && !a->storm_id) {
        return tl::make_unexpected(make_error_code(errc::already_taken));
    }
    return step(id, op, alarm_state::new_alarm, alarm_state::taken, {}, now);
}

expected<changes> engine::release(alarm_id id, std::string_view op, time_point now) {
    auto found = open_alarm_for_action(id, op);
    if (!found) {
        return tl::make_unexpected(found.error());
    }
    alarm& a = **found;
    if (a.state != alarm_state::taken && a.state != alarm_state::acknowledged) {
        return tl::make_unexpected(make_error_code(errc::illegal_transition));
    }
    transition_record record{a.state, alarm_state::new_alarm, now, std::string(op), "released"};
    a.state = alarm_state::new_alarm;
    a.holder.clear();
    a.timeline.push_back(record);
    change c = make_change(change_kind::transitioned, a, now, op);
    c.detail = record.detail;
    c.transition = std::move(record);
    arm_escalation(a);
    settle();
    return changes{std::move(c)};
}

expected<changes> engine::reassign(alarm_id id, std::string_view op, std::string_view to,
                                   time_point now) {
    if (to.empty()) {
        return tl::make_unexpected(make_error_code(errc::missing_operator));
    }
    auto found = open_alarm_for_action(id, op);
    if (!found) {
        return tl::make_unexpected(found.error());
    }
    alarm& a = **found;
    if (a.state != alarm_state::taken && a.state != alarm_state::acknowledged) {
        return tl::make_unexpected(make_error_code(errc::illegal_transition));
    }
    transition_record record{a.state, a.state, now, std::string(op),
                             "reassigned to " + std::string(to)};
    a.holder = std::string(to);
    a.timeline.push_back(record);
    change c = make_change(change_kind::transitioned, a, now, op);
    c.detail = record.detail;
    c.transition = std::move(record);
    return changes{std::move(c)};
}

expected<changes> engine::acknowledge(alarm_id id, std::string_view op, time_point now) {
    return step(id, op, alarm_state::taken, alarm_state::acknowledged, {}, now);
}

expected<changes> engine::dispatch(alarm_id id, std::string_view op, std::string_view team,
                                   std::string_view instructions, time_point now) {
    if (team.empty()) {
        return tl::make_unexpected(make_error_code(errc::missing_team));
    }
    auto out =
        step(id, op, alarm_state::acknowledged, alarm_state::dispatched, std::string(team), now);
    if (out) {
        out->front().note = std::string(instructions);
        arm_mission_timer(alarms_.at(id));
        settle();
    }
    return out;
}

expected<changes> engine::dispatch(alarm_id id, std::string_view op, std::string_view team,
                                   time_point now) {
    return dispatch(id, op, team, {}, now);
}

expected<changes> engine::accept(alarm_id id, std::string_view actor, time_point now) {
    return step(id, actor, alarm_state::dispatched, alarm_state::accepted, {}, now);
}

expected<changes> engine::decline(alarm_id id, std::string_view actor, std::string_view reason,
                                  time_point now) {
    if (reason.find_first_not_of(" \t") == std::string_view::npos) {
        return tl::make_unexpected(make_error_code(errc::missing_reason));
    }
    auto out = step(id, actor, alarm_state::dispatched, alarm_state::acknowledged,
                    fmt::format("declined: {}", reason), now);
    if (out) {
        alarms_.at(id).team.clear();
        out->front().note = std::string(reason);
    }
    return out;
}

expected<changes> engine::depart(alarm_id id, std::string_view actor, time_point now) {
    return step(id, actor, alarm_state::accepted, alarm_state::on_the_way, {}, now);
}

expected<changes> engine::arrive(alarm_id id, std::string_view actor, time_point now) {
    return step(id, actor, alarm_state::on_the_way, alarm_state::on_site, {}, now);
}

expected<changes> engine::complete_mission(alarm_id id, std::string_view actor,
                                           std::string_view outcome, std::string_view note,
                                           time_point now) {
    if (outcome.empty()) {
        return tl::make_unexpected(make_error_code(errc::missing_outcome));
    }
    if (outcome == referral_outcome &&
        note.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return tl::make_unexpected(make_error_code(errc::missing_handover));
    }
    if (const alarm* a = find(id); a != nullptr && a->state != alarm_state::on_site) {
        return tl::make_unexpected(make_error_code(errc::illegal_transition));
    }
    auto out =
        step(id, actor, alarm_state::on_site, alarm_state::mission_done, std::string(outcome), now);
    if (out) {
        out->front().note = std::string(note);
    }
    return out;
}

expected<changes> engine::close(alarm_id id, std::string_view op, std::string_view outcome,
                                time_point now) {
    auto found = open_alarm_for_action(id, op);
    if (!found) {
        return tl::make_unexpected(found.error());
    }
    alarm& a = **found;
    if (a.state != alarm_state::acknowledged && a.state != alarm_state::mission_done) {
        return tl::make_unexpected(make_error_code(errc::illegal_transition));
    }
    if (outcome.empty()) {
        return tl::make_unexpected(make_error_code(errc::missing_outcome));
    }
    changes out;
    close_alarm(a, op, std::string(outcome), now, 0, out);
    settle();
    return out;
}

expected<changes> engine::open_case(alarm_class cls, std::string account, std::string category,
                                    std::string summary, std::string_view op, bool take,
                                    time_point now) {
    if (op.empty()) {
        return tl::make_unexpected(make_error_code(errc::missing_operator));
    }
    if (cls == alarm_class::log_only) {
        return tl::make_unexpected(make_error_code(errc::illegal_transition));
    }
    alarm a;
    a.id = next_id_++;
    a.cls = cls;
    a.kind = event_kind::phone_report;
    a.account = std::move(account);
    a.code = std::move(category);
    a.text = std::move(summary);
    a.opened_at = now;
    a.last_event_at = now;
    a.timeline.push_back(
        {alarm_state::new_alarm, alarm_state::new_alarm, now, std::string(op), {}});
    const alarm_id id = a.id;
    // Not in by_device_kind_: a call never merges into, nor is restored like, a device alarm.
    alarm& stored = alarms_.emplace(id, std::move(a)).first->second;
    enqueue(stored);
    arm_escalation(stored);
    changes out{make_change(change_kind::opened, stored, now, op)};
    if (take) {
        auto taken = step(id, op, alarm_state::new_alarm, alarm_state::taken, {}, now);
        if (taken) {
            out.insert(out.end(), taken->begin(), taken->end());
        }
    }
    settle();
    return out;
}

expected<changes> engine::add_note(alarm_id id, std::string_view op, std::string_view text,
                                   time_point now) {
    auto found = open_alarm_for_action(id, op);
    if (!found) {
        return tl::make_unexpected(found.error());
    }
    alarm& a = **found;
    a.notes.push_back({now, std::string(op), std::string(text)});
    change c = make_change(change_kind::noted, a, now, op);
    c.detail = std::string(text);
    return changes{std::move(c)};
}

// ---- devices, supervision, test mode ----

std::optional<duration> engine::interval_of(const device_state& device) const {
    if (device.interval) {
        return *device.interval;
    }
    const auto it = config_.supervision_interval.find(device.device_type);
    if (it == config_.supervision_interval.end()) {
        return std::nullopt;
    }
    return it->second;
}

duration engine::grace_of(duration interval) const {
    return interval + interval * config_.supervision_grace_percent / 100 +
           config_.supervision_grace_fixed;
}

void engine::push_silence_timer(device_entry& entry) {
    ++entry.generation;
    entry.heap_due = entry.deadline;
    device_timers_.push(
        {*entry.deadline, entry.state.account, entry.generation, device_timer_kind::silence});
}

void engine::arm_supervision(device_entry& entry, time_point from, time_point now) {
    entry.deadline.reset();
    const auto interval = interval_of(entry.state);
    if (!interval || interval->count() <= 0) {
        return;
    }
    time_point deadline = from + grace_of(*interval);
    if (deadline <= now) {
        // Passed while arcd was down (or the device was in test mode): a fresh grace from now,
        // not an alarm for a silence nobody could observe.
        deadline = now + grace_of(*interval);
    }
    entry.deadline = deadline;
    // A later deadline (the usual case: the device reported) leaves the queued timer in place;
    // settle() moves it when it reaches the top. Only an earlier one needs a new entry.
    if (!entry.heap_due || deadline < *entry.heap_due) {
        push_silence_timer(entry);
    }
}

engine::device_entry& engine::ensure_device(const event& ev, time_point now) {
    auto it = devices_.find(ev.account);
    if (it == devices_.end()) {
        device_entry entry;
        entry.state.account = ev.account;
        entry.state.device_type = ev.device_type;
        entry.state.mode = ev.mode;
        it = devices_.emplace(ev.account, std::move(entry)).first;
        arm_supervision(it->second, now, now);
    }
    return it->second;
}

void engine::touch_device(device_entry& entry, time_point now, std::uint64_t event_id,
                          changes& out) {
    entry.state.last_seen = now;
    arm_supervision(entry, now, now);
    // The device's next message closes its "device silent" alarm.
    if (const auto it = by_device_kind_.find({entry.state.account, event_kind::device_silent});
        it != by_device_kind_.end()) {
        alarm& a = alarms_.at(it->second);
        a.restored_at = now;
        close_alarm(a, system_actor, "restored", now, event_id, out);
    }
}

void engine::end_test_mode(device_entry& entry, time_point now, changes& out) {
    entry.state.mode = device_mode::active;
    entry.state.test_until.reset();
    out.push_back(
        device_change(change_kind::mode_changed, now, 0, entry.state.account, "test mode ended"));
    // Silence during the test is not counted against the device.
    if (!entry.deadline || *entry.deadline <= now) {
        arm_supervision(entry, now, now);
    }
}

void engine::fire_device_timer(const device_timer& timer, changes& out) {
    const auto it = devices_.find(timer.account);
    if (it == devices_.end()) {
        return;
    }
    device_entry& entry = it->second;
    if (timer.kind == device_timer_kind::test_end) {
        if (entry.state.mode == device_mode::test && entry.state.test_until == timer.due) {
            end_test_mode(entry, timer.due, out);
        }
        return;
    }
    if (timer.generation != entry.generation) {
        return;
    }
    entry.heap_due.reset();
    if (!entry.deadline) {
        return;
    }
    if (*entry.deadline > timer.due) {
        push_silence_timer(entry);
        return;
    }
    entry.deadline.reset();
    if (entry.state.mode == device_mode::test || (entry.state.mode == device_mode::retired &&
                                                  config_.retired == retired_policy::record_only)) {
        return;
    }
    if (entry.state.paused_until && *entry.state.paused_until > timer.due) {
        // Away or in hospital: the device may well be off. Supervision starts again with a
        // full grace when the pause ends (no end set: when set_device lifts it).
        if (*entry.state.paused_until != time_point::max()) {
            arm_supervision(entry, *entry.state.paused_until, timer.due);
        }
        return;
    }
    if (by_device_kind_.count({entry.state.account, event_kind::device_silent}) != 0) {
        return;
    }
    event silent;
    silent.account = entry.state.account;
    silent.device_type = entry.state.device_type;
    silent.cls = alarm_class::technical;
    silent.kind = event_kind::device_silent;
    silent.text = "device silent";
    alarm& a = open_alarm(silent, timer.due, out);
    check_storm(a, timer.due, out);
}

changes engine::set_device(device_state device, time_point now) {
    changes out;
    auto it = devices_.find(device.account);
    const bool known = it != devices_.end();
    if (!known) {
        it = devices_.emplace(device.account, device_entry{}).first;
    }
    device_entry& entry = it->second;
    const std::optional<duration> old_interval = known ? interval_of(entry.state) : std::nullopt;
    const std::optional<time_point> last_seen =
        device.last_seen ? device.last_seen : entry.state.last_seen;
    const bool mode_changed = known && entry.state.mode != device.mode;
    const bool pause_changed = known && entry.state.paused_until != device.paused_until;
    entry.state = std::move(device);
    entry.state.last_seen = last_seen;
    if (!known || interval_of(entry.state) != old_interval) {
        arm_supervision(entry, last_seen.value_or(now), now);
    }
    if (entry.state.mode == device_mode::test && entry.state.test_until) {
        device_timers_.push({*entry.state.test_until, entry.state.account, entry.generation,
                             device_timer_kind::test_end});
    }
    if (mode_changed) {
        out.push_back(device_change(change_kind::mode_changed, now, 0, entry.state.account,
                                    fmt::format("mode {}", to_string(entry.state.mode))));
    }
    if (entry.state.mode == device_mode::active && entry.deadline && *entry.deadline <= now) {
        arm_supervision(entry, now, now);
    }
    if (pause_changed && !entry.deadline) {
        // A pause without end disarmed supervision; lifting (or bounding) it starts it again,
        // with a full grace from the end of the pause.
        const time_point from = entry.state.paused_until && *entry.state.paused_until > now &&
                                        *entry.state.paused_until != time_point::max()
                                    ? *entry.state.paused_until
                                    : now;
        arm_supervision(entry, from, now);
    }
    settle();
    return out;
}

const device_state* engine::device(std::string_view account) const {
    const auto it = devices_.find(account);
    return it == devices_.end() ? nullptr : &it->second.state;
}

std::vector<device_state> engine::devices() const {
    std::vector<device_state> out;
    out.reserve(devices_.size());
    for (const auto& [account, entry] : devices_) {
        out.push_back(entry.state);
    }
    return out;
}

std::optional<time_point> engine::supervision_deadline(std::string_view account) const {
    const auto it = devices_.find(account);
    return it == devices_.end() ? std::nullopt : it->second.deadline;
}

// ---- recovery ----

bool engine::remove_device(std::string_view account) {
    const auto it = devices_.find(account);
    if (it == devices_.end()) {
        return false;
    }
    devices_.erase(it);  // its timers in the heap are dropped when they surface
    settle();
    return true;
}

engine engine::rebuild(engine_config config, std::vector<alarm> open_alarms,
                       std::vector<device_state> devices, time_point now, alarm_id max_id) {
    engine e(std::move(config));
    e.next_id_ = max_id + 1;
    for (alarm& a : open_alarms) {
        e.next_id_ = std::max(e.next_id_, a.id + 1);
        const alarm_id id = a.id;
        alarm& stored = e.alarms_.emplace(id, std::move(a)).first->second;
        if (!stored.storm) {
            e.by_device_kind_[{stored.account, stored.kind}] = id;
        }
        if (!stored.storm_id) {
            e.enqueue(stored);
            e.arm_escalation(stored);
            e.arm_mission_timer(stored);
        }
    }
    // Storm bookkeeping comes from the members' links, which storage keeps per alarm. A storm
    // is active a window on from its newest member; of several of one kind, the newest is the
    // one a new alarm may join.
    std::unordered_map<alarm_id, time_point> last_joined;
    for (const auto& [id, a] : e.alarms_) {
        if (a.storm) {
            e.storm_open_members_.try_emplace(id, 0);
            last_joined.try_emplace(id, a.opened_at);
        } else if (a.storm_id) {
            ++e.storm_open_members_[*a.storm_id];
            auto [it, added] = last_joined.try_emplace(*a.storm_id, a.opened_at);
            it->second = std::max(it->second, a.opened_at);
        }
    }
    for (const auto& [id, a] : e.alarms_) {
        if (!a.storm) {
            continue;
        }
        storm_track& track = e.storms_[a.kind];
        const time_point joined = last_joined.at(id);
        if (!track.storm || joined > track.last_joined ||
            (joined == track.last_joined && id > *track.storm)) {
            track.storm = id;
            track.last_joined = joined;
        }
    }
    for (device_state& device : devices) {
        const std::string account = device.account;
        device_entry& entry = e.devices_[account];
        entry.state = std::move(device);
        e.arm_supervision(entry, entry.state.last_seen.value_or(now), now);
        if (entry.state.mode == device_mode::test && entry.state.test_until) {
            e.device_timers_.push(
                {*entry.state.test_until, account, entry.generation, device_timer_kind::test_end});
        }
    }
    e.settle();
    return e;
}

}  // namespace arc::engine
