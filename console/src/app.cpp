#include "arc/console/app.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "arc/console/text.hpp"

namespace arc::console {
namespace {

using nlohmann::json;

constexpr std::int64_t detail_refresh_ms = 300;
constexpr std::int64_t floor_refresh_ms = 2000;
constexpr std::size_t names_prefetch = 40;
constexpr std::size_t names_in_flight_max = 3;
constexpr std::size_t input_max = 500;
constexpr std::size_t page = 10;

constexpr std::array case_categories = {"frail_elderly",     "housing_emergency", "essential_goods",
                                        "domestic_violence", "minor_in_danger",   "other"};
constexpr std::array case_callers = {"citizen", "police", "health_service", "social_service",
                                     "other"};
constexpr std::array call_outcomes = {"answered", "no_answer", "busy", "wrong_number", "voicemail"};

std::string fmt_tr(lang l, std::string_view english, const auto&... args) {
    return fmt::format(fmt::runtime(tr(l, english)), args...);
}

std::string str(const json& obj, const char* name) {
    if (!obj.is_object()) {
        return {};
    }
    const auto it = obj.find(name);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool printable(int k) { return k >= 0x20 && k != 0x7f && k <= 0x10ffff; }

std::string full_name(const json& s) {
    std::string name = str(s, "first_name");
    const std::string last = str(s, "last_name");
    if (!last.empty()) {
        name += name.empty() ? last : " " + last;
    }
    return name;
}

}  // namespace

app::app(options opts) : opts_(std::move(opts)) {
    if (opts_.transport == options::transport_kind::tcp) {
        screen_ = screen::login;
        login_.username = decode_utf8(opts_.user);
        login_.field = opts_.user.empty() ? 0 : 1;
    } else {
        me_ = opts_.user;
        role_ = "admin";  // the admin socket: its file permissions are the access control
        if (opts_.team) {
            screen_ = screen::missions;
        }
    }
}

// ---- outputs --------------------------------------------------------------------------------

std::vector<std::string> app::take_outbox() { return std::exchange(outbox_, {}); }

bool app::take_bell() noexcept { return std::exchange(bell_, false); }

bool app::take_reconnect() noexcept { return std::exchange(reconnect_, false); }

std::string app::name_of(const std::string& account) const {
    const auto it = names_.find(account);
    return it == names_.end() ? std::string() : it->second;
}

bool app::holds_selected() const noexcept {
    if (!selected_) {
        return false;
    }
    const queue_entry* e = queue_.find(*selected_);
    return e != nullptr && !me_.empty() && iequals(e->holder, me_) && e->state != "new";
}

std::optional<alarm_id> app::low_battery_alarm(const std::string& account) const noexcept {
    for (const queue_entry& e : queue_.entries()) {
        if (e.kind == "low_battery" && e.account == account) {
            return e.id;
        }
    }
    return std::nullopt;
}

std::uint64_t app::send(json req, purpose why) {
    const std::uint64_t id = next_id_++;
    req["id"] = id;
    outbox_.push_back(req.dump(-1, ' ', false, json::error_handler_t::replace));
    pending_.emplace(id, std::move(why));
    return id;
}

void app::say(std::string text, bool error, std::int64_t now_ms) {
    status_ = status_line{std::move(text), error, now_ms};
}

// ---- connection -----------------------------------------------------------------------------

void app::connected(std::int64_t now_ms) {
    pending_.clear();
    names_in_flight_.clear();
    detail_.show_in_flight = false;
    floor_.in_flight = false;
    missions_.in_flight = false;
    disconnect_reason_.clear();
    if (opts_.transport == options::transport_kind::unix_socket) {
        start_session(now_ms);
        return;
    }
    if (!token_.empty()) {
        link_ = link::authenticating;
        send(json{{"cmd", "resume"}, {"token", token_}},
             purpose{purpose::kind::resume, 0, {}, {}, 0});
        return;
    }
    link_ = link::login_needed;
    screen_ = screen::login;
}

void app::disconnected(const std::string& reason, std::int64_t retry_at_ms,
                       std::int64_t /*now_ms*/) {
    link_ = link::disconnected;
    retry_at_ms_ = retry_at_ms;
    disconnect_reason_ = reason;
    pending_.clear();
    names_in_flight_.clear();
    outbox_.clear();
    awaiting_snapshot_ = false;
    early_pushes_.clear();
    detail_.show_in_flight = false;
    detail_.subscriber_loading = false;
    floor_.in_flight = false;
    missions_.in_flight = false;
    login_.busy = false;
}

// Logged in (or on the admin socket): subscribe and learn the close outcomes.
void app::start_session(std::int64_t now_ms) {
    if (team_mode()) {
        start_team_session(now_ms);
        return;
    }
    link_ = link::subscribing;
    awaiting_snapshot_ = true;
    early_pushes_.clear();
    send(json{{"cmd", "alarms.subscribe"}, {"limit", 1000}},
         purpose{purpose::kind::subscribe, 0, {}, {}, 0});
    send(json{{"cmd", "outcomes"}}, purpose{purpose::kind::outcomes, 0, {}, {}, 0});
}

// ---- lines from arcd ------------------------------------------------------------------------

void app::line(const json& msg, std::int64_t now_ms) {
    if (!msg.is_object()) {
        return;
    }
    if (msg.contains("push")) {
        on_push(msg, now_ms);
    } else if (msg.contains("ok")) {
        on_response(msg, now_ms);
    }
}

void app::on_push(const json& msg, std::int64_t now_ms) {
    const std::string kind = str(msg, "push");
    if (kind == "overflow") {
        say(std::string(tr(opts_.language, "subscription overflow: resynchronising")), true,
            now_ms);
        reconnect_ = true;
        return;
    }
    if (kind == "mission") {
        missions_.dirty = true;  // fetched again by tick(): one request however many pushes
        return;
    }
    if (kind != "change") {
        return;
    }
    const auto change = msg.find("change");
    if (change == msg.end() || !change->is_object()) {
        return;
    }
    if (awaiting_snapshot_) {
        if (early_pushes_.size() < 10000) {
            early_pushes_.push_back(*change);
        } else {
            reconnect_ = true;  // far behind before the snapshot even came: start over
        }
        return;
    }
    apply_change(*change, now_ms);
}

void app::apply_change(const json& change, std::int64_t now_ms) {
    const std::optional<std::size_t> old_index =
        selected_ ? queue_.index_of(*selected_) : std::nullopt;
    change_effect effect;
    try {
        effect = queue_.apply_change(change);
    } catch (const std::invalid_argument&) {
        return;  // a change this console cannot read changes nothing it shows
    }
    if (!effect.applied) {
        return;
    }
    if (effect.opened_critical && link_ == link::live) {
        bell_ = true;
    }
    if (selected_ && effect.alarm == selected_) {
        detail_.dirty = true;
        if (detail_.sensitive && !holds_selected()) {
            hide_sensitive();
        }
    }
    keep_selection(old_index);
    if (pending_select_ && effect.alarm == pending_select_ && queue_.find(*pending_select_)) {
        select(*pending_select_);
        pending_select_.reset();
    }
    (void)now_ms;
}

// The selected alarm stays selected while it is listed; when it leaves, the alarm now at its
// old position is selected (or the last one).
void app::keep_selection(std::optional<std::size_t> old_index) {
    const auto& entries = queue_.entries();
    if (entries.empty()) {
        select(std::nullopt);
        return;
    }
    if (selected_ && queue_.find(*selected_) != nullptr) {
        return;
    }
    const std::size_t at = std::min(old_index.value_or(0), entries.size() - 1);
    select(entries[at].id);
}

void app::select(std::optional<alarm_id> id) {
    if (id == selected_) {
        return;
    }
    selected_ = id;
    fetch_detail();
}

void app::fetch_detail() {
    ++detail_gen_;
    detail_ = detail_state{};
    if (!selected_ || link_ != link::live) {
        return;
    }
    detail_.alarm = *selected_;
    fetch_show();
    const queue_entry* e = queue_.find(*selected_);
    if (e == nullptr || e->account.empty()) {
        return;
    }
    if (subscriber_supported_) {
        detail_.subscriber_loading = true;
        send(json{{"cmd", "subscriber.show"}, {"account", e->account}},
             purpose{purpose::kind::subscriber, e->id, e->account, {}, detail_gen_});
    } else {
        detail_.subscriber_error = tr(opts_.language, "no subscriber record");
    }
    send(json{{"cmd", "device.show"}, {"account", e->account}},
         purpose{purpose::kind::device, e->id, e->account, {}, detail_gen_});
}

void app::fetch_show() {
    if (!selected_ || link_ != link::live) {
        return;
    }
    detail_.show_in_flight = true;
    detail_.dirty = false;
    send(json{{"cmd", "alarm.show"}, {"alarm", *selected_}},
         purpose{purpose::kind::show, *selected_, {}, {}, detail_gen_});
}

void app::hide_sensitive() {
    if (detail_.subscriber.is_object()) {
        detail_.subscriber.erase("medical_notes");
        detail_.subscriber.erase("key_safe_code");
        detail_.subscriber["sensitive_hidden"] = true;
    }
    detail_.sensitive = false;
}

std::string app::action_error(const purpose& why, const std::string& code,
                              const std::string& message) const {
    const lang l = opts_.language;
    if (code == "unknown_command") {
        return fmt_tr(l, "this arcd has no {} command", why.action);
    }
    std::string text = message;
    if (code == "held" && message.rfind("held by ", 0) == 0) {
        text = fmt_tr(l, "held by {}", message.substr(8));
    }
    return fmt_tr(l, "#{}: {}", why.alarm, text);
}

void app::on_response(const json& msg, std::int64_t now_ms) {
    const auto id_it = msg.find("id");
    if (id_it == msg.end() || !id_it->is_number_unsigned()) {
        return;
    }
    const auto found = pending_.find(id_it->get<std::uint64_t>());
    if (found == pending_.end()) {
        return;
    }
    const purpose why = found->second;
    pending_.erase(found);
    const bool ok = msg.value("ok", false);
    const json result = ok ? msg.value("result", json::object()) : json::object();
    std::string code;
    std::string message;
    if (!ok) {
        const json err = msg.value("error", json::object());
        code = str(err, "code");
        message = str(err, "message");
        if (code.empty()) {
            code = "internal";
        }
    }
    const lang l = opts_.language;
    if (!ok && code == "unauthorized" && why.k != purpose::kind::login &&
        why.k != purpose::kind::resume) {
        token_.clear();
        link_ = link::login_needed;
        screen_ = screen::login;
        login_.error = tr(l, "session expired: log in again");
        return;
    }

    switch (why.k) {
        case purpose::kind::login:
        case purpose::kind::resume: {
            login_.busy = false;
            if (ok) {
                token_ = str(result, "token");
                const json op = result.value("operator", json::object());
                me_ = str(op, "username");
                role_ = str(op, "role");
                display_name_ = str(op, "display_name");
                login_.error.clear();
                std::fill(login_.password.begin(), login_.password.end(), U'\0');
                login_.password.clear();
                if (screen_ == screen::login) {
                    screen_ = screen::main;
                }
                start_session(now_ms);
                return;
            }
            token_.clear();
            link_ = link::login_needed;
            screen_ = screen::login;
            if (why.k == purpose::kind::resume) {
                login_.error = tr(l, "session expired: log in again");
            } else if (code == "login_failed") {
                login_.error = tr(l, "wrong username or password");
            } else if (code == "locked") {
                const auto at = message.rfind("until ");
                const std::string until =
                    at == std::string::npos ? message : message.substr(at + 6);
                login_.error = fmt_tr(l, "account locked until {}", until);
            } else {
                login_.error = message.empty() ? code : message;
            }
            return;
        }
        case purpose::kind::subscribe: {
            if (!ok) {
                awaiting_snapshot_ = false;
                link_ = link::live;  // connected, but nothing to show: say why
                say(fmt_tr(l, "not allowed to use the console: {}", message), true, now_ms);
                return;
            }
            const std::optional<alarm_id> keep = selected_;
            try {
                queue_.load_snapshot(result);
            } catch (const std::invalid_argument& e) {
                say(e.what(), true, now_ms);
                reconnect_ = true;
                return;
            }
            awaiting_snapshot_ = false;
            link_ = link::live;
            for (const json& change : std::exchange(early_pushes_, {})) {
                apply_change(change, now_ms);
            }
            // Resync: keep the selection when the alarm is still open, and fetch its detail
            // again (the daemon may have restarted with anything changed).
            selected_.reset();
            if (keep && queue_.find(*keep) != nullptr) {
                select(keep);
            } else if (!queue_.entries().empty()) {
                select(queue_.entries().front().id);
            } else {
                fetch_detail();
            }
            if (screen_ == screen::floor) {
                request_floor(now_ms);
            }
            return;
        }
        case purpose::kind::outcomes: {
            outcomes_.clear();
            outcomes_known_ = false;
            if (!ok) {
                return;  // older arcd: close asks for the outcome as free text
            }
            outcomes_raw_ = result.value("outcomes", json::array());
            for (const json& o : outcomes_raw_) {
                const std::string c = str(o, "code");
                if (c.empty()) {
                    continue;
                }
                std::string label = str(o, l == lang::it ? "it" : "en");
                outcomes_.emplace_back(c, label.empty() ? c : label);
            }
            outcomes_known_ = !outcomes_.empty();
            return;
        }
        case purpose::kind::show: {
            if (why.generation != detail_gen_) {
                return;
            }
            detail_.show_in_flight = false;
            last_show_ms_ = now_ms;
            if (ok) {
                detail_.show = result;
                detail_.show_error.clear();
            } else {
                detail_.show_error = message.empty() ? code : message;
            }
            return;
        }
        case purpose::kind::subscriber:
        case purpose::kind::subscriber_name: {
            if (why.k == purpose::kind::subscriber_name) {
                names_in_flight_.erase(why.account);
            }
            if (!ok && (code == "unknown_command" || code == "forbidden")) {
                subscriber_supported_ = false;
            }
            if (ok) {
                const json s = result.value("subscriber", json::object());
                names_[why.account] = full_name(s);
            } else if (code == "not_found" || code == "unknown_command") {
                names_[why.account] = "";
            }
            if (why.k == purpose::kind::subscriber_name || why.generation != detail_gen_) {
                return;
            }
            detail_.subscriber_loading = false;
            if (ok) {
                const bool sensitive =
                    result.value("subscriber", json::object()).contains("medical_notes") ||
                    result.value("subscriber", json::object()).contains("key_safe_code");
                detail_.subscriber = result.value("subscriber", json::object());
                detail_.subscriber_error.clear();
                detail_.sensitive = sensitive && holds_selected();
                if (sensitive && !detail_.sensitive) {
                    hide_sensitive();  // released meanwhile: never shown
                }
                if (detail_.sensitive) {
                    say(fmt_tr(l, "#{}: sensitive data shown (audited)", why.alarm), false, now_ms);
                }
            } else if (code == "not_found" || code == "unknown_command" || code == "forbidden") {
                detail_.subscriber = nullptr;
                detail_.subscriber_error = tr(l, "no subscriber record");
            } else {
                detail_.subscriber_error = message.empty() ? code : message;
            }
            return;
        }
        case purpose::kind::device: {
            if (why.generation != detail_gen_) {
                return;
            }
            if (ok) {
                detail_.device = result.value("device", json::object());
                detail_.device_error.clear();
            } else {
                detail_.device = nullptr;
                detail_.device_error = code == "not_found" || code == "forbidden"
                                           ? std::string(tr(l, "no device record"))
                                           : (message.empty() ? code : message);
            }
            return;
        }
        case purpose::kind::action: {
            if (!ok) {
                say(action_error(why, code, message), true, now_ms);
                return;
            }
            static const std::map<std::string, std::string_view> done = {
                {"take", "#{} taken"},
                {"release", "#{} released"},
                {"acknowledge", "#{} acknowledged"},
                {"note", "#{}: note saved"},
                {"call", "#{}: call logged"},
                {"dispatch", "#{} dispatched"},
                {"close", "#{} closed"}};
            const auto it = done.find(why.action);
            say(it != done.end() ? fmt_tr(l, it->second, why.alarm) : why.action, false, now_ms);
            if (selected_ == why.alarm) {
                detail_.dirty = true;
            }
            return;
        }
        case purpose::kind::propose:
            on_proposal(why, ok, result, message, now_ms);
            return;
        case purpose::kind::missions:
        case purpose::kind::key_safe:
            on_missions(why, ok, result, code, message, now_ms);
            return;
        case purpose::kind::mission:
            on_mission_step(why, ok, result, code, message, now_ms);
            return;
        case purpose::kind::case_open: {
            if (!ok) {
                say(fmt_tr(l, "phone report not opened: {}", message.empty() ? code : message),
                    true, now_ms);
                return;
            }
            const json alarm = result.value("alarm", json::object());
            const auto id = alarm.value("id", alarm_id{0});
            say(fmt_tr(l, "phone report #{} opened", id), false, now_ms);
            if (id != 0 && queue_.find(id) != nullptr) {
                select(id);
            } else if (id != 0) {
                pending_select_ = id;  // selected when its push arrives
            }
            return;
        }
        case purpose::kind::floor: {
            floor_.in_flight = false;
            floor_.fetched_ms = now_ms;
            if (ok) {
                floor_.data = result;
                floor_.error.clear();
            } else if (code == "unknown_command") {
                floor_.data = nullptr;
                floor_.error = tr(l, "supervisor view not available on this arcd");
            } else {
                floor_.data = nullptr;
                floor_.error = message.empty() ? code : message;
            }
            return;
        }
    }
}

// ---- periodic work --------------------------------------------------------------------------

void app::tick(std::int64_t now_ms) {
    if (link_ != link::live) {
        return;
    }
    if (team_mode()) {
        team_tick(now_ms);
        return;
    }
    if (detail_.dirty && !detail_.show_in_flight && now_ms - last_show_ms_ >= detail_refresh_ms) {
        fetch_show();
    }
    if (screen_ == screen::floor && !floor_.in_flight &&
        now_ms - floor_.fetched_ms >= floor_refresh_ms) {
        request_floor(now_ms);
    }
    if (!subscriber_supported_) {
        return;
    }
    std::size_t looked = 0;
    for (const queue_entry& e : queue_.entries()) {
        if (++looked > names_prefetch || names_in_flight_.size() >= names_in_flight_max) {
            break;
        }
        if (e.account.empty() || names_.count(e.account) != 0 ||
            names_in_flight_.count(e.account) != 0) {
            continue;
        }
        names_in_flight_.insert(e.account);
        send(json{{"cmd", "subscriber.show"}, {"account", e.account}},
             purpose{purpose::kind::subscriber_name, e.id, e.account, {}, 0});
    }
}

void app::request_floor(std::int64_t now_ms) {
    if (link_ != link::live) {
        return;
    }
    floor_.in_flight = true;
    floor_.fetched_ms = now_ms;
    send(json{{"cmd", "floor"}}, purpose{purpose::kind::floor, 0, {}, {}, 0});
}

// ---- keys -----------------------------------------------------------------------------------

void app::key(int k, std::int64_t now_ms) {
    if (k == keys::f10) {
        quit_ = true;
        return;
    }
    switch (screen_) {
        case screen::login:
            key_login(k, now_ms);
            return;
        case screen::floor:
            key_floor(k, now_ms);
            return;
        case screen::missions:
            if (prompt_.active()) {
                key_prompt(k, now_ms);
            } else {
                key_missions(k, now_ms);
            }
            return;
        case screen::main:
            if (prompt_.active()) {
                key_prompt(k, now_ms);
            } else {
                key_main(k, now_ms);
            }
            return;
    }
}

void app::key_login(int k, std::int64_t /*now_ms*/) {
    std::u32string& field = login_.field == 0 ? login_.username : login_.password;
    if (k == keys::escape) {
        login_.username.clear();
        login_.password.clear();
        login_.field = 0;
        login_.error.clear();
        return;
    }
    if (k == keys::backspace) {
        if (!field.empty()) {
            field.pop_back();
        }
        return;
    }
    if (k == keys::up) {
        login_.field = 0;
        return;
    }
    if (k == keys::down || k == keys::tab) {
        login_.field = login_.field == 0 ? 1 : 0;
        return;
    }
    if (k == keys::enter) {
        if (login_.field == 0) {
            login_.field = 1;
            return;
        }
        if (login_.username.empty()) {
            login_.field = 0;
            return;
        }
        if (login_.busy || link_ != link::login_needed) {
            return;
        }
        login_.busy = true;
        login_.error.clear();
        link_ = link::authenticating;
        send(json{{"cmd", "login"},
                  {"username", encode_utf8(login_.username)},
                  {"password", encode_utf8(login_.password)}},
             purpose{purpose::kind::login, 0, {}, {}, 0});
        return;
    }
    if (printable(k) && field.size() < 1024) {
        field.push_back(static_cast<char32_t>(k));
    }
}

void app::key_floor(int k, std::int64_t now_ms) {
    if (k == 'q') {
        quit_ = true;
    } else if (k == 'v' || k == keys::f2 || k == keys::escape) {
        screen_ = screen::main;
    } else if (k == 'L') {
        opts_.language = opts_.language == lang::it ? lang::en : lang::it;
    } else if (k == 'g') {
        request_floor(now_ms);
    }
}

void app::act(const std::string& cmd, const std::string& action, json fields, std::int64_t now_ms) {
    if (!selected_) {
        say(std::string(tr(opts_.language, "no alarm selected")), true, now_ms);
        return;
    }
    if (link_ != link::live) {
        say(fmt_tr(opts_.language, "connection lost: {}", disconnect_reason_), true, now_ms);
        return;
    }
    fields["cmd"] = cmd;
    fields["alarm"] = *selected_;
    if (opts_.transport == options::transport_kind::unix_socket && !me_.empty()) {
        fields["actor"] = me_;
    }
    send(std::move(fields), purpose{purpose::kind::action, *selected_, {}, action, 0});
}

void app::key_main(int k, std::int64_t now_ms) {
    const auto& entries = queue_.entries();
    // The selected alarm's row, or `none`. Not an optional: GCC 12 at -O2 takes its payload for
    // maybe-uninitialized here, and -Werror stops the release build.
    constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    const std::size_t at = selected_ ? queue_.index_of(*selected_).value_or(none) : none;
    const auto move_to = [&](std::size_t index) {
        if (!entries.empty()) {
            select(entries[std::min(index, entries.size() - 1)].id);
        }
    };
    const bool detail_focus = focus_ == pane::detail;
    switch (k) {
        case keys::up:
        case 'k':
            if (detail_focus) {
                detail_.scroll = detail_.scroll > 0 ? detail_.scroll - 1 : 0;
            } else if (at != none && at > 0) {
                move_to(at - 1);
            } else if (at == none) {
                move_to(0);
            }
            return;
        case keys::down:
        case 'j':
            if (detail_focus) {
                ++detail_.scroll;  // the view clamps it
            } else {
                move_to(at != none ? at + 1 : 0);
            }
            return;
        case keys::page_up:
            if (detail_focus) {
                detail_.scroll = detail_.scroll > page ? detail_.scroll - page : 0;
            } else {
                move_to(at != none && at > page ? at - page : 0);
            }
            return;
        case keys::page_down:
            if (detail_focus) {
                detail_.scroll += page;
            } else {
                move_to(at != none ? at + page : 0);
            }
            return;
        case keys::home:
            if (detail_focus) {
                detail_.scroll = 0;
            } else {
                move_to(0);
            }
            return;
        case keys::end:
            if (!detail_focus && !entries.empty()) {
                move_to(entries.size() - 1);
            }
            return;
        case keys::tab:
            focus_ = detail_focus ? pane::queue : pane::detail;
            return;
        case 't':
            act("alarm.take", "take", json::object(), now_ms);
            return;
        case 'r':
            act("alarm.release", "release", json::object(), now_ms);
            return;
        case 'a':
            act("alarm.acknowledge", "acknowledge", json::object(), now_ms);
            return;
        case 'n':
            begin_prompt(prompt_state::kind::note, now_ms);
            return;
        case 'c':
            begin_prompt(prompt_state::kind::call_whom, now_ms);
            return;
        case 'd':
            begin_prompt(link_ == link::live ? prompt_state::kind::dispatch_pick
                                             : prompt_state::kind::dispatch_team,
                         now_ms);
            return;
        case 'p':
            begin_case(now_ms);
            return;
        case 'x':
            begin_prompt(
                outcomes_known_ ? prompt_state::kind::close_pick : prompt_state::kind::close_text,
                now_ms);
            return;
        case 's': {
            const queue_entry* e = selected_ ? queue_.find(*selected_) : nullptr;
            if (e == nullptr) {
                say(std::string(tr(opts_.language, "no alarm selected")), true, now_ms);
                return;
            }
            if (!holds_selected()) {
                say(std::string(tr(opts_.language, "take the alarm to see the sensitive data")),
                    true, now_ms);
                return;
            }
            if (e->account.empty() || link_ != link::live) {
                return;
            }
            detail_.subscriber_loading = true;
            send(json{{"cmd", "subscriber.show"}, {"account", e->account}, {"sensitive", true}},
                 purpose{purpose::kind::subscriber, e->id, e->account, "sensitive", detail_gen_});
            return;
        }
        case 'L':
            opts_.language = opts_.language == lang::it ? lang::en : lang::it;
            if (outcomes_raw_.is_array()) {
                outcomes_.clear();
                for (const json& o : outcomes_raw_) {
                    const std::string c = str(o, "code");
                    const std::string label = str(o, opts_.language == lang::it ? "it" : "en");
                    if (!c.empty()) {
                        outcomes_.emplace_back(c, label.empty() ? c : label);
                    }
                }
            }
            say(std::string(tr(opts_.language, "language: English")), false, now_ms);
            return;
        case 'v':
        case keys::f2:
            if (!may_supervise()) {
                say(std::string(
                        tr(opts_.language, "supervisor view: only for supervisors and admins")),
                    true, now_ms);
                return;
            }
            screen_ = screen::floor;
            request_floor(now_ms);
            return;
        case 'q':
            quit_ = true;
            return;
        default:
            return;
    }
}

void app::begin_prompt(prompt_state::kind k, std::int64_t now_ms) {
    if (!selected_) {
        say(std::string(tr(opts_.language, "no alarm selected")), true, now_ms);
        return;
    }
    prompt_ = prompt_state{};
    prompt_.k = k;
    prompt_.alarm = *selected_;
    if (k == prompt_state::kind::call_whom) {
        // The first contact is the likely one: offered, editable.
        if (detail_.subscriber.is_object()) {
            const json contacts = detail_.subscriber.value("contacts", json::array());
            if (contacts.is_array() && !contacts.empty()) {
                prompt_.input = decode_utf8(str(contacts.front(), "name"));
            }
        }
    } else if (k == prompt_state::kind::close_pick) {
        prompt_.choices = outcomes_;
    } else if (k == prompt_state::kind::dispatch_pick) {
        // The teams on duty now whose territory covers the subscriber's comune, available first.
        prompt_.loading = true;
        send(json{{"cmd", "team.propose"}, {"alarm", prompt_.alarm}},
             purpose{purpose::kind::propose, prompt_.alarm, "", "propose", 0});
    }
}

void app::begin_case(std::int64_t now_ms) {
    if (link_ != link::live) {
        say(fmt_tr(opts_.language, "connection lost: {}", disconnect_reason_), true, now_ms);
        return;
    }
    prompt_ = prompt_state{};
    prompt_.k = prompt_state::kind::case_category;
    prompt_.form = json::object();
    case_step(now_ms);
}

// Fills the choices of the current pick step of a phone report.
void app::case_step(std::int64_t /*now_ms*/) {
    const lang l = opts_.language;
    prompt_.choices.clear();
    prompt_.choice = 0;
    prompt_.input.clear();
    switch (prompt_.k) {
        case prompt_state::kind::case_category:
            for (const char* c : case_categories) {
                prompt_.choices.emplace_back(c, std::string(tr(l, c)));
            }
            break;
        case prompt_state::kind::case_urgency:
            prompt_.choices.emplace_back("urgent", std::string(tr(l, "urgent report")));
            prompt_.choices.emplace_back("critical",
                                         std::string(tr(l, "critical: a life at risk")));
            break;
        case prompt_state::kind::case_caller:
            for (const char* c : case_callers) {
                prompt_.choices.emplace_back(c, std::string(tr(l, c)));
            }
            break;
        default:
            break;
    }
}

void app::on_proposal(const purpose& why, bool ok, const json& result, const std::string& message,
                      std::int64_t now_ms) {
    if (prompt_.k != prompt_state::kind::dispatch_pick || prompt_.alarm != why.alarm) {
        return;  // the operator left the prompt meanwhile
    }
    const lang l = opts_.language;
    prompt_.loading = false;
    prompt_.choices.clear();
    prompt_.choice = 0;
    const json teams = ok ? result.value("teams", json::array()) : json::array();
    if (teams.is_array()) {
        for (const json& t : teams) {
            const std::string name = str(t, "name");
            if (name.empty()) {
                continue;
            }
            const std::string st = str(t, "state");
            const std::string_view st_text = st == "available"    ? tr(l, "available")
                                             : st == "on_mission" ? tr(l, "on a mission")
                                                                  : std::string_view(st);
            std::string label = name + " · " + std::string(st_text);
            if (const std::string phone = str(t, "phone"); !phone.empty()) {
                label += " · " + phone;
            }
            if (const std::string until = str(t, "on_duty_until_local"); until.size() >= 5) {
                label += " · " + fmt_tr(l, "on duty until {}", until.substr(until.size() - 5));
            }
            prompt_.choices.emplace_back(name, std::move(label));
        }
    }
    if (prompt_.choices.empty()) {
        // Nothing to pick from: the operator types the team (a phone report has no comune, or
        // no team is on duty there now) and is told why.
        prompt_.k = prompt_state::kind::dispatch_team;
        say(ok ? fmt_tr(l, "no team on duty covers {}: type a team name", str(result, "comune"))
               : fmt_tr(l, "no proposal ({}): type a team name", message),
            !ok, now_ms);
        return;
    }
    prompt_.choices.emplace_back("", std::string(tr(l, "another team (type its name)")));
}

void app::key_prompt(int k, std::int64_t now_ms) {
    if (k == keys::escape) {
        prompt_ = prompt_state{};
        return;
    }
    if (prompt_.picking()) {
        if (prompt_.loading) {
            return;  // the proposal is on its way; Esc leaves
        }
        const std::size_t n = prompt_.choices.size();
        if ((k == keys::up || k == 'k') && prompt_.choice > 0) {
            --prompt_.choice;
        } else if ((k == keys::down || k == 'j') && prompt_.choice + 1 < n) {
            ++prompt_.choice;
        } else if (k >= '1' && k <= '9' && static_cast<std::size_t>(k - '1') < n) {
            prompt_.choice = static_cast<std::size_t>(k - '1');
            submit_prompt(now_ms);
        } else if (k == keys::enter && n > 0) {
            submit_prompt(now_ms);
        }
        return;
    }
    if (k == keys::backspace) {
        if (!prompt_.input.empty()) {
            prompt_.input.pop_back();
        }
    } else if (k == keys::enter) {
        submit_prompt(now_ms);
    } else if (printable(k) && prompt_.input.size() < input_max) {
        prompt_.input.push_back(static_cast<char32_t>(k));
    }
}

void app::submit_prompt(std::int64_t now_ms) {
    const std::string text = encode_utf8(prompt_.input);
    const bool blank = text.find_first_not_of(' ') == std::string::npos;
    const alarm_id target = prompt_.alarm;
    // The step applies to the alarm the prompt was opened for, even if the selection moved.
    const auto with_target = [&](const std::string& cmd, const std::string& action, json f) {
        const std::optional<alarm_id> keep = selected_;
        selected_ = target;
        act(cmd, action, std::move(f), now_ms);
        selected_ = keep;
    };
    switch (prompt_.k) {
        case prompt_state::kind::none:
            return;
        case prompt_state::kind::mission_decline:
        case prompt_state::kind::mission_outcome:
        case prompt_state::kind::mission_note:
            if (!submit_mission_prompt(text, blank, now_ms)) {
                return;  // the prompt goes on (a next step, or the text is missing)
            }
            break;
        case prompt_state::kind::note:
            if (blank) {
                say(std::string(tr(opts_.language, "the text is empty")), true, now_ms);
                return;
            }
            with_target("alarm.note", "note", json{{"text", text}});
            break;
        case prompt_state::kind::dispatch_pick: {
            const std::string team = prompt_.choices.at(prompt_.choice).first;
            prompt_.choices.clear();
            prompt_.input.clear();
            if (team.empty()) {
                prompt_.k = prompt_state::kind::dispatch_team;
                return;
            }
            prompt_.team = team;
            prompt_.k = prompt_state::kind::dispatch_instructions;
            return;
        }
        case prompt_state::kind::dispatch_team:
            if (blank) {
                say(std::string(tr(opts_.language, "the text is empty")), true, now_ms);
                return;
            }
            prompt_.team = text;
            prompt_.k = prompt_state::kind::dispatch_instructions;
            prompt_.input.clear();
            return;
        case prompt_state::kind::dispatch_instructions: {
            json f{{"team", prompt_.team}};
            if (!blank) {
                f["instructions"] = text;
            }
            with_target("alarm.dispatch", "dispatch", std::move(f));
            break;
        }
        case prompt_state::kind::close_text:
            if (blank) {
                say(std::string(tr(opts_.language, "the text is empty")), true, now_ms);
                return;
            }
            with_target("alarm.close", "close", json{{"outcome", text}});
            break;
        case prompt_state::kind::close_pick:
            with_target("alarm.close", "close",
                        json{{"outcome", prompt_.choices.at(prompt_.choice).first}});
            break;
        case prompt_state::kind::call_whom: {
            if (blank) {
                say(std::string(tr(opts_.language, "the text is empty")), true, now_ms);
                return;
            }
            prompt_.whom = text;
            prompt_.k = prompt_state::kind::call_number;
            prompt_.input.clear();
            // The number of the contact named, when the record has one.
            if (detail_.subscriber.is_object()) {
                for (const json& c : detail_.subscriber.value("contacts", json::array())) {
                    const json phones = c.value("phones", json::array());
                    if (str(c, "name") == text && phones.is_array() && !phones.empty() &&
                        phones.front().is_string()) {
                        prompt_.input = decode_utf8(phones.front().get<std::string>());
                        break;
                    }
                }
            }
            return;
        }
        case prompt_state::kind::call_number:
            prompt_.number = text;
            prompt_.k = prompt_state::kind::call_outcome;
            prompt_.input.clear();
            prompt_.choices.clear();
            for (const char* c : call_outcomes) {
                prompt_.choices.emplace_back(c, std::string(call_outcome_label(opts_.language, c)));
            }
            prompt_.choice = 0;
            return;
        case prompt_state::kind::case_category:
            prompt_.form["category"] = prompt_.choices.at(prompt_.choice).first;
            prompt_.k = prompt_state::kind::case_urgency;
            case_step(now_ms);
            return;
        case prompt_state::kind::case_urgency:
            prompt_.form["urgency"] = prompt_.choices.at(prompt_.choice).first;
            prompt_.k = prompt_state::kind::case_caller;
            case_step(now_ms);
            return;
        case prompt_state::kind::case_caller:
            prompt_.form["caller"] = json{{"kind", prompt_.choices.at(prompt_.choice).first}};
            prompt_.k = prompt_state::kind::case_caller_name;
            case_step(now_ms);
            return;
        case prompt_state::kind::case_caller_name:
            if (!blank) {
                prompt_.form["caller"]["name"] = text;
            }
            prompt_.k = prompt_state::kind::case_caller_phone;
            case_step(now_ms);
            return;
        case prompt_state::kind::case_caller_phone:
            if (!blank) {
                prompt_.form["caller"]["phone"] = text;
            }
            prompt_.k = prompt_state::kind::case_person;
            case_step(now_ms);
            return;
        case prompt_state::kind::case_person: {
            if (blank) {
                say(std::string(tr(opts_.language, "the text is empty")), true, now_ms);
                return;
            }
            // A subscriber's code (letters, '-', digits: TS-0042) names a subscriber; anything
            // else is the name of someone new.
            const auto dash = text.find('-');
            const bool code = dash != std::string::npos && dash > 0 && dash + 1 < text.size() &&
                              text.find(' ') == std::string::npos &&
                              text.find_first_not_of("0123456789", dash + 1) == std::string::npos;
            prompt_.form["person"] = code ? json{{"subscriber", text}} : json{{"name", text}};
            prompt_.k = prompt_state::kind::case_comune;
            case_step(now_ms);
            return;
        }
        case prompt_state::kind::case_comune:
            if (!blank) {
                prompt_.form["place"]["comune"] = text;
            }
            prompt_.k = prompt_state::kind::case_address;
            case_step(now_ms);
            return;
        case prompt_state::kind::case_address:
            if (!blank) {
                prompt_.form["place"]["address"] = text;
            }
            prompt_.k = prompt_state::kind::case_summary;
            case_step(now_ms);
            return;
        case prompt_state::kind::case_summary: {
            if (blank) {
                say(std::string(tr(opts_.language, "the text is empty")), true, now_ms);
                return;
            }
            json req = prompt_.form;
            req["cmd"] = "case.open";
            req["summary"] = text;
            if (opts_.transport == options::transport_kind::unix_socket && !me_.empty()) {
                req["actor"] = me_;
            }
            send(std::move(req), purpose{purpose::kind::case_open, 0, {}, "case", 0});
            break;
        }
        case prompt_state::kind::call_outcome:
            with_target("alarm.call", "call",
                        json{{"whom", prompt_.whom},
                             {"number", prompt_.number},
                             {"outcome", prompt_.choices.at(prompt_.choice).first}});
            break;
    }
    prompt_ = prompt_state{};
}

}  // namespace arc::console
