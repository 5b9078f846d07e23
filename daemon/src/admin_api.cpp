#include "admin_api.hpp"

#include <algorithm>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "alarm_service.hpp"
#include <fmt/format.h>

#include "arc/api/alarm_json.hpp"
#include "arc/api/json.hpp"
#include "arc/protocol/aes.hpp"
#include "arc/storage/alarms.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;

// A request that cannot be served: becomes an error response.
struct request_error {
    std::string code;
    std::string message;
};

const json* field(const json& req, const char* name) {
    const auto it = req.find(name);
    return it == req.end() ? nullptr : &*it;
}

std::string required_string(const json& req, const char* name) {
    const json* v = field(req, name);
    if (v == nullptr) {
        throw request_error{"bad_request", fmt::format("missing field '{}'", name)};
    }
    if (!v->is_string()) {
        throw request_error{"bad_request", fmt::format("field '{}' must be a string", name)};
    }
    return v->get<std::string>();
}

std::optional<std::string> optional_string(const json& req, const char* name) {
    const json* v = field(req, name);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        throw request_error{"bad_request", fmt::format("field '{}' must be a string", name)};
    }
    return v->get<std::string>();
}

std::string account_field(const json& req) {
    const std::string account = required_string(req, "account");
    if (!device_registry::valid_account(account)) {
        throw request_error{"invalid", "account: must be 3 to 16 hex digits"};
    }
    return device_registry::normalise(account);
}

// An optional integer field within [lo, hi]; `fallback` when absent.
std::int64_t integer_field(const json& req, const char* name, std::int64_t lo, std::int64_t hi,
                           std::optional<std::int64_t> fallback) {
    const json* v = field(req, name);
    if (v == nullptr || v->is_null()) {
        if (!fallback) {
            throw request_error{"bad_request", fmt::format("missing field '{}'", name)};
        }
        return *fallback;
    }
    if (!v->is_number_integer()) {
        throw request_error{"bad_request", fmt::format("field '{}' must be an integer", name)};
    }
    const std::int64_t value = v->get<std::int64_t>();
    if (value < lo || value > hi) {
        throw request_error{"invalid", fmt::format("{}: must be between {} and {}", name, lo, hi)};
    }
    return value;
}

// A short free-text field (actor, team, outcome, note): present, not blank, bounded.
std::string text_field(const json& req, const char* name, std::size_t max_size,
                       std::optional<std::string> fallback = std::nullopt) {
    std::optional<std::string> text = optional_string(req, name);
    if (!text) {
        if (!fallback) {
            throw request_error{"bad_request", fmt::format("missing field '{}'", name)};
        }
        return *fallback;
    }
    if (text->find_first_not_of(" \t") == std::string::npos) {
        throw request_error{"invalid", fmt::format("{}: must not be empty", name)};
    }
    if (text->size() > max_size) {
        throw request_error{"invalid", fmt::format("{}: at most {} bytes", name, max_size)};
    }
    return *text;
}

// Device types name supervision defaults: lower-case letters, digits and '_'.
std::string device_type_field(const json& req) {
    std::string type = optional_string(req, "type").value_or("home_unit");
    const bool valid =
        !type.empty() && type.size() <= 32 &&
        type.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
    if (!valid) {
        throw request_error{"invalid", "type: 1 to 32 of a-z, 0-9 and _ (e.g. home_unit)"};
    }
    return type;
}

constexpr std::int64_t max_alarm_list = 10000;
constexpr std::size_t max_show_events = 100;
constexpr std::size_t max_show_log = 1000;
constexpr std::size_t max_show_members = 1000;

storage::device_mode mode_field(const std::string& text) {
    const auto mode = storage::parse_device_mode(text);
    if (!mode) {
        throw request_error{"invalid", "mode: must be active, test or retired"};
    }
    return *mode;
}

// Shared between a write job (writer thread) and its completion (caller's thread); the writer's
// completion happens after the job, and the hand-off to the caller's thread orders it again.
struct job_state {
    bool found = true;
    std::optional<storage::device> device;
};

class handler {
public:
    handler(admin_backend& backend, json id, admin_respond respond, admin_session* session)
        : backend_(backend), id_(std::move(id)), respond_(std::move(respond)), session_(session) {}

