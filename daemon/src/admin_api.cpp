#include "admin_api.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "admin_cases.hpp"
#include "admin_events.hpp"
#include "admin_import.hpp"
#include "admin_missions.hpp"
#include "admin_retention.hpp"
#include "admin_subscribers.hpp"
#include "admin_teams.hpp"
#include "alarm_service.hpp"
#include <fmt/format.h>

#include "arc/api/alarm_json.hpp"
#include "arc/api/json.hpp"
#include "arc/api/report_json.hpp"
#include "arc/api/security_json.hpp"
#include "arc/protocol/aes.hpp"
#include "arc/protocol/error.hpp"
#include "arc/security/passwords.hpp"
#include "arc/security/session_token.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/backup.hpp"
#include "arc/storage/report.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/subscribers.hpp"
#include "arc/storage/teams.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;
namespace security = arc::security;

// Who the audit trail names for commands from the Unix socket: its file permissions are the
// only authentication there is, so no operator can be named (the operator API will).
constexpr std::string_view admin_actor = "admin-socket";

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

// Usernames: 1 to 64 of letters, digits and . _ @ -, starting with a letter or digit; matched
// case-insensitively. The audit actor of the socket is reserved.
std::string username_field(const json& req) {
    std::string name = required_string(req, "username");
    const bool valid = !name.empty() && name.size() <= 64 &&
                       std::isalnum(static_cast<unsigned char>(name[0])) &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                                  c == '_' || c == '@' || c == '-';
                       });
    if (!valid) {
        throw request_error{"invalid",
                            "username: 1 to 64 of letters, digits and . _ @ -, starting with a "
                            "letter or digit"};
    }
    if (name == admin_actor) {
        throw request_error{"invalid", fmt::format("username: '{}' is reserved", admin_actor)};
    }
    return name;
}

storage::operator_role role_field(const json& req) {
    const auto role = storage::parse_operator_role(required_string(req, "role"));
    if (!role) {
        throw request_error{"invalid",
                            "role: must be operator, supervisor, installer, admin or team"};
    }
    return *role;
}

// The password checked and hashed here, on the caller's thread, so that the writer's
// transaction is not held open for the ~0.1 s argon2id takes.
// TODO(security): hash on a worker thread once the operator API has logins to verify.
std::string password_hash_field(const json& req) {
    const std::string password = required_string(req, "password");
    if (auto problem = security::password_problem(password)) {
        throw request_error{"invalid", *problem};
    }
    return security::hash_password(password);
}

// A device's settings for the audit trail: never its key, only whether it has one.
std::string device_audit_detail(const storage::device& dev) {
    std::string detail = fmt::format("protocol={} mode={} type={} key={}", dev.protocol,
                                     storage::to_string(dev.mode), dev.device_type,
                                     dev.key ? fmt::format("AES-{}", dev.key->size() * 8) : "none");
    if (dev.interval_s) {
        detail += fmt::format(" interval_s={}", *dev.interval_s);
    }
    if (!dev.vendor.empty()) {
        detail += " vendor=" + dev.vendor;
    }
    if (dev.subscriber_id) {
        detail += fmt::format(" subscriber={}", *dev.subscriber_id);
    }
    return detail;
}

constexpr std::int64_t max_audit_list = 10000;

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

constexpr std::int64_t max_diag_frames = 1000;

