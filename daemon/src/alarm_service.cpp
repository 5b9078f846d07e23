#include "alarm_service.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include "admin_api.hpp"
#include "registry.hpp"
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arc/api/alarm_json.hpp"
#include "arc/api/json.hpp"
#include "arc/storage/security.hpp"

namespace arc::daemon {
namespace {

// Team names compare case-insensitively (ASCII), as everywhere else.
bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

using nlohmann::json;

engine::device_mode to_engine_mode(storage::device_mode mode) noexcept {
    switch (mode) {
        case storage::device_mode::test:
            return engine::device_mode::test;
        case storage::device_mode::retired:
            return engine::device_mode::retired;
        case storage::device_mode::active:
            break;
    }
    return engine::device_mode::active;
}

engine::device_state to_device_state(const storage::device& dev) {
    engine::device_state state;
    state.account = device_registry::normalise(dev.account);
    state.device_type = dev.device_type;
    state.mode = to_engine_mode(dev.mode);
    if (dev.mode == storage::device_mode::test && dev.test_until_ms) {
        state.test_until = engine::from_ms(*dev.test_until_ms);
    }
    if (dev.interval_s) {
        state.interval = std::chrono::seconds(*dev.interval_s);
    }
    if (dev.last_seen_ms) {
        state.last_seen = engine::from_ms(*dev.last_seen_ms);
    }
    state.vendor = dev.vendor;
    if (dev.paused_until_ms) {
        state.paused_until = *dev.paused_until_ms == std::numeric_limits<std::int64_t>::max()
                                 ? engine::time_point::max()
                                 : engine::from_ms(*dev.paused_until_ms);
    }
    return state;
}

// Contact ID codes are shown as the industry writes them: E101 event, R101 restore, S101 status.
std::string cid_display_code(char qualifier, std::string_view code) {
    const char prefix = qualifier == '3' ? 'R' : qualifier == '6' ? 'S' : 'E';
    return fmt::format("{}{}", prefix, code);
}

}  // namespace

alarm_service::alarm_service(engine::engine_config config, config::event_code_map codes,
                             alarm_service_hooks hooks)
    : engine_(std::move(config)),
      codes_(std::move(codes)),
      hooks_(std::move(hooks)),
      pending_(std::make_unique<batch>()) {}

void alarm_service::rebuild(storage::database& db, engine::time_point now) {
    storage::alarm_snapshot snapshot = storage::load_open_alarms(db);
    std::vector<engine::device_state> devices;
    for (const storage::device& dev : storage::list_devices(db)) {
        devices.push_back(to_device_state(dev));
    }
    const std::size_t open = snapshot.open.size();
    const std::size_t device_count = devices.size();
    engine_ = engine::engine::rebuild(engine_.config(), std::move(snapshot.open),
                                      std::move(devices), now, snapshot.max_id);
    pending_->data.event_cursor = 0;
    spdlog::info("alarm engine: {} open alarms, {} devices, event cursor {}", open, device_count,
                 snapshot.event_cursor);
    rearm();
}

std::size_t alarm_service::replay(storage::database& db, const redecoder& redecode,
                                  engine::time_point now) {
    std::int64_t cursor = storage::engine_event_cursor(db);
    std::size_t fed = 0;
    std::vector<engine::event> events;
    for (;;) {
        const std::vector<storage::event_record> records = storage::events_after(db, cursor, 1000);
        if (records.empty()) {
            break;
        }
        for (const storage::event_record& rec : records) {
            cursor = rec.id;
            const std::optional<protocol::dc09_result> result = redecode(rec);
            events.clear();
            if (result) {
                normalise(*result, rec.received_ms, events);
            }
            if (events.empty()) {
                continue;
            }
            ingest(rec.id, events, now);
            ++fed;
        }
        // The cursor moves past events that gave nothing, too (one job, not one per event).
        pending_->data.event_cursor = std::max(pending_->data.event_cursor, cursor);
    }
    replayed_events_ += fed;
    if (fed > 0) {
        spdlog::warn(
            "alarm engine: {} events committed before the last stop had no alarm "
            "changes on disk; fed them again",
            fed);
    }
    flush();
    return fed;
}

std::size_t alarm_service::replay(storage::database& db, const redecoder& redecode,
                                  const line_redecoder& redecode_line, engine::time_point now) {
    std::size_t fed = 0;
    std::vector<engine::event> events;
    // The DC-09 pass below moves the cursor; serial lines after it are fed here, in id order
    // with the frames (each record is one or the other).
    const redecoder both =
        [&](const storage::event_record& rec) -> std::optional<protocol::dc09_result> {
        if (const std::optional<protocol::receiver_result> line = redecode_line(rec)) {
            events.clear();
            normalise(*line, rec.received_ms, events);
            if (!events.empty()) {
                ingest(rec.id, events, now);
                ++fed;
            }
            return std::nullopt;
        }
        return redecode(rec);
    };
    const std::size_t frames = replay(db, both, now);
    if (fed > 0) {
        replayed_events_ += fed;
        spdlog::warn("alarm engine: {} serial receiver lines fed again", fed);
    }
    return frames + fed;
}

void alarm_service::normalise(const protocol::dc09_result& result, std::int64_t received_ms,
                              std::vector<engine::event>& out) const {
    if (!result.accepted || !result.frame) {
        return;
    }
    engine::event base;
    base.account = device_registry::normalise(result.frame->acct);
    base.received = engine::from_ms(received_ms);
    std::string vendor;
    if (const engine::device_state* dev = engine_.device(base.account)) {
        base.device_type = dev->device_type;
        base.mode = dev->mode;
        vendor = dev->vendor;
    }
    const std::string data = result.content ? result.content->data : std::string();
    if (!result.frame->seq.empty()) {
        base.dc09 = engine::dc09_identity{base.account, result.frame->seq, data};
    }
    if (result.is_link_test()) {
        // A link test says the device (or its receiver path) is alive: supervision counts it.
        engine::event ev = std::move(base);
        ev.cls = engine::alarm_class::log_only;
        ev.kind = engine::event_kind::periodic_test;
        ev.code = "NULL";
        ev.text = "Test di collegamento";
        out.push_back(std::move(ev));
        return;
    }
    if (result.sia) {
        const auto& events = result.sia->events;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const protocol::sia_event& se = events[i];
            engine::event ev = base;
            engine::apply_classification(
                ev, codes_.classify(config::code_family::sia, se.code, '1', vendor));
            ev.code = se.code;
            ev.zone = se.address;
            if (!se.text.empty()) {
                ev.text = fmt::format("{}: {}", ev.text, se.text);
            }
            if (ev.dc09 && i > 0) {
                // Each event of a multi-event frame is its own fact, not a retransmission of
                // the first.
                ev.dc09->data = fmt::format("{}#{}", data, i);
            }
            out.push_back(std::move(ev));
        }
        return;
    }
    if (result.cid) {
        const protocol::cid_event& ce = result.cid->event;
        engine::event ev = std::move(base);
        engine::apply_classification(
            ev, codes_.classify(config::code_family::cid, ce.code, ce.qualifier, vendor));
        ev.code = cid_display_code(ce.qualifier, ce.code);
        ev.zone = ce.zone;
        out.push_back(std::move(ev));
    }
}

