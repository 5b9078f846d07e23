// bench_queue: the alarm engine's queue with 100,000 open alarms (per-operation latency) and a
// mains-loss storm with pendant presses on top (receipt → head of the engine's queue, and how the
// storm was grouped). The engine runs on a simulated clock; wall time is steady_clock around the
// engine calls only. Each measurement runs 3 times and the median is printed (machines are
// noisy). Bounded in time; not a test. Exits 1 only if a premise checked on the way fails.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "arc/config/event_codes.hpp"
#include "arc/engine/alarm.hpp"
#include "arc/engine/engine.hpp"
#include "arc/engine/engine_config.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using arc::config::alarm_class;
using arc::config::code_family;
using arc::engine::alarm_id;
using arc::engine::change_kind;
using arc::engine::changes;
using arc::engine::event;
using arc::engine::time_point;

constexpr int runs = 3;
constexpr std::size_t open_alarms = 100'000;
constexpr std::size_t op_samples = 2'000;
// queue() copies the whole list by walking a 100,000-node std::set (milliseconds per call), so it
// gets fewer samples than the other operations to keep the run bounded; head() and queue(50)
// don't, and get op_samples.
constexpr std::size_t queue_samples = 100;
constexpr std::size_t storm_events = 50'000;
constexpr auto storm_span = std::chrono::microseconds(60s);
constexpr auto pendant_period = std::chrono::microseconds(100ms);  // 10 pendant presses/s
constexpr double head_target_ms = 50.0;

// A fixed simulated start (2023-11-14); the engine never reads a clock.
const time_point t0 = arc::engine::from_ms(1'700'000'000'000);

bool checks_passed = true;

void check(bool ok, std::string_view what) {
    if (!ok) {
        checks_passed = false;
        fmt::print("CHECK FAILED: {}\n", what);
    }
}

double elapsed_us(clock_type::time_point from, clock_type::time_point to) {
    return std::chrono::duration<double, std::micro>(to - from).count();
}

// Nearest-rank percentile of `sorted` (ascending), `p` in (0, 1].
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(p * static_cast<double>(sorted.size()) + 0.999999);
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

struct distribution {
    double p50 = 0;
    double p99 = 0;
    double max = 0;
};

distribution summarise(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    return {percentile(samples, 0.50), percentile(samples, 0.99),
            samples.empty() ? 0 : samples.back()};
}

// One printed figure: its value in each run, printed as the median of the runs.
struct figure {
    std::string label;
    std::string unit;
    std::string note;
    std::vector<double> values;
};

class figures {
public:
    void add(const std::string& label, double value, std::string_view unit,
             std::string_view note = {}) {
        for (figure& f : list_) {
            if (f.label == label) {
                f.values.push_back(value);
                return;
            }
        }
        list_.push_back({label, std::string(unit), std::string(note), {value}});
    }

    void add(const std::string& label, const distribution& d, std::string_view unit,
             std::string_view note = {}) {
        add(label + " p50", d.p50, unit);
        add(label + " p99", d.p99, unit, note);
        add(label + " max", d.max, unit);
    }

    void print() const {
        for (const figure& f : list_) {
            std::vector<double> sorted = f.values;
            std::sort(sorted.begin(), sorted.end());
            const double median = sorted[sorted.size() / 2];
            fmt::print("  {:<58} {:>11.3f} {:<3} (runs: {:.3f}){}{}\n", f.label, median, f.unit,
                       fmt::join(f.values, " / "), f.note.empty() ? "" : "  ", f.note);
        }
    }

private:
    std::vector<figure> list_;
};

// Events built through the shipped map, as the daemon's normalisation step does.
class event_factory {
public:
    explicit event_factory(const arc::config::event_code_map& map) : map_(map) {}

