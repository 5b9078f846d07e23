// Purpose: the console's state machine: what the operator sees (login form, queue, detail,
// prompts, supervisor view, status line) and what goes to arcd, driven by keys, server lines,
// connection events and an injected clock. Pure: it never touches a socket or the terminal;
// the terminal layer (terminal.hpp) feeds it and sends what take_outbox() returns.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arc/console/i18n.hpp"
#include "arc/console/model.hpp"

namespace arc::console {

/// Keys the terminal layer passes besides printable characters (code points > 0).
namespace keys {
inline constexpr int up = -2;
inline constexpr int down = -3;
inline constexpr int left = -4;
inline constexpr int right = -5;
inline constexpr int page_up = -6;
inline constexpr int page_down = -7;
inline constexpr int home = -8;
inline constexpr int end = -9;
inline constexpr int backspace = -10;
inline constexpr int f2 = -11;
inline constexpr int f10 = -12;
inline constexpr int enter = '\n';
inline constexpr int tab = '\t';
inline constexpr int escape = 27;
}  // namespace keys

struct options {
    enum class transport_kind { unix_socket, tcp };
    transport_kind transport = transport_kind::unix_socket;
    std::string target;  ///< socket path or "host:port"
    bool tls = false;
    std::string ca_file;
    /// Unix socket: the actor recorded for this console's steps. TCP: the login name offered.
    std::string user;
    lang language = lang::it;
    bool ascii = false;  ///< the terminal cannot show non-ASCII: "!" instead of "▲"
    /// The field team's client (--team): the team's missions instead of the alarm queue. A
    /// login of role team gets it whatever this says.
    bool team = false;
    /// On the admin socket (no login): whose missions to work.
    std::string team_name;
};

enum class screen { login, main, floor, missions };
enum class pane { queue, detail };
enum class link { disconnected, login_needed, authenticating, subscribing, live };

struct login_form {
    std::u32string username;
    std::u32string password;
    int field = 0;  ///< 0 username, 1 password
    std::string error;
    bool busy = false;
};

struct prompt_state {
    enum class kind {
        none,
        note,
        call_whom,
        call_number,
        call_outcome,
        dispatch_pick,          ///< the teams team.propose offers (on duty, covering the comune)
        dispatch_team,          ///< a team typed by name (no proposal, or "another team")
        dispatch_instructions,  ///< what the team is to do (may be empty)
        close_pick,
        close_text,
        // p: a phone report (case.open), one step each
        case_category,
        case_urgency,
        case_caller,
        case_caller_name,
        case_caller_phone,
        case_person,
        case_comune,
        case_address,
        case_summary,
        // the team's client
        mission_decline,  ///< why the team declines
        mission_outcome,  ///< done: the outcome
        mission_note      ///< done: the team's note (the hand-over for a referral)
    };
    kind k = kind::none;
    alarm_id alarm = 0;
    std::u32string input;
    std::vector<std::pair<std::string, std::string>> choices;  ///< code, label
    std::size_t choice = 0;
    std::string whom;
    std::string number;
    std::string team;      ///< dispatch: the team picked or typed
    bool loading = false;  ///< dispatch_pick: the proposal has not arrived yet
    bool active() const noexcept { return k != kind::none; }
    nlohmann::json form;  ///< case_*: what the operator has given so far
    bool picking() const noexcept {
        return k == kind::call_outcome || k == kind::close_pick || k == kind::dispatch_pick ||
               k == kind::case_category || k == kind::case_urgency || k == kind::case_caller ||
               k == kind::mission_outcome;
    }
    std::string outcome;  ///< mission_note: the outcome picked
};

struct detail_state {
    alarm_id alarm = 0;
    nlohmann::json show;  ///< alarm.show result, null until it arrives
    std::string show_error;
    nlohmann::json subscriber;  ///< SUBSCRIBER, null when none (see subscriber_error)
    std::string subscriber_error;
    bool subscriber_loading = false;
    bool sensitive = false;  ///< `subscriber` holds medical notes and key-safe code
    nlohmann::json device;   ///< DEVICE, null when none
    std::string device_error;
    bool show_in_flight = false;
    bool dirty = false;
    std::size_t scroll = 0;
};

struct floor_state {
    nlohmann::json data;  ///< floor result, null until it arrives
    std::string error;
    bool in_flight = false;
    std::int64_t fetched_ms = 0;
};

/// The team's missions (mission.subscribe / mission.list), as the team's client shows them.
struct missions_state {
    std::string team;
    nlohmann::json list = nlohmann::json::array();  ///< MISSION entries, open ones first
    bool loaded = false;
    bool in_flight = false;
    bool dirty = false;  ///< a push said a mission changed: fetch the list again
    std::int64_t fetched_ms = 0;
    std::string error;
    alarm_id selected = 0;  ///< the alarm of the selected mission (0: none)
    std::size_t scroll = 0;
    /// The key-safe code asked for (each view audited by arcd), shown for this alarm only
    /// while its mission is open and for a limited time.
    alarm_id key_safe_alarm = 0;
    std::string key_safe_code;
    std::int64_t key_safe_at_ms = 0;
};

struct status_line {
    std::string text;
    bool error = false;
    std::int64_t at_ms = 0;
};

class app {
public:
    explicit app(options opts);

