#include "admin_api.hpp"

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "arc/api/json.hpp"
#include "arc/protocol/aes.hpp"

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
    handler(admin_backend& backend, json id, admin_respond respond)
        : backend_(backend), id_(std::move(id)), respond_(std::move(respond)) {}

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
                self->ok(json{{"removed", account}});
            });
    }

    void device_set_mode(const json& req) {
        const std::string account = account_field(req);
        const storage::device_mode mode = mode_field(required_string(req, "mode"));
        auto state = std::make_shared<job_state>();
        auto self = std::make_shared<handler>(*this);
        backend_.run_job(
            [state, account, mode](storage::database& db) {
                state->found = storage::set_device_mode(db, account, mode);
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

void handle_admin_line(std::string_view line, admin_backend& backend, admin_respond respond) {
    json req = json::parse(line, nullptr, false);
    if (req.is_discarded() || !req.is_object()) {
        respond(admin_error(nullptr, "bad_request", "request is not a JSON object"));
        return;
    }
    json id = req.contains("id") ? req["id"] : json(nullptr);
    handler h(backend, id, respond);
    try {
        h.run(req);
    } catch (const request_error& e) {
        h.fail(e.code, e.message);
    } catch (const std::exception& e) {
        h.fail("internal", e.what());
    }
}

}  // namespace arc::daemon