// device.add's fields as a device (not its subscriber's existence, nor created_ms); also the
// rules of a CSV device import (admin_import.cpp).
storage::device device_fields(const json& req) {
    storage::device dev;
    dev.account = account_field(req);
    const std::string protocol = required_string(req, "protocol");
    if (protocol != "dc09" && protocol != "scaip") {
        throw request_error{"invalid", "protocol: must be \"dc09\" or \"scaip\""};
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
    try {
        dev.subscriber_id = subscriber_id_field(req);
    } catch (const std::invalid_argument& e) {
        throw request_error{"invalid", e.what()};
    }
    return dev;
}

// What a backup reports to its completion (written on the worker thread, read on the caller's
// after run_blocking's hand-off).
struct backup_state {
    std::optional<storage::backup_result> result;
    std::string code;
    std::string message;
};

// An optional boolean field.
bool bool_field(const json& req, const char* name, bool fallback) {
    const json* v = field(req, name);
    if (v == nullptr || v->is_null()) {
        return fallback;
    }
    if (!v->is_boolean()) {
        throw request_error{"bad_request", fmt::format("field '{}' must be a boolean", name)};
    }
    return v->get<bool>();
}

// device.diag's counters from the device's event groups (errors as the receiver stores them:
// the arc.protocol messages).
json diag_counters(const storage::device_event_summary& summary) {
    namespace protocol = arc::protocol;
    const auto message = [](protocol::error e) { return make_error_code(e).message(); };
    const std::string crc = message(protocol::error::bad_crc);
    const std::array format{
        message(protocol::error::bad_format), message(protocol::error::bad_length),
        message(protocol::error::bad_header), message(protocol::error::frame_too_large)};
    const std::array decrypt{message(protocol::error::decrypt_failed),
                             message(protocol::error::no_key)};
    const auto among = [](const auto& texts, const std::string& error) {
        return std::find(texts.begin(), texts.end(), error) != texts.end();
    };
    std::int64_t naks = 0;
    std::int64_t duhs = 0;
    std::int64_t crc_errors = 0;
    std::int64_t format_errors = 0;
    std::int64_t decryption_failures = 0;
    json replies = json::object();
    json errors = json::object();
    for (const storage::event_group& g : summary.groups) {
        naks += g.reply_kind == "NAK" ? g.frames : 0;
        duhs += g.reply_kind == "DUH" ? g.frames : 0;
        crc_errors += g.error == crc ? g.frames : 0;
        format_errors += among(format, g.error) ? g.frames : 0;
        decryption_failures += among(decrypt, g.error) ? g.frames : 0;
        replies[g.reply_kind] = replies.value(g.reply_kind, std::int64_t{0}) + g.frames;
        if (!g.error.empty()) {
            errors[g.error] = errors.value(g.error, std::int64_t{0}) + g.frames;
        }
    }
    return json{{"frames", summary.frames},
                {"accepted", summary.accepted},
                {"naks", naks},
                {"duhs", duhs},
                {"crc_errors", crc_errors},
                {"format_errors", format_errors},
                {"decryption_failures", decryption_failures},
                {"outside_window", summary.outside_window},
                {"max_skew_s", summary.max_skew_s ? json(*summary.max_skew_s) : json(nullptr)},
                {"replies", std::move(replies)},
                {"errors", std::move(errors)}};
}

json iso_or_null(const std::optional<engine::time_point>& t) {
    return t ? json(arc::api::iso8601_utc_ms(engine::to_ms(*t))) : json(nullptr);
}

// Shared between a write job (writer thread) and its completion (caller's thread); the writer's
// completion happens after the job, and the hand-off to the caller's thread orders it again.
struct job_state {
    bool found = true;
    bool no_subscriber = false;  // device.add named a subscriber that does not exist
    std::optional<storage::device> device;
};

// As job_state, for operator commands.
struct operator_state {
    bool found = false;
    bool changed = false;
    std::optional<storage::operator_account> op;
};

class handler {
public:
    handler(admin_backend& backend, json id, admin_respond respond, admin_session* session)
        : backend_(backend), id_(std::move(id)), respond_(std::move(respond)), session_(session) {}

    void run(const json& req) {
        const std::string cmd = required_string(req, "cmd");
        if (session_ != nullptr && session_->operator_api && operator_gate(cmd, req)) {
            return;
        }
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
        } else if (cmd == "device.diag") {
            device_diag(req);
        } else if (cmd == "backup") {
            backup(req);
        } else if (cmd == "report") {
            report(req);
        } else if (cmd == "operator.add") {
            operator_add(req);
        } else if (cmd == "operator.passwd") {
            operator_passwd(req);
        } else if (cmd == "operator.disable") {
            operator_set_disabled(req, true);
        } else if (cmd == "operator.enable") {
            operator_set_disabled(req, false);
        } else if (cmd == "operator.list") {
            json list = json::array();
            for (const auto& op : storage::list_operators(backend_.read_db())) {
                list.push_back(arc::api::operator_to_json(op, backend_.now_ms()));
            }
            ok(json{{"operators", std::move(list)}});
        } else if (cmd == "audit.list") {
            audit_list(req);
        } else if (cmd == "audit.verify") {
            storage::database& db = backend_.read_db();
            const security::chain_result result = storage::verify_audit(db);
            ok(arc::api::audit_verify_to_json(result, storage::read_audit_head(db)));
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
        } else if (cmd == "alarm.release") {
            alarm_act(req, alarm_action::release, nullptr);
        } else if (cmd == "alarm.reassign") {
            alarm_act(req, alarm_action::reassign, "to");
        } else if (cmd == "alarm.call") {
            alarm_act(req, alarm_action::call, nullptr);
        } else if (cmd == "outcomes") {
            outcomes();
        } else if (cmd == "floor") {
            floor();
        } else if (subscriber_command(cmd, req)) {
            // subscriber.*, contact.*, device.assign: admin_subscribers.cpp; team.*:
            // admin_teams.cpp
        } else if (import_command(cmd, req)) {
            // import.*, export: admin_import.cpp
        } else if (delegated_command(cmd, req, handle_retention_command)) {
            // hold.*, retention.run: admin_retention.cpp
        } else if (delegated_command(cmd, req, handle_event_command)) {
            // device.event: admin_events.cpp
        } else if (delegated_command(cmd, req, handle_case_command)) {
            // case.open: admin_cases.cpp
        } else {
            throw request_error{"unknown_command", fmt::format("unknown command '{}'", cmd)};
        }
    }

    // ---- operator API: login, sessions, roles (docs/admin-api.md, "Operator API") ------

    // Handles what a connection may do before and around its login; true when it answered.
    // Throws unauthorized before login, forbidden for a command the role may not run.
    bool operator_gate(const std::string& cmd, const json& req) {
        if (cmd == "hello") {
            ok(json{{"version", ARC_VERSION},
                    {"tls", session_->tls_on},
                    {"logged_in", session_->who.has_value()}});
            return true;
        }
        if (cmd == "login") {
            login(req);
            return true;
        }
        if (cmd == "resume") {
            resume(req);
            return true;
        }
        if (!session_->who) {
            throw request_error{"unauthorized", "log in first"};
        }
        if (session_->who->expires_ms <= backend_.now_ms()) {
            session_->who.reset();
            throw request_error{"unauthorized", "session expired: log in again"};
        }
        if (cmd == "logout") {
            logout();
            return true;
        }
        if (cmd == "whoami") {
            ok(json{{"operator", identity_json(*session_->who)}});
            return true;
        }
        if (!role_may(session_->who->role, cmd)) {
            throw request_error{"forbidden",
                                fmt::format("role {} may not run {}",
                                            storage::to_string(session_->who->role), cmd)};
        }
        return false;
    }

    static bool role_may(storage::operator_role role, std::string_view cmd) {
        static constexpr std::array<std::string_view, 17> operator_cmds{
            "alarms",        "alarm.show",        "alarms.subscribe", "alarm.take",
            "alarm.release", "alarm.acknowledge", "alarm.dispatch",   "alarm.close",
            "alarm.note",    "alarm.call",        "outcomes",         "subscriber.show",
            "device.show",   "team.list",         "team.show",        "team.propose",
            "case.open"};
        static constexpr std::array<std::string_view, 5> installer_cmds{
            "events", "subscriber.show", "status", "alarms", "alarm.show"};
        const auto in = [cmd](const auto& list) {
            return std::find(list.begin(), list.end(), cmd) != list.end();
        };
        switch (role) {
            case storage::operator_role::admin:
                return true;
            case storage::operator_role::supervisor:
                return in(operator_cmds) || cmd == "alarm.reassign" || cmd == "floor" ||
                       cmd == "subscriber.list" || cmd == "device.list" || cmd == "report";
            case storage::operator_role::operator_:
                return in(operator_cmds);
            case storage::operator_role::installer:
                return in(installer_cmds) || cmd.starts_with("device.");
            case storage::operator_role::team:
                return cmd.starts_with("mission.");  // its own team's (admin_missions.cpp)
        }
        return false;
    }

    static json identity_json(const operator_identity& who) {
        return json{{"username", who.username},
                    {"display_name", who.display_name},
                    {"role", std::string(storage::to_string(who.role))}};
    }

    json login_result(const operator_identity& who, const std::string& token) const {
        return json{{"token", token},
                    {"operator", identity_json(who)},
                    {"expires", arc::api::iso8601_utc_ms(who.expires_ms)}};
    }

    void login(const json& req) {
        const std::string username = required_string(req, "username");
        const std::string password = required_string(req, "password");
        if (username.empty() || username.size() > 64 ||
            password.size() > security::max_password_length) {
            throw request_error{"login_failed", "wrong username or password"};
        }
        const std::int64_t now = backend_.now_ms();
        const std::optional<storage::operator_account> op =
            storage::find_operator(backend_.read_db(), username);
        if (op && !op->disabled && op->locked_until_ms > now) {
            const std::string until = arc::api::iso8601_utc_ms(op->locked_until_ms);
            audit_only("login.refused", op->username, "account locked",
                       [until](const std::shared_ptr<handler>& self) {
                           self->fail("locked", fmt::format("account locked until {}", until));
                       });
            return;
        }
        // Unknown and disabled accounts cost the same argon2id check as a wrong password, so
        // timing does not tell which usernames exist.
        static const std::string dummy_hash = security::hash_password("not a real password 0");
        const bool usable = op && !op->disabled;
        const std::string hash = usable ? op->password_hash : dummy_hash;
        auto verified = std::make_shared<bool>(false);
        auto self = std::make_shared<handler>(*this);
        const bool queued = backend_.run_auth(
            [verified, hash, password] { *verified = security::verify_password(hash, password); },
            [self, verified, usable, op, username, now] {
                if (!usable || !*verified) {
                    self->login_failed(op, username, usable, now);
                    return;
                }
                self->login_succeeded(*op, now);
            });
        if (!queued) {
            fail("busy", "too many logins at once, retry in a moment");
        }
    }

    void login_failed(const std::optional<storage::operator_account>& op,
                      const std::string& username, bool usable, std::int64_t now) {
        auto self = std::make_shared<handler>(*this);
        auto locked_until = std::make_shared<std::int64_t>(0);
        const std::string why =
            !op ? "unknown username" : (!usable ? "account disabled" : "wrong password");
        backend_.run_job(
            [src = source(), op, username, usable, now, why, locked_until](storage::database& db) {
                if (op && usable) {
                    if (const auto after = storage::record_failed_login(db, op->id, now)) {
                        *locked_until = after->locked_until_ms;
                    }
                }
                audit_source who = src;
                storage::append_audit(db,
                                      audit(who, "login.failed", username.substr(0, 64), why, now));
            },
            [self, locked_until](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                if (*locked_until != 0) {
                    self->fail("locked", fmt::format("account locked until {}",
                                                     arc::api::iso8601_utc_ms(*locked_until)));
                    return;
                }
                self->fail("login_failed", "wrong username or password");
            });
    }

    void login_succeeded(const storage::operator_account& op, std::int64_t now) {
        auto self = std::make_shared<handler>(*this);
        operator_identity who;
        who.operator_id = op.id;
        who.username = op.username;
        who.display_name = op.display_name;
        who.role = op.role;
        who.expires_ms = now + operator_session_ms;
        const security::session_token token = security::new_session_token();
        who.token = token.hash;
        storage::session_row row;
        row.token_hash = token.hash;
        row.operator_id = op.id;
        row.created_ms = now;
        row.expires_ms = who.expires_ms;
        row.last_seen_ms = now;
        row.peer = session_->peer;
        backend_.run_job(
            [row, now, src = audit_source{op.username, session_->peer}](storage::database& db) {
                storage::record_successful_login(db, row.operator_id, now);
                storage::delete_expired_sessions(db, now);
                storage::insert_session(db, row);
                storage::append_audit(db, audit(src, "login", src.actor, "", now));
            },
            [self, who, text = token.text](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                self->session_->who = who;
                self->ok(self->login_result(who, text));
            });
    }

    void resume(const json& req) {
        const std::string text = required_string(req, "token");
        const auto hash = security::hash_session_token(text);
        const std::int64_t now = backend_.now_ms();
        storage::database& db = backend_.read_db();
        std::optional<storage::session_row> row;
        std::optional<storage::operator_account> op;
        if (hash) {
            row = storage::find_session(db, *hash);
        }
        if (row && row->expires_ms > now) {
            op = storage::find_operator(db, row->operator_id);
        }
        if (!op || op->disabled) {
            throw request_error{"login_failed", "session expired or ended: log in again"};
        }
        operator_identity who;
        who.operator_id = op->id;
        who.username = op->username;
        who.display_name = op->display_name;
        who.role = op->role;
        who.expires_ms = row->expires_ms;
        who.token = *hash;
        auto self = std::make_shared<handler>(*this);
        backend_.run_job(
            [h = *hash, now, expires = row->expires_ms,
             src = audit_source{op->username, session_->peer}](storage::database& wdb) {
                storage::touch_session(wdb, h, now, expires);
                storage::append_audit(wdb, audit(src, "session.resume", src.actor, "", now));
            },
            [self, who, text](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                self->session_->who = who;
                self->ok(self->login_result(who, text));
            });
    }

    void logout() {
        auto self = std::make_shared<handler>(*this);
        const std::int64_t now = backend_.now_ms();
        backend_.run_job(
            [h = session_->who->token, now, src = source()](storage::database& db) {
                storage::delete_session(db, h);
                storage::append_audit(db, audit(src, "logout", src.actor, "", now));
            },
            [self](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                self->session_->who.reset();
                self->ok(json{{"logged_out", true}});
            });
    }

    // An audit entry alone, then `then(self)` answers.
    template <class Then>
    void audit_only(std::string action, std::string target, std::string detail, Then then) {
        auto self = std::make_shared<handler>(*this);
        const std::int64_t now = backend_.now_ms();
        backend_.run_job(
            [src = source(), action, target, detail, now](storage::database& db) {
                storage::append_audit(db, audit(src, action, target, detail, now));
            },
            [self, then](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                then(self);
            });
    }

    void outcomes() {
        static const std::array<std::array<std::string_view, 3>, 7> labels{{
            {"resolved_by_phone", "Risolto al telefono", "Resolved by phone"},
            {"contact_went", "Andato un contatto", "A contact went"},
            {"team_dispatched", "Inviata squadra", "Team dispatched"},
            {"118_called", "Chiamato il 118", "118 called"},
            {"false_alarm", "Falso allarme", "False alarm"},
            {"technical_fixed", "Guasto tecnico risolto", "Technical fault fixed"},
            {"no_answer_escalated", "Nessuna risposta, escalation", "No answer, escalated"},
        }};
        json list = json::array();
        for (const std::string& code : backend_.outcomes()) {
            json o{{"code", code}, {"it", code}, {"en", code}};
            for (const auto& l : labels) {
                if (l[0] == code) {
                    o["it"] = std::string(l[1]);
                    o["en"] = std::string(l[2]);
                }
            }
            list.push_back(std::move(o));
        }
        ok(json{{"outcomes", std::move(list)}});
    }

    void floor() {
        const json open = backend_.alarms().list(max_alarm_list);
        const std::vector<std::string> online = backend_.online_operators();
        json untaken{{"critical", 0}, {"urgent", 0}, {"technical", 0}};
        json storms = json::array();
        std::map<std::string, json> holding;
        for (const json& a : open.value("alarms", json::array())) {
            const std::string holder = a.value("holder", "");
            if (!holder.empty()) {
                holding[holder].push_back(a.value("id", 0));
            }
            if (a.value("state", "") == "new") {
                const std::string cls = a.value("class", "");
                if (untaken.contains(cls)) {
                    untaken[cls] = untaken[cls].get<int>() + 1;
                }
            }
            if (a.value("storm", false)) {
                storms.push_back(a);
            }
        }
        json operators = json::array();
        for (const auto& op : storage::list_operators(backend_.read_db())) {
            if (op.role == storage::operator_role::team ||
                op.role == storage::operator_role::installer || op.disabled) {
                continue;
            }
            const bool is_online =
                std::find(online.begin(), online.end(), op.username) != online.end();
            const auto held = holding.find(op.username);
            operators.push_back(
                json{{"username", op.username},
                     {"display_name", op.display_name},
                     {"role", std::string(storage::to_string(op.role))},
                     {"online", is_online},
                     {"holding", held == holding.end() ? json::array() : held->second}});
        }
        ok(json{{"operators", std::move(operators)},
                {"untaken", std::move(untaken)},
                {"storms", std::move(storms)}});
    }

    void ok(json result) { respond_(admin_ok(id_, std::move(result))); }
    void fail(std::string_view code, std::string_view message) {
        respond_(admin_error(id_, code, message));
    }

private:
    bool subscriber_command(const std::string& cmd, const json& req) {
        auto self = std::make_shared<handler>(*this);
        admin_reply reply{
            [self](json result) { self->ok(std::move(result)); },
            [self](std::string_view code, std::string_view message) { self->fail(code, message); },
            source(),
            {}};
        if (session_ != nullptr && session_->who &&
            session_->who->role != storage::operator_role::admin &&
            session_->who->role != storage::operator_role::supervisor) {
            reply.may_view_sensitive = [this, who = session_->who->username,
                                        role = session_->who->role](std::int64_t subscriber) {
                return role == storage::operator_role::operator_ && holds_alarm_of(who, subscriber);
            };
        }
        return handle_subscriber_command(cmd, req, backend_, reply) ||
               handle_team_command(cmd, req, backend_, reply) || mission_command(cmd, req, reply);
    }

    // mission.*: a team account works its own team's missions; an admin any team's.
    bool mission_command(const std::string& cmd, const json& req, const admin_reply& reply) {
        if (!cmd.starts_with("mission.")) {
            return false;
        }
        mission_scope scope;
        if (session_ != nullptr && session_->who) {
            scope.actor = session_->who->username;
            if (session_->who->role == storage::operator_role::team) {
                storage::database& db = backend_.read_db();
                const auto op = storage::find_operator(db, session_->who->operator_id);
                const auto t = op && op->team_id ? storage::find_team(db, *op->team_id)
                                                 : std::optional<storage::team>{};
                if (!t) {
                    reply.fail("forbidden", "this team account is linked to no team");
                    return true;
                }
                scope.team = t->name;
            }
        } else {
            scope.actor = text_field(req, "actor", 64, "admin");
        }
        if (session_ != nullptr) {
            scope.subscribe = [session = session_](const std::string& team) {
                return session->subscribe_missions(team);
            };
        }
        return handle_mission_command(cmd, req, backend_, reply, scope);
    }

    // True when `who` holds an open alarm of a device of subscriber `subscriber_id`: an
    // operator sees medical notes and the key-safe code only while working that person's alarm.
    bool holds_alarm_of(const std::string& who, std::int64_t subscriber_id) {
        storage::database& db = backend_.read_db();
        for (const auto& a : backend_.alarms().alarm_engine().open_alarms()) {
            if (a.holder != who || a.account.empty()) {
                continue;
            }
            const auto dev = storage::find_device(db, a.account);
            if (dev && dev->subscriber_id == subscriber_id) {
                return true;
            }
        }
        return false;
    }

    bool import_command(const std::string& cmd, const json& req) {
        auto self = std::make_shared<handler>(*this);
        return handle_import_command(
            cmd, req, backend_,
            admin_reply{[self](json result) { self->ok(std::move(result)); },
                        [self](std::string_view code, std::string_view message) {
                            self->fail(code, message);
                        },
                        source(),
                        {}});
    }

    template <class Handle>
    bool delegated_command(const std::string& cmd, const json& req, Handle handle) {
        auto self = std::make_shared<handler>(*this);
        return handle(cmd, req, backend_,
                      admin_reply{[self](json result) { self->ok(std::move(result)); },
                                  [self](std::string_view code, std::string_view message) {
                                      self->fail(code, message);
                                  },
                                  source(),
                                  {}});
    }

    void device_add(const json& req) {
        storage::device dev = device_fields(req);
        dev.created_ms = backend_.now_ms();

        auto state = std::make_shared<job_state>();
        auto self = std::make_shared<handler>(*this);
        backend_.run_job(
            [state, dev, src = source()](storage::database& db) {
                if (storage::find_device(db, dev.account)) {
                    state->found = true;
                    return;
                }
                state->found = false;
                if (dev.subscriber_id && !storage::find_subscriber(db, *dev.subscriber_id)) {
                    state->no_subscriber = true;
                    return;
                }
                storage::insert_device(db, dev);
                storage::append_audit(db, audit(src, "device.add", dev.account,
                                                device_audit_detail(dev), dev.created_ms));
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
                if (state->no_subscriber) {
                    self->fail("not_found", fmt::format("no subscriber {}", *dev.subscriber_id));
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
        const std::int64_t now = backend_.now_ms();
        backend_.run_job(
            [state, account, now, src = source()](storage::database& db) {
                state->found = storage::delete_device(db, account);
                if (state->found) {
                    storage::append_audit(db, audit(src, "device.remove", account, "", now));
                }
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
        std::string detail = fmt::format("mode={}", storage::to_string(mode));
        if (test_until_ms) {
            detail += fmt::format(" for_s={}", (*test_until_ms - backend_.now_ms()) / 1000);
        }
        const std::int64_t now = backend_.now_ms();
        backend_.run_job(
            [state, account, mode, test_until_ms, detail, now,
             src = source()](storage::database& db) {
                state->found = storage::set_device_mode(db, account, mode, test_until_ms);
                if (state->found) {
                    storage::append_audit(db, audit(src, "device.set_mode", account, detail, now));
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

    void device_diag(const json& req) {
        const std::string account = account_field(req);
        const std::int64_t limit = integer_field(req, "limit", 1, max_diag_frames, 20);
        storage::database& db = backend_.read_db();
        const std::optional<storage::device> dev = storage::find_device(db, account);
        if (!dev) {
            throw request_error{"not_found", fmt::format("no device with account {}", account)};
        }
        const engine::engine& eng = backend_.alarms().alarm_engine();
        // The engine's view is the live one (last seen, an automatic end of test mode); the
        // stored row is the fallback for a device the engine does not know.
        json result{{"device", arc::api::device_to_json(*dev)}};
        std::optional<engine::duration> interval;
        if (const engine::device_state* state = eng.device(account)) {
            result["mode"] = std::string(engine::to_string(state->mode));
            result["test_until"] = iso_or_null(state->test_until);
            result["type"] = state->device_type;
            result["last_seen"] = iso_or_null(state->last_seen);
            interval = state->interval;
        } else {
            result["mode"] = std::string(storage::to_string(dev->mode));
            result["test_until"] = dev->test_until_ms
                                       ? json(arc::api::iso8601_utc_ms(*dev->test_until_ms))
                                       : json(nullptr);
            result["type"] = dev->device_type;
            result["last_seen"] = dev->last_seen_ms
                                      ? json(arc::api::iso8601_utc_ms(*dev->last_seen_ms))
                                      : json(nullptr);
            if (dev->interval_s) {
                interval = std::chrono::seconds(*dev->interval_s);
            }
        }
        if (!interval) {
            const auto& defaults = eng.config().supervision_interval;
            if (const auto it = defaults.find(result["type"].get<std::string>());
                it != defaults.end()) {
                interval = it->second;
            }
        }
        result["supervision"] = json{
            {"interval_s",
             interval ? json(std::chrono::duration_cast<std::chrono::seconds>(*interval).count())
                      : json(nullptr)},
            {"silent_at", iso_or_null(eng.supervision_deadline(account))}};
        result["counters"] = diag_counters(storage::summarise_device_events(db, account));
        json alarms = json::array();
        for (const engine::alarm& a : eng.open_alarms()) {
            if (a.account == account) {
                alarms.push_back(arc::api::alarm_to_json(a));
            }
        }
        result["alarms"] = std::move(alarms);
        json frames = json::array();
        for (const auto& ev :
             storage::device_frames(db, account, static_cast<std::size_t>(limit))) {
            frames.push_back(arc::api::event_to_json(ev));
        }
        result["frames"] = std::move(frames);
        ok(std::move(result));
    }

    void backup(const json& req) {
        const std::string text = required_string(req, "path");
        const std::filesystem::path out(text);
        if (!out.is_absolute() || !out.has_filename()) {
            throw request_error{"invalid", "path: must be an absolute file name"};
        }
        const bool overwrite = bool_field(req, "overwrite", false);
        std::error_code ec;
        if (!overwrite && std::filesystem::exists(out, ec)) {
            throw request_error{
                "exists", fmt::format("{} exists (overwrite: true replaces it)", out.string())};
        }
        if (!std::filesystem::is_directory(out.parent_path(), ec)) {
            throw request_error{
                "invalid", fmt::format("path: {} is not a directory", out.parent_path().string())};
        }
        auto state = std::make_shared<backup_state>();
        auto self = std::make_shared<handler>(*this);
        const std::filesystem::path db = backend_.database_path();
        const bool started = backend_.run_blocking(
            [state, db, out, overwrite](const std::atomic<bool>& cancelled) {
                storage::backup_options opts;
                opts.overwrite = overwrite;
                opts.progress = [&cancelled](int, int) { return !cancelled.load(); };
                try {
                    state->result = storage::backup_to(db, out, opts);
                } catch (const storage::backup_target_exists& e) {
                    state->code = "exists";
                    state->message = e.what();
                } catch (const storage::backup_cancelled& e) {
                    state->code = "busy";
                    state->message = e.what();
                } catch (const std::exception& e) {
                    state->code = "internal";
                    state->message = e.what();
                }
            },
            [self, state, out]() {
                if (!state->result) {
                    self->fail(state->code, state->message);
                    return;
                }
                const storage::backup_result& r = *state->result;
                self->ok(json{{"path", out.string()},
                              {"bytes", r.bytes},
                              {"pages", r.pages},
                              {"ms", r.ms},
                              {"events", r.events}});
            });
        if (!started) {
            throw request_error{"busy", "a backup is already running"};
        }
    }

    // The service-level report over [from_ms, to_ms): computed on the blocking worker with its
    // own read-only connection, so a year of alarms never holds up the io thread.
    void report(const json& req) {
        constexpr std::int64_t max_ms = std::int64_t{253402300799999};  // 9999-12-31
        const std::int64_t from = integer_field(req, "from_ms", 0, max_ms, std::nullopt);
        const std::int64_t to = integer_field(req, "to_ms", 0, max_ms, std::nullopt);
        if (to <= from) {
            throw request_error{"invalid", "to_ms: must be after from_ms"};
        }
        struct report_state {
            json result;
            std::string message;
        };
        auto state = std::make_shared<report_state>();
        auto self = std::make_shared<handler>(*this);
        const std::filesystem::path db = backend_.database_path();
        const std::int64_t now = backend_.now_ms();
        const bool started = backend_.run_blocking(
            [state, db, from, to, now](const std::atomic<bool>& /*cancelled*/) {
                try {
                    auto rdb = storage::database::open_read_only(db);
                    state->result =
                        arc::api::report_to_json(storage::build_report(rdb, from, to, now));
                } catch (const std::exception& e) {
                    state->message = e.what();
                }
            },
            [self, state]() {
                if (state->result.is_null()) {
                    self->fail("internal", state->message);
                    return;
                }
                self->ok(json{{"report", std::move(state->result)}});
            });
        if (!started) {
            throw request_error{"busy", "a backup or report is running: retry shortly"};
        }
    }

    // Who the audit trail names for this request: the logged-in operator and its peer on the
    // operator API, admin_actor on the Unix socket.
    audit_source source() const {
        if (session_ != nullptr && session_->who) {
            return {session_->who->username, session_->peer};
        }
        if (session_ != nullptr && session_->operator_api) {
            return {"anonymous", session_->peer};  // before login (a failed one)
        }
        return {std::string(admin_actor), session_ != nullptr ? session_->peer : std::string()};
    }
    static security::audit_entry audit(const audit_source& src, std::string action,
                                       std::string target, std::string detail, std::int64_t at_ms) {
        return security::audit_entry{
            0, at_ms, src.actor, std::move(action), std::move(target), src.peer, std::move(detail)};
    }

    void operator_add(const json& req) {
        storage::operator_account op;
        op.username = username_field(req);
        op.role = role_field(req);
        op.display_name = text_field(req, "display_name", 128, "");
        op.password_hash = password_hash_field(req);
        if (const auto team = optional_string(req, "team")) {
            if (op.role != storage::operator_role::team) {
                throw request_error{"invalid", "team: only an account of role team has a team"};
            }
            const auto t = storage::find_team_by_name(backend_.read_db(), *team);
            if (!t) {
                throw request_error{"invalid", fmt::format("team: no team '{}'", *team)};
            }
            op.team_id = t->id;
        } else if (op.role == storage::operator_role::team) {
            throw request_error{"invalid", "team: an account of role team needs --team NAME"};
        }
        op.created_ms = backend_.now_ms();
        op.updated_ms = op.created_ms;
        auto state = std::make_shared<operator_state>();
        auto self = std::make_shared<handler>(*this);
        backend_.run_job(
            [state, op, src = source()](storage::database& db) {
                if (storage::find_operator(db, op.username)) {
                    state->found = true;
                    return;
                }
                storage::insert_operator(db, op);
                storage::append_audit(
                    db, audit(src, "operator.add", op.username,
                              fmt::format("role={}{}", storage::to_string(op.role),
                                          op.team_id ? fmt::format(" team_id={}", *op.team_id)
                                                     : std::string()),
                              op.created_ms));
                state->op = storage::find_operator(db, op.username);
            },
            [self, state, username = op.username](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                if (state->found || !state->op) {
                    self->fail("exists", fmt::format("operator {} already exists", username));
                    return;
                }
                self->ok(json{
                    {"operator", arc::api::operator_to_json(*state->op, self->backend_.now_ms())}});
            });
    }

    // Runs `change` on the operator named in the request inside a writer job; `change` returns
    // the audit detail, or nullopt when it changed nothing (then nothing is written).
    using operator_change =
        std::function<std::optional<std::string>(storage::database&, storage::operator_account&)>;
    void change_operator(const std::string& username, const char* action, operator_change change) {
        const std::int64_t now = backend_.now_ms();
        auto state = std::make_shared<operator_state>();
        auto self = std::make_shared<handler>(*this);
        backend_.run_job(
            [state, username, action, now, src = source(),
             change = std::move(change)](storage::database& db) {
                std::optional<storage::operator_account> op = storage::find_operator(db, username);
                if (!op) {
                    return;
                }
                state->found = true;
                if (const auto detail = change(db, *op)) {
                    op->updated_ms = now;
                    storage::update_operator(db, *op);
                    storage::append_audit(db, audit(src, action, op->username, *detail, now));
                    state->changed = true;
                }
                state->op = std::move(op);
            },
            [self, state, username](std::error_code ec, const std::string& message) {
                if (self->job_failed(ec, message)) {
                    return;
                }
                if (!state->found || !state->op) {
                    self->fail("not_found", fmt::format("no operator {}", username));
                    return;
                }
                self->ok(json{
                    {"operator", arc::api::operator_to_json(*state->op, self->backend_.now_ms())},
                    {"changed", state->changed}});
            });
    }

    void operator_passwd(const json& req) {
        const std::string username = username_field(req);
        std::string hash = password_hash_field(req);
        change_operator(
            username, "operator.passwd",
            [hash = std::move(hash)](storage::database& db, storage::operator_account& op) {
                op.password_hash = hash;
                // A new password from an administrator also lifts a lockout.
                op.failed_logins = 0;
                op.locked_until_ms = 0;
                const std::size_t ended = storage::delete_operator_sessions(db, op.id);
                return std::optional<std::string>(
                    fmt::format("password set, {} session(s) ended", ended));
            });
    }

    void operator_set_disabled(const json& req, bool disabled) {
        const std::string username = username_field(req);
        change_operator(username, disabled ? "operator.disable" : "operator.enable",
                        [disabled](storage::database& db,
                                   storage::operator_account& op) -> std::optional<std::string> {
                            if (disabled) {
                                if (op.disabled) {
                                    return std::nullopt;
                                }
                                op.disabled = true;
                                const std::size_t ended =
                                    storage::delete_operator_sessions(db, op.id);
                                return fmt::format("{} session(s) ended", ended);
                            }
                            // Enabling also lifts a lockout: the administrator has looked at the
                            // account.
                            if (!op.disabled && op.locked_until_ms == 0 && op.failed_logins == 0) {
                                return std::nullopt;
                            }
                            std::string detail = op.locked_until_ms != 0 ? "lockout lifted" : "";
                            op.disabled = false;
                            op.failed_logins = 0;
                            op.locked_until_ms = 0;
                            return detail;
                        });
    }

    void audit_list(const json& req) {
        const std::int64_t limit = integer_field(req, "limit", 1, max_audit_list, 100);
        storage::database& db = backend_.read_db();
        const storage::audit_head head = storage::read_audit_head(db);
        // Without `from`: the newest `limit` entries (still oldest first).
        const std::int64_t from =
            integer_field(req, "from", 1, std::numeric_limits<std::int64_t>::max(),
                          std::max<std::int64_t>(1, head.seq - limit + 1));
        json entries = json::array();
        for (const auto& e : storage::read_audit(db, from, static_cast<std::size_t>(limit))) {
            entries.push_back(arc::api::audit_to_json(e));
        }
        ok(json{{"entries", std::move(entries)}, {"head_seq", head.seq}});
    }

    static engine::time_point engine_now(admin_backend& backend) {
        return engine::from_ms(backend.now_ms());
    }

    // Where the person is, from the newest of the alarm's events that says (SCAIP <mrq> lge/geo,
    // lte, lco: PROTOCOLS.md §4.3, Annex D): {"geo":"lat,lon","text":..,"code":11,"label":..,
    // "time":..,"event":ID}, only the fields sent; null when no event carried a location.
    static json location_of(const json& events) {
        // Annex D (selection, §4.6), in the operators' language.
        static const std::map<int, std::string_view> labels{{2, "casa"},
                                                            {3, "fuori casa"},
                                                            {10, "cantina"},
                                                            {11, "bagno"},
                                                            {12, "camera da letto"},
                                                            {21, "cucina"},
                                                            {30, "indirizzo temporaneo"},
                                                            {34, "posizione geografica"},
                                                            {35, "posizione GPS"},
                                                            {38, "porta"},
                                                            {39, "porta"},
                                                            {40, "porta"},
                                                            {41, "porta"},
                                                            {43, "soggiorno"},
                                                            {44, "appartamento"},
                                                            {47, "area comune"},
                                                            {49, "stanza"},
                                                            {51, "reparto"}};
        for (auto it = events.rbegin(); it != events.rend(); ++it) {
            const json decoded = it->value("decoded", json::object());
            if (!decoded.is_object()) {
                continue;
            }
            json loc = json::object();
            if (const auto lge = decoded.find("lge"); lge != decoded.end() && lge->is_object()) {
                if (const std::string geo = lge->value("geo", std::string()); !geo.empty()) {
                    loc["geo"] = geo;
                }
                if (const std::string tim = lge->value("tim", std::string()); !tim.empty()) {
                    loc["time"] = tim;
                }
            }
            if (const auto lte = decoded.find("lte"); lte != decoded.end() && lte->is_string()) {
                loc["text"] = *lte;
            }
            if (const auto lco = decoded.find("lco");
                lco != decoded.end() && lco->is_number_integer()) {
                loc["code"] = *lco;
                if (const auto l = labels.find(lco->get<int>()); l != labels.end()) {
                    loc["label"] = l->second;
                }
            }
            if (!loc.empty()) {
                loc["event"] = it->value("id", json());
                return loc;
            }
        }
        return nullptr;
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
        json location = location_of(events);
        json result{{"alarm", std::move(alarm)},
                    {"timeline", std::move(timeline)},
                    {"events", std::move(events)},
                    {"members", members},
                    {"location", std::move(location)}};
        // A phone report's case: who called, about whom, where. Not for installers, who see
        // alarms only to check devices.
        const bool installer = session_ != nullptr && session_->who.has_value() &&
                               session_->who->role == storage::operator_role::installer;
        if (!installer) {
            if (const auto c = storage::find_case(db, static_cast<std::int64_t>(id))) {
                result["case"] = case_to_json(*c);
            }
        }
        ok(std::move(result));
    }

    void alarm_act(const json& req, alarm_action action, const char* text_name) {
        action_request request;
        request.action = action;
        request.id = static_cast<engine::alarm_id>(
            integer_field(req, "alarm", 1, std::numeric_limits<std::int64_t>::max(), std::nullopt));
        const bool operator_api = session_ != nullptr && session_->who.has_value();
        if (operator_api) {
            // The logged-in operator acts; an `actor` field cannot speak for someone else.
            request.actor = session_->who->username;
            request.holder_only = session_->who->role == storage::operator_role::operator_;
        } else {
            request.actor = text_field(req, "actor", 64, "admin");
        }
        if (text_name != nullptr) {
            request.text = text_field(req, text_name, 4096);
        }
        if (action == alarm_action::dispatch) {
            // The team's stored spelling, which its team accounts match (missions.hpp).
            if (const auto t = storage::find_team_by_name(backend_.read_db(), request.text)) {
                request.text = t->name;
            } else if (operator_api) {
                throw request_error{
                    "invalid", fmt::format("team: no team '{}' (see team.list)", request.text)};
            }
            request.note = optional_string(req, "instructions").value_or("");
            if (request.note.size() > 4096) {
                throw request_error{"invalid", "instructions: at most 4096 bytes"};
            }
        }
        if (action == alarm_action::close && operator_api) {
            const std::vector<std::string> allowed = backend_.outcomes();
            if (std::find(allowed.begin(), allowed.end(), request.text) == allowed.end()) {
                throw request_error{"invalid", fmt::format("outcome: '{}' is not one of the "
                                                           "configured outcomes (see outcomes)",
                                                           request.text)};
            }
        }
        if (action == alarm_action::reassign) {
            const auto to = storage::find_operator(backend_.read_db(), request.text);
            if (!to || to->disabled || to->role == storage::operator_role::team ||
                to->role == storage::operator_role::installer) {
                throw request_error{"invalid",
                                    fmt::format("to: no active operator '{}'", request.text)};
            }
            request.text = to->username;
        }
        std::string call_outcome;
        if (action == alarm_action::call) {
            static constexpr std::array<std::string_view, 5> call_outcomes{
                "answered", "no_answer", "busy", "wrong_number", "voicemail"};
            const std::string whom = text_field(req, "whom", 200);
            const std::string number = text_field(req, "number", 64);
            const std::string outcome = text_field(req, "outcome", 32);
            if (std::find(call_outcomes.begin(), call_outcomes.end(), outcome) ==
                call_outcomes.end()) {
                throw request_error{"invalid",
                                    "outcome: must be answered, no_answer, busy, "
                                    "wrong_number or voicemail"};
            }
            request.text = fmt::format("call {} {}: {}", whom, number, outcome);
            call_outcome = outcome;
        }
        auto self = std::make_shared<handler>(*this);
        const std::string cmd = required_string(req, "cmd");
        backend_.alarms().act(
            request, engine_now(backend_),
            [self, operator_api, cmd, request, call_outcome](action_result result) {
                if (!result.error_code.empty()) {
                    self->fail(result.error_code, result.message);
                    return;
                }
                if (!operator_api) {
                    self->ok(json{{"alarm", std::move(result.alarm)}});
                    return;
                }
                // On the operator API every step is in the audit trail too (who, from where).
                const std::int64_t now = self->backend_.now_ms();
                // Notes stay out, and of a call only its outcome: who was called and the
                // number are in the alarm's (sealed) log, not in the clear audit trail.
                const std::string detail = request.action == alarm_action::note ? ""
                                           : request.action == alarm_action::call
                                               ? "call: " + call_outcome
                                               : request.text;
                self->backend_.run_job(
                    [src = self->source(), cmd, id = request.id, detail,
                     now](storage::database& db) {
                        storage::append_audit(
                            db, audit(src, cmd, fmt::format("alarm {}", id), detail, now));
                    },
                    [self, alarm = std::move(result.alarm)](std::error_code ec,
                                                            const std::string& message) mutable {
                        if (ec) {
                            // The step itself is stored; only its audit entry is not.
                            self->fail("internal",
                                       fmt::format("step stored, audit entry not: {}",
                                                   message.empty() ? ec.message() : message));
                            return;
                        }
                        self->ok(json{{"alarm", std::move(alarm)}});
                    });
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

std::optional<std::string> device_from_request(const json& req, storage::device& out) {
    try {
        out = device_fields(req);
    } catch (const request_error& e) {
        return e.message;
    }
    return std::nullopt;
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