    // ---- inputs ----
    /// The transport to arcd is up (a fresh connection).
    void connected(std::int64_t now_ms);
    /// The connection ended (or could not be made); the next attempt is at `retry_at_ms`.
    void disconnected(const std::string& reason, std::int64_t retry_at_ms, std::int64_t now_ms);
    /// One line from arcd: a response or a push.
    void line(const nlohmann::json& msg, std::int64_t now_ms);
    /// One key: a printable code point (> 0) or one of keys::.
    void key(int k, std::int64_t now_ms);
    /// Periodic work (detail refresh, names, supervisor view); call at least once a second.
    void tick(std::int64_t now_ms);
    /// The terminal changed size (the view adapts; nothing to fetch).
    void resized() noexcept {}

    // ---- outputs ----
    /// Request lines to send, in order (JSON text without the newline).
    std::vector<std::string> take_outbox();
    /// True once per new critical alarm since the last call.
    bool take_bell() noexcept;
    /// True when the console wants the connection dropped and made again (overflow).
    bool take_reconnect() noexcept;
    bool quit() const noexcept { return quit_; }
    void request_quit() noexcept { quit_ = true; }

    // ---- state for the view ----
    const options& opts() const noexcept { return opts_; }
    lang language() const noexcept { return opts_.language; }
    screen current_screen() const noexcept { return screen_; }
    pane focus() const noexcept { return focus_; }
    link link_state() const noexcept { return link_; }
    std::int64_t retry_at_ms() const noexcept { return retry_at_ms_; }
    const std::string& last_disconnect() const noexcept { return disconnect_reason_; }
    const queue_model& queue() const noexcept { return queue_; }
    std::optional<alarm_id> selected() const noexcept { return selected_; }
    const detail_state& detail() const noexcept { return detail_; }
    const floor_state& floor() const noexcept { return floor_; }
    const missions_state& missions() const noexcept { return missions_; }
    /// The selected mission's entry, or nullptr.
    const nlohmann::json* selected_mission() const noexcept;
    /// This console works a team's missions (--team, or a login of role team).
    bool team_mode() const noexcept { return opts_.team || role_ == "team"; }
    const login_form& login() const noexcept { return login_; }
    const prompt_state& prompt() const noexcept { return prompt_; }
    const status_line& status() const noexcept { return status_; }
    /// Who this console acts as (login username, or --user on the Unix socket).
    const std::string& me() const noexcept { return me_; }
    const std::string& role() const noexcept { return role_; }
    const std::string& display_name() const noexcept { return display_name_; }
    bool may_supervise() const noexcept { return role_ == "supervisor" || role_ == "admin"; }
    /// The subscriber name known for an account ("" when none or not fetched).
    std::string name_of(const std::string& account) const;
    /// Whether the selected alarm is held by this console's operator.
    bool holds_selected() const noexcept;
    /// The open low-battery alarm of `account`, if the queue has one.
    std::optional<alarm_id> low_battery_alarm(const std::string& account) const noexcept;
    /// Whether a subscription is live (the queue is current).
    bool live() const noexcept { return link_ == link::live; }

private:
    struct purpose {
        enum class kind {
            login,
            resume,
            subscribe,
            outcomes,
            show,
            subscriber,
            subscriber_name,
            device,
            action,
            floor,
            propose,
            case_open,
            missions,  ///< mission.subscribe / mission.list
            key_safe,  ///< mission.list of one mission with its key-safe code
            mission    ///< a mission step (accept, decline, on the way, on site, done)
        };
        kind k = kind::action;
        alarm_id alarm = 0;
        std::string account;
        std::string action;  ///< take, release, … (status messages)
        std::uint64_t generation = 0;
    };