void alarm_service::normalise(const protocol::receiver_result& result, std::int64_t received_ms,
                              std::vector<engine::event>& out) const {
    if (!result.accepted || !result.line || result.is_heartbeat()) {
        return;  // receiver heartbeats are supervised by the receiver port, not the engine
    }
    const protocol::receiver_line& line = *result.line;
    engine::event base;
    base.account = device_registry::normalise(line.account);
    base.received = engine::from_ms(received_ms);
    std::string vendor;
    if (const engine::device_state* dev = engine_.device(base.account)) {
        base.device_type = dev->device_type;
        base.mode = dev->mode;
        vendor = dev->vendor;
    }
    // No retransmission identity: receiver lines carry no sequence number, and a line re-sent
    // after a lost ACK merges into the alarm it opened.
    if (line.cid) {
        const protocol::cid_event& ce = *line.cid;
        engine::event ev = std::move(base);
        engine::apply_classification(
            ev, codes_.classify(config::code_family::cid, ce.code, ce.qualifier, vendor));
        ev.code = cid_display_code(ce.qualifier, ce.code);
        ev.zone = ce.zone;
        out.push_back(std::move(ev));
        return;
    }
    if (line.sia) {
        for (const protocol::sia_event& se : line.sia->events) {
            engine::event ev = base;
            engine::apply_classification(
                ev, codes_.classify(config::code_family::sia, se.code, '1', vendor));
            ev.code = se.code;
            ev.zone = se.address;
            if (!se.text.empty()) {
                ev.text = fmt::format("{}: {}", ev.text, se.text);
            }
            out.push_back(std::move(ev));
        }
        return;
    }
    // Basic formats (3/1, 4/2) say little; an operator looks at every one rather than none.
    engine::event ev = std::move(base);
    ev.cls = engine::alarm_class::urgent;
    ev.kind = engine::event_kind::unknown;
    ev.code = line.basic_event + line.basic_group + line.basic_zone;
    ev.zone = line.basic_zone;
    ev.text = fmt::format("Evento ricevitore formato base '{}'", line.basic_event);
    out.push_back(std::move(ev));
}

