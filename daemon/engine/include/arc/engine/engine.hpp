// Purpose: the alarm engine: turns normalised events into alarms in an escalation queue, runs
// their lifecycle, escalation and supervision timers, and reports every change it makes.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "arc/engine/alarm.hpp"
#include "arc/engine/engine_config.hpp"
#include "arc/engine/error.hpp"

namespace arc::engine {

/// The engine. Single-threaded: the daemon calls it from its io thread. Never reads a clock
/// (every call gets `now`), never throws on input; every mutating call returns the changes it
/// made, in order, for the storage writer and the console subscription.
class engine {
public:
    /// An empty engine (no alarms, no devices).
    explicit engine(engine_config config = {});

    /// Rebuilds the engine at start from what storage persisted: the open alarms (with levels,
    /// timelines, storm membership) and the devices with their last-seen times. Escalation timers
    /// resume from each alarm's age; supervision deadlines that passed while arcd was down
    /// restart with a fresh grace from `now`, so a restart raises no wave of "silent" alarms.
    /// New alarms get ids above `max_id` (the highest id ever assigned, closed alarms included)
    /// and above every open alarm's.
    static engine rebuild(engine_config config, std::vector<alarm> open_alarms,
                          std::vector<device_state> devices, time_point now, alarm_id max_id = 0);

    /// Feeds one event (after it was stored): opens, merges, restores or only logs, and counts
    /// the device as seen. A DC-09 retransmission changes nothing but is reported as such.
    changes ingest(const event& ev, time_point now);

    /// Fires the escalation, supervision and test-mode timers due at or before `now`, oldest
    /// first. Stops starting new timers once it has made `max_changes` changes (one timer may
    /// make a few: a silent alarm that forms a storm), so that after a stall the daemon can
    /// work in slices; next_deadline() then still reports the overdue instant.
    changes advance(time_point now,
                    std::size_t max_changes = std::numeric_limits<std::size_t>::max());

    /// When advance() next has something to do, for the daemon's timer; never a timer that no
    /// longer applies (taken or closed alarm, superseded supervision deadline).
    std::optional<time_point> next_deadline() const;

    /// Entries in the timer heaps (escalation, supervision, test end), for tests and metrics:
    /// bounded by the open alarms and the devices, not by the traffic.
    std::size_t pending_timers() const noexcept;

    /// new → taken by `op`.
    expected<changes> take(alarm_id id, std::string_view op, time_point now);
    /// taken or acknowledged → new: the holder lets it go back to the queue (holder cleared,
    /// escalation resumes on the schedule measured from its opening).
    expected<changes> release(alarm_id id, std::string_view op, time_point now);
    /// A taken or acknowledged alarm changes holder to `to` (a supervisor's reassignment); the
    /// state stays, the timeline records it ("reassigned to X").
    expected<changes> reassign(alarm_id id, std::string_view op, std::string_view to,
                               time_point now);
    /// taken → acknowledged.
    expected<changes> acknowledge(alarm_id id, std::string_view op, time_point now);
    /// acknowledged → dispatched to `team`, with the operator's `instructions` for it (the
    /// change's `note`). Unless the team accepts within the configured mission_accept_timeout,
    /// advance() escalates the alarm one level (once per dispatch).
    expected<changes> dispatch(alarm_id id, std::string_view op, std::string_view team,
                               std::string_view instructions, time_point now);
    /// As above, without instructions.
    expected<changes> dispatch(alarm_id id, std::string_view op, std::string_view team,
                               time_point now);
    /// dispatched → accepted by the team.
    expected<changes> accept(alarm_id id, std::string_view actor, time_point now);
    /// dispatched → acknowledged: the team declines with `reason` (the change's `note`); the
    /// alarm goes back to the operator who holds it, the team is cleared.
    expected<changes> decline(alarm_id id, std::string_view actor, std::string_view reason,
                              time_point now);
    /// accepted → on_the_way.
    expected<changes> depart(alarm_id id, std::string_view actor, time_point now);
    /// on_the_way → on_site.
    expected<changes> arrive(alarm_id id, std::string_view actor, time_point now);
    /// on_site → mission_done with the team's `outcome` (the change's detail) and `note`; the
    /// outcome referral_outcome needs a note, the hand-over to the social services.
    expected<changes> complete_mission(alarm_id id, std::string_view actor,
                                       std::string_view outcome, std::string_view note,
                                       time_point now);

    /// The mission outcome that hands the person over to the Servizio Sociale Professionale.
    static constexpr std::string_view referral_outcome = "social_services_referral";
    /// acknowledged or mission_done → closed with `outcome`; a storm closes its open members.
    expected<changes> close(alarm_id id, std::string_view op, std::string_view outcome,
                            time_point now);
    /// An operator opens a case from a phone call (a segnalazione, no device): a new alarm of
    /// class `cls` (not log_only) and kind phone_report with `category` as its code and
    /// `summary` as its text, opened by `op` and, when `take`, taken by `op` at once (they are
    /// on the phone). `account` names the person's device when the case concerns a
    /// subscriber who has one (so consoles show their record), else it is empty. The case
    /// escalates like any alarm of its class while nobody holds it.
    expected<changes> open_case(alarm_class cls, std::string account, std::string category,
                                std::string summary, std::string_view op, bool take,
                                time_point now);
    /// Adds an operator's note to an open alarm.
    expected<changes> add_note(alarm_id id, std::string_view op, std::string_view text,
                               time_point now);

    /// Registers or updates a device (mode, automatic test end, supervision interval, vendor).
    /// Supervision restarts only for a new device or a changed interval.
    changes set_device(device_state device, time_point now);

