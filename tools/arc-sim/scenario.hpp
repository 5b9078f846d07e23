// Purpose: arc-sim's scenarios: scripted sequences of device messages that an installer or a
// tester recognises (one home, a municipality, a mass power cut), built on arc::sim::run.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sim.hpp"
#include <nlohmann/json.hpp>

namespace arc::sim {

/// A scenario's name and what it does (for --list).
struct scenario_info {
    std::string name;
    std::string description;
};

/// The scenarios arc-sim knows, in --list order.
const std::vector<scenario_info>& scenarios();

/// The knobs of the scenarios besides the connection options.
struct scenario_params {
    std::size_t devices = 0;    ///< municipality, powercut: devices (0 = the scenario's default)
    double interval_s = 30;     ///< municipality: heartbeat interval of each device
    double duration_s = 60;     ///< municipality: how long it runs
    double window_s = 30;       ///< powercut: the loss wave and the restore wave each last this
    double alarm_share = 0.05;  ///< municipality: share of messages that are alarms, not tests
    unsigned pause_ms = 500;    ///< home: pause between steps
};

/// One step (home) or one wave of messages, with what it sent and what came back.
struct scenario_step {
    std::string label;
    std::string token;
    std::string data;  ///< as sent by the first device (the scenario's shape)
    report rep;
};

/// Runs scenario `name` with `base` (host, port, account, key, udp, timeouts); `on_step` is
/// called after each step. Throws std::invalid_argument for an unknown name or bad parameter.
std::vector<scenario_step> run_scenario(const std::string& name, const options& base,
                                        const scenario_params& params,
                                        const std::function<void(const scenario_step&)>& on_step);

/// "home: pendant press (QA001)  ACK  3.2 ms" style line for one step.
std::string step_to_text(const scenario_step& step);

/// {"label","token","data","report":{...}}.
nlohmann::json step_to_json(const scenario_step& step);

}  // namespace arc::sim
