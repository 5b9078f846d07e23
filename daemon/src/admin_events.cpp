#include "admin_events.hpp"

#include <exception>
#include <string>

#include "alarm_service.hpp"
#include <fmt/format.h>

#include "arc/api/json.hpp"
#include "arc/engine/engine.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/retention.hpp"
#include "arc/storage/store.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;

// What the engine did, in words an installer reads: the first link says it.
std::string outcome_text(const storage::event_alarm_link& l) {
    if (l.change == "opened") {
        return fmt::format("queued as alarm {} ({})", l.alarm_id, l.alarm_class);
    }
    if (l.change == "merged") {
        return fmt::format("added to open alarm {} ({})", l.alarm_id, l.alarm_class);
    }
    if (l.change == "retransmitted") {
        return fmt::format("a retransmission of alarm {}: nothing new", l.alarm_id);
    }
    if (l.change == "restore_noted" || l.change == "closed") {
        return fmt::format("restore: noted on alarm {} ({})", l.alarm_id, l.state);
    }
    return fmt::format("{} alarm {} ({})", l.change, l.alarm_id, l.alarm_class);
}

}  // namespace

bool handle_event_command(const std::string& cmd, const json& req, admin_backend& backend,
                          const admin_reply& reply) {
    if (cmd != "device.event") {
        return false;
    }
    try {
        const auto it = req.find("event");
        if (it == req.end() || !it->is_number_integer() || it->get<std::int64_t>() < 1) {
            reply.fail("bad_request", "field 'event' must be an event id (a positive integer)");
            return true;
        }
        const std::int64_t id = it->get<std::int64_t>();
        storage::database& db = backend.read_db();
        const auto ev = storage::find_event(db, id);
        if (!ev) {
            reply.fail("not_found", fmt::format("no event {}", id));
            return true;
        }
        // The engine's cursor is stored with its alarm changes: at or past the event, the
        // links below are complete.
        const bool processed = storage::engine_event_cursor(db) >= id;
        json alarms = json::array();
        const auto links = storage::alarms_of_event(db, id);
        for (const auto& l : links) {
            alarms.push_back(json{{"alarm", l.alarm_id},
                                  {"change", l.change},
                                  {"class", l.alarm_class},
                                  {"state", l.state}});
        }
        std::string mode;
        if (const engine::device_state* d = backend.alarms().alarm_engine().device(ev->account)) {
            mode = std::string(engine::to_string(d->mode));
        } else if (const auto dev = storage::find_device(db, ev->account)) {
            mode = std::string(storage::to_string(dev->mode));
        }
        std::string outcome;
        if (!links.empty()) {
            outcome = outcome_text(links.front());
        } else if (!ev->accepted) {
            outcome = "not accepted: nothing for the engine";
        } else if (!processed) {
            outcome = "pending: the engine has not handled it yet";
        } else if (mode == "test") {
            outcome = "test mode: stored, not queued";
        } else {
            outcome = "stored, no alarm (log-only event)";
        }
        reply.ok(json{{"event", arc::api::event_to_json(*ev)},
                      {"engine",
                       {{"processed", processed || !links.empty()},
                        {"device_mode", mode.empty() ? json(nullptr) : json(mode)},
                        {"alarms", std::move(alarms)},
                        {"outcome", outcome}}}});
    } catch (const std::exception& e) {
        reply.fail("internal", e.what());
    }
    return true;
}

}  // namespace arc::daemon