    /// Forgets a device (removed from the registry): no more supervision or test-mode timers.
    /// Its open alarms stay until an operator closes them. False if it was not known.
    bool remove_device(std::string_view account);

    /// The open alarms in queue order: class, then escalation level (higher first), then age
    /// (older first). Storm members are not listed: their storm alarm is.
    std::vector<alarm_id> queue() const;

    /// The first `limit` entries of queue(), in O(limit): what a console's first screen shows.
    std::vector<alarm_id> queue(std::size_t limit) const;

    /// Entries of queue() (open alarms that are not storm members), in O(1).
    std::size_t queue_size() const noexcept { return queue_.size(); }
    /// Open alarms, storm members included, in O(1).
    std::size_t open_count() const noexcept { return alarms_.size(); }

    /// The first entry of queue() (the alarm to answer next), in O(1); empty when none is open.
    std::optional<alarm_id> head() const;

    /// An open alarm (storm members included), or nullptr.
    const alarm* find(alarm_id id) const;

    /// The open alarm that an event of device `account` and `kind` merges into, if any
    /// (read-only; SCAIP HOLD correlates a request with its alarm this way).
    std::optional<alarm_id> open_alarm_of(std::string_view account, event_kind kind) const;

    /// Every open alarm, by id (what storage holds as open; rebuild() takes it back).
    std::vector<alarm> open_alarms() const;

    /// A device the engine knows, or nullptr.
    const device_state* device(std::string_view account) const;

    /// Every device, by account.
    std::vector<device_state> devices() const;

    /// When a supervised device becomes silent unless it reports before.
    std::optional<time_point> supervision_deadline(std::string_view account) const;

    /// The configuration in force.
    const engine_config& config() const noexcept { return config_; }

private:
    struct queue_key {
        alarm_class cls;
        int level;
        time_point opened_at;
        alarm_id id;
        bool operator<(const queue_key& other) const;
    };
    struct escalation_timer {
        time_point due;
        alarm_id id;
        int level;  // the level the alarm must still be at for the timer to fire
        bool operator>(const escalation_timer& other) const { return due > other.due; }
    };
    struct mission_timer {
        time_point due;
        alarm_id id;
        time_point dispatched_at;  // the dispatch it watches: a later one has its own timer
        bool operator>(const mission_timer& other) const { return due > other.due; }
    };
    enum class device_timer_kind : std::uint8_t { silence, test_end };
    struct device_timer {
        time_point due;
        std::string account;
        std::uint64_t generation;
        device_timer_kind kind;
        bool operator>(const device_timer& other) const { return due > other.due; }
    };
    struct device_entry {
        device_state state;
        // Identifies the one live silence timer in the heap; a timer with another generation
        // was superseded by an earlier deadline and is dropped when it surfaces.
        std::uint64_t generation = 0;
        std::optional<time_point> deadline;  // the real supervision deadline
        std::optional<time_point> heap_due;  // due of the live silence timer, if one is queued
    };
    struct storm_track {
        std::deque<std::pair<time_point, alarm_id>> recent;  // technical openings in the window
        std::optional<alarm_id> storm;
        time_point last_joined;  // opening of the storm's newest member: it is active a window on
    };
    using device_kind_key = std::pair<std::string, event_kind>;

    expected<alarm*> open_alarm_for_action(alarm_id id, std::string_view actor);
    expected<changes> step(alarm_id id, std::string_view actor, alarm_state from, alarm_state to,
                           std::string detail, time_point now);
    changes ingest_event(const event& ev, time_point now);
    alarm& open_alarm(const event& ev, time_point opened_at, changes& out);
    void enqueue(const alarm& a);
    void dequeue(const alarm& a);
    void arm_escalation(const alarm& a);
    void close_alarm(alarm& a, std::string_view actor, std::string outcome, time_point now,
                     std::uint64_t event_id, changes& out);
    void handle_restore(const event& ev, time_point now, changes& out);
    void check_storm(alarm& a, time_point now, changes& out);
    bool is_retransmission(const dc09_identity& id, time_point now);
    device_entry& ensure_device(const event& ev, time_point now);
    void touch_device(device_entry& entry, time_point now, std::uint64_t event_id, changes& out);
    void arm_supervision(device_entry& entry, time_point from, time_point now);
    std::optional<duration> interval_of(const device_state& device) const;
    duration grace_of(duration interval) const;
    void end_test_mode(device_entry& entry, time_point now, changes& out);
    void fire_device_timer(const device_timer& timer, changes& out);
    void push_silence_timer(device_entry& entry);
    bool escalation_is_stale(const escalation_timer& timer) const;
    bool mission_timer_is_stale(const mission_timer& timer) const;
    void fire_mission_timer(const mission_timer& timer, changes& out);
    void arm_mission_timer(const alarm& a);
    bool settle_device_top();
    void settle();

    engine_config config_;
    alarm_id next_id_ = 1;
    std::unordered_map<alarm_id, alarm> alarms_;
    std::set<queue_key> queue_;
    std::map<device_kind_key, alarm_id> by_device_kind_;
    std::priority_queue<escalation_timer, std::vector<escalation_timer>, std::greater<>>
        escalations_;
    std::priority_queue<mission_timer, std::vector<mission_timer>, std::greater<>> mission_timers_;
    std::unordered_map<std::string, time_point> seen_frames_;
    std::deque<std::pair<time_point, std::string>> seen_order_;
    std::map<event_kind, storm_track> storms_;
    std::unordered_map<alarm_id, std::size_t> storm_open_members_;
    std::map<std::string, device_entry, std::less<>> devices_;
    std::priority_queue<device_timer, std::vector<device_timer>, std::greater<>> device_timers_;
};

}  // namespace arc::engine