    std::uint64_t send(nlohmann::json req, purpose why);
    void start_session(std::int64_t now_ms);
    void on_response(const nlohmann::json& msg, std::int64_t now_ms);
    void on_push(const nlohmann::json& msg, std::int64_t now_ms);
    void apply_change(const nlohmann::json& change, std::int64_t now_ms);
    void select(std::optional<alarm_id> id);
    void fetch_detail();
    void fetch_show();
    void keep_selection(std::optional<std::size_t> old_index);
    void key_login(int k, std::int64_t now_ms);
    void key_prompt(int k, std::int64_t now_ms);
    void key_main(int k, std::int64_t now_ms);
    void key_floor(int k, std::int64_t now_ms);
    void act(const std::string& cmd, const std::string& action, nlohmann::json fields,
             std::int64_t now_ms);
    void begin_prompt(prompt_state::kind k, std::int64_t now_ms);
    void begin_case(std::int64_t now_ms);
    void case_step(std::int64_t now_ms);
    void on_proposal(const purpose& why, bool ok, const nlohmann::json& result,
                     const std::string& message, std::int64_t now_ms);
    void submit_prompt(std::int64_t now_ms);
    void say(std::string text, bool error, std::int64_t now_ms);
    void hide_sensitive();
    void request_floor(std::int64_t now_ms);
    // the team's client (team.cpp)
    void start_team_session(std::int64_t now_ms);
    void fetch_missions(std::int64_t now_ms);
    void on_missions(const purpose& why, bool ok, const nlohmann::json& result,
                     const std::string& code, const std::string& message, std::int64_t now_ms);
    void on_mission_step(const purpose& why, bool ok, const nlohmann::json& result,
                         const std::string& code, const std::string& message, std::int64_t now_ms);
    void key_missions(int k, std::int64_t now_ms);
    void mission_step(const std::string& cmd, const std::string& action, nlohmann::json fields,
                      alarm_id alarm, std::int64_t now_ms);
    bool submit_mission_prompt(const std::string& text, bool blank, std::int64_t now_ms);
    void team_tick(std::int64_t now_ms);
    std::string action_error(const purpose& why, const std::string& code,
                             const std::string& message) const;

    options opts_;
    screen screen_ = screen::main;
    pane focus_ = pane::queue;
    link link_ = link::disconnected;
    std::int64_t retry_at_ms_ = 0;
    std::string disconnect_reason_;
    bool quit_ = false;
    bool bell_ = false;
    bool reconnect_ = false;

    queue_model queue_;
    std::vector<nlohmann::json> early_pushes_;  ///< pushes before the snapshot arrived
    bool awaiting_snapshot_ = false;
    std::optional<alarm_id> selected_;
    std::optional<alarm_id> pending_select_;  ///< a case this console opened, not listed yet
    detail_state detail_;
    std::uint64_t detail_gen_ = 0;
    std::int64_t last_show_ms_ = 0;
    floor_state floor_;
    missions_state missions_;
    std::set<alarm_id> rung_;  ///< missions the bell has rung for
    login_form login_;
    prompt_state prompt_;
    status_line status_;

    std::string token_;
    std::string me_;
    std::string role_;
    std::string display_name_;

    std::vector<std::pair<std::string, std::string>> outcomes_;  ///< code, label in language
    nlohmann::json outcomes_raw_;
    bool outcomes_known_ = false;  ///< false: close asks for free text

    std::map<std::string, std::string> names_;  ///< account → subscriber name ("" = none)
    std::set<std::string> names_in_flight_;
    bool subscriber_supported_ = true;

    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, purpose> pending_;
    std::vector<std::string> outbox_;
};

}  // namespace arc::console
