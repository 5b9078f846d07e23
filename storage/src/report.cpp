#include "arc/storage/report.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "sqlite_util.hpp"

namespace arc::storage {
namespace {

// The engine's actor for its own steps (restores, storms, supervision).
constexpr std::string_view system_actor = "system";

// One row per alarm opened in the period, with the times of the steps the report measures.
// The first operator step is the first transition or close by anyone but the system: a take
// usually, but a supervisor may dispatch or close an alarm nobody took.
constexpr std::string_view report_sql = R"sql(
SELECT a.id, a.class, a.kind, a.account, a.state, a.opened_ms, a.closed_ms, a.team, a.outcome,
       a.storm_id IS NOT NULL,
       (SELECT l.at_ms FROM alarm_log l WHERE l.alarm_id = a.id
          AND l.change IN ('transitioned', 'closed') AND l.actor != 'system'
          ORDER BY l.id LIMIT 1),
       (SELECT l.actor FROM alarm_log l WHERE l.alarm_id = a.id
          AND l.change IN ('transitioned', 'closed') AND l.actor != 'system'
          ORDER BY l.id LIMIT 1),
       (SELECT l.at_ms FROM alarm_log l WHERE l.alarm_id = a.id AND l.to_state = 'dispatched'
          ORDER BY l.id LIMIT 1),
       (SELECT l.at_ms FROM alarm_log l WHERE l.alarm_id = a.id AND l.to_state = 'on_site'
          ORDER BY l.id LIMIT 1),
       (SELECT l.actor FROM alarm_log l WHERE l.alarm_id = a.id AND l.to_state = 'closed'
          ORDER BY l.id DESC LIMIT 1)
FROM alarms a
WHERE a.opened_ms >= ?1 AND a.opened_ms < ?2
ORDER BY a.opened_ms, a.id
)sql";

struct alarm_row {
    std::int64_t id = 0;
    std::string cls, kind, account, state, team, outcome;
    std::int64_t opened_ms = 0;
    std::optional<std::int64_t> closed_ms;
    bool member = false;
    std::optional<std::int64_t> answered_ms;
    std::string answered_by;
    std::optional<std::int64_t> dispatched_ms;
    std::optional<std::int64_t> on_site_ms;
    std::string closed_by;
};

std::optional<std::int64_t> int_column(const detail::statement& stmt, int col) {
    if (stmt.column_is_null(col)) {
        return std::nullopt;
    }
    return stmt.column_int64(col);
}

double at_rank(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// Collects the waits of one group, then turns them into wait_stats.
class wait_group {
public:
    wait_group(std::int64_t first_ms, std::int64_t second_ms)
        : first_ms_(first_ms), second_ms_(second_ms) {}

    // By reference: copying an empty optional here makes GCC 12 at -O2 warn (maybe-uninitialized,
    // a false positive) and -Werror stop the release build.
    void add(const std::optional<std::int64_t>& wait_ms) {
        ++stats_.count;
        if (!wait_ms) {
            return;
        }
        ++stats_.reached;
        stats_.within_first += *wait_ms <= first_ms_ ? 1U : 0U;
        stats_.within_second += *wait_ms <= second_ms_ ? 1U : 0U;
        waits_s_.push_back(static_cast<double>(*wait_ms) / 1000.0);
    }

    wait_stats finish() {
        std::sort(waits_s_.begin(), waits_s_.end());
        stats_.median_s = at_rank(waits_s_, 0.5);
        stats_.p90_s = at_rank(waits_s_, 0.9);
        stats_.max_s = waits_s_.empty() ? 0 : waits_s_.back();
        return stats_;
    }

private:
    std::int64_t first_ms_;
    std::int64_t second_ms_;
    wait_stats stats_;
    std::vector<double> waits_s_;
};

// Groups keyed by name, in name order.
class keyed_groups {
public:
    keyed_groups(std::int64_t first_ms, std::int64_t second_ms)
        : first_ms_(first_ms), second_ms_(second_ms) {}

    wait_group& operator[](const std::string& key) {
        return groups_.try_emplace(key, first_ms_, second_ms_).first->second;
    }

    std::vector<named_stats> finish() {
        std::vector<named_stats> out;
        out.reserve(groups_.size());
        for (auto& [name, group] : groups_) {
            out.push_back(named_stats{name, group.finish()});
        }
        return out;
    }

private:
    std::int64_t first_ms_;
    std::int64_t second_ms_;
    std::map<std::string, wait_group> groups_;
};

std::vector<named_count> to_counts(
    const std::map<std::pair<std::string, std::string>, std::uint64_t>& counts) {
    std::vector<named_count> out;
    out.reserve(counts.size());
    for (const auto& [key, n] : counts) {
        out.push_back(named_count{key.first, key.second, n});
    }
    return out;
}

std::vector<alarm_row> read_rows(database& db, std::int64_t from_ms, std::int64_t to_ms) {
    std::vector<alarm_row> rows;
    detail::statement stmt(db, report_sql);
    stmt.bind(1, from_ms);
    stmt.bind(2, to_ms);
    while (stmt.step()) {
        alarm_row r;
        r.id = stmt.column_int64(0);
        r.cls = stmt.column_bytes(1);
        r.kind = stmt.column_bytes(2);
        r.account = stmt.column_bytes(3);
        r.state = stmt.column_bytes(4);
        r.opened_ms = stmt.column_int64(5);
        r.closed_ms = int_column(stmt, 6);
        r.team = stmt.column_bytes(7);
        r.outcome = stmt.column_bytes(8);
        r.member = stmt.column_int64(9) != 0;
        r.answered_ms = int_column(stmt, 10);
        r.answered_by = stmt.column_bytes(11);
        r.dispatched_ms = int_column(stmt, 12);
        r.on_site_ms = int_column(stmt, 13);
        r.closed_by = stmt.column_bytes(14);
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace

service_report build_report(database& db, std::int64_t from_ms, std::int64_t to_ms,
                            std::int64_t now_ms, const report_targets& targets) {
    service_report rep;
    rep.from_ms = from_ms;
    rep.to_ms = to_ms;
    rep.now_ms = now_ms;

    std::map<std::pair<std::string, std::string>, std::uint64_t> by_class;
    std::map<std::pair<std::string, std::string>, std::uint64_t> by_class_kind;
    std::map<std::pair<std::string, std::string>, std::uint64_t> outcomes;
    std::map<std::pair<std::string, std::string>, std::uint64_t> mission_outcomes;
    wait_group answer(targets.answer_first_ms, targets.answer_second_ms);
    keyed_groups answer_by_class(targets.answer_first_ms, targets.answer_second_ms);
    keyed_groups answer_by_operator(targets.answer_first_ms, targets.answer_second_ms);
    wait_group dispatch(targets.answer_first_ms, targets.answer_second_ms);
    keyed_groups dispatch_by_class(targets.answer_first_ms, targets.answer_second_ms);
    keyed_groups on_site_by_team(targets.on_site_first_ms, targets.on_site_second_ms);

    for (const alarm_row& r : read_rows(db, from_ms, to_ms)) {
        if (r.member) {
            ++rep.storm_members;  // the storm alarm stands for them
            continue;
        }
        ++rep.alarms;
        ++by_class[{r.cls, ""}];
        ++by_class_kind[{r.cls, r.kind}];
        if (r.closed_ms) {
            ++outcomes[{r.outcome, ""}];
        }
        const bool auto_closed = !r.answered_ms && r.closed_ms && r.closed_by == system_actor;
        rep.auto_closed += auto_closed ? 1U : 0U;

        // Answer: every alarm that needed an operator; one closed by the system before anyone
        // acted (a restored battery, a device back) needed nobody.
        const std::optional<std::int64_t> answer_wait =
            r.answered_ms ? std::optional<std::int64_t>(*r.answered_ms - r.opened_ms)
                          : std::nullopt;
        if (!auto_closed) {
            answer.add(answer_wait);
            answer_by_class[r.cls].add(answer_wait);
        }
        if (r.answered_ms) {
            answer_by_operator[r.answered_by].add(answer_wait);
        }
        // Untaken past the limit: waited without an operator step until the step, the
        // system's close or now.
        const std::int64_t waited = r.answered_ms
                                        ? *r.answered_ms - r.opened_ms
                                        : (r.closed_ms ? *r.closed_ms : now_ms) - r.opened_ms;
        if (waited > targets.answer_second_ms) {
            rep.untaken.push_back(late_alarm{r.id, r.cls, r.kind, r.account, r.state, r.opened_ms,
                                             r.answered_ms, r.answered_by, waited});
        }

        if (r.dispatched_ms) {
            const std::int64_t to_dispatch = *r.dispatched_ms - r.opened_ms;
            dispatch.add(to_dispatch);
            dispatch_by_class[r.cls].add(to_dispatch);
            on_site_by_team[r.team].add(
                r.on_site_ms ? std::optional<std::int64_t>(*r.on_site_ms - *r.dispatched_ms)
                             : std::nullopt);
            ++mission_outcomes[{r.closed_ms ? r.outcome : std::string(), ""}];
        }
    }

    rep.by_class = to_counts(by_class);
    rep.by_class_kind = to_counts(by_class_kind);
    rep.outcomes = to_counts(outcomes);
    rep.mission_outcomes = to_counts(mission_outcomes);
    rep.answer = answer.finish();
    rep.answer_by_class = answer_by_class.finish();
    rep.answer_by_operator = answer_by_operator.finish();
    rep.dispatch = dispatch.finish();
    rep.dispatch_by_class = dispatch_by_class.finish();
    rep.on_site_by_team = on_site_by_team.finish();
    return rep;
}

}  // namespace arc::storage