    event make(const std::string& account, std::string_view cid_code, time_point at) {
        auto it = cache_.find(cid_code);
        if (it == cache_.end()) {
            it = cache_.emplace(std::string(cid_code), map_.classify(code_family::cid, cid_code))
                     .first;
        }
        event ev;
        ev.event_id = ++next_event_id_;
        ev.account = account;
        // Home units are supervised (24 h): every device carries a supervision timer, as in
        // production.
        ev.device_type = "home_unit";
        ev.received = at;
        arc::engine::apply_classification(ev, it->second);
        ev.code = std::string(cid_code);
        return ev;
    }

private:
    const arc::config::event_code_map& map_;
    std::map<std::string, arc::config::classification, std::less<>> cache_;
    std::uint64_t next_event_id_ = 0;
};

alarm_id opened_id(const changes& out) {
    for (const auto& c : out) {
        if (c.kind == change_kind::opened) {
            return c.alarm.id;
        }
    }
    return 0;
}

// ---- 1. queue operations with 100,000 open alarms ----

// Mixed classes from the shipped map: 3 critical, 3 urgent, 4 technical codes in 10.
constexpr std::string_view mixed_codes[] = {"101", "301", "102", "100", "302",
                                            "154", "110", "137", "158", "350"};

void run_queue_ops(const arc::config::event_code_map& map, figures& out) {
    // Storm grouping off: 100,000 technical and other alarms arriving within 50 s would otherwise
    // collapse into a few storm alarms, and this part measures a queue of 100,000 entries.
    arc::engine::engine_config config;
    config.storm_threshold = std::numeric_limits<std::size_t>::max();
    arc::engine::engine engine(config);
    event_factory factory(map);

    // Opened 0.5 ms apart: all within 50 s, so no escalation (critical: 60 s) is due before
    // t0 + 60 s, and from then on one every few 0.5 ms steps.
    constexpr auto spacing = std::chrono::microseconds(500);
    std::vector<event> initial;
    initial.reserve(open_alarms);
    for (std::size_t i = 0; i < open_alarms; ++i) {
        initial.push_back(factory.make(fmt::format("H{:07}", i),
                                       mixed_codes[i % std::size(mixed_codes)],
                                       t0 + spacing * static_cast<std::int64_t>(i)));
    }
    const auto bulk_start = clock_type::now();
    for (const event& ev : initial) {
        engine.ingest(ev, ev.received);
    }
    const auto bulk_end = clock_type::now();
    out.add("ingest 100,000 alarms (total)", elapsed_us(bulk_start, bulk_end) / 1000.0, "ms");
    out.add("ingest 100,000 alarms (mean per alarm)",
            elapsed_us(bulk_start, bulk_end) / static_cast<double>(open_alarms), "us");
    check(engine.queue().size() == open_alarms, "100,000 queue entries after the bulk ingest");

    std::vector<double> ingest_us;
    std::vector<double> take_us;
    std::vector<double> ack_us;
    std::vector<double> close_us;
    std::vector<double> queue_full_us;
    std::vector<double> queue_head_us;
    std::vector<double> head_us;
    std::vector<double> page_us;
    std::vector<double> advance_idle_us;
    // Each round opens one alarm and closes it again, so the queue stays at 100,000 entries.
    time_point now = t0 + 50s;
    for (std::size_t k = 0; k < op_samples; ++k) {
        now += 1ms;
        const event ev =
            factory.make(fmt::format("N{:07}", k), mixed_codes[k % std::size(mixed_codes)], now);
        auto start = clock_type::now();
        const changes opened = engine.ingest(ev, now);
        ingest_us.push_back(elapsed_us(start, clock_type::now()));
        check(opened_id(opened) != 0, "a new alarm opened");

        start = clock_type::now();
        const changes idle = engine.advance(now);
        advance_idle_us.push_back(elapsed_us(start, clock_type::now()));
        check(idle.empty(), "nothing due before t0 + 60 s");

        // The operator handles the alarm just opened rather than the head: finding the head
        // costs a queue() copy, and take/close cost the same wherever the alarm sits (hash
        // lookup and one std::set erase).
        const alarm_id id = opened_id(opened);
        start = clock_type::now();
        const auto taken = engine.take(id, "anna", now);
        take_us.push_back(elapsed_us(start, clock_type::now()));
        start = clock_type::now();
        const auto acked = engine.acknowledge(id, "anna", now);
        ack_us.push_back(elapsed_us(start, clock_type::now()));
        start = clock_type::now();
        const auto closed = engine.close(id, "anna", "falso allarme", now);
        close_us.push_back(elapsed_us(start, clock_type::now()));
        check(taken.has_value() && acked.has_value() && closed.has_value(), "take/ack/close");
    }
    check(engine.queue().size() == open_alarms, "queue still at 100,000 after the rounds");
    // queue() in rounds of its own: each call walks 100,000 tree nodes and evicts the caches,
    // which would otherwise show up in the p99 of the small operations measured above.
    for (std::size_t k = 0; k < queue_samples; ++k) {
        auto start = clock_type::now();
        const std::vector<alarm_id> queue = engine.queue();
        queue_full_us.push_back(elapsed_us(start, clock_type::now()));

        // The old way to read the head, kept for comparison: copies the whole list.
        start = clock_type::now();
        const arc::engine::alarm* head = engine.find(engine.queue().front());
        queue_head_us.push_back(elapsed_us(start, clock_type::now()));
        check(head != nullptr && head->id == queue.front(), "head found");
    }
    // head() and queue(50) read only what they return, so they get the full sample count.
    const std::vector<alarm_id> full = engine.queue();
    for (std::size_t k = 0; k < op_samples; ++k) {
        auto start = clock_type::now();
        const std::optional<alarm_id> head = engine.head();
        head_us.push_back(elapsed_us(start, clock_type::now()));
        check(head.has_value() && *head == full.front(), "head() is queue().front()");
        start = clock_type::now();
        const std::vector<alarm_id> page = engine.queue(50);
        page_us.push_back(elapsed_us(start, clock_type::now()));
        check(page.size() == 50 && std::equal(page.begin(), page.end(), full.begin()),
              "queue(50) is the first 50 of queue()");
    }
    out.add("ingest of a new alarm", summarise(ingest_us), "us");
    out.add("take", summarise(take_us), "us");
    out.add("acknowledge", summarise(ack_us), "us");
    out.add("close", summarise(close_us), "us");
    out.add("queue() full list (100,000 ids)", summarise(queue_full_us), "us");
    out.add("head: find(queue().front()) (copies the list)", summarise(queue_head_us), "us");
    out.add("head()", summarise(head_us), "us");
    out.add("queue(50) (a console's first page)", summarise(page_us), "us");
    out.add("advance(now), nothing due", summarise(advance_idle_us), "us");

    // Escalations due: step to the engine's next deadline, as the daemon's timer would, so each
    // call fires what is due at that instant (usually one level-1 escalation of a critical).
    std::vector<double> advance_due_us;
    std::size_t escalated = 0;
    for (std::size_t k = 0; k < op_samples; ++k) {
        const auto next = engine.next_deadline();
        if (!next) {
            break;
        }
        now = std::max(now, *next);
        const auto start = clock_type::now();
        const changes fired = engine.advance(now);
        advance_due_us.push_back(elapsed_us(start, clock_type::now()));
        escalated += fired.size();
    }
    out.add("advance(now), escalation due (per call)", summarise(advance_due_us), "us");
    out.add("  escalations fired per call (mean)",
            static_cast<double>(escalated) / static_cast<double>(advance_due_us.size()), "");

    // A daemon that stalled: every escalation of the next 3 minutes is due at once. Fired in
    // slices of 1,000 changes, as the daemon would, returning to its io loop between them.
    now = t0 + 50s + 180s;
    constexpr std::size_t slice = 1'000;
    std::vector<double> slice_us;
    std::size_t wave_size = 0;
    const auto bulk_advance_start = clock_type::now();
    for (;;) {
        const auto next = engine.next_deadline();
        if (!next || *next > now) {
            break;
        }
        const auto start = clock_type::now();
        const changes part = engine.advance(now, slice);
        slice_us.push_back(elapsed_us(start, clock_type::now()));
        wave_size += part.size();
        check(part.size() <= slice + 2, "advance honours max_changes");
    }
    const double wave_us = elapsed_us(bulk_advance_start, clock_type::now());
    out.add("advance(t0+230 s, 1000): every due escalation, sliced (total)", wave_us / 1000.0,
            "ms");
    out.add("  escalations fired in all", static_cast<double>(wave_size), "");
    out.add("  one slice of 1,000", summarise(slice_us), "us");
    out.add("  pending timers afterwards", static_cast<double>(engine.pending_timers()), "");
}