void alarm_service::normalise(const protocol::scaip_request& request, std::int64_t received_ms,
                              std::vector<engine::event>& out) const {
    engine::event ev;
    ev.account = device_registry::normalise(request.cid);
    ev.received = engine::from_ms(received_ms);
    std::string vendor;
    if (const engine::device_state* dev = engine_.device(ev.account)) {
        ev.device_type = dev->device_type;
        ev.mode = dev->mode;
        vendor = dev->vendor;
    }
    ev.zone = !request.did.empty() ? request.did
                                   : (request.dco ? std::to_string(*request.dco) : std::string());
    if (request.mty == protocol::scaip_message_type::heartbeat) {
        ev.cls = engine::alarm_class::log_only;
        ev.kind = engine::event_kind::periodic_test;
        ev.code = "PI";
        ev.text = "Heartbeat SCAIP";
        out.push_back(std::move(ev));
        return;
    }
    if (request.mty == protocol::scaip_message_type::reset) {
        ev.cls = engine::alarm_class::log_only;
        ev.kind = engine::event_kind::system;
        ev.code = "RE";
        ev.text = fmt::format("Annullamento SCAIP (ref {})", request.ref);
        out.push_back(std::move(ev));
        return;
    }
    // §4.3: an omitted stc means the alarm state.
    const int stc = request.stc.value_or(10);
    ev.code = fmt::format("{:04}", stc);
    engine::apply_classification(ev,
                                 codes_.classify(config::code_family::scaip, ev.code, '1', vendor));
    // Annex A 0005 fall trigger, 0030 man-down: their alarm is a fall.
    if ((stc == 9 || stc == 10) && (request.dty == 5 || request.dty == 30)) {
        ev.kind = engine::event_kind::fall;
    }
    for (const std::string* extra : {&request.dte, &request.stt}) {
        if (!extra->empty()) {
            ev.text = fmt::format("{}: {}", ev.text, *extra);
        }
    }
    // The same ref and content again is a re-send (after HOLD or a lost <mrs>), not a new fact.
    ev.dc09 = engine::dc09_identity{ev.account, request.ref,
                                    fmt::format("{}{}", protocol::to_string(request.mty), ev.code)};
    out.push_back(std::move(ev));
}

storage::lane alarm_service::lane_of(const std::vector<engine::event>& events) noexcept {
    for (const engine::event& ev : events) {
        if (ev.cls != engine::alarm_class::log_only || ev.is_restore) {
            return storage::lane::alarm;
        }
    }
    return storage::lane::routine;
}

