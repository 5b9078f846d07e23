#include "admin_retention.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin_command.hpp"
#include "retention_service.hpp"
#include <fmt/format.h>

#include "arc/api/json.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/subscribers.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;
namespace security = arc::security;

const json* find(const json& obj, const char* name) {
    const auto it = obj.find(name);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// The reason of a hold or a release: required, 1 to 500 bytes of text.
std::string reason_field(const json& req) {
    const json* v = find(req, "reason");
    if (v == nullptr) {
        throw field_error{"bad_request", "missing field 'reason': a hold needs a reason"};
    }
    if (!v->is_string()) {
        throw field_error{"bad_request", "field 'reason' must be a string"};
    }
    std::string out = v->get<std::string>();
    const bool blank = out.find_first_not_of(" \t") == std::string::npos;
    if (blank || out.size() > 500) {
        throw field_error{"invalid", "reason: 1 to 500 bytes of text, not blank"};
    }
    if (std::any_of(out.begin(), out.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
        throw field_error{"invalid", "reason: must not contain control characters"};
    }
    return out;
}

std::int64_t positive_id(const json& v, const char* name) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1) {
        throw field_error{"bad_request",
                          fmt::format("field '{}' must be a positive integer", name)};
    }
    return v.get<std::int64_t>();
}

bool bool_field(const json& req, const char* name) {
    const json* v = find(req, name);
    if (v == nullptr) {
        return false;
    }
    if (!v->is_boolean()) {
        throw field_error{"bad_request", fmt::format("field '{}' must be a boolean", name)};
    }
    return v->get<bool>();
}

security::audit_entry audit(const audit_source& src, std::string action, std::string target,
                            std::string detail, std::int64_t at_ms) {
    return security::audit_entry{
        0, at_ms, src.actor, std::move(action), std::move(target), src.peer, std::move(detail)};
}

std::string hold_target(const storage::legal_hold& h) {
    return fmt::format("{} {}", storage::to_string(h.scope), h.ref);
}

// Shared between a write job (writer thread) and its completion (caller's thread).
struct hold_state {
    std::string code;
    std::string message;
    std::optional<storage::legal_hold> hold;
};

class hold_handler {
public:
    hold_handler(admin_backend& backend, admin_reply reply)
        : backend_(backend), reply_(std::move(reply)) {}

    void add(const json& req) {
        storage::legal_hold h;
        int given = 0;
        if (const json* v = find(req, "alarm")) {
            h.scope = storage::hold_scope::alarm;
            h.ref = std::to_string(positive_id(*v, "alarm"));
            ++given;
        }
        if (const json* v = find(req, "subscriber")) {
            h.scope = storage::hold_scope::subscriber;
            h.ref = std::to_string(positive_id(*v, "subscriber"));
            ++given;
        }
        if (const json* v = find(req, "account")) {
            if (!v->is_string()) {
                throw field_error{"bad_request", "field 'account' must be a string"};
            }
            if (!device_registry::valid_account(v->get<std::string>())) {
                throw field_error{"invalid", "account: must be 3 to 16 hex digits"};
            }
            h.scope = storage::hold_scope::account;
            h.ref = device_registry::normalise(v->get<std::string>());
            ++given;
        }
        if (given != 1) {
            throw field_error{"bad_request",
                              "give exactly one of 'alarm', 'subscriber', 'account'"};
        }
        h.reason = reason_field(req);
        h.created_by = reply_.source.actor;
        h.created_ms = backend_.now_ms();
        write([h, src = reply_.source](storage::database& db, hold_state& st) {
            if (h.scope == storage::hold_scope::alarm &&
                !storage::find_alarm(db, static_cast<arc::engine::alarm_id>(std::stoll(h.ref)))) {
                st.code = "not_found";
                st.message = fmt::format("no alarm {}", h.ref);
                return;
            }
            if (h.scope == storage::hold_scope::subscriber &&
                !storage::find_subscriber(db, std::stoll(h.ref))) {
                st.code = "not_found";
                st.message = fmt::format("no subscriber {}", h.ref);
                return;
            }
            storage::legal_hold added = h;
            added.id = storage::insert_hold(db, added);
            storage::append_audit(
                db, audit(src, "hold.add", hold_target(added),
                          fmt::format("hold={} reason={}", added.id, h.reason), h.created_ms));
            st.hold = std::move(added);
        });
    }

    void list(const json& req) {
        json out = json::array();
        for (const auto& h : storage::list_holds(backend_.read_db(), bool_field(req, "all"))) {
            out.push_back(hold_to_json(h));
        }
        reply_.ok(json{{"holds", std::move(out)}});
    }