// ---- 2. storm: 50,000 mains_loss in 60 s, pendant presses at 10/s on top ----

struct storm_facts {
    std::size_t pendants = 0;
    std::size_t storm_alarms = 0;
    std::vector<std::size_t> members_per_storm;
    std::size_t queue_entries = 0;
    std::size_t critical_entries = 0;
    std::size_t technical_entries_not_storm = 0;
    std::size_t open_alarms = 0;
    std::size_t grouped_at_event = 0;  // 1-based index of the mains_loss that formed the storm
    std::size_t pendants_above_storm = 0;
    std::size_t pendants_seen_at_head_check = 0;
    std::size_t escalations = 0;
};

storm_facts run_storm(const arc::config::event_code_map& map, figures& out) {
    arc::engine::engine engine;  // the shipped defaults: storm of 20 technical of a kind in 60 s
    event_factory factory(map);
    storm_facts facts;

    // Interleaved in time order: mains_loss every 1.2 ms, a pendant press every 100 ms (offset
    // 50 ms so neither shares an instant with the other).
    struct arrival {
        time_point at;
        bool pendant;
        std::size_t n;
    };
    std::vector<arrival> arrivals;
    const auto mains_spacing = storm_span / static_cast<std::int64_t>(storm_events);
    for (std::size_t i = 0; i < storm_events; ++i) {
        arrivals.push_back({t0 + mains_spacing * static_cast<std::int64_t>(i), false, i});
    }
    const std::size_t pendants = static_cast<std::size_t>(storm_span / pendant_period);
    for (std::size_t j = 0; j < pendants; ++j) {
        arrivals.push_back({t0 + 50ms + pendant_period * static_cast<std::int64_t>(j), true, j});
    }
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const arrival& a, const arrival& b) { return a.at < b.at; });
    std::vector<event> events;
    events.reserve(arrivals.size());
    for (const arrival& a : arrivals) {
        // SIA AT / Contact ID 301 = technical mains_loss; CID 101 = critical personal_emergency.
        events.push_back(a.pendant ? factory.make(fmt::format("P{:05}", a.n), "101", a.at)
                                   : factory.make(fmt::format("M{:06}", a.n), "301", a.at));
    }

    std::vector<double> head_ms;
    std::vector<double> mains_us;
    std::vector<alarm_id> pendant_ids;
    const auto storm_start = clock_type::now();
    for (std::size_t i = 0; i < events.size(); ++i) {
        const event& ev = events[i];
        // The daemon's timer: fire what is due before the next event (nothing, in 60 s).
        if (const auto next = engine.next_deadline(); next && *next <= ev.received) {
            facts.escalations += engine.advance(ev.received).size();
        }
        if (!arrivals[i].pendant) {
            const auto start = clock_type::now();
            const changes changed = engine.ingest(ev, ev.received);
            mains_us.push_back(elapsed_us(start, clock_type::now()));
            for (const auto& c : changed) {
                if (c.kind == change_kind::storm_grouped && facts.grouped_at_event == 0) {
                    facts.grouped_at_event = arrivals[i].n + 1;
                }
            }
            continue;
        }
        // Receipt → observable at the head: ingest, then read the queue's head and see that it
        // is a critical alarm that is this one or an older critical (critical alarms are served
        // oldest first, so an older one ahead of it is the right order).
        const auto start = clock_type::now();
        const changes changed = engine.ingest(ev, ev.received);
        const std::optional<alarm_id> head_id = engine.head();
        const alarm_id id = opened_id(changed);
        const arc::engine::alarm* head = head_id ? engine.find(*head_id) : nullptr;
        const bool at_head = head != nullptr && head->cls == alarm_class::critical &&
                             (head->id == id || head->opened_at <= ev.received);
        const auto stop = clock_type::now();
        head_ms.push_back(elapsed_us(start, stop) / 1000.0);
        pendant_ids.push_back(id);
        check(id != 0 && at_head, "pendant alarm opened and a critical at the head");
        // Outside the timed part: everything ahead of the new pendant is critical.
        const std::vector<alarm_id> queue = engine.queue();
        const auto pos = std::find(queue.begin(), queue.end(), id);
        const bool above = pos != queue.end() && std::all_of(queue.begin(), pos, [&](alarm_id x) {
                               return engine.find(x)->cls == alarm_class::critical;
                           });
        check(above, "only critical alarms ahead of a new pendant alarm");
        if (at_head && above) {
            ++facts.pendants_seen_at_head_check;
        }
    }
    const double storm_total_us = elapsed_us(storm_start, clock_type::now());

    facts.pendants = pendant_ids.size();
    const std::vector<alarm_id> queue = engine.queue();
    facts.queue_entries = queue.size();
    std::size_t first_storm_pos = queue.size();
    std::vector<alarm_id> storm_ids;
    for (std::size_t p = 0; p < queue.size(); ++p) {
        const arc::engine::alarm* a = engine.find(queue[p]);
        if (a->storm) {
            ++facts.storm_alarms;
            facts.members_per_storm.push_back(a->members.size());
            storm_ids.push_back(a->id);
            first_storm_pos = std::min(first_storm_pos, p);
        } else if (a->cls == alarm_class::critical) {
            ++facts.critical_entries;
        } else if (a->cls == alarm_class::technical) {
            ++facts.technical_entries_not_storm;
        }
    }
    for (const alarm_id id : pendant_ids) {
        const auto pos = std::find(queue.begin(), queue.end(), id);
        if (pos != queue.end() && static_cast<std::size_t>(pos - queue.begin()) < first_storm_pos) {
            ++facts.pendants_above_storm;
        }
    }
    facts.open_alarms = engine.open_alarms().size();

    const distribution head = summarise(head_ms);
    out.add("pendant: receipt -> head of engine queue", head, "ms",
            fmt::format("target <= {} ms", head_target_ms));
    out.add("mains_loss ingest during the storm", summarise(mains_us), "us");
    out.add("whole storm: 50,600 ingests (engine time)", storm_total_us / 1000.0, "ms");

    // An operator closes the storm: one close() that closes every member with it.
    if (!storm_ids.empty()) {
        const alarm_id storm = storm_ids.front();
        const time_point now = t0 + storm_span + 1s;
        const bool handled =
            engine.take(storm, "anna", now).has_value() && engine.acknowledge(storm, "anna", now);
        const auto start = clock_type::now();
        const auto closed = engine.close(storm, "anna", "blackout ENEL", now);
        const double close_us = elapsed_us(start, clock_type::now());
        check(handled && closed.has_value(), "storm taken, acknowledged and closed");
        out.add("close() of the storm alarm (closes every member)", close_us / 1000.0, "ms");
        out.add("  changes returned by that close() (storm + one storm_closed)",
                closed ? static_cast<double>(closed->size()) : 0, "");
    }
    return facts;
}

}  // namespace

