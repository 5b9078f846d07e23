#include "admin_teams.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin_command.hpp"
#include "alarm_service.hpp"
#include <fmt/format.h>

#include "arc/api/json.hpp"
#include "arc/storage/alarms.hpp"
#include "arc/storage/cases.hpp"
#include "arc/storage/security.hpp"
#include "arc/storage/subscribers.hpp"
#include "arc/teams/dispatch.hpp"
#include "arc/teams/schedule.hpp"

namespace arc::daemon {
namespace {

using nlohmann::json;
namespace storage = arc::storage;
namespace security = arc::security;
namespace teams = arc::teams;

[[noreturn]] void invalid(std::string message) { throw field_error{"invalid", std::move(message)}; }

const json* find(const json& obj, const char* name) {
    const auto it = obj.find(name);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string text(const json& v, const std::string& path, std::size_t max_size) {
    if (!v.is_string()) {
        throw field_error{"bad_request", fmt::format("field '{}' must be a string", path)};
    }
    std::string out = v.get<std::string>();
    if (out.size() > max_size) {
        invalid(fmt::format("{}: at most {} bytes", path, max_size));
    }
    if (std::any_of(out.begin(), out.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
        invalid(fmt::format("{}: must not contain control characters", path));
    }
    return out;
}

// A non-blank name: leading and trailing spaces dropped.
std::string name_text(const json& v, const std::string& path, std::size_t max_size) {
    std::string s = text(v, path, max_size);
    const auto first = s.find_first_not_of(' ');
    if (first == std::string::npos) {
        invalid(fmt::format("{}: must not be empty", path));
    }
    return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

std::vector<std::string> names(const json& v, const std::string& path, std::size_t max_items) {
    if (!v.is_array()) {
        throw field_error{"bad_request", fmt::format("field '{}' must be an array", path)};
    }
    if (v.size() > max_items) {
        invalid(fmt::format("{}: at most {} entries", path, max_items));
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        out.push_back(name_text(v[i], fmt::format("{}[{}]", path, i), 100));
    }
    return out;
}

// Unix ms from an integer or "YYYY-MM-DDTHH:MM[:SS]Z" (UTC).
std::int64_t instant_field(const json& v, const char* path) {
    if (v.is_number_integer()) {
        return v.get<std::int64_t>();
    }
    if (v.is_string()) {
        const std::string s = v.get<std::string>();
        int y = 0;
        unsigned mo = 0;
        unsigned d = 0;
        int h = 0;
        int mi = 0;
        int sec = 0;
        char z = 0;
        const int n6 =
            std::sscanf(s.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &z);
        const int n5 =
            n6 == 7 ? 0 : std::sscanf(s.c_str(), "%4d-%2u-%2uT%2d:%2d%c", &y, &mo, &d, &h, &mi, &z);
        const bool ok = (n6 == 7 || n5 == 6) && z == 'Z';
        const std::chrono::year_month_day ymd{std::chrono::year{y} / std::chrono::month{mo} /
                                              std::chrono::day{d}};
        if (ok && ymd.ok() && h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 60) {
            const std::chrono::sys_days day{ymd};
            const auto t =
                day + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{sec};
            return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch())
                .count();
        }
    }
    throw field_error{"bad_request",
                      fmt::format("field '{}' must be Unix ms or YYYY-MM-DDTHH:MM[:SS]Z", path)};
}

teams::time_point at_ms(std::int64_t ms) {
    return teams::time_point{std::chrono::milliseconds{ms}};
}

std::int64_t to_ms(teams::time_point t) { return t.time_since_epoch().count(); }

// Parses and validates a schedule text; errors name the field.
teams::schedule schedule_of(const std::string& text_value) {
    auto parsed = teams::parse_schedule(text_value);
    if (!parsed) {
        invalid("schedule: " + parsed.error());
    }
    return std::move(*parsed);
}

// The fields present in `req` onto `t`; `changed` gets their names (for the audit: names only).
void apply_team_fields(const json& req, storage::team& t, bool adding,
                       std::vector<std::string>& changed) {
    if (const json* v = find(req, "name")) {
        t.name = name_text(*v, "name", 64);
        changed.emplace_back("name");
    } else if (adding) {
        throw field_error{"bad_request", "missing field 'name'"};
    }
    if (const json* v = find(req, "members")) {
        t.members = names(*v, "members", 20);
        changed.emplace_back("members");
    }
    if (const json* v = find(req, "phone")) {
        std::string p = text(*v, "phone", 32);
        const bool ok = p.empty() || (p.find_first_of("0123456789") != std::string::npos &&
                                      p.find_first_not_of("0123456789 +-/") == std::string::npos);
        if (!ok) {
            invalid("phone: digits, spaces, +, - and / only (e.g. +39 335 123 4567)");
        }
        t.phone = std::move(p);
        changed.emplace_back("phone");
    }
    if (const json* v = find(req, "territory")) {
        t.territory = names(*v, "territory", 100);
        changed.emplace_back("territory");
    }
    if (adding && t.territory.empty()) {
        invalid("territory: at least one comune");
    }
    if (const json* v = find(req, "schedule")) {
        std::string s = text(*v, "schedule", teams::max_schedule_text);
        (void)schedule_of(s);
        t.schedule = std::move(s);
        changed.emplace_back("schedule");
    } else if (adding) {
        throw field_error{"bad_request",
                          "missing field 'schedule' (e.g. outside-office-hours or 24x7)"};
    }
    if (const json* v = find(req, "state")) {
        const auto st = teams::parse_team_state(text(*v, "state", 16));
        if (!st) {
            invalid("state: must be available, on_mission or off_duty");
        }
        t.state = *st;
        changed.emplace_back("state");
    }
}

std::string team_name_field(const json& req) {
    const json* v = find(req, "team");
    if (v == nullptr) {
        throw field_error{"bad_request", "missing field 'team' (the team's name)"};
    }
    return name_text(*v, "team", 64);
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += (out.empty() ? "" : ",") + i;
    }
    return out;
}

thread_local const audit_source* current_source = nullptr;

security::audit_entry audit(std::string action, std::string target, std::string detail,
                            std::int64_t at) {
    const std::string who =
        current_source != nullptr ? current_source->actor : std::string("admin-socket");
    const std::string peer = current_source != nullptr ? current_source->peer : std::string();
    return security::audit_entry{
        0, at, who, std::move(action), std::move(target), peer, std::move(detail)};
}

struct team_state_box {
    std::string code;
    std::string message;
    json result;
};

class team_handler {
public:
    team_handler(admin_backend& backend, admin_reply reply)
        : backend_(backend), reply_(std::move(reply)) {}

    void write(std::function<void(storage::database&, team_state_box&)> work) {
        auto state = std::make_shared<team_state_box>();
        auto reply = reply_;
        backend_.run_job(
            [state, work, src = reply_.source](storage::database& db) {
                current_source = &src;
                try {
                    work(db, *state);
                } catch (...) {
                    current_source = nullptr;
                    throw;
                }
                current_source = nullptr;
            },
            [reply, state](std::error_code ec, const std::string& message) {
                if (ec) {
                    if (ec == storage::errc::queue_full) {
                        reply.fail("busy", "storage queue full, retry later");
                    } else if (ec == storage::errc::stopped) {
                        reply.fail("busy", "arcd is stopping");
                    } else {
                        reply.fail("internal", message.empty() ? ec.message() : message);
                    }
                    return;
                }
                if (!state->code.empty()) {
                    reply.fail(state->code, state->message);
                    return;
                }
                reply.ok(std::move(state->result));
            });
    }

    void add(const json& req) {
        storage::team t;
        std::vector<std::string> changed;
        apply_team_fields(req, t, true, changed);
        t.created_ms = backend_.now_ms();
        t.updated_ms = t.created_ms;
        const std::int64_t now = t.created_ms;
        write([t, changed, now](storage::database& db, team_state_box& st) {
            if (storage::find_team_by_name(db, t.name)) {
                st.code = "exists";
                st.message = fmt::format("team {} already exists", t.name);
                return;
            }
            const std::int64_t id = storage::insert_team(db, t);
            storage::append_audit(db, audit("team.add", t.name, "fields=" + join(changed), now));
            st.result = json{{"team", team_to_json(*storage::find_team(db, id), now)}};
        });
    }

    void update(const json& req) {
        const std::string name = team_name_field(req);
        {
            storage::team probe;
            std::vector<std::string> ignored;
            apply_team_fields(req, probe, false, ignored);
        }
        const std::int64_t now = backend_.now_ms();
        write([req, name, now](storage::database& db, team_state_box& st) {
            auto t = storage::find_team_by_name(db, name);
            if (!t) {
                st.code = "not_found";
                st.message = fmt::format("no team {}", name);
                return;
            }
            std::vector<std::string> changed;
            try {
                apply_team_fields(req, *t, false, changed);
            } catch (const field_error& e) {
                st.code = e.code;
                st.message = e.message;
                return;
            }
            if (const auto other = storage::find_team_by_name(db, t->name);
                other && other->id != t->id) {
                st.code = "exists";
                st.message = fmt::format("team {} already exists", t->name);
                return;
            }
            t->updated_ms = now;
            storage::update_team(db, *t);
            std::string detail;
            for (const auto& n : changed) {
                detail += (detail.empty() ? "" : ", ") + n + " changed";
            }
            storage::append_audit(db, audit("team.update", name, detail, now));
            st.result = json{{"team", team_to_json(*t, now)}};
        });
    }

    void set_state(const json& req) {
        const std::string name = team_name_field(req);
        const json* v = find(req, "state");
        if (v == nullptr) {
            throw field_error{"bad_request", "missing field 'state'"};
        }
        const auto state = teams::parse_team_state(text(*v, "state", 16));
        if (!state) {
            invalid("state: must be available, on_mission or off_duty");
        }
        const std::int64_t now = backend_.now_ms();
        write([name, s = *state, now](storage::database& db, team_state_box& st) {
            auto t = storage::find_team_by_name(db, name);
            if (!t) {
                st.code = "not_found";
                st.message = fmt::format("no team {}", name);
                return;
            }
            const teams::team_state before = t->state;
            storage::set_team_state(db, t->id, s, now);
            storage::append_audit(db, audit("team.set_state", t->name,
                                            fmt::format("state {} -> {}", teams::to_string(before),
                                                        teams::to_string(s)),
                                            now));
            t->state = s;
            t->updated_ms = now;
            st.result = json{{"team", team_to_json(*t, now)}};
        });
    }

    void remove(const json& req) {
        const std::string name = team_name_field(req);
        const std::int64_t now = backend_.now_ms();
        write([name, now](storage::database& db, team_state_box& st) {
            const auto t = storage::find_team_by_name(db, name);
            if (!t) {
                st.code = "not_found";
                st.message = fmt::format("no team {}", name);
                return;
            }
            storage::delete_team(db, t->id);
            storage::append_audit(db, audit("team.remove", t->name, "", now));
            st.result = json{{"removed", t->name}};
        });
    }

    void show(const json& req) {
        const std::string name = team_name_field(req);
        const auto t = storage::find_team_by_name(backend_.read_db(), name);
        if (!t) {
            throw field_error{"not_found", fmt::format("no team {}", name)};
        }
        reply_.ok(json{{"team", with_missions(team_to_json(with_state(*t), at_now(req)))}});
    }

    void list(const json& req) {
        const std::int64_t now = at_now(req);
        json out = json::array();
        for (const auto& t : storage::list_teams(backend_.read_db())) {
            out.push_back(with_missions(team_to_json(with_state(t), now)));
        }
        reply_.ok(json{{"teams", std::move(out)}, {"at", arc::api::iso8601_utc(now)}});
    }

    void propose(const json& req) {
        storage::database& db = backend_.read_db();
        const std::int64_t now = at_now(req);
        json result;
        std::string comune;
        if (const json* a = find(req, "alarm")) {
            if (!a->is_number_integer() || a->get<std::int64_t>() < 1) {
                throw field_error{"bad_request", "field 'alarm' must be a positive integer"};
            }
            const auto id = a->get<std::uint64_t>();
            const auto alarm = storage::find_alarm(db, id);
            if (!alarm) {
                throw field_error{"not_found", fmt::format("no alarm {}", id)};
            }
            const std::string& account = alarm->header.account;
            const auto dev = storage::find_device(db, account);
            const auto phone_case = storage::find_case(db, static_cast<std::int64_t>(id));
            if (phone_case && !phone_case->comune.empty()) {
                // A phone report: the place the caller gave.
                comune = phone_case->comune;
                result["alarm"] = id;
                if (phone_case->subscriber_id) {
                    if (const auto sub = storage::find_subscriber(db, *phone_case->subscriber_id)) {
                        result["subscriber"] = json{{"id", sub->id}, {"code", sub->code}};
                    }
                }
            } else {
                if (!dev || !dev->subscriber_id) {
                    throw field_error{"not_found",
                                      fmt::format("alarm {}: device {} has no subscriber, so no "
                                                  "comune: propose for a comune instead",
                                                  id, account)};
                }
                const auto sub = storage::find_subscriber(db, *dev->subscriber_id);
                if (!sub || sub->comune.empty()) {
                    throw field_error{"not_found",
                                      fmt::format("alarm {}: subscriber {} has no comune", id,
                                                  *dev->subscriber_id)};
                }
                comune = sub->comune;
                result["alarm"] = id;
                result["subscriber"] = json{{"id", sub->id}, {"code", sub->code}};
            }
        } else if (const json* c = find(req, "comune")) {
            comune = name_text(*c, "comune", 100);
        } else {
            throw field_error{"bad_request", "give 'alarm' (an alarm id) or 'comune'"};
        }
        const std::vector<storage::team> stored = storage::list_teams(db);
        std::vector<teams::candidate> candidates;
        candidates.reserve(stored.size());
        for (const auto& t : stored) {
            auto parsed = teams::parse_schedule(t.schedule);
            if (!parsed) {
                // Written through the API, so valid; a hand-edited row is skipped, not fatal.
                continue;
            }
            candidates.push_back(
                teams::candidate{t.name, t.territory, std::move(*parsed), with_state(t).state});
        }
        json list = json::array();
        for (const auto& p : teams::propose(candidates, comune, at_ms(now))) {
            const auto it = std::find_if(stored.begin(), stored.end(), [&](const storage::team& t) {
                return t.name == candidates[p.index].name;
            });
            list.push_back(
                json{{"name", candidates[p.index].name},
                     {"phone", it != stored.end() ? it->phone : std::string()},
                     {"members", it != stored.end() ? it->members : std::vector<std::string>{}},
                     {"state", std::string(teams::to_string(p.state))},
                     {"on_duty_until",
                      p.until ? json(arc::api::iso8601_utc(to_ms(*p.until))) : json(nullptr)},
                     {"on_duty_until_local",
                      p.until ? json(teams::format_local(*p.until)) : json(nullptr)},
                     {"why", p.why}});
        }
        result["comune"] = comune;
        result["at"] = arc::api::iso8601_utc(now);
        result["teams"] = std::move(list);
        reply_.ok(std::move(result));
    }

private:
    // A team with an open mission is on a mission, whatever its stored state says, unless it
    // was set off duty by hand; with none it is as stored (on_mission set by hand stays).
    storage::team with_state(storage::team t) {
        if (!missions_) {
            missions_ = backend_.alarms().open_missions();
        }
        const int open = missions_open(t.name);
        if (open > 0 && t.state == teams::team_state::available) {
            t.state = teams::team_state::on_mission;
        }
        return t;
    }
    int missions_open(const std::string& name) {
        if (!missions_) {
            missions_ = backend_.alarms().open_missions();
        }
        std::string key = name;
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        const auto it = missions_->find(key);
        return it == missions_->end() ? 0 : it->second;
    }
    json with_missions(json team) {
        team["open_missions"] = missions_open(team.value("name", std::string()));
        return team;
    }

    // The instant a read is about: the request's `at` when given (tests, planning), else now.
    std::int64_t at_now(const json& req) {
        if (const json* v = find(req, "at")) {
            return instant_field(*v, "at");
        }
        return backend_.now_ms();
    }

    admin_backend& backend_;
    admin_reply reply_;
    std::optional<std::map<std::string, int>> missions_;
};

}  // namespace

json team_to_json(const storage::team& t, std::int64_t now_ms) {
    json out{{"id", t.id},
             {"name", t.name},
             {"members", t.members},
             {"phone", t.phone},
             {"territory", t.territory},
             {"schedule", t.schedule},
             {"state", std::string(teams::to_string(t.state))}};
    const auto parsed = teams::parse_schedule(t.schedule);
    if (parsed) {
        const teams::time_point now = at_ms(now_ms);
        const bool scheduled = teams::on_duty(*parsed, now);
        const auto change = teams::next_change(*parsed, now);
        out["scheduled_on_duty"] = scheduled;
        out["on_duty"] = scheduled && t.state != teams::team_state::off_duty;
        out["schedule_change"] =
            change ? json(arc::api::iso8601_utc(to_ms(*change))) : json(nullptr);
        out["schedule_change_local"] = change ? json(teams::format_local(*change)) : json(nullptr);
    } else {
        out["schedule_error"] = parsed.error();
        out["on_duty"] = false;
    }
    out["created"] = arc::api::iso8601_utc_ms(t.created_ms);
    out["updated"] = arc::api::iso8601_utc_ms(t.updated_ms);
    return out;
}

storage::team team_from_request(const json& req) {
    storage::team t;
    std::vector<std::string> changed;
    apply_team_fields(req, t, true, changed);
    return t;
}

bool handle_team_command(const std::string& cmd, const json& req, admin_backend& backend,
                         const admin_reply& reply) {
    return run_admin_command<team_handler>(cmd, req, backend, reply,
                                           {{"team.add", &team_handler::add},
                                            {"team.update", &team_handler::update},
                                            {"team.show", &team_handler::show},
                                            {"team.list", &team_handler::list},
                                            {"team.remove", &team_handler::remove},
                                            {"team.set_state", &team_handler::set_state},
                                            {"team.propose", &team_handler::propose}});
}

}  // namespace arc::daemon
