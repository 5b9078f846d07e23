// Test helper: an app talking to a scripted arcd (requests read from the outbox, answers fed
// back as lines).
#pragma once

#include <string>
#include <vector>

#include "fixtures.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "arc/console/app.hpp"

namespace arc::console::test {

struct session {
    session() : session(unix_options(lang::en)) {}
    explicit session(options o) : a(std::move(o)) {}

    static options unix_options(lang l = lang::en) {
        options o;
        o.transport = options::transport_kind::unix_socket;
        o.target = "/tmp/arcd.sock";
        o.user = "anna";
        o.language = l;
        return o;
    }

    static options tcp_options(lang l = lang::en) {
        options o;
        o.transport = options::transport_kind::tcp;
        o.target = "127.0.0.1:12001";
        o.language = l;
        return o;
    }

    /// Requests sent since the last call, parsed.
    std::vector<json> sent() {
        std::vector<json> out;
        for (const std::string& line : a.take_outbox()) {
            out.push_back(json::parse(line));
        }
        all.insert(all.end(), out.begin(), out.end());
        return out;
    }

    /// The last request with `cmd` among those not answered yet (from sent()).
    json find(const std::vector<json>& reqs, const std::string& cmd) {
        for (auto it = reqs.rbegin(); it != reqs.rend(); ++it) {
            if (it->value("cmd", "") == cmd) {
                return *it;
            }
        }
        ADD_FAILURE() << "no " << cmd << " request";
        return json::object();
    }

    void ok(const json& req, const json& result) {
        a.line(json{{"id", req.at("id")}, {"ok", true}, {"result", result}}, now);
    }

    void fail(const json& req, const std::string& code, const std::string& message) {
        a.line(json{{"id", req.at("id")},
                    {"ok", false},
                    {"error", {{"code", code}, {"message", message}}}},
               now);
    }

    /// Connects and answers the subscribe with `snap` (and `outcomes` with `outcomes`, or
    /// unknown_command when null); leaves the detail requests unanswered.
    std::vector<json> start(const json& snap, const json& outcomes = nullptr) {
        a.connected(now);
        auto reqs = sent();
        ok(find(reqs, "alarms.subscribe"), snap);
        if (outcomes.is_null()) {
            fail(find(reqs, "outcomes"), "unknown_command", "unknown command: outcomes");
        } else {
            ok(find(reqs, "outcomes"), json{{"outcomes", outcomes}});
        }
        return sent();
    }

    void keys(const std::string& text) {
        for (const char c : text) {
            a.key(c == '\n' ? keys::enter : static_cast<unsigned char>(c), now);
        }
    }

    app a;
    std::int64_t now = t0_ms + 133'000;
    std::vector<json> all;
};

}  // namespace arc::console::test