void alarm_service::ingest(std::int64_t event_id, std::vector<engine::event>& events,
                           engine::time_point now) {
    engine::changes all;
    for (engine::event& ev : events) {
        ev.event_id = static_cast<std::uint64_t>(event_id);
        engine::changes out = engine_.ingest(ev, now);
        if (all.empty()) {
            all = std::move(out);
        } else {
            std::move(out.begin(), out.end(), std::back_inserter(all));
        }
    }
    absorb(std::move(all), event_id);
}

void alarm_service::on_timer(engine::time_point now) {
    engine::changes out = engine_.advance(now, max_advance_slice);
    if (!out.empty()) {
        absorb(std::move(out), 0);
    } else {
        rearm();
    }
}

void alarm_service::act(const action_request& request, engine::time_point now,
                        std::function<void(action_result)> done) {
    const engine::alarm* found = engine_.find(request.id);
    if (found == nullptr) {
        done({"not_found", fmt::format("no open alarm {}", request.id), nullptr});
        return;
    }
    // A copy: a close removes the alarm from the engine, and the answer still shows it.
    engine::alarm copy = *found;
    const bool held_by_other = !copy.holder.empty() && copy.holder != request.actor;
    if (held_by_other && (request.action == alarm_action::take ||
                          (request.holder_only && request.action != alarm_action::note &&
                           request.action != alarm_action::call))) {
        done({"held", fmt::format("held by {}", copy.holder), nullptr});
        return;
    }
    engine::expected<engine::changes> out;
    switch (request.action) {
        case alarm_action::take:
            out = engine_.take(request.id, request.actor, now);
            break;
        case alarm_action::acknowledge:
            out = engine_.acknowledge(request.id, request.actor, now);
            break;
        case alarm_action::dispatch:
            out = engine_.dispatch(request.id, request.actor, request.text, request.note, now);
            break;
        case alarm_action::close:
            out = engine_.close(request.id, request.actor, request.text, now);
            break;
        case alarm_action::note:
        case alarm_action::call:
            out = engine_.add_note(request.id, request.actor, request.text, now);
            break;
        case alarm_action::release:
            out = engine_.release(request.id, request.actor, now);
            break;
        case alarm_action::reassign:
            out = engine_.reassign(request.id, request.actor, request.text, now);
            break;
        case alarm_action::accept:
            out = engine_.accept(request.id, request.actor, now);
            break;
        case alarm_action::decline:
            out = engine_.decline(request.id, request.actor, request.text, now);
            break;
        case alarm_action::depart:
            out = engine_.depart(request.id, request.actor, now);
            break;
        case alarm_action::arrive:
            out = engine_.arrive(request.id, request.actor, now);
            break;
        case alarm_action::complete:
            out = engine_.complete_mission(request.id, request.actor, request.text, request.note,
                                           now);
            break;
    }
    if (!out) {
        done({"invalid",
              fmt::format("alarm {} ({}): {}", request.id, engine::to_string(copy.state),
                          out.error().message()),
              nullptr});
        return;
    }
    json rendered;
    if (const engine::alarm* after = engine_.find(request.id)) {
        rendered = api::alarm_to_json(*after);
    } else {
        for (const engine::change& c : *out) {
            if (c.alarm.id == request.id) {
                copy.state = c.alarm.state;
                copy.level = c.alarm.level;
                copy.holder = c.alarm.holder;
                if (c.kind == engine::change_kind::closed) {
                    copy.outcome = c.detail;
                }
            }
        }
        rendered = api::alarm_to_json(copy);
        if (copy.state == engine::alarm_state::closed) {
            rendered["closed"] = api::iso8601_utc_ms(engine::to_ms(now));
        }
    }
    absorb(
        std::move(*out), 0,
        [done = std::move(done), rendered = std::move(rendered)](std::error_code ec) mutable {
            if (ec) {
                done({ec == storage::errc::queue_full || ec == storage::errc::stopped ? "busy"
                                                                                      : "internal",
                      fmt::format("not stored: {}", ec.message()), nullptr});
                return;
            }
            done({"", "", std::move(rendered)});
        });
}