    void release(const json& req) {
        const json* v = find(req, "hold");
        if (v == nullptr) {
            throw field_error{"bad_request", "missing field 'hold'"};
        }
        const std::int64_t id = positive_id(*v, "hold");
        const std::string reason = reason_field(req);
        const std::int64_t now = backend_.now_ms();
        write([id, reason, now, src = reply_.source](storage::database& db, hold_state& st) {
            const auto found = storage::find_hold(db, id);
            if (!found) {
                st.code = "not_found";
                st.message = fmt::format("no hold {}", id);
                return;
            }
            if (!storage::release_hold(db, id, src.actor, now, reason)) {
                st.code = "invalid";
                st.message = fmt::format("hold {} was released already", id);
                return;
            }
            storage::append_audit(db, audit(src, "hold.release", hold_target(*found),
                                            fmt::format("hold={} reason={}", id, reason), now));
            st.hold = storage::find_hold(db, id);
        });
    }

    void run(const json& req) {
        retention_service* svc = backend_.retention();
        if (svc == nullptr) {
            throw field_error{"unavailable", "retention is not running in this process"};
        }
        if (svc->settings().days <= 0) {
            throw field_error{"invalid", "retention is off (retention.days = 0 keeps everything)"};
        }
        const bool dry = bool_field(req, "dry_run");
        auto reply = std::make_shared<admin_reply>(reply_);
        if (!dry) {
            const bool started = svc->run(reply_.source, [reply](const retention_report& r) {
                if (!r.error.empty()) {
                    reply->fail("internal",
                                fmt::format("purge stopped after {} batches ({} "
                                            "events, {} alarms purged): {}",
                                            r.batches, r.counts.events, r.counts.alarms, r.error));
                    return;
                }
                reply->ok(json{{"retention", retention_report_to_json(r)}});
            });
            if (!started) {
                throw field_error{"busy", "a retention run is going on"};
            }
            return;
        }
        // Counting reads the whole events table: off the io thread, on a connection of its own.
        auto report = std::make_shared<retention_report>();
        report->dry_run = true;
        report->cutoff_ms = storage::retention_cutoff_ms(backend_.now_ms(), svc->settings().days);
        auto error = std::make_shared<std::string>();
        const std::filesystem::path path = backend_.database_path();
        storage::database* shared = path.empty() ? &backend_.read_db() : nullptr;  // tests
        const bool started = backend_.run_blocking(
            [report, error, path, shared](const std::atomic<bool>&) {
                try {
                    if (shared != nullptr) {
                        report->counts = storage::count_purgeable(*shared, report->cutoff_ms);
                    } else {
                        storage::database db = storage::database::open_read_only(path);
                        report->counts = storage::count_purgeable(db, report->cutoff_ms);
                    }
                } catch (const std::exception& e) {
                    *error = e.what();
                }
            },
            [reply, report, error]() {
                if (!error->empty()) {
                    reply->fail("internal", *error);
                    return;
                }
                reply->ok(json{{"retention", retention_report_to_json(*report)}});
            });
        if (!started) {
            throw field_error{"busy", "a backup or count is running: try again later"};
        }
    }

private:
    template <class Work>
    void write(Work work) {
        auto state = std::make_shared<hold_state>();
        auto reply = std::make_shared<admin_reply>(reply_);
        backend_.run_job(
            [state, work = std::move(work)](storage::database& db) { work(db, *state); },
            [state, reply](std::error_code ec, const std::string& message) {
                if (ec) {
                    reply->fail(ec == storage::errc::queue_full ? "busy" : "internal",
                                message.empty() ? ec.message() : message);
                } else if (!state->code.empty()) {
                    reply->fail(state->code, state->message);
                } else {
                    reply->ok(json{{"hold", hold_to_json(*state->hold)}});
                }
            });
    }

    admin_backend& backend_;
    admin_reply reply_;
};

}  // namespace

json hold_to_json(const storage::legal_hold& h) {
    json ref = h.scope == storage::hold_scope::account ? json(h.ref) : json(std::stoll(h.ref));
    return json{{"id", h.id},
                {"scope", std::string(storage::to_string(h.scope))},
                {"ref", std::move(ref)},
                {"reason", h.reason},
                {"created_by", h.created_by},
                {"created", arc::api::iso8601_utc_ms(h.created_ms)},
                {"active", !h.released_ms.has_value()},
                {"released_by", h.released_ms ? json(h.released_by) : json(nullptr)},
                {"released",
                 h.released_ms ? json(arc::api::iso8601_utc_ms(*h.released_ms)) : json(nullptr)},
                {"release_reason", h.released_ms ? json(h.release_reason) : json(nullptr)}};
}

bool handle_retention_command(const std::string& cmd, const json& req, admin_backend& backend,
                              const admin_reply& reply) {
    return run_admin_command<hold_handler>(cmd, req, backend, reply,
                                           {{"hold.add", &hold_handler::add},
                                            {"hold.list", &hold_handler::list},
                                            {"hold.release", &hold_handler::release},
                                            {"retention.run", &hold_handler::run}});
}

}  // namespace arc::daemon