    void run(const json& req) {
        const std::string cmd = required_string(req, "cmd");
        if (cmd == "status") {
            ok(backend_.status());
        } else if (cmd == "device.add") {
            device_add(req);
        } else if (cmd == "device.list") {
            json list = json::array();
            for (const auto& dev : storage::list_devices(backend_.read_db())) {
                list.push_back(arc::api::device_to_json(dev));
            }
            ok(json{{"devices", std::move(list)}});
        } else if (cmd == "device.show") {
            const std::string account = account_field(req);
            const auto dev = storage::find_device(backend_.read_db(), account);
            if (!dev) {
                throw request_error{"not_found", fmt::format("no device with account {}", account)};
            }
            ok(json{{"device", arc::api::device_to_json(*dev)}});
        } else if (cmd == "device.remove") {
            device_remove(req);
        } else if (cmd == "device.set_mode") {
            device_set_mode(req);
        } else if (cmd == "events") {
            events(req);
        } else if (cmd == "alarms") {
            const auto limit = integer_field(req, "limit", 1, max_alarm_list, 1000);
            ok(backend_.alarms().list(static_cast<std::size_t>(limit)));
        } else if (cmd == "alarm.show") {
            alarm_show(req);
        } else if (cmd == "alarms.subscribe") {
            if (session_ == nullptr) {
                throw request_error{"invalid", "alarms.subscribe needs a connection"};
            }
            const auto limit = integer_field(req, "limit", 1, max_alarm_list, 1000);
            ok(session_->subscribe(static_cast<std::size_t>(limit)));
        } else if (cmd == "alarm.take") {
            alarm_act(req, alarm_action::take, nullptr);
        } else if (cmd == "alarm.acknowledge") {
            alarm_act(req, alarm_action::acknowledge, nullptr);
        } else if (cmd == "alarm.dispatch") {
            alarm_act(req, alarm_action::dispatch, "team");
        } else if (cmd == "alarm.close") {
            alarm_act(req, alarm_action::close, "outcome");
        } else if (cmd == "alarm.note") {
            alarm_act(req, alarm_action::note, "text");
        } else {
            throw request_error{"unknown_command", fmt::format("unknown command '{}'", cmd)};
        }
    }

    void ok(json result) { respond_(admin_ok(id_, std::move(result))); }
    void fail(std::string_view code, std::string_view message) {
        respond_(admin_error(id_, code, message));
    }

private:
    void device_add(const json& req) {
        storage::device dev;
        dev.account = account_field(req);
        const std::string protocol = required_string(req, "protocol");
        if (protocol != "dc09") {
            throw request_error{"invalid", "protocol: only \"dc09\" is supported"};
        }
        dev.protocol = protocol;
        if (const auto key_text = optional_string(req, "key"); key_text && !key_text->empty()) {
            auto key = arc::protocol::parse_aes_key(*key_text);
            if (!key) {
                throw request_error{"invalid",
                                    "key: must be 32, 48 or 64 hex digits or 16, 24 or 32 "
                                    "characters"};
            }
            dev.key = std::move(*key);
        }
        if (const auto mode = optional_string(req, "mode")) {
            dev.mode = mode_field(*mode);
        }
        dev.label = optional_string(req, "label").value_or("");
        dev.device_type = device_type_field(req);
        if (field(req, "interval_s") != nullptr) {
            dev.interval_s = integer_field(req, "interval_s", 60, 31 * 86400, std::nullopt);
        }
        dev.vendor = optional_string(req, "vendor").value_or("");
        dev.created_ms = backend_.now_ms();

        auto state = std::make_shared<job_state>();
        auto self = std::make_shared<handler>(*this);
        backend_.run_job(
            [state, dev](storage::database& db) {
                if (storage::find_device(db, dev.account)) {
                    state->found = true;
                    return;
                }
                state->found = false;
                storage::insert_device(db, dev);
                state->device = storage::find_device(db, dev.account);
            },
            [self, state, dev](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                if (state->found) {
                    self->fail("exists", fmt::format("device {} already exists", dev.account));
                    return;
                }
                const storage::device& stored = state->device ? *state->device : dev;
                self->backend_.registry().put(stored);
                self->backend_.alarms().set_device(stored, engine_now(self->backend_));
                self->ok(json{{"device", arc::api::device_to_json(stored)}});
            });
    }

    void device_remove(const json& req) {
        const std::string account = account_field(req);
        auto state = std::make_shared<job_state>();
        auto self = std::make_shared<handler>(*this);
        backend_.run_job(
            [state, account](storage::database& db) {
                state->found = storage::delete_device(db, account);
            },
            [self, state, account](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                if (!state->found) {
                    self->fail("not_found", fmt::format("no device with account {}", account));
                    return;
                }
                self->backend_.registry().erase(account);
                self->backend_.alarms().remove_device(account);
                self->ok(json{{"removed", account}});
            });
    }

    void device_set_mode(const json& req) {
        const std::string account = account_field(req);
        const storage::device_mode mode = mode_field(required_string(req, "mode"));
        std::optional<std::int64_t> test_until_ms;
        if (field(req, "for_s") != nullptr && !(*field(req, "for_s")).is_null()) {
            if (mode != storage::device_mode::test) {
                throw request_error{"invalid", "for_s: only with mode test"};
            }
            test_until_ms =
                backend_.now_ms() + 1000 * integer_field(req, "for_s", 60, 7 * 86400, std::nullopt);
        }
        auto state = std::make_shared<job_state>();
        auto self = std::make_shared<handler>(*this);
        backend_.run_job(
            [state, account, mode, test_until_ms](storage::database& db) {
                state->found = storage::set_device_mode(db, account, mode, test_until_ms);
                if (state->found) {
                    state->device = storage::find_device(db, account);
                }
            },
            [self, state, account](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                if (!state->found || !state->device) {
                    self->fail("not_found", fmt::format("no device with account {}", account));
                    return;
                }
                self->backend_.registry().put(*state->device);
                self->backend_.alarms().set_device(*state->device, engine_now(self->backend_));
                self->ok(json{{"device", arc::api::device_to_json(*state->device)}});
            });
    }