void alarm_service::open_case(case_request request, security::audit_entry audit,
                              engine::time_point now, std::function<void(action_result)> done) {
    auto out = engine_.open_case(request.cls, request.account, request.details.category,
                                 request.text, request.details.created_by, request.take, now);
    if (!out) {
        done({"invalid", fmt::format("case: {}", out.error().message()), nullptr});
        return;
    }
    engine::alarm_id id = 0;
    for (const engine::change& c : *out) {
        if (c.kind == engine::change_kind::opened) {
            id = c.alarm.id;
            break;
        }
    }
    const engine::alarm* opened = engine_.find(id);
    json rendered = opened != nullptr ? api::alarm_to_json(*opened) : json(nullptr);
    request.details.alarm_id = static_cast<std::int64_t>(id);
    audit.target = std::to_string(id);
    absorb(
        std::move(*out), 0,
        [done = std::move(done), rendered = std::move(rendered)](std::error_code ec) mutable {
            if (ec) {
                done({ec == storage::errc::queue_full || ec == storage::errc::stopped ? "busy"
                                                                                      : "internal",
                      fmt::format("not stored: {}", ec.message()), nullptr});
                return;
            }
            done({"", "", std::move(rendered)});
        },
        [details = std::move(request.details), audit = std::move(audit)](storage::database& db) {
            storage::insert_case(db, details);
            storage::append_audit(db, audit);
        });
}

void alarm_service::set_device(const storage::device& device, engine::time_point now) {
    engine::changes out = engine_.set_device(to_device_state(device), now);
    absorb(std::move(out), 0);
}

void alarm_service::remove_device(std::string_view account) {
    engine_.remove_device(device_registry::normalise(account));
    rearm();
}

json alarm_service::list(std::size_t limit) const {
    json alarms = json::array();
    for (const engine::alarm_id id : engine_.queue(limit)) {
        if (const engine::alarm* a = engine_.find(id)) {
            alarms.push_back(api::alarm_to_json(*a));
        }
    }
    return json{{"open", engine_.queue_size()}, {"alarms", std::move(alarms)}};
}

std::pair<std::uint64_t, json> alarm_service::subscribe(push_sink sink, std::size_t limit) {
    const std::uint64_t token = next_token_++;
    subscribers_.emplace(token, std::move(sink));
    json result = list(limit);
    result["subscribed"] = true;
    result["seq"] = seq_;
    return {token, std::move(result)};
}

std::uint64_t alarm_service::subscribe_team(std::string team, push_sink sink) {
    const std::uint64_t token = next_token_++;
    team_subscriber sub{std::move(team), std::move(sink), {}};
    for (const engine::alarm_id id : engine_.queue(engine_.queue_size())) {
        if (const engine::alarm* a = engine_.find(id); a != nullptr && iequals(a->team, sub.team)) {
            sub.known.insert(id);
        }
    }
    team_subscribers_.emplace(token, std::move(sub));
    return token;
}

std::map<std::string, int> alarm_service::open_missions() const {
    std::map<std::string, int> out;
    for (const engine::alarm_id id : engine_.queue(engine_.queue_size())) {
        const engine::alarm* a = engine_.find(id);
        if (a == nullptr || a->team.empty()) {
            continue;
        }
        switch (a->state) {
            case engine::alarm_state::dispatched:
            case engine::alarm_state::accepted:
            case engine::alarm_state::on_the_way:
            case engine::alarm_state::on_site: {
                std::string key = a->team;
                std::transform(key.begin(), key.end(), key.begin(), [](unsigned char ch) {
                    return static_cast<char>(std::tolower(ch));
                });
                ++out[key];
                break;
            }
            default:
                break;
        }
    }
    return out;
}

void alarm_service::unsubscribe(std::uint64_t token) {
    subscribers_.erase(token);
    team_subscribers_.erase(token);
}

bool alarm_service::idle() const noexcept {
    return !in_flight_ && pending_->data.changes.empty() && pending_->waiters.empty() &&
           pending_->data.event_cursor == 0;
}

