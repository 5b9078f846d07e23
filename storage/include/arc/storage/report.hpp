// Purpose: the service-level report (issue 5, `arcctl report`): what the alarm tables say about
// a period — alarms by class and kind, answer time (receipt → first operator step) with the
// share within 60 s and 180 s per class and per operator, dispatch time, time to on site per
// team (share within 45 and 60 min), outcomes, and every alarm left untaken past 180 s.
// Read-only; computed from `alarms` and `alarm_log` on any connection (arcd's worker or a
// read-only file opened by arcctl --db).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arc/storage/store.hpp"

namespace arc::storage {

/// Counts and shares of one group of waits (answer, dispatch or on-site times).
struct wait_stats {
    std::uint64_t count = 0;          ///< alarms in the group (the share's denominator)
    std::uint64_t reached = 0;        ///< of which the step happened (taken, on site …)
    std::uint64_t within_first = 0;   ///< reached within the first target (60 s / 45 min)
    std::uint64_t within_second = 0;  ///< reached within the second target (180 s / 60 min)
    double median_s = 0;              ///< of the reached ones; 0 when none
    double p90_s = 0;
    double max_s = 0;
};

/// One alarm that waited past the answer limit without an operator step.
struct late_alarm {
    std::int64_t id = 0;
    std::string cls;
    std::string kind;
    std::string account;
    std::string state;
    std::int64_t opened_ms = 0;
    std::optional<std::int64_t> answered_ms;  ///< the first operator step, if any
    std::string answered_by;
    std::int64_t wait_ms = 0;  ///< until the first step, the system's close, or `now`
};

struct named_count {
    std::string name;
    std::string sub;  ///< kind for by_class_kind, else empty
    std::uint64_t count = 0;
};

struct named_stats {
    std::string name;
    wait_stats stats;
};

struct service_report {
    std::int64_t from_ms = 0;
    std::int64_t to_ms = 0;
    std::int64_t now_ms = 0;
    std::uint64_t alarms = 0;         ///< opened in [from, to), storm members not counted
    std::uint64_t storm_members = 0;  ///< alarms grouped under a storm alarm
    std::uint64_t auto_closed = 0;    ///< closed by the system before any operator step
    std::vector<named_count> by_class;
    std::vector<named_count> by_class_kind;  ///< name = class, sub = kind
    wait_stats answer;                       ///< targets 60 s and 180 s
    std::vector<named_stats> answer_by_class;
    std::vector<named_stats> answer_by_operator;  ///< by who made the first step
    wait_stats dispatch;                          ///< receipt → dispatched (targets 60/180 s)
    std::vector<named_stats> dispatch_by_class;
    std::vector<named_stats> on_site_by_team;   ///< dispatched → on site (45 / 60 min)
    std::vector<named_count> outcomes;          ///< closed alarms by outcome
    std::vector<named_count> mission_outcomes;  ///< dispatched alarms by outcome ("" = open)
    std::vector<late_alarm> untaken;            ///< waited past answer_limit_ms, oldest first
};

/// Limits the report measures against.
struct report_targets {
    std::int64_t answer_first_ms = 60'000;
    std::int64_t answer_second_ms = 180'000;  ///< also the "untaken" list's limit
    std::int64_t on_site_first_ms = 45 * 60'000;
    std::int64_t on_site_second_ms = 60 * 60'000;
};

/// The report of alarms opened in [from_ms, to_ms); open alarms' waits run until `now_ms`.
/// Throws storage_error.
service_report build_report(database& db, std::int64_t from_ms, std::int64_t to_ms,
                            std::int64_t now_ms, const report_targets& targets = {});

}  // namespace arc::storage