int main() {
    const auto map = arc::config::load_event_codes(std::filesystem::path(ARC_EVENT_CODES));
    fmt::print(
        "bench_queue: the alarm engine alone (pure, simulated clock); wall time = steady_clock\n"
        "around the engine calls. Each measurement runs {} times; the figure is the median of\n"
        "the {} runs (the runs follow in brackets). Noise caveat: this machine is shared and\n"
        "others are measuring on it; single runs can be off by a factor, trust the medians\n"
        "and the order of magnitude, not the third digit.\n\n",
        runs, runs);

    figures queue_figures;
    for (int r = 0; r < runs; ++r) {
        run_queue_ops(map, queue_figures);
    }
    fmt::print(
        "1. Queue operations with {} open alarms (distinct devices; CID codes 101/100/110\n"
        "   critical, 102/154/158 urgent, 301/302/137/350 technical; storm grouping off so that\n"
        "   all are queue entries). Per operation, {} samples; the queue stays at {} entries\n"
        "   (each round opens one alarm, then takes, acknowledges and closes it); queue() gets\n"
        "   {} samples of its own afterwards (it walks the whole std::set).\n"
        "   queue() returns the whole list; head() and queue(50) read only what they return\n"
        "   ({} samples each); the old head read, find(queue().front()), is kept beside them.\n",
        open_alarms, op_samples, open_alarms, queue_samples, op_samples);
    queue_figures.print();

    figures storm_figures;
    std::vector<storm_facts> facts;
    for (int r = 0; r < runs; ++r) {
        facts.push_back(run_storm(map, storm_figures));
    }
    fmt::print(
        "\n2. Storm: {} mains_loss (CID 301, technical; distinct home units) over 60 s of\n"
        "   simulated time, interleaved in time order with pendant presses (CID 101, critical\n"
        "   personal_emergency) at 10/s; shipped engine defaults (storm = 20 technical alarms of\n"
        "   a kind within 60 s). Latency = start of ingest() to head() read and that alarm seen\n"
        "   to be this critical alarm or an older one. This is receipt -> head of the ENGINE's\n"
        "   queue; bench_stream.py measures the same storm through arcd to a subscriber.\n",
        storm_events);
    storm_figures.print();

    const storm_facts& f = facts.back();
    const bool same = std::all_of(facts.begin(), facts.end(), [&](const storm_facts& x) {
        return x.storm_alarms == f.storm_alarms && x.members_per_storm == f.members_per_storm &&
               x.queue_entries == f.queue_entries;
    });
    fmt::print(
        "\n   How the storm was grouped ({}):\n"
        "     storm alarms in the queue:              {}\n"
        "     members per storm:                      {}\n"
        "     storm formed at mains_loss event no.:   {} (threshold 20 within 60 s)\n"
        "     technical alarms left outside a storm:  {}\n"
        "     queue entries at the end:               {} ({} critical pendant alarms + {} storm)\n"
        "     open alarms (members included):         {}\n"
        "     escalations fired during the 60 s:      {}\n"
        "     pendant alarms above every storm:       {} of {} at the end; {} of {} with only\n"
        "                                             critical alarms ahead when they arrived\n",
        same ? "identical in all runs" : "DIFFERED between runs", f.storm_alarms,
        fmt::join(f.members_per_storm, ", "), f.grouped_at_event, f.technical_entries_not_storm,
        f.queue_entries, f.critical_entries, f.storm_alarms, f.open_alarms, f.escalations,
        f.pendants_above_storm, f.pendants, f.pendants_seen_at_head_check, f.pendants);
    check(same, "storm grouping identical in every run");
    check(f.pendants_above_storm == f.pendants, "every pendant alarm above the storm(s)");

    fmt::print("\n{}\n", checks_passed ? "all checks passed" : "SOME CHECKS FAILED (see above)");
    return checks_passed ? 0 : 1;
}