json alarm_service::stats() const {
    return json{{"open", engine_.open_count()},
                {"pending_timers", engine_.pending_timers()},
                {"persisted_batches", persisted_batches_},
                {"persisted_changes", persisted_changes_},
                {"failed_batches", failed_batches_},
                {"pending_changes", pending_->data.changes.size()},
                {"replayed_events", replayed_events_},
                {"subscribers", subscribers_.size()},
                {"seq", seq_}};
}

void alarm_service::absorb(engine::changes&& out, std::int64_t event_cursor,
                           std::function<void(std::error_code)> waiter,
                           std::function<void(storage::database&)> also) {
    // Heartbeats and repeats change no alarm: neither stored (the event row is) nor pushed.
    std::erase_if(out, [](const engine::change& c) {
        return c.kind == engine::change_kind::logged ||
               c.kind == engine::change_kind::retransmitted;
    });
    storage::alarm_batch& data = pending_->data;
    for (const engine::change& c : out) {
        if ((c.kind == engine::change_kind::opened ||
             c.kind == engine::change_kind::storm_grouped) &&
            c.alarm.id != 0) {
            if (const engine::alarm* a = engine_.find(c.alarm.id)) {
                data.created.push_back(*a);
            }
        }
    }
    if (data.changes.empty()) {
        data.changes = std::move(out);
    } else {
        std::move(out.begin(), out.end(), std::back_inserter(data.changes));
    }
    data.event_cursor = std::max(data.event_cursor, event_cursor);
    if (also) {
        data.also.push_back(std::move(also));
    }
    if (waiter) {
        pending_->waiters.push_back(std::move(waiter));
    }
    rearm();
    flush();
}

void alarm_service::flush() {
    if (in_flight_ || stopped_ || idle()) {
        return;
    }
    std::shared_ptr<batch> sending(pending_.release());
    pending_ = std::make_unique<batch>();
    in_flight_ = true;
    hooks_.run_job(
        [sending](storage::database& db) { storage::persist_alarm_batch(db, sending->data); },
        [this, sending](std::error_code ec, const std::string& message) {
            in_flight_ = false;
            if (ec == storage::errc::stopped) {
                // arcd is stopping: what is not on disk is rebuilt at the next start (event
                // changes are fed again from the cursor; timers are recomputed).
                stopped_ = true;
                spdlog::warn(
                    "alarm engine: {} changes not persisted at shutdown; the next "
                    "start feeds their events again",
                    sending->data.changes.size());
                for (auto& waiter : sending->waiters) {
                    waiter(ec);
                }
                return;
            }
            if (ec) {
                ++failed_batches_;
                spdlog::error("alarm engine: persisting {} changes failed ({}); retrying",
                              sending->data.changes.size(),
                              message.empty() ? ec.message() : message);
                // Put them back in front of whatever came meanwhile and try again shortly.
                batch& later = *pending_;
                sending->data.changes.insert(sending->data.changes.end(),
                                             std::make_move_iterator(later.data.changes.begin()),
                                             std::make_move_iterator(later.data.changes.end()));
                later.data.changes = std::move(sending->data.changes);
                sending->data.created.insert(sending->data.created.end(),
                                             std::make_move_iterator(later.data.created.begin()),
                                             std::make_move_iterator(later.data.created.end()));
                later.data.created = std::move(sending->data.created);
                later.data.event_cursor =
                    std::max(later.data.event_cursor, sending->data.event_cursor);
                sending->data.also.insert(sending->data.also.end(),
                                          std::make_move_iterator(later.data.also.begin()),
                                          std::make_move_iterator(later.data.also.end()));
                later.data.also = std::move(sending->data.also);
                sending->waiters.insert(sending->waiters.end(),
                                        std::make_move_iterator(later.waiters.begin()),
                                        std::make_move_iterator(later.waiters.end()));
                later.waiters = std::move(sending->waiters);
                hooks_.call_later(std::chrono::milliseconds(500), [this]() { flush(); });
                return;
            }
            ++persisted_batches_;
            persisted_changes_ += sending->data.changes.size();
            publish(sending->data.changes);
            for (auto& waiter : sending->waiters) {
                waiter({});
            }
            flush();
        });
}