    void events(const json& req) {
        const std::string account = account_field(req);
        std::int64_t limit = 20;
        if (const json* v = field(req, "limit"); v != nullptr && !v->is_null()) {
            if (!v->is_number_integer()) {
                throw request_error{"bad_request", "field 'limit' must be an integer"};
            }
            limit = v->get<std::int64_t>();
            if (limit < 1 || limit > 1000) {
                throw request_error{"invalid", "limit: must be between 1 and 1000"};
            }
        }
        json list = json::array();
        for (const auto& ev : storage::events_for_account(backend_.read_db(), account,
                                                          static_cast<std::size_t>(limit))) {
            list.push_back(arc::api::event_to_json(ev));
        }
        ok(json{{"events", std::move(list)}});
    }

    static engine::time_point engine_now(admin_backend& backend) {
        return engine::from_ms(backend.now_ms());
    }

    void alarm_show(const json& req) {
        const auto id = static_cast<engine::alarm_id>(
            integer_field(req, "alarm", 1, std::numeric_limits<std::int64_t>::max(), std::nullopt));
        storage::database& db = backend_.read_db();
        const std::optional<storage::alarm_row> row = storage::find_alarm(db, id);
        const engine::alarm* open = backend_.alarms().alarm_engine().find(id);
        if (!row && open == nullptr) {
            throw request_error{"not_found", fmt::format("no alarm {}", id)};
        }
        const std::vector<engine::alarm_id> members =
            storage::storm_members(db, id, max_show_members);
        json alarm = open != nullptr ? arc::api::alarm_to_json(*open)
                                     : arc::api::alarm_row_to_json(*row, members.size());
        json timeline = json::array();
        json events = json::array();
        std::vector<std::int64_t> event_ids;
        for (const storage::alarm_log_entry& entry : storage::alarm_log_for(db, id, max_show_log)) {
            timeline.push_back(arc::api::log_to_json(entry));
            if (entry.event_id != 0 && event_ids.size() < max_show_events &&
                std::find(event_ids.begin(), event_ids.end(), entry.event_id) == event_ids.end()) {
                event_ids.push_back(entry.event_id);
            }
        }
        for (const std::int64_t event_id : event_ids) {
            if (const auto ev = storage::find_event(db, event_id)) {
                events.push_back(arc::api::event_to_json(*ev));
            }
        }
        ok(json{{"alarm", std::move(alarm)},
                {"timeline", std::move(timeline)},
                {"events", std::move(events)},
                {"members", members}});
    }

    void alarm_act(const json& req, alarm_action action, const char* text_name) {
        action_request request;
        request.action = action;
        request.id = static_cast<engine::alarm_id>(
            integer_field(req, "alarm", 1, std::numeric_limits<std::int64_t>::max(), std::nullopt));
        request.actor = text_field(req, "actor", 64, "admin");
        if (text_name != nullptr) {
            request.text = text_field(req, text_name, 4096);
        }
        auto self = std::make_shared<handler>(*this);
        backend_.alarms().act(request, engine_now(backend_), [self](action_result result) {
            if (!result.error_code.empty()) {
                self->fail(result.error_code, result.message);
                return;
            }
            self->ok(json{{"alarm", std::move(result.alarm)}});
        });
    }

    // Answers a failed write job; true when it did.
    bool job_failed(std::error_code ec, const std::string& message) {
        if (!ec) {
            return false;
        }
        if (ec == storage::errc::queue_full) {
            fail("busy", "storage queue full, retry later");
        } else if (ec == storage::errc::stopped) {
            fail("busy", "arcd is stopping");
        } else {
            fail("internal", message.empty() ? ec.message() : message);
        }
        return true;
    }

    admin_backend& backend_;
    json id_;
    admin_respond respond_;
    admin_session* session_;
};

}  // namespace

json admin_error(const json& id, std::string_view code, std::string_view message) {
    return json{{"id", id},
                {"ok", false},
                {"error", json{{"code", std::string(code)}, {"message", std::string(message)}}}};
}

json admin_ok(const json& id, json result) {
    return json{{"id", id}, {"ok", true}, {"result", std::move(result)}};
}

std::string dump_line(const json& response) {
    std::string line = response.dump(-1, ' ', false, json::error_handler_t::replace);
    line.push_back('\n');
    return line;
}

void handle_admin_line(std::string_view line, admin_backend& backend, admin_respond respond,
                       admin_session* session) {
    json req = json::parse(line, nullptr, false);
    if (req.is_discarded() || !req.is_object()) {
        respond(admin_error(nullptr, "bad_request", "request is not a JSON object"));
        return;
    }
    json id = req.contains("id") ? req["id"] : json(nullptr);
    handler h(backend, id, respond, session);
    try {
        h.run(req);
    } catch (const request_error& e) {
        h.fail(e.code, e.message);
    } catch (const std::exception& e) {
        h.fail("internal", e.what());
    }
}

}  // namespace arc::daemon