void alarm_service::publish(const engine::changes& out) {
    for (const engine::change& c : out) {
        ++seq_;
        if (!team_subscribers_.empty() && c.alarm.id != 0) {
            publish_team(c);
        }
        if (subscribers_.empty()) {
            continue;
        }
        const std::optional<engine::alarm_id> head = engine_.head();
        std::optional<std::size_t> rank;
        // Rank of an alarm among the first screen of the queue (critical and urgent alarms are
        // there); beyond it the rank is not computed.
        if (c.alarm.id != 0 && !c.alarm.storm_id && c.alarm.state != engine::alarm_state::closed) {
            const std::vector<engine::alarm_id> first = engine_.queue(64);
            if (const auto it = std::find(first.begin(), first.end(), c.alarm.id);
                it != first.end()) {
                rank = static_cast<std::size_t>(it - first.begin());
            }
        }
        json body = api::change_to_json(c, seq_, rank, head);
        auto line = std::make_shared<const std::string>(
            dump_line(json{{"push", "change"}, {"change", std::move(body)}}));
        for (auto it = subscribers_.begin(); it != subscribers_.end();) {
            if (it->second(line)) {
                ++it;
            } else {
                it = subscribers_.erase(it);
            }
        }
    }
}

// A team hears of the alarms dispatched to it, and once more when one stops being its own.
void alarm_service::publish_team(const engine::change& c) {
    const engine::alarm* a = engine_.find(c.alarm.id);
    const bool closed = a == nullptr || c.alarm.state == engine::alarm_state::closed;
    std::shared_ptr<const std::string> line;
    for (auto it = team_subscribers_.begin(); it != team_subscribers_.end();) {
        team_subscriber& sub = it->second;
        const bool ours = !closed && iequals(a->team, sub.team);
        const bool was = sub.known.count(c.alarm.id) != 0;
        if (ours) {
            sub.known.insert(c.alarm.id);
        } else {
            sub.known.erase(c.alarm.id);
        }
        if (!ours && !was) {
            ++it;
            continue;
        }
        if (!line) {
            line = std::make_shared<const std::string>(
                dump_line(json{{"push", "mission"}, {"alarm", c.alarm.id}, {"seq", seq_}}));
        }
        if (sub.sink(line)) {
            ++it;
        } else {
            it = team_subscribers_.erase(it);
        }
    }
}

void alarm_service::rearm() {
    if (hooks_.arm_timer) {
        hooks_.arm_timer(engine_.next_deadline());
    }
}

}  // namespace arc::daemon

namespace arc::daemon {

engine::engine_config to_engine_config(const config::daemon_config& cfg) {
    const config::engine_settings& in = cfg.engine;
    engine::engine_config out;
    const auto to_durations = [](const std::vector<std::chrono::seconds>& ages) {
        return std::vector<engine::duration>(ages.begin(), ages.end());
    };
    out.escalation[static_cast<std::size_t>(engine::alarm_class::critical)] =
        to_durations(in.escalation_critical);
    out.escalation[static_cast<std::size_t>(engine::alarm_class::urgent)] =
        to_durations(in.escalation_urgent);
    out.escalation[static_cast<std::size_t>(engine::alarm_class::technical)] =
        to_durations(in.escalation_technical);
    out.escalation[static_cast<std::size_t>(engine::alarm_class::log_only)] = {};
    out.retransmission_window = in.retransmission_window;
    out.storm_threshold = in.storm_threshold;
    out.storm_window = in.storm_window;
    out.supervision_grace_percent = in.supervision_grace_percent;
    out.supervision_grace_fixed = in.supervision_grace_fixed;
    out.supervision_interval.clear();
    for (const auto& [type, interval] : in.supervision_interval) {
        out.supervision_interval.emplace(type, interval);
    }
    out.retired =
        in.retired_queue ? engine::retired_policy::queue : engine::retired_policy::record_only;
    out.mission_accept_timeout = in.mission_accept_timeout;
    return out;
}

}  // namespace arc::daemon
